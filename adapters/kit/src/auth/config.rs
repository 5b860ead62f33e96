//! How an adapter proves itself to the core, as plain values: where the token
//! endpoint is, the client's id, its credential and the scopes it asks for.
//!
//! The flags ([`crate::auth::settings::CoreAuthArgs`]) make one of these; so can
//! code that runs adapters in-process (the demo) without any flags. Secrets are held
//! in [`Secret`], whose `Debug` never shows them.

use std::fmt;
use std::str::FromStr;

/// A value that must not reach a log: a client secret or a private key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// Where tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenEndpoint {
    /// The token endpoint's URL itself.
    Url(String),
    /// An OpenID Connect issuer: its token endpoint is read from
    /// `{issuer}/.well-known/openid-configuration` on first use.
    Issuer(String),
}

/// How a client secret is sent to the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SecretMethod {
    /// `client_secret_basic`: HTTP Basic authentication.
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

/// The signature algorithm of a `private_key_jwt` client assertion: the two SMART
/// Backend Services require servers to support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AssertionAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-384 (an RSA key of 2048 bits or more).
    #[value(name = "RS384")]
    Rs384,
    /// ECDSA on P-384 with SHA-384.
    #[value(name = "ES384")]
    Es384,
}

impl AssertionAlgorithm {
    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            AssertionAlgorithm::Rs384 => "RS384",
            AssertionAlgorithm::Es384 => "ES384",
        }
    }
}

/// The client's credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A shared secret (`client_secret_basic` or `client_secret_post`).
    Secret {
        secret: Secret,
        method: SecretMethod,
    },
    /// A signed JWT assertion (`private_key_jwt`, RFC 7523 as SMART Backend Services
    /// profile it). `key_pem` is the private key in PEM (PKCS#1, PKCS#8 or SEC1);
    /// `algorithm` unset: RS384 for an RSA key, ES384 for an EC key.
    PrivateKeyJwt {
        key_pem: Secret,
        key_id: Option<String>,
        algorithm: Option<AssertionAlgorithm>,
    },
}

/// An OAuth 2.0 client of the core's issuer, using the client-credentials grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub endpoint: TokenEndpoint,
    pub client_id: String,
    pub credentials: Credentials,
    /// Space-separated scopes to ask for; unset: none asked, the issuer's default.
    pub scope: Option<String>,
}

impl ClientConfig {
    /// One line for the log: the method, the client and the endpoint, no secret.
    pub fn describe(&self) -> String {
        let method = match &self.credentials {
            Credentials::Secret {
                method: SecretMethod::Basic,
                ..
            } => "client_secret_basic".to_owned(),
            Credentials::Secret {
                method: SecretMethod::Post,
                ..
            } => "client_secret_post".to_owned(),
            Credentials::PrivateKeyJwt { key_id, .. } => format!(
                "private_key_jwt (key id {})",
                key_id.as_deref().unwrap_or("unset")
            ),
        };
        let endpoint = match &self.endpoint {
            TokenEndpoint::Url(url) => format!("token endpoint {url}"),
            TokenEndpoint::Issuer(issuer) => format!("issuer {issuer}"),
        };
        format!(
            "client credentials with {method} as client {:?} at {endpoint}",
            self.client_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug_and_the_description() {
        let config = ClientConfig {
            endpoint: TokenEndpoint::Url("https://idp/token".into()),
            client_id: "adt".into(),
            credentials: Credentials::Secret {
                secret: Secret::new("hunter2"),
                method: SecretMethod::Basic,
            },
            scope: None,
        };
        assert!(!format!("{config:?}").contains("hunter2"));
        let line = config.describe();
        assert!(!line.contains("hunter2"), "{line}");
        assert!(
            line.contains("client_secret_basic") && line.contains("\"adt\""),
            "{line}"
        );
    }
}
