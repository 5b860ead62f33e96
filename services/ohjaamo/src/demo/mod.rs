//! `ohjaamo demo`: everything on one machine, in one process, on the embedded
//! default — the core on a SQLite file, the source simulator living a busy day
//! faster than real time, and both adapters feeding the core from it.
//!
//! The core runs with authentication on, against the demo's own development OIDC
//! issuer ([`issuer`], on its own port): the bed board signs a coordinator in through
//! it, the wall screen and the demo's own parts get client-credentials tokens.
//!
//! The demo tells rather than scrolls: it prints what runs where ([`banner`]), then
//! logs only warnings and changes of state — a source becoming fed or stale, a
//! component stopping ([`watch`]). `RUST_LOG` brings back the rest (`info`, or `debug`
//! for every request).

mod banner;
pub mod issuer;
mod service_token;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;

use futures_util::future::BoxFuture;
use ohjaamo_adapter_adt::Adt;
use ohjaamo_adapter_kit::{Adapter, Process};
use ohjaamo_adapter_pull::Pull;

use ohjaamo_core::base::clock::Clock;
use ohjaamo_simulator::Simulator;

use crate::{serve, simulate};
use issuer::DevIssuer;
use issuer::clients::{AUDIENCE, DISPLAYS_CLIENT, SCREEN_CLIENT, ScreenUnits, WATCH_CLIENT};
use service_token::ServiceToken;

/// What the demo logs when `RUST_LOG` is unset: warnings, and the demo's own news.
pub const LOG_FILTER: &str = "warn,ohjaamo::demo=info";

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Where the core serves the FHIR API (`/fhir`).
    #[arg(long, env = "OHJAAMO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder for the demo's database, cursor and quarantine files.
    #[arg(long, default_value = "ohjaamo-demo")]
    pub dir: PathBuf,
    /// Simulated seconds per real second (60: an hour a minute).
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the simulator serves its export and `/truth`.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub simulator_listen: SocketAddr,
    /// Where the ADT adapter listens for the simulator's MLLP feed.
    #[arg(long, default_value = "127.0.0.1:2575")]
    pub mllp_listen: SocketAddr,
    /// Where the demo's development OIDC issuer listens (sign-in, tokens, keys);
    /// the loopback only: it signs anyone in who picks a name.
    #[arg(long, default_value = "127.0.0.1:8091", value_parser = loopback)]
    pub issuer_listen: SocketAddr,
    /// Do not open the two displays in a browser (they are opened when this machine
    /// has a desktop: a `DISPLAY` or `WAYLAND_DISPLAY`, or macOS).
    #[arg(long)]
    pub no_open: bool,
}

/// The development issuer is for this machine only.
fn loopback(text: &str) -> Result<SocketAddr, String> {
    let address: SocketAddr = text.parse().map_err(|e| format!("{e}"))?;
    if !address.ip().is_loopback() {
        return Err("the demo's development issuer listens on the loopback only".into());
    }
    Ok(address)
}

