//! The development issuer's signing key: a P-256 key made when the demo starts and
//! never written anywhere (tokens of an earlier run stop verifying, as they should),
//! published as a JWKS and used to sign ES256 tokens.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};

/// The key and what is published of it.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwks: Value,
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> anyhow::Result<SigningKey> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| anyhow::anyhow!("cannot generate the demo issuer's key"))?;
        let pkcs8 = pair
            .to_pkcs8v1()
            .map_err(|_| anyhow::anyhow!("cannot encode the demo issuer's key"))?;
        // An uncompressed point: 0x04, then x and y of 32 bytes each.
        let point = pair.public_key().as_ref();
        anyhow::ensure!(point.len() == 65 && point[0] == 4, "unexpected public key");
        let kid = random_token(9);
        let jwks = json!({ "keys": [{
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
            "kid": kid,
            "use": "sig",
            "alg": "ES256",
        }]});
        Ok(SigningKey {
            kid,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwks,
        })
    }

    /// The key set the issuer publishes at its `jwks_uri`.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// `claims` as an ES256 JWT naming this key.
    pub fn sign(&self, claims: &impl Serialize) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

/// `bytes` random bytes from the system's generator, base64url: codes, refresh tokens,
/// client secrets, key ids.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The system's generator does not fail on the platforms the demo runs on; if it
    // ever did, an all-zero value must not become a secret.
    aws_lc_rs::rand::fill(&mut buf).expect("the system's random generator answers");
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[test]
    fn a_token_verifies_with_the_published_key_and_only_with_it() {
        let key = SigningKey::generate().unwrap();
        let token = key
            .sign(&json!({"sub": "a", "exp": 4_000_000_000u64}))
            .unwrap();
        let set: JwkSet = serde_json::from_value(key.jwks().clone()).unwrap();
        let jwk = &set.keys[0];
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_aud = false;
        let decoded =
            decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).unwrap();
        assert_eq!(decoded.claims["sub"], "a");
        assert_eq!(decoded.header.kid.as_deref(), jwk.common.key_id.as_deref());
        let other: JwkSet =
            serde_json::from_value(SigningKey::generate().unwrap().jwks().clone()).unwrap();
        let wrong = DecodingKey::from_jwk(&other.keys[0]).unwrap();
        assert!(decode::<Value>(&token, &wrong, &validation).is_err());
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(16), random_token(16));
        assert_eq!(random_token(32).len(), 43);
    }
}
