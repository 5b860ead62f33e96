//! The issuer's signing keys, cached.
//!
//! A token names its key by `kid`. A known key answers from memory; an unknown one
//! (the issuer rotated its keys) or an expired cache fetches the key set again — once
//! for all the requests waiting on it (single flight), and never more often than the
//! minimum interval, so that tokens with made-up key ids cannot make the core hammer
//! the issuer. While the issuer cannot be reached the keys already fetched stay in use
//! (a restart is not needed, and neither is the issuer for every request).
//!
//! Only keys that can verify a signature are kept: public RSA, EC (P-256, P-384) and
//! Ed25519 keys whose `use` is `sig` or unset. Symmetric (`oct`) keys are dropped: a
//! key set is public, and a public HMAC secret would let anyone sign.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

/// Where the key set comes from: the issuer's `jwks_uri` in production, a fake in
/// tests.
pub trait KeySource: Send + Sync {
    fn fetch(&self) -> impl Future<Output = Result<JwkSet, String>> + Send;
}

/// What kind of key a JWK is, which decides the algorithms it may verify: a token
/// whose `alg` does not fit its key's type is refused (the algorithm-confusion
/// forgeries swap one for the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

/// One verification key from the key set.
pub struct VerifyKey {
    pub key: DecodingKey,
    kind: KeyKind,
    /// The JWK's own `alg`, when it names one: then only that algorithm.
    alg: Option<Algorithm>,
}

impl VerifyKey {
    /// The key of `jwk`, or `None` when it cannot verify signatures here.
    pub fn from_jwk(jwk: &Jwk) -> Option<VerifyKey> {
        if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
            return None;
        }
        let kind = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyKind::Rsa,
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => KeyKind::EcP256,
                EllipticCurve::P384 => KeyKind::EcP384,
                _ => return None,
            },
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                KeyKind::Ed25519
            }
            _ => return None,
        };
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(named) => Some(signature_algorithm(named)?),
        };
        let key = DecodingKey::from_jwk(jwk).ok()?;
        Some(VerifyKey { key, kind, alg })
    }

    /// Whether a signature by `alg` may be checked with this key.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        let fits = match self.kind {
            KeyKind::Rsa => matches!(
                alg,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ),
            KeyKind::EcP256 => alg == Algorithm::ES256,
            KeyKind::EcP384 => alg == Algorithm::ES384,
            KeyKind::Ed25519 => alg == Algorithm::EdDSA,
        };
        fits && self.alg.is_none_or(|own| own == alg)
    }
}

/// The signature algorithm a JWK's `alg` names; `None` for anything else (an
/// encryption algorithm, HMAC): such a key is not used.
fn signature_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Why no key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The key set has no usable key with this id (also after a refresh, or a refresh
    /// was not allowed yet).
    Unknown,
    /// The key set could not be fetched and no key with this id is known.
    Unavailable(String),
}

/// More keys than this in one set are ignored: a key set is a handful of keys.
const MAX_KEYS: usize = 64;

#[derive(Default)]
struct Cached {
    keys: HashMap<String, Arc<VerifyKey>>,
    /// When the keys were last fetched successfully.
    fetched: Option<Instant>,
    /// When a fetch was last started, successful or not.
    attempted: Option<Instant>,
    /// Counts finished fetches, so a request that waited for another's fetch can tell
    /// that it happened.
    generation: u64,
}

/// The cache of one issuer's keys.
pub struct KeyCache<S> {
    source: S,
    cached: RwLock<Cached>,
    /// Held by the one request fetching the key set.
    flight: Mutex<()>,
    min_refresh: Duration,
    max_age: Duration,
}

impl<S: KeySource> KeyCache<S> {
    pub fn new(source: S, min_refresh: Duration, max_age: Duration) -> KeyCache<S> {
        KeyCache {
            source,
            cached: RwLock::default(),
            flight: Mutex::new(()),
            min_refresh,
            max_age,
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// The key named `kid`, fetching the key set first when the id is unknown or the
    /// keys have expired (subject to the minimum interval).
    pub async fn key(&self, kid: &str) -> Result<Arc<VerifyKey>, KeyError> {
        let (generation, known) = {
            let cached = self.cached.read().await;
            let fresh = cached.fetched.is_some_and(|at| at.elapsed() < self.max_age);
            let known = cached.keys.get(kid).cloned();
            match known {
                Some(key) if fresh => return Ok(key),
                known => (cached.generation, known),
            }
        };
        let _flight = self.flight.lock().await;
        {
            let cached = self.cached.read().await;
            if cached.generation != generation {
                // Another request fetched while this one waited: its answer stands.
                return cached.keys.get(kid).cloned().ok_or(KeyError::Unknown);
            }
            if cached
                .attempted
                .is_some_and(|at| at.elapsed() < self.min_refresh)
            {
                return known.ok_or(KeyError::Unknown);
            }
        }
        self.cached.write().await.attempted = Some(Instant::now());
        let fetched = self.source.fetch().await;
        let mut cached = self.cached.write().await;
        cached.generation += 1;
        match fetched {
            Ok(set) => {
                cached.keys = usable_keys(&set);
                cached.fetched = Some(Instant::now());
                tracing::debug!(
                    keys = cached.keys.len(),
                    "fetched the issuer's signing keys"
                );
                cached.keys.get(kid).cloned().ok_or(KeyError::Unknown)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot fetch the issuer's signing keys; the keys fetched before stay in use");
                match cached.keys.get(kid) {
                    Some(key) => Ok(key.clone()),
                    None => Err(KeyError::Unavailable(e)),
                }
            }
        }
    }
}

/// The keys of `set` that can verify signatures, by `kid` (keys without one are
/// skipped: a token must name its key).
fn usable_keys(set: &JwkSet) -> HashMap<String, Arc<VerifyKey>> {
    set.keys
        .iter()
        .take(MAX_KEYS)
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            Some((kid, Arc::new(VerifyKey::from_jwk(jwk)?)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A key source counting its fetches, serving whatever set the test put in.
    struct Fake {
        fetches: AtomicUsize,
        set: std::sync::Mutex<Result<JwkSet, String>>,
        delay: Duration,
    }

    impl KeySource for Arc<Fake> {
        async fn fetch(&self) -> Result<JwkSet, String> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.set.lock().map_err(|e| e.to_string())?.clone()
        }
    }

    fn rsa(kid: &str) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "e": "AQAB",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"
        })
    }

