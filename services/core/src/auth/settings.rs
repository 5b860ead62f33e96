//! How the core authenticates its callers: not at all (an explicit opt-out for
//! development and tests), or with bearer JWTs of one OIDC issuer.

use std::time::Duration;

use jsonwebtoken::Algorithm;

/// Authentication of API requests.
#[derive(Debug, Clone, Default)]
pub enum AuthMode {
    /// Every request is let in and acts for the organisation its header names. Only by
    /// explicit choice (`--auth none`); the library default so that tests and embedded
    /// uses need no issuer.
    #[default]
    None,
    /// Bearer JWTs signed by the issuer's keys.
    Oidc(OidcSettings),
}

/// What a token must be to be accepted.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer URL, exactly as its tokens' `iss` says it (discovery is under
    /// `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// The `aud` a token must carry.
    pub audience: String,
    /// The claim holding the organisation OID(s) the caller may act for.
    pub organization_claim: String,
    /// Signature algorithms accepted; asymmetric only ([`parse_algorithms`]).
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// The least time between two fetches of the issuer's keys: a flood of tokens with
    /// made-up key ids must not become a flood of requests to the issuer.
    pub jwks_min_refresh: Duration,
    /// Keys older than this are fetched again (a removed key stops being accepted).
    pub jwks_max_age: Duration,
    /// The bed board's OAuth client at the issuer (a public client: authorization
    /// code with PKCE), told to the page by `/displays/signin`.
    pub displays_client_id: String,
    /// The scopes the bed board asks for, space-separated.
    pub displays_scopes: String,
}

impl OidcSettings {
    /// Settings with the defaults for everything but the three names.
    pub fn new(issuer: &str, audience: &str) -> OidcSettings {
        OidcSettings {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            organization_claim: "organization".into(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: Duration::from_secs(30),
            jwks_min_refresh: Duration::from_secs(30),
            jwks_max_age: Duration::from_secs(3600),
            displays_client_id: DISPLAYS_CLIENT_ID.into(),
            displays_scopes: DISPLAYS_SCOPES.into(),
        }
    }
}

/// The bed board's client id unless configured.
pub const DISPLAYS_CLIENT_ID: &str = "ohjaamo-displays";
/// What the bed board asks for unless configured: who signed in (`openid profile`)
/// and a coordinator's scopes (docs/security.md).
pub const DISPLAYS_SCOPES: &str = "openid profile user/ohjaamo.picture.read user/Slot.cruds \
     user/Location.rs user/Schedule.rs";

/// RS256 (what most issuers sign with), PS256 and ES256.
pub const DEFAULT_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

/// Parses a comma-separated list of signature algorithms, refusing the symmetric ones
/// (HS256/384/512: anyone who can verify could also sign, and a public key used as an
/// HMAC secret is the classic forgery) and `none`. An empty list is refused too.
pub fn parse_algorithms(text: &str) -> Result<Vec<Algorithm>, String> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name.eq_ignore_ascii_case("none") || name.to_ascii_uppercase().starts_with("HS") {
            return Err(format!(
                "algorithm {name} is refused: only asymmetric signatures (RS*, PS*, ES*, \
                 EdDSA) can be verified without being able to forge"
            ));
        }
        let alg: Algorithm = name
            .parse()
            .map_err(|_| format!("unknown signature algorithm {name:?}"))?;
        if !out.contains(&alg) {
            out.push(alg);
        }
    }
    if out.is_empty() {
        return Err("at least one signature algorithm is needed".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asymmetric_algorithms_parse_and_symmetric_ones_are_refused() {
        assert_eq!(
            parse_algorithms("RS256, ES256,RS256").unwrap(),
            vec![Algorithm::RS256, Algorithm::ES256]
        );
        for bad in ["HS256", "RS256,hs512", "none", "NONE", "", " , ", "RS999"] {
            assert!(parse_algorithms(bad).is_err(), "{bad}");
        }
    }
}
