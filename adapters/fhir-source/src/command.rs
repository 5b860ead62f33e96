//! `ohjaamo adapter-fhir-source`: an upstream FHIR R4 server (Epic/Apotti style)
//! polled into the core. One replica per upstream: the cursor file (and, during an
//! initial load through `$export`, the export folder) is its only state.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ohjaamo_adapter_kit::auth::{AssertionAlgorithm, ClientFlags, Secret, SecretMethod};
use ohjaamo_adapter_kit::health::{Health, Observed};
use ohjaamo_adapter_kit::process::run_with;
use ohjaamo_adapter_kit::{
    Adapter, CoreAuth, CoreTarget, CursorStore, Plumbing, Process, PullRunner, Quarantine,
    RunnerConfig,
};
use serde_json::{Value, json};

use crate::bulk::{Bulk, offers_export};
use crate::map::{IdSystems, Mapping, TYPES};
use crate::source::{Deletes, FhirSource};
use crate::upstream::{Faults, Upstream};

/// The identifier system of an upstream Ohjaamo's derived bed-occupancy Slots (the
/// core derives its own from the Encounters): not taken unless told otherwise.
pub const OHJAAMO_DERIVED_SYSTEM: &str = "https://ohjaamo.fi/fhir/NamingSystem/encounter-occupancy";

/// How the initial load is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitialLoad {
    /// `$export` when the upstream's CapabilityStatement offers it, else search.
    Auto,
    /// Always `$export` (an upstream that offers it without saying so).
    Export,
    /// Always paged search.
    Search,
}

/// How the adapter authenticates to the upstream (SMART Backend Services: the
/// client-credentials grant with a signed assertion; a secret works too). None set:
/// no token.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct UpstreamAuthArgs {
    /// The upstream's token endpoint.
    #[arg(long = "upstream-token-url", env = "OHJAAMO_UPSTREAM_TOKEN_URL")]
    pub upstream_token_url: Option<String>,
    /// An OpenID Connect issuer whose discovery document names the token endpoint.
    #[arg(
        long = "upstream-issuer",
        env = "OHJAAMO_UPSTREAM_ISSUER",
        conflicts_with = "upstream_token_url"
    )]
    pub upstream_issuer: Option<String>,
    /// The adapter's client id at the upstream.
    #[arg(long = "upstream-client-id", env = "OHJAAMO_UPSTREAM_CLIENT_ID")]
    pub upstream_client_id: Option<String>,
    /// A PEM private key (private_key_jwt, as SMART Backend Services specify).
    #[arg(long = "upstream-client-key", env = "OHJAAMO_UPSTREAM_CLIENT_KEY")]
    pub upstream_client_key: Option<PathBuf>,
    /// The `kid` of the key in the JWKS registered at the upstream.
    #[arg(
        long = "upstream-client-key-id",
        env = "OHJAAMO_UPSTREAM_CLIENT_KEY_ID"
    )]
    pub upstream_client_key_id: Option<String>,
    /// RS384 or ES384; unset: from the key's type.
    #[arg(
        long = "upstream-client-key-algorithm",
        env = "OHJAAMO_UPSTREAM_CLIENT_KEY_ALGORITHM",
        value_enum
    )]
    pub upstream_client_key_algorithm: Option<AssertionAlgorithm>,
    /// A client secret instead of a key (prefer the file).
    #[arg(
        long = "upstream-client-secret",
        env = "OHJAAMO_UPSTREAM_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub upstream_client_secret: Option<Secret>,
    /// A file holding the client secret.
    #[arg(
        long = "upstream-client-secret-file",
        env = "OHJAAMO_UPSTREAM_CLIENT_SECRET_FILE"
    )]
    pub upstream_client_secret_file: Option<PathBuf>,
    /// How the secret is sent: `basic` or `post`.
    #[arg(
        long = "upstream-client-auth",
        env = "OHJAAMO_UPSTREAM_CLIENT_AUTH",
        value_enum,
        default_value = "basic"
    )]
    pub upstream_client_auth: SecretMethod,
    /// Scopes to ask for, e.g. `system/Location.rs system/Slot.rs ...`.
    #[arg(long = "upstream-scope", env = "OHJAAMO_UPSTREAM_SCOPE")]
    pub upstream_scope: Option<String>,
}

