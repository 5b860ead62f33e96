//! Who the caller is and what they may do: the settings of authentication, the
//! issuer's signing keys (discovery and a JWKS cache that refreshes on an unknown key
//! id), the verification of a bearer JWT, and the SMART scopes it grants.
//!
//! This folder knows neither HTTP requests nor the store: `http::access` turns a
//! request's `Authorization` header into a verified [`verify::Principal`] and asks its
//! [`scopes::Grants`] before each interaction.

pub mod issuer;
pub mod jwks;
pub mod scopes;
pub mod settings;
pub mod verify;
