//! The OIDC issuer over HTTP: its discovery document
//! (`{issuer}/.well-known/openid-configuration`), which names the key set's URL and
//! the endpoints the SMART configuration republishes, and the key set itself.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::auth::jwks::KeySource;

/// A discovery document or key set larger than this is refused (they are a few KB).
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// What the core uses of the discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// Where a page signs a person out (OIDC RP-Initiated Logout).
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// One issuer, discovered once (on first use, retried until it succeeds).
pub struct Issuer {
    client: reqwest::Client,
    issuer: String,
    discovered: OnceCell<Discovery>,
}

impl Issuer {
    pub fn new(issuer: &str) -> Issuer {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Issuer {
            client,
            issuer: issuer.trim_end_matches('/').to_owned(),
            discovered: OnceCell::new(),
        }
    }

    /// The discovery document, fetched on the first call that succeeds. Its `issuer`
    /// must be the configured one (OIDC Discovery §4.3): a document naming another
    /// issuer would make the core trust that issuer's keys.
    pub async fn discovery(&self) -> Result<&Discovery, String> {
        self.discovered
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.issuer);
                let doc: Discovery = serde_json::from_slice(&self.get(&url).await?)
                    .map_err(|e| format!("the discovery document at {url} does not parse: {e}"))?;
                if doc.issuer.trim_end_matches('/') != self.issuer {
                    return Err(format!(
                        "the discovery document at {url} names issuer {:?}, not the configured one",
                        doc.issuer
                    ));
                }
                Ok(doc)
            })
            .await
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!(
                    "GET {url}: the answer is larger than {MAX_DOCUMENT_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl KeySource for Issuer {
    async fn fetch(&self) -> Result<JwkSet, String> {
        let url = self.discovery().await?.jwks_uri.clone();
        serde_json::from_slice(&self.get(&url).await?)
            .map_err(|e| format!("the key set at {url} does not parse: {e}"))
    }
}
