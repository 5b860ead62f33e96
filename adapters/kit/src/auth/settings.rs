//! The adapter's client settings as flags and `OHJAAMO_*` variables, shared by every
//! adapter through [`crate::CoreTarget`]. None of them set: no token.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::auth::config::{
    AssertionAlgorithm, ClientConfig, Credentials, Secret, SecretMethod, TokenEndpoint,
};

/// How the adapter gets its access token for the core.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CoreAuthArgs {
    /// The token endpoint of the core's issuer (client-credentials grant); or give
    /// --core-issuer to read it from the issuer's discovery document.
    #[arg(long = "core-token-url", env = "OHJAAMO_CORE_TOKEN_URL")]
    pub token_url: Option<String>,
    /// The OpenID Connect issuer whose discovery document names the token endpoint.
    #[arg(
        long = "core-issuer",
        env = "OHJAAMO_CORE_ISSUER",
        conflicts_with = "token_url"
    )]
    pub issuer: Option<String>,
    /// The adapter's OAuth client id at the issuer (the core takes it as the source's
    /// name for its health reports).
    #[arg(long = "core-client-id", env = "OHJAAMO_CORE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The client secret (prefer --core-client-secret-file: a variable or a flag is
    /// visible to more eyes than a file).
    #[arg(
        long = "core-client-secret",
        env = "OHJAAMO_CORE_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<Secret>,
    /// A file holding the client secret (a trailing line end is ignored).
    #[arg(
        long = "core-client-secret-file",
        env = "OHJAAMO_CORE_CLIENT_SECRET_FILE"
    )]
    pub client_secret_file: Option<PathBuf>,
    /// How the secret is sent: `basic` (client_secret_basic) or `post`
    /// (client_secret_post).
    #[arg(
        long = "core-client-auth",
        env = "OHJAAMO_CORE_CLIENT_AUTH",
        value_enum,
        default_value = "basic"
    )]
    pub client_auth: SecretMethod,
    /// A PEM private key file: the client authenticates with private_key_jwt (SMART
    /// Backend Services) instead of a secret.
    #[arg(long = "core-client-key", env = "OHJAAMO_CORE_CLIENT_KEY")]
    pub client_key: Option<PathBuf>,
    /// The `kid` the assertion names (the key's id in the JWKS registered at the
    /// issuer).
    #[arg(long = "core-client-key-id", env = "OHJAAMO_CORE_CLIENT_KEY_ID")]
    pub client_key_id: Option<String>,
    /// The assertion's algorithm, RS384 or ES384; unset: from the key's type.
    #[arg(
        long = "core-client-key-algorithm",
        env = "OHJAAMO_CORE_CLIENT_KEY_ALGORITHM",
        value_enum
    )]
    pub client_key_algorithm: Option<AssertionAlgorithm>,
    /// Scopes to ask for, space-separated (e.g. `system/*.cus
    /// system/ohjaamo.sources.write`); unset: the client's defaults at the issuer.
    #[arg(long = "core-scope", env = "OHJAAMO_CORE_SCOPE")]
    pub scope: Option<String>,
    /// Settings given in code (the demo), in place of the flags.
    #[arg(skip)]
    pub preset: Option<ClientConfig>,
}

impl CoreAuthArgs {
    /// The client these settings describe; `None` when none is set (no token).
    pub fn config(&self) -> anyhow::Result<Option<ClientConfig>> {
        if let Some(preset) = &self.preset {
            return Ok(Some(preset.clone()));
        }
        ClientFlags {
            prefix: "core",
            token_url: self.token_url.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            client_secret_file: self.client_secret_file.clone(),
            client_auth: self.client_auth,
            client_key: self.client_key.clone(),
            client_key_id: self.client_key_id.clone(),
            client_key_algorithm: self.client_key_algorithm,
            scope: self.scope.clone(),
        }
        .config()
    }
}

/// A client's settings as flags give them, before they are checked: shared by the
/// core's client ([`CoreAuthArgs`], flags `--core-*`) and any other OAuth client an
/// adapter has (the FHIR source's upstream, flags `--upstream-*`), so that both are
/// checked by one rule and their errors name the flags the operator typed.
#[derive(Debug, Clone, Default)]
pub struct ClientFlags {
    /// The flags' prefix, `core` for `--core-token-url`.
    pub prefix: &'static str,
    pub token_url: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub client_secret_file: Option<PathBuf>,
    pub client_auth: SecretMethod,
    pub client_key: Option<PathBuf>,
    pub client_key_id: Option<String>,
    pub client_key_algorithm: Option<AssertionAlgorithm>,
    pub scope: Option<String>,
}

