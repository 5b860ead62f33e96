//! A client-credentials token of the demo's issuer for one of the demo's own clients
//! (its watcher, and its adapters until they get tokens themselves), cached and
//! renewed a minute before it expires.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Deserialize;
use tokio::sync::Mutex;

/// Renew this long before the token expires.
const EARLY: Duration = Duration::from_secs(60);

pub struct ServiceToken {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    secret: String,
    cached: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

impl ServiceToken {
    pub fn new(issuer_url: &str, client_id: &str, secret: String) -> ServiceToken {
        ServiceToken {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            token_url: format!("{issuer_url}/token"),
            client_id: client_id.to_owned(),
            secret,
            cached: Mutex::new(None),
        }
    }

    /// A token with at least a minute left.
    pub async fn get(&self) -> anyhow::Result<String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let answer: TokenAnswer = self
            .http
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(&self.secret))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body("grant_type=client_credentials")
            .send()
            .await
            .with_context(|| format!("POST {}", self.token_url))?
            .error_for_status()
            .with_context(|| format!("a token for {}", self.client_id))?
            .json()
            .await?;
        let lasts = Duration::from_secs(answer.expires_in).saturating_sub(EARLY);
        *cached = Some((answer.access_token.clone(), Instant::now() + lasts));
        Ok(answer.access_token)
    }

    /// Forget the cached token (the core refused it).
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}
