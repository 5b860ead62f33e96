//! Who the development issuer knows: the demo's people (coordinators who sign in at
//! the bed board) and its clients (the bed board itself, a public client; the wall
//! screen, the adapters and the demo's own watcher, confidential clients with secrets
//! made at start). Scopes follow docs/security.md's table of roles.

use std::sync::{Arc, RwLock};

use crate::demo::issuer::keys::random_token;

/// The organisation every demo token acts for: the tenant the demo's database has
/// always held (earlier demos ran with `--auth none` and the default organisation), so
/// that a demo folder of an earlier run keeps its data.
pub const ORGANIZATION: &str = "default";
/// The `aud` of the demo's access tokens, given to the core as `--auth-audience`.
pub const AUDIENCE: &str = "ohjaamo";
/// The bed board's client id (public: no secret, PKCE).
pub const DISPLAYS_CLIENT: &str = "ohjaamo-displays";
/// A coordinator's scopes at the bed board (docs/security.md).
pub const COORDINATOR_SCOPES: &str =
    "user/ohjaamo.picture.read user/Slot.cruds user/Location.rs user/Schedule.rs";
/// What a person's sign-in may ask for besides the coordinator's scopes.
const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];
/// The recovery wall screen's client id.
pub const SCREEN_CLIENT: &str = "screen-heraamo";
/// The demo's own watcher (it reads `/sources` to tell which source is fed, and the
/// picture to learn the recovery unit's id for the screen's credential).
pub const WATCH_CLIENT: &str = "demo-watch";

/// A person who can sign in at the demo's bed board.
pub struct Person {
    pub sub: &'static str,
    pub name: &'static str,
    /// Their work, in Finnish, English and Swedish.
    pub role: [&'static str; 3],
}

/// The demo's coordinators: one per ward of the simulated hospital, and one for the
/// whole hospital.
pub const PEOPLE: &[Person] = &[
    Person {
        sub: "coordinator-hospital",
        name: "Aino Virtanen",
        role: [
            "Sairaalan paikkakoordinaattori",
            "Hospital bed coordinator",
            "Sjukhusets vårdplatskoordinator",
        ],
    },
    Person {
        sub: "coordinator-internal",
        name: "Mikko Korhonen",
        role: [
            "Koordinaattori, sisätautien osastot",
            "Coordinator, internal medicine wards",
            "Koordinator, internmedicinska avdelningar",
        ],
    },
    Person {
        sub: "coordinator-surgery",
        name: "Sara Lindqvist",
        role: [
            "Koordinaattori, kirurgiset osastot",
            "Coordinator, surgical wards",
            "Koordinator, kirurgiska avdelningar",
        ],
    },
];

pub fn person(sub: &str) -> Option<&'static Person> {
    PEOPLE.iter().find(|p| p.sub == sub)
}

/// The units the wall screen's credential names: unknown until the adapters have
/// brought the recovery unit (its Location id is the core's), then filled in by the
/// demo's watcher.
#[derive(Clone, Default)]
pub struct ScreenUnits(Arc<RwLock<Option<Vec<String>>>>);

impl ScreenUnits {
    pub fn set(&self, units: Vec<String>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(units);
    }

    pub fn get(&self) -> Option<Vec<String>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// How a client proves who it is.
pub enum Kind {
    /// A page: no secret; authorization code with PKCE, back to one of these addresses.
    Public { redirect_uris: Vec<String> },
    /// A service or a screen: client credentials with this secret.
    Confidential { secret: String },
}

/// One client of the issuer.
pub struct Client {
    pub id: String,
    pub kind: Kind,
    /// The scopes it may be given, space-separated.
    pub scope: String,
    /// The units a token of it is confined to (`ohjaamo_units`), for a wall screen.
    pub units: Option<ScreenUnits>,
}

impl Client {
    /// Whether a token may carry `scope`.
    pub fn may_have(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
            || (matches!(self.kind, Kind::Public { .. }) && OIDC_SCOPES.contains(&scope))
    }

    pub fn secret(&self) -> Option<&str> {
        match &self.kind {
            Kind::Confidential { secret } => Some(secret),
            Kind::Public { .. } => None,
        }
    }
}

/// The demo's clients, for a core whose pages are at `core_origin`.
pub fn demo_clients(core_origin: &str, screen_units: &ScreenUnits) -> Vec<Client> {
    let confidential = |id: &str, scope: &str| Client {
        id: id.to_owned(),
        kind: Kind::Confidential {
            secret: random_token(24),
        },
        scope: scope.to_owned(),
        units: None,
    };
    let mut screen = confidential(SCREEN_CLIENT, "system/ohjaamo.picture.read");
    screen.units = Some(screen_units.clone());
    vec![
        Client {
            id: DISPLAYS_CLIENT.to_owned(),
            kind: Kind::Public {
                redirect_uris: vec![format!("{core_origin}/displays/beds")],
            },
            scope: COORDINATOR_SCOPES.to_owned(),
            units: None,
        },
        screen,
        // The adapters: their client id is their source's name (PUT /sources/{name}).
        confidential(
            "adt",
            "system/*.cus system/ohjaamo.sources.write system/ohjaamo.restricted.read",
        ),
        confidential("pull", "system/*.cus system/ohjaamo.sources.write"),
        confidential(
            WATCH_CLIENT,
            "system/ohjaamo.sources.read system/ohjaamo.picture.read",
        ),
    ]
}
