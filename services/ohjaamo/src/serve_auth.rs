//! `ohjaamo serve`'s authentication settings. Secure by default: without an issuer
//! the core refuses to start, unless told `--auth none` — which it then repeats as a
//! warning every hour, so that a development setting left in production shows in the
//! logs (docs/security.md).

use std::time::Duration;

use anyhow::{Context as _, bail};
use ohjaamo_core::auth::settings::{
    AuthMode, DISPLAYS_CLIENT_ID, DISPLAYS_SCOPES, OidcSettings, parse_algorithms,
};

#[derive(clap::Args, Debug)]
pub struct AuthArgs {
    /// `none`: no authentication at all, every request acts for the organisation its
    /// header names (development and tests only). Without it an issuer is required.
    #[arg(long = "auth", env = "OHJAAMO_AUTH", value_parser = ["none"])]
    pub auth: Option<String>,
    /// The OIDC issuer whose bearer JWTs are accepted, exactly as its tokens' `iss`
    /// (https, except on the loopback for development).
    #[arg(long, env = "OHJAAMO_AUTH_ISSUER")]
    pub auth_issuer: Option<String>,
    /// The `aud` a token must carry (required with an issuer).
    #[arg(long, env = "OHJAAMO_AUTH_AUDIENCE")]
    pub auth_audience: Option<String>,
    /// The claim listing the organisation OIDs a token may act for (a string or an
    /// array of strings).
    #[arg(
        long,
        env = "OHJAAMO_AUTH_ORGANIZATION_CLAIM",
        default_value = "organization"
    )]
    pub auth_organization_claim: String,
    /// Signature algorithms accepted, comma-separated; asymmetric only (HS* and none
    /// are refused).
    #[arg(
        long,
        env = "OHJAAMO_AUTH_ALGORITHMS",
        default_value = "RS256,PS256,ES256"
    )]
    pub auth_algorithms: String,
    /// Clock skew allowed on a token's `exp` and `nbf`, 0 to 300 seconds.
    #[arg(
        long,
        env = "OHJAAMO_AUTH_LEEWAY_SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(0..=300)
    )]
    pub auth_leeway_seconds: u64,
    /// The bed board's OAuth client id at the issuer (a public client: authorization
    /// code with PKCE, redirect URI `<core>/displays/beds`).
    #[arg(long, env = "OHJAAMO_DISPLAYS_CLIENT_ID", default_value = DISPLAYS_CLIENT_ID)]
    pub displays_client_id: String,
    /// The scopes the bed board asks the issuer for, space-separated.
    #[arg(long, env = "OHJAAMO_DISPLAYS_SCOPES", default_value = DISPLAYS_SCOPES)]
    pub displays_scopes: String,
}

impl AuthArgs {
    /// The authentication these settings ask for, or why they do not make sense.
    pub fn mode(&self) -> anyhow::Result<AuthMode> {
        match (&self.auth, &self.auth_issuer) {
            (Some(_), Some(_)) => bail!(
                "--auth none and --auth-issuer contradict each other: give one \
                 (OHJAAMO_AUTH / OHJAAMO_AUTH_ISSUER)"
            ),
            (Some(_), None) => Ok(AuthMode::None),
            (None, None) => bail!(
                "ohjaamo serve needs an OIDC issuer to authenticate callers \
                 (--auth-issuer and --auth-audience, docs/security.md); to run without \
                 authentication on a development machine, say --auth none"
            ),
            (None, Some(issuer)) => {
                check_issuer_url(issuer)?;
                let audience = self
                    .auth_audience
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .context("--auth-issuer needs --auth-audience (the `aud` tokens carry)")?;
                let mut settings = OidcSettings::new(issuer, audience);
                settings.organization_claim = self.auth_organization_claim.clone();
                settings.algorithms = parse_algorithms(&self.auth_algorithms)
                    .map_err(anyhow::Error::msg)
                    .context("--auth-algorithms")?;
                settings.leeway = Duration::from_secs(self.auth_leeway_seconds);
                settings.displays_client_id = self.displays_client_id.clone();
                settings.displays_scopes = self.displays_scopes.clone();
                Ok(AuthMode::Oidc(settings))
            }
        }
    }
}

/// The issuer's keys must come over TLS: whoever could change them in transit could
/// sign tokens. Plain http only on the loopback (a development issuer).
fn check_issuer_url(issuer: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(issuer).with_context(|| format!("--auth-issuer {issuer:?}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => bail!("--auth-issuer {issuer:?} must be an https URL (http only on the loopback)"),
    }
}

/// Says loudly, now and every hour, that nobody is authenticated.
pub async fn warn_unauthenticated() {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        tracing::warn!(
            "AUTHENTICATION IS OFF (--auth none): anyone who reaches this port can read, \
             change and delete every organisation's data; never run so in production"
        );
    }
}

/// Says, at start and every hour, that the access log is off (`--access-log off`).
pub async fn warn_unlogged() {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        tracing::warn!(
            "THE ACCESS LOG IS OFF (--access-log off): reads and changes of patient data \
             leave no record; the law requires one wherever patient data is served"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        auth: AuthArgs,
    }

    fn mode(args: &[&str]) -> anyhow::Result<AuthMode> {
        Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))?
            .auth
            .mode()
    }

    #[test]
    fn secure_by_default() {
        // Variables of the machine running the test must not decide it.
        if std::env::vars().any(|(k, _)| k.starts_with("OHJAAMO_AUTH")) {
            return;
        }
        assert!(mode(&[]).is_err(), "no issuer, no --auth none");
        assert!(matches!(mode(&["--auth", "none"]), Ok(AuthMode::None)));
        assert!(mode(&["--auth", "basic"]).is_err());
        assert!(mode(&["--auth", "none", "--auth-issuer", "https://idp.example"]).is_err());
        assert!(
            mode(&["--auth-issuer", "https://idp.example"]).is_err(),
            "no audience"
        );
        let ok = [
            "--auth-issuer",
            "https://idp.example/realms/h",
            "--auth-audience",
            "ohjaamo",
        ];
        let Ok(AuthMode::Oidc(settings)) = mode(&ok) else {
            panic!("an issuer and an audience are enough");
        };
        assert_eq!(settings.leeway, Duration::from_secs(30));
        assert_eq!(settings.organization_claim, "organization");
        let with = |extra: &[&str]| mode(&[&ok[..], extra].concat());
        assert!(with(&["--auth-algorithms", "HS256"]).is_err());
        assert!(with(&["--auth-algorithms", "RS256,none"]).is_err());
        assert!(with(&["--auth-leeway-seconds", "301"]).is_err());
        assert!(
            mode(&[
                "--auth-issuer",
                "http://idp.example",
                "--auth-audience",
                "a"
            ])
            .is_err()
        );
        assert!(
            mode(&[
                "--auth-issuer",
                "http://127.0.0.1:9000",
                "--auth-audience",
                "a"
            ])
            .is_ok()
        );
    }
}
