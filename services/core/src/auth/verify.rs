//! A bearer token verified: its signature by one of the issuer's keys, with an
//! allowed asymmetric algorithm that fits the key's type; `iss`, `aud` and `exp`
//! required and checked, `nbf` checked when present, all with the configured leeway.
//! What a verified token says becomes a [`Principal`].

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::{Map, Value};

use crate::auth::issuer::{Discovery, Issuer};
use crate::auth::jwks::{KeyCache, KeyError};
use crate::auth::scopes::Grants;
use crate::auth::settings::OidcSettings;

/// A token longer than this is refused unread (real access tokens are 1-4 KB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Who a verified token speaks for.
#[derive(Debug, Clone)]
pub struct Principal {
    /// `sub`.
    pub subject: Option<String>,
    /// `client_id` (RFC 9068) or `azp`.
    pub client_id: Option<String>,
    /// `name`: who the subject is, in words (the access log and the bed board show it).
    pub name: Option<String>,
    /// The scopes as the token listed them (its role, in the access log); at most
    /// [`MAX_SCOPES_KEPT`].
    pub scopes: Vec<String>,
    /// The organisations the token may act for, from the configured claim.
    pub organizations: Vec<String>,
    /// What its scopes grant.
    pub grants: Grants,
    /// The units whose picture it may read (the [`UNITS_CLAIM`] claim).
    pub units: UnitScope,
}

/// The claim that confines a token to some units' pictures: a wall screen's
/// credential names its recovery unit or ward, and reads that picture and nothing else.
pub const UNITS_CLAIM: &str = "ohjaamo_units";

/// How many of a token's scope strings a [`Principal`] keeps for the record: a token
/// of thousands of scopes must not make every access record as large.
pub const MAX_SCOPES_KEPT: usize = 64;

/// Which units' pictures a token may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitScope {
    /// No [`UNITS_CLAIM`]: every unit of its organisations.
    Any,
    /// These units only. A claim of the wrong shape is an empty list: no unit (fail
    /// closed).
    Only(Vec<String>),
}

/// Why a token was not accepted. The reason is for the server's log only: the client
/// is told no more than that its token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    Invalid(String),
    /// The issuer's keys could not be fetched and the token's key is not known yet.
    Unavailable(String),
}

/// Verifies tokens of one issuer.
pub struct Verifier {
    settings: OidcSettings,
    keys: KeyCache<Issuer>,
}

impl Verifier {
    pub fn new(settings: OidcSettings) -> Verifier {
        let keys = KeyCache::new(
            Issuer::new(&settings.issuer),
            settings.jwks_min_refresh,
            settings.jwks_max_age,
        );
        Verifier { settings, keys }
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The issuer's discovery document, if it could be fetched.
    pub async fn discovery(&self) -> Result<&Discovery, String> {
        self.keys.source().discovery().await
    }

    /// Checks `token` and says whom it speaks for.
    pub async fn verify(&self, token: &str) -> Result<Principal, Rejected> {
        let invalid = |why: String| Rejected::Invalid(why);
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid(format!("longer than {MAX_TOKEN_BYTES} bytes")));
        }
        let header = decode_header(token).map_err(|e| invalid(format!("header: {e}")))?;
        let alg = header.alg;
        if !self.settings.algorithms.contains(&alg) {
            return Err(invalid(format!("algorithm {alg:?} is not allowed")));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("the header names no key (kid)".into()))?;
        let key = self.keys.key(&kid).await.map_err(|e| match e {
            KeyError::Unknown => invalid(format!("the issuer has no signing key {kid:?}")),
            KeyError::Unavailable(why) => Rejected::Unavailable(why),
        })?;
        if !key.accepts(alg) {
            return Err(invalid(format!("key {kid:?} does not verify {alg:?}")));
        }
        let claims = decode::<Map<String, Value>>(token, &key.key, &self.validation(alg))
            .map_err(|e| invalid(format!("{e}")))?
            .claims;
        Ok(self.principal(&claims))
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = self.settings.leeway.as_secs();
        v.set_issuer(&[&self.settings.issuer]);
        v.set_audience(&[&self.settings.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = true;
        v
    }

    fn principal(&self, claims: &Map<String, Value>) -> Principal {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let mut scopes: Vec<&str> = Vec::new();
        // `scope` (RFC 9068, space-separated); Entra ID puts delegated scopes in `scp`
        // and an application's permissions in `roles`.
        for name in ["scope", "scp", "roles"] {
            scopes.extend(strings(claims.get(name)).flat_map(str::split_whitespace));
        }
        Principal {
            subject: text("sub"),
            client_id: text("client_id").or_else(|| text("azp")),
            name: text("name"),
            scopes: scopes
                .iter()
                .take(MAX_SCOPES_KEPT)
                .map(|s| (*s).to_owned())
                .collect(),
            organizations: strings(claims.get(&self.settings.organization_claim))
                .map(str::to_owned)
                .collect(),
            grants: Grants::parse(scopes.iter().copied()),
            units: match claims.get(UNITS_CLAIM) {
                None => UnitScope::Any,
                Some(claim) => UnitScope::Only(strings(Some(claim)).map(str::to_owned).collect()),
            },
        }
    }
}

/// A claim that is one string or an array of strings, as its strings; anything else
/// as none (an organisation claim of the wrong shape grants no organisation).
fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    items.into_iter()
}
