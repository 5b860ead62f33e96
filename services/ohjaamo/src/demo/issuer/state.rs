//! The development issuer's state, shared by its handlers: its address, its key, its
//! clients and what it has given out.

use crate::demo::issuer::clients::{self, Client, ScreenUnits};
use crate::demo::issuer::grants::Grants;
use crate::demo::issuer::keys::SigningKey;

/// Seconds an access token lasts: short, so that a signed-out or disabled client
/// stops soon even with a token in hand.
pub const ACCESS_TOKEN_SECONDS: u64 = 600;

/// The issuer, shared by its handlers.
pub struct DevIssuer {
    /// Its URL, as its tokens' `iss`.
    pub url: String,
    /// Where the core serves its pages: the only origin let back in after sign-in
    /// and allowed to call the token endpoint from a browser.
    pub core_origin: String,
    pub key: SigningKey,
    clients: Vec<Client>,
    pub grants: Grants,
}

impl DevIssuer {
    /// A new issuer at `url` for a core at `core_origin`, its key and client secrets
    /// made now.
    pub fn new(
        url: &str,
        core_origin: &str,
        screen_units: &ScreenUnits,
    ) -> anyhow::Result<DevIssuer> {
        Ok(DevIssuer {
            url: url.trim_end_matches('/').to_owned(),
            core_origin: core_origin.trim_end_matches('/').to_owned(),
            key: SigningKey::generate()?,
            clients: clients::demo_clients(core_origin, screen_units),
            grants: Grants::default(),
        })
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// The secret of confidential client `id`, for the demo's own parts (its adapters'
    /// token, its watcher, the wall screen's address).
    pub fn secret_of(&self, id: &str) -> Option<String> {
        self.client(id)?.secret().map(str::to_owned)
    }
}