impl UpstreamAuthArgs {
    pub fn auth(&self) -> anyhow::Result<CoreAuth> {
        let flags = ClientFlags {
            prefix: "upstream",
            token_url: self.upstream_token_url.clone(),
            issuer: self.upstream_issuer.clone(),
            client_id: self.upstream_client_id.clone(),
            client_secret: self.upstream_client_secret.clone(),
            client_secret_file: self.upstream_client_secret_file.clone(),
            client_auth: self.upstream_client_auth,
            client_key: self.upstream_client_key.clone(),
            client_key_id: self.upstream_client_key_id.clone(),
            client_key_algorithm: self.upstream_client_key_algorithm,
            scope: self.upstream_scope.clone(),
        };
        let auth = match flags.config()? {
            None => CoreAuth::none(),
            Some(config) => CoreAuth::client_of(config, "upstream")?,
        };
        tracing::info!(mode = %auth.describe(), "authentication to the upstream");
        Ok(auth)
    }
}

/// The adapter's settings.
#[derive(clap::Args, Debug)]
pub struct FhirSourceArgs {
    #[command(flatten)]
    pub target: CoreTarget,
    /// The upstream's FHIR R4 base URL.
    #[arg(long, env = "OHJAAMO_FHIR_UPSTREAM_URL")]
    pub upstream: String,
    #[command(flatten)]
    pub upstream_auth: UpstreamAuthArgs,
    /// A header sent with every request to the upstream, `Name: value`; repeatable.
    #[arg(
        long = "upstream-header",
        env = "OHJAAMO_UPSTREAM_HEADERS",
        value_delimiter = '\n'
    )]
    pub upstream_headers: Vec<String>,
    /// The types read, parents first.
    #[arg(
        long,
        env = "OHJAAMO_FHIR_TYPES",
        value_delimiter = ',',
        default_value = "Location,Schedule,Slot,Appointment,Encounter"
    )]
    pub types: Vec<String>,
    /// Search parameters added to a type's searches, `Type:query` (e.g.
    /// `Appointment:date=ge2026-01-01&service-category=surgery`); repeatable.
    #[arg(
        long = "type-query",
        env = "OHJAAMO_FHIR_TYPE_QUERIES",
        value_delimiter = '\n'
    )]
    pub type_queries: Vec<String>,
    /// The OID root of the upstream's logical ids here: `urn:oid:<root>.<arc of the
    /// type>` | `<id>` (docs/adapters.md); unset: `<source OID root>.20`.
    #[arg(long, env = "OHJAAMO_FHIR_ID_ROOT")]
    pub id_root: Option<String>,
    /// An upstream identifier system and this server's, `FROM=TO`; repeatable.
    #[arg(
        long = "map-system",
        env = "OHJAAMO_FHIR_MAP_SYSTEMS",
        value_delimiter = ' '
    )]
    pub map_systems: Vec<String>,
    /// Resources with an identifier in this system are not taken; repeatable.
    #[arg(long = "skip-system", env = "OHJAAMO_FHIR_SKIP_SYSTEMS", value_delimiter = ' ', default_value = OHJAAMO_DERIVED_SYSTEM)]
    pub skip_systems: Vec<String>,
    /// Where deletes are learnt from.
    #[arg(
        long,
        env = "OHJAAMO_FHIR_DELETES",
        value_enum,
        default_value = "history"
    )]
    pub deletes: Deletes,
    /// How a type with no cursor yet is loaded.
    #[arg(
        long,
        env = "OHJAAMO_FHIR_INITIAL_LOAD",
        value_enum,
        default_value = "auto"
    )]
    pub initial_load: InitialLoad,
    /// The `$export` kick-off relative to the base (`Group/<id>/$export` for Epic).
    #[arg(long, env = "OHJAAMO_FHIR_EXPORT_PATH", default_value = "$export")]
    pub export_path: String,
    /// Where an export's NDJSON files are downloaded.
    #[arg(
        long,
        env = "OHJAAMO_FHIR_EXPORT_DIR",
        default_value = "fhir-source-export"
    )]
    pub export_dir: PathBuf,
    /// Seconds between rounds.
    #[arg(
        long,
        env = "OHJAAMO_FHIR_POLL_INTERVAL_SECONDS",
        default_value_t = 30.0
    )]
    pub poll_interval: f64,
    /// Resources asked for per page (`_count`).
    #[arg(long, env = "OHJAAMO_FHIR_PAGE_SIZE", default_value_t = 200)]
    pub page_size: usize,
    /// Pages pushed to the core at once while the next is read.
    #[arg(long, env = "OHJAAMO_FHIR_PUSH_CONCURRENCY", default_value_t = 4)]
    pub push_concurrency: usize,
    /// Seconds before a request to the upstream is given up (and retried).
    #[arg(long, env = "OHJAAMO_FHIR_TIMEOUT_SECONDS", default_value_t = 60.0)]
    pub timeout: f64,
    /// The longest `Retry-After` waited out as asked; a longer one is backed off.
    #[arg(
        long = "upstream-max-retry-after",
        env = "OHJAAMO_UPSTREAM_MAX_RETRY_AFTER_SECONDS",
        default_value_t = 300.0
    )]
    pub max_retry_after: f64,
    /// Where the streams' positions are kept.
    #[arg(
        long,
        env = "OHJAAMO_CURSOR_FILE",
        default_value = "fhir-source-cursor.json"
    )]
    pub cursor_file: PathBuf,
    /// JSON-lines file of resources that could not be mapped or were refused.
    #[arg(
        long,
        env = "OHJAAMO_QUARANTINE_FILE",
        default_value = "fhir-source-quarantine.jsonl"
    )]
    pub quarantine_file: PathBuf,
    /// Address of /livez, /status and /metrics.
    #[arg(long, env = "OHJAAMO_ADMIN_LISTEN", default_value = "127.0.0.1:9104")]
    pub admin_listen: SocketAddr,
}

