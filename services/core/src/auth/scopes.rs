//! SMART App Launch v2 scopes, and what they let a token do here.
//!
//! A scope is `context/resource.permissions`:
//!
//! - context `system/` (a backend service) or `user/` (a person signed in): both grant
//!   the same here, as the server has no per-user data. `patient/` grants nothing: it
//!   needs a patient context, and these resources have none.
//! - resource: a type the server stores, `*` for every one of them, or one of the
//!   server's own areas in [`PERMISSIONS`] (`ohjaamo.picture`, …), which `*` does not
//!   cover: a token reads the situational picture, the sources or the metrics only
//!   when it names them.
//! - permissions: v2's `cruds` letters (a non-empty subset in that order: `c` create,
//!   `r` read, vread and the history of one resource, `u` update, `d` delete, `s`
//!   search and the history of a type), or v1's `read` (= `rs`), `write` (= `cud`)
//!   and `*` (= `cruds`); the server's own areas take `read` or `write`.
//!
//! **Fail closed.** A scope that does not parse in full grants nothing: an unknown
//! type, letters out of order or repeated, a v2 constraint after `?` (the server
//! cannot enforce one it does not understand, so it must not widen it to the whole
//! type), any other context. Unrelated scopes (`openid`, `profile`, `fhirUser`) are
//! simply ignored.

use std::collections::HashMap;

use ohjaamo_fhir::ResourceType;

/// A FHIR interaction as SMART v2 names its permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    Create,
    Read,
    Update,
    Delete,
    Search,
}

impl Interaction {
    pub const ALL: [Interaction; 5] = [
        Interaction::Create,
        Interaction::Read,
        Interaction::Update,
        Interaction::Delete,
        Interaction::Search,
    ];

    fn bit(self) -> u8 {
        match self {
            Interaction::Create => 1,
            Interaction::Read => 2,
            Interaction::Update => 4,
            Interaction::Delete => 8,
            Interaction::Search => 16,
        }
    }

    /// The SMART v2 letter.
    pub fn letter(self) -> char {
        match self {
            Interaction::Create => 'c',
            Interaction::Read => 'r',
            Interaction::Update => 'u',
            Interaction::Delete => 'd',
            Interaction::Search => 's',
        }
    }
}

/// What a token may do beyond FHIR interactions: the server's own routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// `GET /picture` (also `?at=`), `/picture/beds`, `/stream`.
    PictureRead,
    /// `GET /sources`.
    SourcesRead,
    /// `PUT /sources/{name}`: an adapter's health report.
    SourcesWrite,
    /// `GET /metrics`.
    MetricsRead,
    /// Resources labelled restricted (`R`, `V`): a stay under a protection order.
    RestrictedRead,
    /// `GET /fhir/AuditEvent`: the access log, for auditors.
    AuditRead,
}

/// Each permission, the scope resource and permission word that grant it, and what it
/// lets a token do (the table in `docs/security.md`).
pub const PERMISSIONS: [(Permission, &str, &str, &str); 6] = [
    (
        Permission::PictureRead,
        "ohjaamo.picture",
        "read",
        "GET /picture (also ?at=), /picture/beds, /stream",
    ),
    (
        Permission::SourcesRead,
        "ohjaamo.sources",
        "read",
        "GET /sources",
    ),
    (
        Permission::SourcesWrite,
        "ohjaamo.sources",
        "write",
        "PUT /sources/{name}",
    ),
    (
        Permission::MetricsRead,
        "ohjaamo.metrics",
        "read",
        "GET /metrics",
    ),
    (
        Permission::RestrictedRead,
        "ohjaamo.restricted",
        "read",
        "see resources labelled restricted (meta.security R or V in v3-Confidentiality: \
         a stay under a protection order) in reads, searches, _includes, history and \
         Bundle entries; without it they are not there (404, left out of results)",
    ),
    (
        Permission::AuditRead,
        "ohjaamo.audit",
        "read",
        "GET /fhir/AuditEvent: read and search the access log of the token's organisations \
         (auditors); no resource type's scope, not even system/*.*, grants it",
    ),
];

impl Permission {
    /// The scope that grants it in the `system/` context.
    pub fn scope(self) -> String {
        PERMISSIONS
            .iter()
            .find(|(p, ..)| *p == self)
            .map(|(_, resource, word, _)| format!("system/{resource}.{word}"))
            .unwrap_or_default()
    }
}

/// What one token's scopes grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Interactions on every type (`*.…`), as bits.
    every_type: u8,
    per_type: HashMap<ResourceType, u8>,
    permissions: Vec<Permission>,
}

/// What one scope grants, if it parses.
enum Grant {
    Fhir(Option<ResourceType>, u8),
    Own(Permission),
}