impl ClientFlags {
    /// The client these flags describe; `None` when none is set (no token).
    pub fn config(&self) -> anyhow::Result<Option<ClientConfig>> {
        let p = self.prefix;
        let any = self.token_url.is_some()
            || self.issuer.is_some()
            || self.client_id.is_some()
            || self.client_secret.is_some()
            || self.client_secret_file.is_some()
            || self.client_key.is_some()
            || self.client_key_id.is_some()
            || self.client_key_algorithm.is_some()
            || self.scope.is_some();
        if !any {
            return Ok(None);
        }
        let endpoint = match (&self.token_url, &self.issuer) {
            (Some(url), None) => TokenEndpoint::Url(url.clone()),
            (None, Some(issuer)) => TokenEndpoint::Issuer(issuer.clone()),
            _ => bail!("authentication to the {p} needs --{p}-token-url or --{p}-issuer"),
        };
        let Some(client_id) = self.client_id.clone().filter(|c| !c.is_empty()) else {
            bail!("authentication to the {p} needs --{p}-client-id");
        };
        let credentials =
            match (
                &self.client_secret,
                &self.client_secret_file,
                &self.client_key,
            ) {
                (Some(secret), None, None) => Credentials::Secret {
                    secret: secret.clone(),
                    method: self.client_auth,
                },
                (None, Some(file), None) => Credentials::Secret {
                    secret: read_secret(file)?,
                    method: self.client_auth,
                },
                (None, None, Some(file)) => Credentials::PrivateKeyJwt {
                    key_pem: Secret::new(std::fs::read_to_string(file).with_context(|| {
                        format!("cannot read the client key {}", file.display())
                    })?),
                    key_id: self.client_key_id.clone(),
                    algorithm: self.client_key_algorithm,
                },
                _ => bail!(
                    "authentication to the {p} needs exactly one of --{p}-client-secret, \
                 --{p}-client-secret-file and --{p}-client-key"
                ),
            };
        if matches!(credentials, Credentials::Secret { .. })
            && (self.client_key_id.is_some() || self.client_key_algorithm.is_some())
        {
            bail!("--{p}-client-key-id and --{p}-client-key-algorithm go with --{p}-client-key");
        }
        if let Credentials::Secret { secret, .. } = &credentials
            && secret.expose().is_empty()
        {
            bail!("the client secret for the {p} is empty");
        }
        Ok(Some(ClientConfig {
            endpoint,
            client_id,
            credentials,
            scope: self.scope.clone().filter(|s| !s.trim().is_empty()),
        }))
    }
}

fn read_secret(file: &Path) -> anyhow::Result<Secret> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the client secret file {}", file.display()))?;
    Ok(Secret::new(text.trim_end_matches(['\r', '\n'])))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(clap::Parser)]
    struct Command {
        #[command(flatten)]
        auth: CoreAuthArgs,
    }

    fn config(args: &[&str]) -> anyhow::Result<Option<ClientConfig>> {
        Command::try_parse_from(std::iter::once("adapter").chain(args.iter().copied()))?
            .auth
            .config()
    }

    #[test]
    fn nothing_set_is_no_token() {
        assert_eq!(config(&[]).unwrap(), None);
    }

    #[test]
    fn a_secret_from_a_file_loses_its_line_end() {
        let file = std::env::temp_dir().join(format!("ohjaamo-secret-{}", uuid::Uuid::now_v7()));
        std::fs::write(&file, "s3cret\n").unwrap();
        let path = file.display().to_string();
        let got = config(&[
            "--core-issuer",
            "https://idp/realms/h",
            "--core-client-id",
            "adt",
            "--core-client-secret-file",
            &path,
            "--core-client-auth",
            "post",
        ])
        .unwrap()
        .unwrap();
        std::fs::remove_file(&file).unwrap();
        assert_eq!(
            got.endpoint,
            TokenEndpoint::Issuer("https://idp/realms/h".into())
        );
        assert_eq!(
            got.credentials,
            Credentials::Secret {
                secret: Secret::new("s3cret"),
                method: SecretMethod::Post
            }
        );
    }

    #[test]
    fn half_a_configuration_is_an_error_that_says_what_is_missing() {
        let cases: [(&[&str], &str); 5] = [
            (
                &["--core-client-id", "adt", "--core-client-secret", "s"],
                "--core-token-url",
            ),
            (
                &[
                    "--core-token-url",
                    "https://idp/t",
                    "--core-client-secret",
                    "s",
                ],
                "--core-client-id",
            ),
            (
                &[
                    "--core-token-url",
                    "https://idp/t",
                    "--core-client-id",
                    "adt",
                ],
                "exactly one",
            ),
            (
                &[
                    "--core-token-url",
                    "https://idp/t",
                    "--core-client-id",
                    "adt",
                    "--core-client-secret",
                    "s",
                    "--core-client-key",
                    "k.pem",
                ],
                "exactly one",
            ),
            (
                &[
                    "--core-token-url",
                    "https://idp/t",
                    "--core-client-id",
                    "adt",
                    "--core-client-secret",
                    "s",
                    "--core-client-key-id",
                    "k1",
                ],
                "go with --core-client-key",
            ),
        ];
        for (args, says) in cases {
            let error = config(args).unwrap_err().to_string();
            assert!(error.contains(says), "{args:?}: {error}");
        }
        assert!(
            config(&["--core-token-url", "u", "--core-issuer", "i"]).is_err(),
            "not both endpoints"
        );
    }
}