/// The FHIR source as a component of the `ohjaamo` binary.
pub struct FhirSourceAdapter;

impl Adapter for FhirSourceAdapter {
    const NAME: &'static str = "fhir-source";
    type Args = FhirSourceArgs;

    fn describe(args: &FhirSourceArgs) -> String {
        format!(
            "fhir-source: {} every {} s, status at http://{}/status",
            args.upstream, args.poll_interval, args.admin_listen
        )
    }

    async fn run(args: FhirSourceArgs, process: Process) -> anyhow::Result<()> {
        let types = checked_types(&args.types)?;
        let queries = type_queries(&args.type_queries, &types)?;
        let mapping = Mapping {
            ids: IdSystems::new(
                &args
                    .id_root
                    .clone()
                    .unwrap_or_else(|| format!("{}.20", args.target.source_ids().root)),
            ),
            systems: system_map(&args.map_systems)?,
            skip_systems: args.skip_systems.clone(),
        };
        let upstream = Arc::new(
            Upstream::new(
                &args.upstream,
                args.upstream_auth.auth()?,
                Duration::from_secs_f64(args.timeout.max(0.1)),
                Duration::from_secs_f64(args.max_retry_after.max(0.0)),
                process.shutdown.clone(),
            )?
            .with_headers(&args.upstream_headers)?,
        );
        let cursors = CursorStore::open(&args.cursor_file).await?;
        let mut unloaded = Vec::new();
        for t in &types {
            if cursors.get(t).await.is_none() {
                unloaded.push(t.clone());
            }
        }
        let backoff = args.target.backoff();
        let bulk = if unloaded.is_empty() {
            None
        } else {
            match args.initial_load {
                InitialLoad::Search => None,
                InitialLoad::Export => Some(()),
                InitialLoad::Auto => export_offered(&upstream).await.then_some(()),
            }
            .map(|()| {
                Bulk::new(
                    upstream.clone(),
                    args.export_dir.clone(),
                    &args.export_path,
                    unloaded.clone(),
                    args.page_size,
                    backoff,
                )
            })
        };
        tracing::info!(upstream = %args.upstream, initial = ?unloaded,
            through = if bulk.is_some() { "$export" } else { "search" }, "FHIR source starting");
        let mut source = FhirSource::new(
            upstream.clone(),
            mapping,
            types,
            args.deletes,
            args.page_size,
            bulk,
        );
        for (rtype, query) in &queries {
            source = source.with_query(rtype, query);
        }
        let auth = args.target.core_auth()?;
        let push = args.target.push_client(Self::NAME, &auth)?;
        let runner = Arc::new(PullRunner::new(
            source,
            push,
            cursors,
            Quarantine::new(args.quarantine_file, Self::NAME),
            RunnerConfig {
                name: Self::NAME.into(),
                poll_interval: Duration::from_secs_f64(args.poll_interval.max(0.05)),
                backoff,
                push_concurrency: args.push_concurrency,
            },
        ));
        let stale_after = args.target.pull_stale_after(args.poll_interval);
        let observed = Arc::new(Watched {
            runner: runner.clone(),
            faults: upstream.faults(),
        });
        let plumbing = Plumbing {
            name: Self::NAME,
            target: args.target,
            admin_listen: args.admin_listen,
            stale_after,
            auth,
        };
        let shutdown = process.shutdown.clone();
        let work = async move { Ok(runner.run(shutdown).await?) };
        run_with(plumbing, observed, work, process).await
    }
}

