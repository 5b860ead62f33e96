//! What the development issuer remembers between requests: authorization codes (one
//! use, a minute, bound to their client, address and PKCE challenge) and refresh
//! tokens (eight hours, one use each: a refresh returns a new one). In memory: a
//! restart of the demo signs everyone out, as its new key would anyway.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::demo::issuer::keys::random_token;

/// How long a code may wait for its exchange (RFC 6749 §4.1.2: at most ten minutes).
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long a refresh token lasts: a working shift.
pub const REFRESH_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// A person's consent to a client, as a code or a refresh token carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub client_id: String,
    pub sub: String,
    pub scope: String,
    /// The ID token's `nonce` (a code's only; a refreshed ID token carries none).
    pub nonce: Option<String>,
}

struct Code {
    grant: Grant,
    redirect_uri: String,
    /// BASE64URL(SHA-256(code_verifier)).
    challenge: String,
    expires: Instant,
}

struct Refresh {
    grant: Grant,
    expires: Instant,
}

/// Why a code or refresh token was not honoured: the token endpoint's `invalid_grant`
/// (RFC 6749 §5.2), with a description for the developer.
#[derive(Debug, PartialEq, Eq)]
pub struct InvalidGrant(pub &'static str);

/// The codes and refresh tokens given out.
#[derive(Default)]
pub struct Grants {
    codes: Mutex<HashMap<String, Code>>,
    refresh: Mutex<HashMap<String, Refresh>>,
}

/// Whether `challenge` is an S256 PKCE challenge: 43 base64url characters, the
/// encoding of 32 bytes (RFC 7636 §4.2).
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// BASE64URL(SHA-256(verifier)), RFC 7636 §4.2.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A verifier is 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
fn is_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

impl Grants {
    /// A new code for `grant`, to come back from `redirect_uri` with the verifier of
    /// `challenge` (which the caller has checked with [`is_s256_challenge`]).
    pub fn new_code(
        &self,
        grant: Grant,
        redirect_uri: &str,
        challenge: &str,
        now: Instant,
    ) -> String {
        let code = random_token(32);
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, c| c.expires > now);
        codes.insert(
            code.clone(),
            Code {
                grant,
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.to_owned(),
                expires: now + CODE_LIFETIME,
            },
        );
        code
    }

    /// The grant of `code`, which is gone afterwards whatever the answer: a code is
    /// good once, and a wrong verifier does not leave it to be guessed at again.
    pub fn redeem_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
        now: Instant,
    ) -> Result<Grant, InvalidGrant> {
        let found = self
            .codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(code)
            .ok_or(InvalidGrant("unknown, used or expired code"))?;
        if found.expires <= now {
            return Err(InvalidGrant("the code has expired"));
        }
        if found.grant.client_id != client_id {
            return Err(InvalidGrant("the code was given to another client"));
        }
        if found.redirect_uri != redirect_uri {
            return Err(InvalidGrant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        let verifier = verifier.ok_or(InvalidGrant("code_verifier is missing"))?;
        if !is_verifier(verifier) {
            return Err(InvalidGrant(
                "code_verifier is not 43-128 unreserved characters",
            ));
        }
        // Both sides are public-length hashes of secrets; a constant-time comparison
        // costs nothing.
        if aws_lc_rs::constant_time::verify_slices_are_equal(
            s256(verifier).as_bytes(),
            found.challenge.as_bytes(),
        )
        .is_err()
        {
            return Err(InvalidGrant(
                "code_verifier does not match the code_challenge",
            ));
        }
        Ok(found.grant)
    }

    /// A new refresh token for `grant` (its nonce is not carried on).
    pub fn new_refresh(&self, mut grant: Grant, now: Instant) -> String {
        grant.nonce = None;
        let token = random_token(32);
        let mut refresh = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        refresh.retain(|_, r| r.expires > now);
        refresh.insert(
            token.clone(),
            Refresh {
                grant,
                expires: now + REFRESH_LIFETIME,
            },
        );
        token
    }

    /// The grant of refresh token `token`, used up (the answer brings a new one).
    pub fn redeem_refresh(
        &self,
        token: &str,
        client_id: &str,
        now: Instant,
    ) -> Result<Grant, InvalidGrant> {
        let found = self
            .refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token)
            .ok_or(InvalidGrant("unknown, used or revoked refresh token"))?;
        if found.expires <= now {
            return Err(InvalidGrant("the refresh token has expired"));
        }
        if found.grant.client_id != client_id {
            return Err(InvalidGrant(
                "the refresh token was given to another client",
            ));
        }
        Ok(found.grant)
    }

    /// Signing out: every refresh token of `sub` at `client_id` stops working.
    pub fn sign_out(&self, client_id: &str, sub: &str) -> usize {
        let mut refresh = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
        let before = refresh.len();
        refresh.retain(|_, r| !(r.grant.client_id == client_id && r.grant.sub == sub));
        before - refresh.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const REDIRECT: &str = "http://127.0.0.1:8080/displays/beds";

    fn grant() -> Grant {
        Grant {
            client_id: "ohjaamo-displays".into(),
            sub: "coordinator-a".into(),
            scope: "openid user/ohjaamo.picture.read".into(),
            nonce: Some("n-1".into()),
        }
    }

    #[test]
    fn the_s256_challenge_of_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            s256(VERIFIER),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(is_s256_challenge(&s256(VERIFIER)));
        // A plain challenge is the verifier itself: 43 characters too, but a verifier
        // sent as its own challenge only passes if it hashes to itself, which it does
        // not; a short or odd one is refused outright.
        assert!(!is_s256_challenge("plain-challenge"));
        assert!(!is_s256_challenge(&format!("{}=", &s256(VERIFIER)[..42])));
        assert!(!is_s256_challenge(""));
    }

    #[test]
    fn the_right_verifier_redeems_a_code_once() {
        let grants = Grants::default();
        let now = Instant::now();
        let code = grants.new_code(grant(), REDIRECT, &s256(VERIFIER), now);
        let got = grants
            .redeem_code(&code, "ohjaamo-displays", REDIRECT, Some(VERIFIER), now)
            .unwrap();
        assert_eq!(got, grant());
        assert_eq!(
            grants.redeem_code(&code, "ohjaamo-displays", REDIRECT, Some(VERIFIER), now),
            Err(InvalidGrant("unknown, used or expired code")),
            "a code is good once"
        );
    }

    #[test]
    fn a_wrong_or_missing_verifier_is_refused_and_spends_the_code() {
        let grants = Grants::default();
        let now = Instant::now();
        let other = "x".repeat(43);
        for verifier in [Some(other.as_str()), None, Some("short")] {
            let code = grants.new_code(grant(), REDIRECT, &s256(VERIFIER), now);
            assert!(
                grants
                    .redeem_code(&code, "ohjaamo-displays", REDIRECT, verifier, now)
                    .is_err(),
                "{verifier:?}"
            );
            assert!(
                grants
                    .redeem_code(&code, "ohjaamo-displays", REDIRECT, Some(VERIFIER), now)
                    .is_err(),
                "the code is spent after a wrong verifier ({verifier:?})"
            );
        }
    }

    #[test]
    fn a_plain_challenge_never_verifies() {
        // Had a client sent its verifier as the challenge (`plain`), the authorization
        // endpoint refuses it; even stored, the verifier would not hash to itself.
        let grants = Grants::default();
        let now = Instant::now();
        let code = grants.new_code(grant(), REDIRECT, VERIFIER, now);
        assert_eq!(
            grants.redeem_code(&code, "ohjaamo-displays", REDIRECT, Some(VERIFIER), now),
            Err(InvalidGrant(
                "code_verifier does not match the code_challenge"
            ))
        );
    }

    #[test]
    fn a_code_expires_and_is_bound_to_its_client_and_address() {
        let grants = Grants::default();
        let now = Instant::now();
        let code = grants.new_code(grant(), REDIRECT, &s256(VERIFIER), now);
        assert_eq!(
            grants.redeem_code(
                &code,
                "ohjaamo-displays",
                REDIRECT,
                Some(VERIFIER),
                now + CODE_LIFETIME
            ),
            Err(InvalidGrant("the code has expired"))
        );
        let code = grants.new_code(grant(), REDIRECT, &s256(VERIFIER), now);
        assert!(
            grants
                .redeem_code(&code, "other", REDIRECT, Some(VERIFIER), now)
                .is_err()
        );
        let code = grants.new_code(grant(), REDIRECT, &s256(VERIFIER), now);
        assert!(
            grants
                .redeem_code(
                    &code,
                    "ohjaamo-displays",
                    "http://evil.example/",
                    Some(VERIFIER),
                    now
                )
                .is_err()
        );
    }

    #[test]
    fn a_refresh_token_is_used_once_expires_and_dies_at_sign_out() {
        let grants = Grants::default();
        let now = Instant::now();
        let token = grants.new_refresh(grant(), now);
        let got = grants
            .redeem_refresh(&token, "ohjaamo-displays", now)
            .unwrap();
        assert_eq!(got.sub, "coordinator-a");
        assert_eq!(got.nonce, None, "a refreshed ID token carries no nonce");
        assert!(
            grants
                .redeem_refresh(&token, "ohjaamo-displays", now)
                .is_err(),
            "used"
        );
        let token = grants.new_refresh(grant(), now);
        assert!(grants.redeem_refresh(&token, "other-client", now).is_err());
        let token = grants.new_refresh(grant(), now);
        assert_eq!(
            grants.redeem_refresh(&token, "ohjaamo-displays", now + REFRESH_LIFETIME),
            Err(InvalidGrant("the refresh token has expired"))
        );
        let token = grants.new_refresh(grant(), now);
        assert_eq!(grants.sign_out("ohjaamo-displays", "coordinator-a"), 1);
        assert!(
            grants
                .redeem_refresh(&token, "ohjaamo-displays", now)
                .is_err(),
            "signed out"
        );
    }
}