impl Grants {
    /// The grants of the scopes in `scopes` (each a whole scope string).
    pub fn parse<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Grants {
        let mut grants = Grants::default();
        for scope in scopes {
            match parse_scope(scope) {
                Some(Grant::Fhir(None, bits)) => grants.every_type |= bits,
                Some(Grant::Fhir(Some(rt), bits)) => {
                    *grants.per_type.entry(rt).or_default() |= bits
                }
                Some(Grant::Own(p)) if !grants.permissions.contains(&p) => {
                    grants.permissions.push(p)
                }
                Some(Grant::Own(_)) | None => {}
            }
        }
        grants
    }

    /// Whether `interaction` on `rtype` is granted.
    pub fn allows(&self, rtype: ResourceType, interaction: Interaction) -> bool {
        let bits = self.every_type | self.per_type.get(&rtype).copied().unwrap_or(0);
        bits & interaction.bit() != 0
    }

    /// Whether the server's own `permission` is granted.
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

fn parse_scope(scope: &str) -> Option<Grant> {
    let rest = scope
        .strip_prefix("system/")
        .or_else(|| scope.strip_prefix("user/"))?;
    if rest.contains('?') {
        return None;
    }
    let (resource, word) = rest.rsplit_once('.')?;
    if let Some((permission, ..)) = PERMISSIONS
        .iter()
        .find(|(_, r, w, _)| *r == resource && *w == word)
    {
        return Some(Grant::Own(*permission));
    }
    let rtype = match resource {
        "*" => None,
        name => Some(name.parse::<ResourceType>().ok()?),
    };
    Some(Grant::Fhir(rtype, permission_bits(word)?))
}

/// `cruds` letters (non-empty, in order, none twice) or a v1 word, as bits.
fn permission_bits(word: &str) -> Option<u8> {
    let v1 = |letters: &str| permission_bits(letters);
    match word {
        "read" => return v1("rs"),
        "write" => return v1("cud"),
        "*" => return v1("cruds"),
        "" => return None,
        _ => {}
    }
    let mut bits = 0u8;
    let mut last = None;
    for ch in word.chars() {
        let position = "cruds".find(ch)?;
        if last.is_some_and(|l| position <= l) {
            return None;
        }
        last = Some(position);
        bits |= 1 << position;
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Interaction::*;
    use ResourceType::{Encounter, Location, Slot};

    fn grants(scopes: &str) -> Grants {
        Grants::parse(scopes.split_whitespace())
    }

    #[test]
    fn v2_letters_grant_exactly_their_interactions() {
        let g = grants("system/Slot.rs user/Location.cud");
        assert!(g.allows(Slot, Read) && g.allows(Slot, Search));
        assert!(!g.allows(Slot, Create) && !g.allows(Slot, Update) && !g.allows(Slot, Delete));
        assert!(
            g.allows(Location, Create) && g.allows(Location, Update) && g.allows(Location, Delete)
        );
        assert!(!g.allows(Location, Read) && !g.allows(Encounter, Read));
    }

    #[test]
    fn wildcards_and_v1_words() {
        let g = grants("system/*.read");
        for rt in ResourceType::ALL {
            assert!(g.allows(rt, Read) && g.allows(rt, Search) && !g.allows(rt, Create));
        }
        let g = grants("user/Slot.write");
        assert!(g.allows(Slot, Create) && g.allows(Slot, Update) && g.allows(Slot, Delete));
        assert!(!g.allows(Slot, Read) && !g.allows(Slot, Search));
        let g = grants("system/Encounter.*");
        for i in Interaction::ALL {
            assert!(g.allows(Encounter, i));
        }
        assert!(!g.has(Permission::PictureRead), "* covers FHIR types only");
        assert!(!grants("system/*.cruds").has(Permission::MetricsRead));
    }

    #[test]
    fn anything_not_understood_grants_nothing() {
        for scope in [
            "patient/Slot.rs",
            "Slot.rs",
            "system/Slot.sr",
            "system/Slot.rr",
            "system/Slot.",
            "system/Slot.x",
            "system/Slot.rsx",
            "system/Patient.cruds",
            "system/slot.rs",
            "system/Slot.rs?status=free",
            "system/*.rs?x=y",
            "system/Slot",
            "system/ohjaamo.picture.write",
            "system/ohjaamo.picture.r",
            "system/ohjaamo.*.read",
            "openid",
            "system/",
            "",
        ] {
            assert_eq!(grants(scope), Grants::default(), "{scope:?}");
        }
    }

    #[test]
    fn the_servers_own_permissions() {
        let g = grants("system/ohjaamo.picture.read user/ohjaamo.sources.write");
        assert!(g.has(Permission::PictureRead) && g.has(Permission::SourcesWrite));
        assert!(!g.has(Permission::SourcesRead) && !g.has(Permission::MetricsRead));
        assert_eq!(
            Permission::MetricsRead.scope(),
            "system/ohjaamo.metrics.read"
        );
        for rt in ResourceType::ALL {
            assert!(!g.allows(rt, Read));
        }
    }
}
