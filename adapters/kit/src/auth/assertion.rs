//! `private_key_jwt` client assertions as SMART Backend Services specify them: a JWT
//! signed with the client's private key (RS384 or ES384), naming the client as `iss`
//! and `sub`, the token endpoint as `aud`, a unique `jti` and an `exp` at most five
//! minutes ahead. The token endpoint checks it with the public key the client
//! registered (a JWKS or its URL), so no secret crosses the wire.
//!
//! Signing uses aws-lc-rs (the crypto rustls already brings in) directly: the JWS
//! is three base64url parts, and the key formats a hospital's PKI hands out (PKCS#1,
//! PKCS#8, SEC1 PEM) are read with rustls' PEM reader.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA384, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::json;

use crate::auth::config::AssertionAlgorithm;

/// How far ahead an assertion expires: SMART allows at most five minutes.
pub const ASSERTION_LIFETIME_SECONDS: i64 = 300;

/// Why a key cannot sign assertions.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the client key is not a PEM private key (PKCS#1, PKCS#8 or SEC1): {0}")]
    Pem(String),
    #[error("the client key cannot sign {0}: {1}")]
    Unfit(&'static str, String),
    #[error("signing the client assertion failed")]
    Sign,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// The client's private key, ready to sign assertions.
pub struct SigningKey {
    pair: Pair,
    key_id: Option<String>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({}, kid {:?})",
            self.algorithm().name(),
            self.key_id
        )
    }
}

impl SigningKey {
    /// Reads a PEM private key. `algorithm` unset: RS384 for an RSA key, ES384 for an
    /// EC one; set, the key must fit it (ES384 needs a P-384 key).
    pub fn from_pem(
        pem: &[u8],
        key_id: Option<String>,
        algorithm: Option<AssertionAlgorithm>,
    ) -> Result<SigningKey, KeyError> {
        let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| KeyError::Pem(e.to_string()))?;
        let rsa = || match &der {
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            _ => RsaKeyPair::from_der(&[]),
        };
        let ec = || {
            EcdsaKeyPair::from_private_key_der(&ECDSA_P384_SHA384_FIXED_SIGNING, der.secret_der())
        };
        let pair = match algorithm {
            Some(AssertionAlgorithm::Rs384) => Pair::Rsa(
                rsa().map_err(|e| KeyError::Unfit("RS384 (needs an RSA key)", e.to_string()))?,
            ),
            Some(AssertionAlgorithm::Es384) => Pair::Ec(
                ec().map_err(|e| KeyError::Unfit("ES384 (needs a P-384 key)", e.to_string()))?,
            ),
            None => match (rsa(), ec()) {
                (Ok(k), _) => Pair::Rsa(k),
                (_, Ok(k)) => Pair::Ec(k),
                (Err(e), Err(_)) => {
                    return Err(KeyError::Unfit(
                        "RS384 or ES384 (needs an RSA or a P-384 key)",
                        e.to_string(),
                    ));
                }
            },
        };
        Ok(SigningKey {
            pair,
            key_id,
            rng: SystemRandom::new(),
        })
    }

    pub fn algorithm(&self) -> AssertionAlgorithm {
        match self.pair {
            Pair::Rsa(_) => AssertionAlgorithm::Rs384,
            Pair::Ec(_) => AssertionAlgorithm::Es384,
        }
    }

    /// A fresh assertion of `client_id` for the token endpoint `audience`, issued
    /// at `now` (seconds since the epoch).
    pub fn assertion(&self, client_id: &str, audience: &str, now: i64) -> Result<String, KeyError> {
        let mut header = json!({ "alg": self.algorithm().name(), "typ": "JWT" });
        if let Some(kid) = &self.key_id {
            header["kid"] = json!(kid);
        }
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match &self.pair {
            Pair::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(
                    &RSA_PKCS1_SHA384,
                    &self.rng,
                    signing_input.as_bytes(),
                    &mut signature,
                )
                .map_err(|_| KeyError::Sign)?;
                signature
            }
            Pair::Ec(key) => key
                .sign(&self.rng, signing_input.as_bytes())
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec(),
        };
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED, KeyPair as _, UnparsedPublicKey,
    };

    use super::*;

    fn pem(der: &[u8]) -> Vec<u8> {
        crate::testing::private_key_pem(der).into_bytes()
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn an_ec_key_signs_es384_that_its_public_key_verifies() {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let key = SigningKey::from_pem(&pem(pkcs8.as_ref()), Some("k1".into()), None).unwrap();
        assert_eq!(key.algorithm(), AssertionAlgorithm::Es384);
        let jwt = key.assertion("adt", "https://idp/token", 1_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let (header, claims) = (decode(parts[0]), decode(parts[1]));
        assert_eq!(header["alg"], "ES384");
        assert_eq!(header["kid"], "k1");
        assert_eq!(
            (claims["iss"].clone(), claims["sub"].clone()),
            ("adt".into(), "adt".into())
        );
        assert_eq!(claims["aud"], "https://idp/token");
        assert_eq!(claims["exp"], 1_300);
        UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, pair.public_key().as_ref())
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            )
            .expect("the signature verifies");
        let again = key.assertion("adt", "https://idp/token", 1_000).unwrap();
        assert_ne!(
            decode(again.split('.').nth(1).unwrap())["jti"],
            claims["jti"],
            "every assertion has its own jti"
        );
    }

    #[test]
    fn a_key_that_does_not_fit_is_refused_with_a_reason() {
        let p256 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let error = SigningKey::from_pem(&pem(p256.as_ref()), None, None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("P-384"), "{error}");
        let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = rsa.as_der().unwrap();
        let pem = pem(der.as_ref());
        assert!(
            SigningKey::from_pem(&pem, None, Some(AssertionAlgorithm::Es384)).is_err(),
            "an RSA key cannot sign ES384"
        );
        let key = SigningKey::from_pem(&pem, None, None).unwrap();
        assert_eq!(key.algorithm(), AssertionAlgorithm::Rs384);
        assert!(SigningKey::from_pem(b"not a key", None, None).is_err());
    }
}
