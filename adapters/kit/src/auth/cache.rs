//! The access token an adapter holds, renewed before it expires, with one renewal
//! in flight for all the adapter's callers.
//!
//! A token is renewed once 80 % of its lifetime has passed. Between then and its
//! expiry, the first caller renews and the others go on using the old token; once
//! it has expired (or the core rejected it) every caller waits for the one renewal.
//! A renewal that failed is not tried again for a second, so callers that waited on
//! it do not each ask the token endpoint in turn.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::token::{Grant, TokenError};

/// Share of a token's lifetime after which it is renewed.
const RENEW_AT: f64 = 0.8;
/// How long a failed renewal answers for itself before the endpoint is asked again.
const FAILURE_MEMORY: Duration = Duration::from_secs(1);

/// A token handed out, with the generation that tells a renewal apart from it.
#[derive(Debug, Clone)]
pub struct Held {
    pub token: String,
    pub generation: u64,
}

#[derive(Clone)]
struct Current {
    held: Held,
    renew_at: Instant,
    expires_at: Instant,
}

#[derive(Default)]
pub struct TokenCache {
    current: Mutex<Option<Current>>,
    last_failure: Mutex<Option<(Instant, String)>>,
    renewing: tokio::sync::Mutex<()>,
    generations: std::sync::atomic::AtomicU64,
}

impl TokenCache {
    fn snapshot(&self) -> Option<Current> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A token to send: the cached one while it is fresh, otherwise one renewed by
    /// `fetch` (only one caller at a time runs it).
    pub async fn token<F, Fut>(&self, fetch: F) -> Result<Held, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Grant, TokenError>>,
    {
        let now = Instant::now();
        match self.snapshot() {
            Some(c) if now < c.renew_at => Ok(c.held),
            Some(c) if now < c.expires_at => match self.renewing.try_lock() {
                Ok(_renewing) => Ok(self.renew(fetch).await.unwrap_or(c.held)),
                Err(_) => Ok(c.held),
            },
            _ => {
                let _renewing = self.renewing.lock().await;
                match self.snapshot() {
                    Some(c) if Instant::now() < c.renew_at => Ok(c.held),
                    _ => self.renew_or_recent_failure(fetch).await,
                }
            }
        }
    }

    /// A token other than the one of `rejected` generation, which the core refused:
    /// renewed unless another caller renewed it already.
    pub async fn replace<F, Fut>(&self, rejected: u64, fetch: F) -> Result<Held, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Grant, TokenError>>,
    {
        let _renewing = self.renewing.lock().await;
        match self.snapshot() {
            Some(c) if c.held.generation != rejected && Instant::now() < c.expires_at => Ok(c.held),
            _ => self.renew_or_recent_failure(fetch).await,
        }
    }

    async fn renew_or_recent_failure<F, Fut>(&self, fetch: F) -> Result<Held, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Grant, TokenError>>,
    {
        let recent = self
            .last_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some((at, reason)) = recent
            && at.elapsed() < FAILURE_MEMORY
        {
            return Err(TokenError::Recent(reason));
        }
        self.renew(fetch).await
    }

    /// Runs `fetch` (the caller holds `renewing`) and keeps what it got.
    async fn renew<F, Fut>(&self, fetch: F) -> Result<Held, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Grant, TokenError>>,
    {
        let asked = Instant::now();
        match fetch().await {
            Ok(grant) => {
                let generation = self
                    .generations
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                let held = Held {
                    token: grant.access_token,
                    generation,
                };
                // Lifetimes count from when the token was asked for: never later
                // than the issuer's clock.
                *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(Current {
                    held: held.clone(),
                    renew_at: asked + grant.lifetime.mul_f64(RENEW_AT),
                    expires_at: asked + grant.lifetime,
                });
                *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(held)
            }
            Err(e) => {
                tracing::warn!(error = %e, "no access token for the core");
                *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), e.to_string()));
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn grant(n: usize, lifetime: Duration) -> Grant {
        Grant {
            access_token: format!("t{n}"),
            lifetime,
        }
    }

    #[tokio::test]
    async fn one_renewal_serves_every_waiting_caller() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut callers = Vec::new();
        for _ in 0..8 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            callers.push(tokio::spawn(async move {
                cache
                    .token(|| async {
                        let n = fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(grant(n, Duration::from_secs(60)))
                    })
                    .await
                    .unwrap()
                    .token
            }));
        }
        for caller in callers {
            assert_eq!(caller.await.unwrap(), "t0");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_is_renewed_at_four_fifths_of_its_life_and_after_a_rejection() {
        let cache = TokenCache::default();
        let n = AtomicUsize::new(0);
        let fetch = || async {
            Ok(grant(
                n.fetch_add(1, Ordering::SeqCst),
                Duration::from_millis(500),
            ))
        };
        let first = cache.token(fetch).await.unwrap();
        assert_eq!(cache.token(fetch).await.unwrap().token, "t0");
        tokio::time::sleep(Duration::from_millis(420)).await;
        assert_eq!(
            cache.token(fetch).await.unwrap().token,
            "t1",
            "renewed at 80 %"
        );
        let replaced = cache.replace(first.generation, fetch).await.unwrap();
        assert_eq!(replaced.token, "t1", "t0's rejection: t1 is already newer");
        let again = cache.replace(replaced.generation, fetch).await.unwrap();
        assert_eq!(again.token, "t2");
    }

    #[tokio::test]
    async fn a_failed_renewal_is_not_retried_at_once_by_every_caller() {
        let cache = TokenCache::default();
        let asked = AtomicUsize::new(0);
        let failing = || async {
            asked.fetch_add(1, Ordering::SeqCst);
            Err(TokenError::Unreachable {
                url: "u".into(),
                reason: "down".into(),
            })
        };
        assert!(cache.token(failing).await.is_err());
        assert!(cache.token(failing).await.is_err());
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }
}