/// The runner with the upstream's current fault beside it: a 429 being waited out
/// shows in the status and in the report to the core while it lasts.
pub struct Watched {
    pub runner: Arc<PullRunner<FhirSource>>,
    pub faults: Arc<Faults>,
}

impl Observed for Watched {
    fn status(&self) -> Value {
        let mut status = Observed::status(self.runner.as_ref());
        status["upstreamFault"] = json!(self.faults.current());
        status["exportProgress"] = json!(self.faults.progress());
        status
    }

    fn health(&self) -> Health {
        let mut health = Health::of_streams(&self.runner.streams());
        if let Some(fault) = self.faults.current() {
            health.last_error = Some(fault);
        }
        health
    }
}

/// Whether the upstream says it offers `$export`; an upstream whose metadata cannot
/// be read is searched.
async fn export_offered(upstream: &Upstream) -> bool {
    let url = format!("{}/metadata", upstream.base());
    match upstream.get_json("metadata", &url).await {
        Ok((capability, _)) => offers_export(&capability),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the upstream's CapabilityStatement; loading by search");
            false
        }
    }
}

fn checked_types(types: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for t in types.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        anyhow::ensure!(
            TYPES.contains(&t),
            "--types: {t} is not one of {}",
            TYPES.join(", ")
        );
        out.push(t.to_owned());
    }
    // Parents first, whatever order they were given in.
    out.sort_by_key(|t| TYPES.iter().position(|k| k == t));
    out.dedup();
    anyhow::ensure!(!out.is_empty(), "--types names no type");
    Ok(out)
}

/// `Type:query` lines → (type, query), each type one of `types`.
fn type_queries(lines: &[String], types: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    lines
        .iter()
        .filter(|q| !q.trim().is_empty())
        .map(|line| {
            let (rtype, query) = line
                .split_once(':')
                .with_context(|| format!("--type-query {line:?} is not Type:query"))?;
            let rtype = rtype.trim();
            anyhow::ensure!(
                types.iter().any(|t| t == rtype),
                "--type-query {line:?}: {rtype} is not a type read"
            );
            Ok((rtype.to_owned(), query.trim().to_owned()))
        })
        .collect()
}

fn system_map(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (from, to) = p
                .split_once('=')
                .with_context(|| format!("--map-system {p:?} is not FROM=TO"))?;
            anyhow::ensure!(
                !from.is_empty() && !to.is_empty(),
                "--map-system {p:?} has an empty side"
            );
            Ok((from.to_owned(), to.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_checked_and_put_parents_first() {
        let t = |v: &[&str]| checked_types(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            t(&["Slot", "Location", "Slot"]).unwrap(),
            ["Location", "Slot"]
        );
        assert!(
            t(&["Patient"])
                .unwrap_err()
                .to_string()
                .contains("Patient is not one of")
        );
        assert!(t(&[""]).is_err());
    }

    #[test]
    fn type_queries_name_a_type_read() {
        let types = vec!["Appointment".to_owned()];
        assert_eq!(
            type_queries(&["Appointment:date=ge2026-01-01".into()], &types).unwrap(),
            [("Appointment".to_owned(), "date=ge2026-01-01".to_owned())]
        );
        assert!(type_queries(&["Slot:status=free".into()], &types).is_err());
        assert!(type_queries(&["Appointment".into()], &types).is_err());
    }

    #[test]
    fn system_pairs() {
        assert_eq!(
            system_map(&["urn:oid:1.2=urn:oid:3.4".into()]).unwrap(),
            [("urn:oid:1.2".to_owned(), "urn:oid:3.4".to_owned())]
        );
        assert!(system_map(&["urn:oid:1.2".into()]).is_err());
        assert!(system_map(&["=x".into()]).is_err());
    }
}
