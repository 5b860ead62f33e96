//! The access log (käyttöloki): what each request read or changed, noted while it runs
//! ([`note`]), written durably before its answer is sent ([`group_commit`]), and read
//! back as FHIR AuditEvents shaped by IHE BALP ([`audit_event`]).

pub mod audit_event;
pub mod group_commit;
pub mod note;
