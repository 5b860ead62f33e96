//! `ohjaamo demo`: everything on one machine, in one process, on the embedded
//! default — the core on a SQLite file, the source simulator living a busy day
//! faster than real time, and both adapters feeding the core from it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser as _;

use futures_util::future::BoxFuture;
use ohjaamo_adapter_adt::Adt;
use ohjaamo_adapter_kit::{Adapter, Process};
use ohjaamo_adapter_pull::Pull;

use crate::{serve, simulate};

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
    /// Do not open the two displays in a browser (they are opened when this machine
    /// has a desktop: a `DISPLAY` or `WAYLAND_DISPLAY`, or macOS).
    #[arg(long)]
    pub no_open: bool,
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
    let core = format!("http://{}/fhir", args.listen);
    let simulator = format!("http://{}", args.simulator_listen);
    let serve_args: serve::ServeArgs = parse(
        "serve",
        &[
            "--listen".into(),
            args.listen.to_string(),
            "--database-url".into(),
            format!("sqlite:{}", file("ohjaamo.db")),
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
    let process = crate::process::adapter_process();
    // The adapters the demo runs, one line each: the flags its command line would have.
    let adapters = [
        adapter::<Adt>(
            &[
                "--listen",
                &args.mllp_listen.to_string(),
                "--core",
                &core,
                "--quarantine-file",
                &file("adt-quarantine.jsonl"),
                "--retry-max",
                "5",
            ],
            &process,
        )?,
        adapter::<Pull>(
            &[
                "--export",
                &simulator,
                "--core",
                &core,
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
    ];
    tracing::info!(%core, %simulator, "demo: the core, the simulator and both adapters");
    tokio::spawn(announce_displays(
        format!("http://{}", args.listen),
        !args.no_open,
    ));
    let core_and_simulator: [BoxFuture<'static, anyhow::Result<()>>; 2] = [
        Box::pin(serve::run(serve_args)),
        Box::pin(simulate::run(simulate_args)),
    ];
    futures_util::future::try_join_all(
        core_and_simulator
            .into_iter()
            .chain(adapters.into_iter().map(|a| a.run)),
    )
    .await?;
    Ok(())
}

/// An adapter of the demo, ready to run.
struct DemoAdapter {
    run: BoxFuture<'static, anyhow::Result<()>>,
}

/// The adapter `A` with the settings its command line `argv` would give it.
fn adapter<A: Adapter + 'static>(argv: &[&str], process: &Process) -> anyhow::Result<DemoAdapter> {
    let argv: Vec<String> = argv.iter().map(|a| (*a).to_owned()).collect();
    let args: A::Args = parse(&format!("adapter-{}", A::NAME), &argv)?;
    Ok(DemoAdapter {
        run: Box::pin(A::run(args, process.clone())),
    })
}

/// Once the core answers: says where the two displays are, and opens them in the
/// desktop's browser when there is a desktop (the demo is for people to look at).
async fn announce_displays(root: String, open: bool) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client
            .get(format!("{root}/livez"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let screens = [
        format!("{root}/displays/recovery"),
        format!("{root}/displays/beds"),
    ];
    tracing::info!(
        recovery = %screens[0],
        beds = %screens[1],
        "demo: the displays (heräämö, paikanvaraus) are served"
    );
    let desktop = cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !open || !desktop {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    for url in &screens {
        if let Err(e) = std::process::Command::new(opener)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            tracing::info!(error = %e, %url, "cannot open a browser; open the address yourself");
            return;
        }
    }
}