    fn set(keys: &[serde_json::Value]) -> JwkSet {
        serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap()
    }

    fn cache(fake: &Arc<Fake>, min: u64, max_age: u64) -> KeyCache<Arc<Fake>> {
        KeyCache::new(
            fake.clone(),
            Duration::from_millis(min),
            Duration::from_millis(max_age),
        )
    }

    fn fake(keys: &[serde_json::Value], delay_ms: u64) -> Arc<Fake> {
        Arc::new(Fake {
            fetches: AtomicUsize::new(0),
            set: std::sync::Mutex::new(Ok(set(keys))),
            delay: Duration::from_millis(delay_ms),
        })
    }

    #[tokio::test]
    async fn concurrent_unknown_kids_fetch_once() {
        let fake = fake(&[rsa("a")], 50);
        let cache = Arc::new(cache(&fake, 60_000, 3_600_000));
        let lookups: Vec<_> = (0..20)
            .map(|i| {
                let cache = cache.clone();
                tokio::spawn(async move {
                    cache
                        .key(if i % 2 == 0 { "a" } else { "nope" })
                        .await
                        .is_ok()
                })
            })
            .collect();
        let mut found = 0;
        for lookup in lookups {
            found += usize::from(lookup.await.unwrap());
        }
        assert_eq!(found, 10);
        assert_eq!(fake.fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn unknown_kids_refetch_only_after_the_minimum_interval() {
        let fake = fake(&[rsa("a")], 0);
        let cache = cache(&fake, 300, 3_600_000);
        assert!(cache.key("a").await.is_ok());
        for _ in 0..50 {
            assert_eq!(cache.key("bogus").await.err(), Some(KeyError::Unknown));
        }
        assert_eq!(
            fake.fetches.load(Ordering::SeqCst),
            1,
            "a flood of bad kids"
        );
        // The issuer rotates in key b; after the interval an unknown kid fetches again.
        *fake.set.lock().unwrap() = Ok(set(&[rsa("a"), rsa("b")]));
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(cache.key("b").await.is_ok());
        assert_eq!(fake.fetches.load(Ordering::SeqCst), 2);
        assert!(cache.key("a").await.is_ok());
        assert_eq!(
            fake.fetches.load(Ordering::SeqCst),
            2,
            "known keys from memory"
        );
    }

    #[tokio::test]
    async fn expired_keys_are_fetched_again_and_removed_keys_stop_working() {
        let fake = fake(&[rsa("a")], 0);
        let cache = cache(&fake, 0, 100);
        assert!(cache.key("a").await.is_ok());
        *fake.set.lock().unwrap() = Ok(set(&[rsa("b")]));
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(cache.key("a").await.err(), Some(KeyError::Unknown));
        assert_eq!(fake.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unreachable_issuer_keeps_the_keys_fetched_before() {
        let fake = fake(&[rsa("a")], 0);
        let cache = cache(&fake, 0, 50);
        assert!(cache.key("a").await.is_ok());
        *fake.set.lock().unwrap() = Err("connection refused".into());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(cache.key("a").await.is_ok());
        assert!(matches!(
            cache.key("b").await.err(),
            Some(KeyError::Unavailable(_))
        ));
    }

    #[test]
    fn keys_verify_only_algorithms_of_their_type() {
        let key = VerifyKey::from_jwk(&serde_json::from_value(rsa("a")).unwrap()).unwrap();
        assert!(key.accepts(Algorithm::RS256));
        assert!(!key.accepts(Algorithm::PS256), "the JWK names RS256");
        assert!(!key.accepts(Algorithm::ES256));
        assert!(!key.accepts(Algorithm::HS256));
        let mut unnamed = rsa("a");
        unnamed.as_object_mut().unwrap().remove("alg");
        let key = VerifyKey::from_jwk(&serde_json::from_value(unnamed).unwrap()).unwrap();
        assert!(key.accepts(Algorithm::PS256));
        assert!(!key.accepts(Algorithm::HS256));
        let secret = serde_json::json!({ "kty": "oct", "kid": "s", "k": "c2VjcmV0" });
        assert!(VerifyKey::from_jwk(&serde_json::from_value(secret).unwrap()).is_none());
        let mut encryption = rsa("e");
        encryption["use"] = "enc".into();
        assert!(VerifyKey::from_jwk(&serde_json::from_value(encryption).unwrap()).is_none());
    }
}
