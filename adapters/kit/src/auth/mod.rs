//! The adapters as OAuth 2.0 clients of the core's issuer.
//!
//! Every request an adapter sends to the core (the push client's Bundles, the ADT
//! adapter's reads and writes, the health reports) goes through [`CoreAuth::send`]:
//! it carries a bearer token got with the client-credentials grant, the client
//! proving itself with a secret (`client_secret_basic` / `_post`) or with a signed
//! assertion (`private_key_jwt`, as SMART Backend Services specify). The token is
//! cached and renewed before it expires, one renewal for all callers ([`cache`]).
//! When the core answers 401 anyway (the token was revoked, or the clocks differ),
//! the token is renewed once and the request sent once more; a second 401 is the
//! caller's to handle as a transient failure — it backs off and neither moves a
//! cursor nor acknowledges a message.
//!
//! Without a [`ClientConfig`] requests carry no token, as a core run with
//! `--auth none` expects.
//!
//! | file | what |
//! | --- | --- |
//! | `config` | the client's settings as plain values ([`ClientConfig`]) |
//! | `settings` | the same as flags and `OHJAAMO_*` variables |
//! | `assertion` | `private_key_jwt` client assertions |
//! | `token` | discovery and the token request |
//! | `cache` | the held token and its single-flight renewal |

pub mod assertion;
pub mod cache;
pub mod config;
pub mod settings;
pub mod token;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::OnceCell;

pub use config::{
    AssertionAlgorithm, ClientConfig, Credentials, Secret, SecretMethod, TokenEndpoint,
};
pub use settings::{ClientFlags, CoreAuthArgs};

use crate::auth::assertion::SigningKey;
use crate::auth::cache::TokenCache;
use crate::auth::token::{Grant, Proof, TokenError};

/// Why a request to the core could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no access token for the core: {0}")]
    Token(#[from] TokenError),
    #[error("cannot reach the core: {0}")]
    Http(#[from] reqwest::Error),
}

/// How the adapter authenticates to the core: cheap to clone, one token for all
/// clones.
#[derive(Clone, Default)]
pub struct CoreAuth {
    client: Option<Arc<Client>>,
}

struct Client {
    config: ClientConfig,
    /// Whom the tokens are for (`core`, `upstream`): in logs and as the metrics' label.
    peer: &'static str,
    proof: Proof,
    http: reqwest::Client,
    endpoint: OnceCell<String>,
    cache: TokenCache,
    grants: AtomicU64,
    rejections: AtomicU64,
}

impl std::fmt::Debug for CoreAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl CoreAuth {
    /// No token: for a core run with `--auth none`.
    pub fn none() -> CoreAuth {
        CoreAuth::default()
    }

    /// A client of the issuer. The key (for `private_key_jwt`) is read and tried
    /// now, so a wrong key stops the adapter at start, not at its first request;
    /// the issuer is asked only when the first token is needed.
    pub fn client(config: ClientConfig) -> anyhow::Result<CoreAuth> {
        CoreAuth::client_of(config, "core")
    }

    /// A client of another server's issuer (`peer` names that server in logs and
    /// metrics): the FHIR source's upstream, with SMART Backend Services.
    pub fn client_of(config: ClientConfig, peer: &'static str) -> anyhow::Result<CoreAuth> {
        let proof = match &config.credentials {
            Credentials::Secret { secret, method } => Proof::Secret {
                secret: secret.clone(),
                method: *method,
            },
            Credentials::PrivateKeyJwt {
                key_pem,
                key_id,
                algorithm,
            } => {
                let key =
                    SigningKey::from_pem(key_pem.expose().as_bytes(), key_id.clone(), *algorithm)?;
                key.assertion(&config.client_id, "check", 0)?;
                Proof::Key(key)
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(CoreAuth {
            client: Some(Arc::new(Client {
                config,
                peer,
                proof,
                http,
                endpoint: OnceCell::new(),
                cache: TokenCache::default(),
                grants: AtomicU64::new(0),
                rejections: AtomicU64::new(0),
            })),
        })
    }

    /// Whether requests carry a token at all.
    pub fn has_client(&self) -> bool {
        self.client.is_some()
    }

    /// The mode in one line, for the log at start (no secret).
    pub fn describe(&self) -> String {
        match &self.client {
            None => {
                "none: requests to the core carry no token (a core run with --auth none)".to_owned()
            }
            Some(c) => c.config.describe(),
        }
    }

    /// From the adapter's flags; logs the mode in use once.
    pub fn from_args(args: &CoreAuthArgs) -> anyhow::Result<CoreAuth> {
        let auth = match args.config()? {
            None => CoreAuth::none(),
            Some(config) => CoreAuth::client(config)?,
        };
        tracing::info!(mode = %auth.describe(), "authentication to the core");
        Ok(auth)
    }

    /// Tokens got from the issuer, and 401s the core answered, since start.
    pub fn counts(&self) -> (u64, u64) {
        self.client.as_ref().map_or((0, 0), |c| {
            (
                c.grants.load(Ordering::Relaxed),
                c.rejections.load(Ordering::Relaxed),
            )
        })
    }

    /// Sends the request `build` makes with the token; on a 401 renews the token once
    /// and sends a new request once more. The answer is the core's, whatever it is
    /// (also a second 401).
    pub async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SendError> {
        let Some(client) = &self.client else {
            return Ok(build().send().await?);
        };
        let held = client.cache.token(|| client.fetch()).await?;
        let response = build().bearer_auth(&held.token).send().await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        client.rejections.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("ohjaamo_adapter_token_rejected_total", "peer" => client.peer)
            .increment(1);
        tracing::info!(
            peer = client.peer,
            "the server refused the access token; renewing it once"
        );
        let renewed = client
            .cache
            .replace(held.generation, || client.fetch())
            .await?;
        let response = build().bearer_auth(&renewed.token).send().await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            client.rejections.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("ohjaamo_adapter_token_rejected_total", "peer" => client.peer)
                .increment(1);
            tracing::warn!(
                peer = client.peer,
                "the server refused a renewed access token too; the caller backs off"
            );
        }
        Ok(response)
    }
}

impl Client {
    /// A new token from the issuer.
    async fn fetch(&self) -> Result<Grant, TokenError> {
        let endpoint = self
            .endpoint
            .get_or_try_init(|| async {
                match &self.config.endpoint {
                    TokenEndpoint::Url(url) => Ok(url.clone()),
                    TokenEndpoint::Issuer(issuer) => token::discover(&self.http, issuer).await,
                }
            })
            .await?;
        let grant = token::request(
            &self.http,
            endpoint,
            &self.config.client_id,
            &self.proof,
            self.config.scope.as_deref(),
        )
        .await?;
        self.grants.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("ohjaamo_adapter_tokens_total", "peer" => self.peer).increment(1);
        tracing::debug!(peer = self.peer, lifetime = ?grant.lifetime, "access token renewed");
        Ok(grant)
    }
}