/// Builds a subcommand's arguments as its own command line would.
fn parse<T: clap::Args>(name: &str, args: &[String]) -> anyhow::Result<T> {
    #[derive(clap::Parser)]
    struct Wrapper<A: clap::Args> {
        #[command(flatten)]
        inner: A,
    }
    let argv = std::iter::once(name.to_owned()).chain(args.iter().cloned());
    Ok(Wrapper::<T>::try_parse_from(argv)
        .with_context(|| format!("demo settings for {name}"))?
        .inner)
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let file = |name: &str| args.dir.join(name).display().to_string();
    let root = format!("http://{}", args.listen);
    let core = format!("{root}/fhir");
    let simulator = format!("http://{}", args.simulator_listen);
    // The issuer first: the core fetches its keys on the first token.
    let issuer_listener = tokio::net::TcpListener::bind(args.issuer_listen)
        .await
        .with_context(|| format!("cannot listen on {} (--issuer-listen)", args.issuer_listen))?;
    let issuer_url = format!("http://{}", args.issuer_listen);
    let screen_units = ScreenUnits::default();
    let issuer = Arc::new(DevIssuer::new(&issuer_url, &root, &screen_units)?);
    let service = |id: &str| -> anyhow::Result<ServiceToken> {
        let secret = issuer
            .secret_of(id)
            .with_context(|| format!("the demo issuer has no client {id}"))?;
        Ok(ServiceToken::new(&issuer_url, id, secret))
    };
    let serve_args: serve::ServeArgs = parse(
        "serve",
        &[
            "--listen".into(),
            args.listen.to_string(),
            "--database-url".into(),
            format!("sqlite:{}", file("ohjaamo.db")),
            // Every few seconds, since a real second is a simulated minute.
            "--picture-refresh-seconds".into(),
            "5".into(),
            // Authentication as in production, with the demo's issuer.
            "--auth-issuer".into(),
            issuer_url.clone(),
            "--auth-audience".into(),
            AUDIENCE.into(),
            "--displays-client-id".into(),
            DISPLAYS_CLIENT.into(),
        ],
    )?;
    let simulate_args: simulate::SimulateArgs = parse(
        "simulate",
        &[
            "--listen".into(),
            args.simulator_listen.to_string(),
            "--speed".into(),
            args.speed.to_string(),
            "--seed".into(),
            args.seed.to_string(),
            "--adt-target".into(),
            args.mllp_listen.to_string(),
        ],
    )?;
    // The core lives in the simulator's time, not the wall clock's: one story in one
    // time (the picture's "now", holds' expiry, the displays' clock).
    let simulator_world = Simulator::new(simulate_args.config()?);
    let clock = Clock::following(simulator_world.time());
    let process = crate::process::adapter_process();
    // Each adapter is an OAuth client of the demo's issuer, as in production: it gets
    // its own client-credentials token and renews it (adapters/kit, auth).
    let client_secret = |source: &str| -> anyhow::Result<String> {
        issuer
            .secret_of(source)
            .with_context(|| format!("the demo issuer has no client {source}"))
    };
    let (pull_secret, adt_secret) = (client_secret("pull")?, client_secret("adt")?);
    // The adapters the demo runs, one entry each: the flags its command line would
    // have. They start in this order, each once the one before delivers.
    let adapters = [
        adapter::<Pull>(
            &[
                "--export",
                &simulator,
                "--core",
                &core,
                "--core-issuer",
                &issuer_url,
                "--core-client-id",
                "pull",
                "--core-client-secret",
                &pull_secret,
                "--poll-interval",
                "2",
                "--cursor-file",
                &file("pull-cursor.json"),
                "--quarantine-file",
                &file("pull-quarantine.jsonl"),
                "--retry-max",
                "5",
            ],
            &process,
        )?,
        adapter::<Adt>(
            &[
                "--listen",
                &args.mllp_listen.to_string(),
                "--core",
                &core,
                "--core-issuer",
                &issuer_url,
                "--core-client-id",
                "adt",
                "--core-client-secret",
                &adt_secret,
                "--quarantine-file",
                &file("adt-quarantine.jsonl"),
                "--retry-max",
                "5",
            ],
            &process,
        )?,
    ];
    let screen_secret = issuer
        .secret_of(SCREEN_CLIENT)
        .context("the demo issuer has no wall screen client")?;
    // The wall screen's credential rides in the address's fragment, which the browser
    // never sends to a server (docs/security.md, "Provisioning a wall screen").
    let displays = [
        format!(
            "{root}/displays/recovery#screen_client={SCREEN_CLIENT}&screen_secret={screen_secret}"
        ),
        format!("{root}/displays/beds"),
    ];
    println!(
        "{}",
        banner::Banner {
            core: &core,
            database: &file("ohjaamo.db"),
            simulator: &simulator,
            speed: args.speed,
            adapters: adapters
                .iter()
                .map(|a| (a.name, a.describe.as_str()))
                .collect(),
            displays: &displays,
            sources: &format!("{root}/sources"),
            issuer: &issuer_url,
        }
    );
    let watcher = Arc::new(service(WATCH_CLIENT)?);
    let mut components = in_order(
        &root,
        &watcher,
        Box::pin(serve::run_on(serve_args, clock)),
        Box::pin(async move { simulate::serve(simulator_world, &simulate_args).await }),
        adapters,
    );
    components.push(stopping(
        "the demo's development issuer".into(),
        Box::pin(issuer::serve(issuer, issuer_listener)),
    ));
    tokio::spawn(displays_ready(
        root,
        displays,
        !args.no_open,
        watcher,
        screen_units,
    ));
    futures_util::future::try_join_all(components).await?;
    Ok(())
}

