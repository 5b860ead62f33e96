//! The search parameters this server supports: one table that the index extraction,
//! the search parser, the business rules and the CapabilityStatement all read, so
//! what is declared is exactly what works.

use ohjaamo_fhir::ResourceType;

/// How a parameter's values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Token,
    Reference,
    Date,
    String,
}

impl ParamKind {
    /// The FHIR `SearchParamType` code.
    pub fn fhir_code(self) -> &'static str {
        match self {
            ParamKind::Token => "token",
            ParamKind::Reference => "reference",
            ParamKind::Date => "date",
            ParamKind::String => "string",
        }
    }
}

/// One search parameter of one resource type.
#[derive(Debug, Clone, Copy)]
pub struct SearchParam {
    pub name: &'static str,
    pub kind: ParamKind,
    /// Element paths below the resource (arrays are walked through).
    pub paths: &'static [&'static [&'static str]],
    /// For references: the resource types it may point to (checked on write).
    pub targets: &'static [ResourceType],
    /// Canonical URL of the definition: the base spec's, or ours for custom ones.
    pub definition: &'static str,
    pub documentation: &'static str,
}

use ParamKind::*;
use ResourceType as T;

macro_rules! param {
    ($name:literal, $kind:expr, [$($path:expr),+], $targets:expr, $def:literal, $doc:literal) => {
        SearchParam {
            name: $name,
            kind: $kind,
            paths: &[$($path),+],
            targets: $targets,
            definition: $def,
            documentation: $doc,
        }
    };
}

const NO_TARGETS: &[ResourceType] = &[];
/// What a Schedule or Appointment actor may be among the types we keep. Actors may
/// also be types we do not keep (Patient, RelatedPerson): those are neither indexed
/// nor refused.
const ACTORS: &[ResourceType] = &[
    T::Location,
    T::Device,
    T::PractitionerRole,
    T::Practitioner,
    T::HealthcareService,
];

const IDENTIFIER: SearchParam = param!(
    "identifier",
    Token,
    [&["identifier"]],
    NO_TARGETS,
    "http://hl7.org/fhir/SearchParameter/clinical-identifier",
    "Business identifier, system|value (systems written urn:oid:…)"
);

const LOCATION: &[SearchParam] = &[
    param!(
        "partof",
        Reference,
        [&["partOf"]],
        &[T::Location],
        "http://hl7.org/fhir/SearchParameter/Location-partof",
        "The location this one is part of"
    ),
    param!(
        "type",
        Token,
        [&["type"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Location-type",
        "Code for the type of location"
    ),
    param!(
        "organization",
        Reference,
        [&["managingOrganization"]],
        &[T::Organization],
        "http://hl7.org/fhir/SearchParameter/Location-organization",
        "The organisation responsible for the location"
    ),
    param!(
        "name",
        String,
        [&["name"], &["alias"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Location-name",
        "Name or alias (starts with, ignoring case and accents)"
    ),
    param!(
        "status",
        Token,
        [&["status"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Location-status",
        "active | suspended | inactive"
    ),
    param!(
        "physical-type",
        Token,
        [&["physicalType"]],
        NO_TARGETS,
        "https://ohjaamo.fi/fhir/SearchParameter/Location-physical-type",
        "Physical form: si, bu, wa, ro, bd, … (v2 location-physical-type)"
    ),
    param!(
        "operational-status",
        Token,
        [&["operationalStatus"]],
        NO_TARGETS,
        "https://ohjaamo.fi/fhir/SearchParameter/Location-operational-status",
        "Bed status from v2-0116: O, U, H, C, K, I"
    ),
];

const SCHEDULE: &[SearchParam] = &[
    param!(
        "actor",
        Reference,
        [&["actor"]],
        ACTORS,
        "http://hl7.org/fhir/SearchParameter/Schedule-actor",
        "The resource the schedule is for"
    ),
    param!(
        "active",
        Token,
        [&["active"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Schedule-active",
        "Whether the schedule is in use"
    ),
    param!(
        "service-type",
        Token,
        [&["serviceType"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Schedule-service-type",
        "The type of service offered"
    ),
];

const SLOT: &[SearchParam] = &[
    param!(
        "schedule",
        Reference,
        [&["schedule"]],
        &[T::Schedule],
        "http://hl7.org/fhir/SearchParameter/Slot-schedule",
        "The Schedule the slot belongs to"
    ),
    param!(
        "start",
        Date,
        [&["start"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Slot-start",
        "Start of the slot"
    ),
    param!(
        "status",
        Token,
        [&["status"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Slot-status",
        "busy | free | busy-unavailable | busy-tentative | entered-in-error"
    ),
];

const MEASURE_REPORT: &[SearchParam] = &[
    param!(
        "subject",
        Reference,
        [&["subject"]],
        ACTORS,
        "http://hl7.org/fhir/SearchParameter/MeasureReport-subject",
        "What the report is about: a unit's Location for ward capacity"
    ),
    param!(
        "date",
        Date,
        [&["date"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/MeasureReport-date",
        "When the figures were computed"
    ),
    param!(
        "period",
        Date,
        [&["period"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/MeasureReport-period",
        "The period the figures are for"
    ),
    param!(
        "status",
        Token,
        [&["status"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/MeasureReport-status",
        "complete | pending | error"
    ),
];

const APPOINTMENT: &[SearchParam] = &[
    param!(
        "slot",
        Reference,
        [&["slot"]],
        &[T::Slot],
        "http://hl7.org/fhir/SearchParameter/Appointment-slot",
        "The slots this appointment fills"
    ),
    param!(
        "actor",
        Reference,
        [&["participant", "actor"]],
        ACTORS,
        "http://hl7.org/fhir/SearchParameter/Appointment-actor",
        "A participant (location, device, staff)"
    ),
    param!(
        "date",
        Date,
        [&["start"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/clinical-date",
        "Start of the appointment"
    ),
    param!(
        "status",
        Token,
        [&["status"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Appointment-status",
        "Appointment status"
    ),
];

const ENCOUNTER: &[SearchParam] = &[
    param!(
        "location",
        Reference,
        [&["location", "location"]],
        &[T::Location],
        "http://hl7.org/fhir/SearchParameter/Encounter-location",
        "A location the encounter takes place at"
    ),
    param!(
        "status",
        Token,
        [&["status"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Encounter-status",
        "planned | arrived | in-progress | finished | cancelled | …"
    ),
    param!(
        "date",
        Date,
        [&["period"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/clinical-date",
        "The period of the encounter"
    ),
];

const DEVICE: &[SearchParam] = &[
    param!(
        "location",
        Reference,
        [&["location"]],
        &[T::Location],
        "http://hl7.org/fhir/SearchParameter/Device-location",
        "Where the device is"
    ),
    param!(
        "type",
        Token,
        [&["type"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Device-type",
        "The type of device"
    ),
    param!(
        "status",
        Token,
        [&["status"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Device-status",
        "active | inactive | entered-in-error | unknown"
    ),
];

const PRACTITIONER_ROLE: &[SearchParam] = &[
    param!(
        "location",
        Reference,
        [&["location"]],
        &[T::Location],
        "http://hl7.org/fhir/SearchParameter/PractitionerRole-location",
        "Where the role is performed"
    ),
    param!(
        "practitioner",
        Reference,
        [&["practitioner"]],
        &[T::Practitioner],
        "http://hl7.org/fhir/SearchParameter/PractitionerRole-practitioner",
        "The practitioner in the role"
    ),
    param!(
        "organization",
        Reference,
        [&["organization"]],
        &[T::Organization],
        "http://hl7.org/fhir/SearchParameter/PractitionerRole-organization",
        "The organisation of the role"
    ),
    param!(
        "role",
        Token,
        [&["code"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/PractitionerRole-role",
        "The role"
    ),
    param!(
        "specialty",
        Token,
        [&["specialty"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/PractitionerRole-specialty",
        "Specialty or competence"
    ),
];

const HEALTHCARE_SERVICE: &[SearchParam] = &[
    param!(
        "location",
        Reference,
        [&["location"]],
        &[T::Location],
        "http://hl7.org/fhir/SearchParameter/HealthcareService-location",
        "Where the service is offered"
    ),
    param!(
        "organization",
        Reference,
        [&["providedBy"]],
        &[T::Organization],
        "http://hl7.org/fhir/SearchParameter/HealthcareService-organization",
        "The providing organisation"
    ),
];

const ORGANIZATION: &[SearchParam] = &[
    param!(
        "name",
        String,
        [&["name"], &["alias"]],
        NO_TARGETS,
        "http://hl7.org/fhir/SearchParameter/Organization-name",
        "Name or alias (starts with, ignoring case and accents)"
    ),
    param!(
        "partof",
        Reference,
        [&["partOf"]],
        &[T::Organization],
        "http://hl7.org/fhir/SearchParameter/Organization-partof",
        "The organisation this one is part of"
    ),
];

const PRACTITIONER: &[SearchParam] = &[];

/// The type-specific search parameters of `rtype`, plus `identifier` (every
/// supported type has one). `_id` and `_lastUpdated` are common to all and handled
/// by the search parser itself.
pub fn params(rtype: ResourceType) -> Vec<SearchParam> {
    let specific: &[SearchParam] = match rtype {
        T::Location => LOCATION,
        T::Schedule => SCHEDULE,
        T::Slot => SLOT,
        T::Appointment => APPOINTMENT,
        T::Encounter => ENCOUNTER,
        T::Device => DEVICE,
        T::PractitionerRole => PRACTITIONER_ROLE,
        T::HealthcareService => HEALTHCARE_SERVICE,
        T::Organization => ORGANIZATION,
        T::Practitioner => PRACTITIONER,
        T::MeasureReport => MEASURE_REPORT,
    };
    let mut all = vec![IDENTIFIER];
    all.extend_from_slice(specific);
    all
}

/// Whether references of `param` may point at types this server does not store.
pub fn accepts_foreign_targets(param: &SearchParam) -> bool {
    param.targets == ACTORS
}

/// One parameter by name.
pub fn param(rtype: ResourceType, name: &str) -> Option<SearchParam> {
    params(rtype).into_iter().find(|p| p.name == name)
}

/// The `_include` targets supported: `(source type, reference parameter)`.
pub const INCLUDES: &[(ResourceType, &str)] = &[
    (T::Slot, "schedule"),
    (T::Schedule, "actor"),
    (T::Location, "partof"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_identifier_and_unique_names() {
        for rt in ResourceType::ALL {
            let ps = params(rt);
            assert_eq!(ps[0].name, "identifier");
            let mut names: Vec<_> = ps.iter().map(|p| p.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), ps.len(), "{rt}");
        }
    }

    #[test]
    fn includes_name_reference_params() {
        for (rt, name) in INCLUDES {
            assert_eq!(param(*rt, name).unwrap().kind, ParamKind::Reference);
        }
    }
}