/// The demo's components, each to start in turn: the core at once, the simulator
/// once the core answers, and each adapter once the one before it delivers (the ADT
/// feed's messages name the places the pull brings) — so that the start is not a
/// noise of refused writes and retries.
fn in_order(
    root: &str,
    watcher: &Arc<ServiceToken>,
    core: BoxFuture<'static, anyhow::Result<()>>,
    simulator: BoxFuture<'static, anyhow::Result<()>>,
    adapters: impl IntoIterator<Item = DemoAdapter>,
) -> Vec<BoxFuture<'static, anyhow::Result<()>>> {
    let core_up = root.to_owned();
    let mut components = vec![
        stopping("the core".into(), core),
        stopping(
            "the simulator".into(),
            Box::pin(async move {
                watch::core_answers(&core_up).await;
                simulator.await
            }),
        ),
    ];
    let mut before: Option<&'static str> = None;
    for adapter in adapters {
        let (root, after) = (root.to_owned(), before.replace(adapter.name));
        let watcher = watcher.clone();
        components.push(stopping(
            format!("adapter-{}", adapter.name),
            Box::pin(async move {
                watch::core_answers(&root).await;
                if let Some(name) = after {
                    watch::source_delivers(&root, name, &watcher).await;
                }
                adapter.run.await
            }),
        ));
    }
    components
}

/// An adapter of the demo, ready to run.
struct DemoAdapter {
    name: &'static str,
    /// What runs where, for the banner.
    describe: String,
    run: BoxFuture<'static, anyhow::Result<()>>,
}

/// The adapter `A` with the settings its command line `argv` would give it.
fn adapter<A: Adapter + 'static>(argv: &[&str], process: &Process) -> anyhow::Result<DemoAdapter> {
    let argv: Vec<String> = argv.iter().map(|a| (*a).to_owned()).collect();
    let args: A::Args = parse(&format!("adapter-{}", A::NAME), &argv)?;
    Ok(DemoAdapter {
        name: A::NAME,
        describe: A::describe(&args),
        run: Box::pin(A::run(args, process.clone())),
    })
}

/// Says when a component of the demo stops, and why if it failed.
fn stopping(
    name: String,
    run: BoxFuture<'static, anyhow::Result<()>>,
) -> BoxFuture<'static, anyhow::Result<()>> {
    Box::pin(async move {
        let result = run.await;
        match &result {
            Ok(()) => tracing::info!("{name} stopped"),
            Err(e) => tracing::error!(error = %format!("{e:#}"), "{name} failed"),
        }
        result
    })
}

/// Once the core answers: says so, provisions the wall screen's credential once the
/// recovery unit is there, watches the sources, and opens the displays when asked to.
async fn displays_ready(
    root: String,
    displays: [String; 2],
    open: bool,
    watcher: Arc<ServiceToken>,
    screen_units: ScreenUnits,
) {
    watch::core_answers(&root).await;
    tracing::info!("the core answers: the displays are live");
    if open {
        watch::open_displays(&displays);
    }
    let provisioned = {
        let (root, watcher) = (root.clone(), watcher.clone());
        async move { watch::provision_screen(&root, &watcher, &screen_units).await }
    };
    tokio::join!(provisioned, watch::watch_sources(root, &watcher));
}
