//! `ohjaamo store …`: operator commands on the core's database that are not the
//! server's own work.

use clap::{Args, Subcommand};
use ohjaamo_store::Store;

#[derive(Args)]
pub struct StoreArgs {
    /// The core's database, as `ohjaamo serve` is given it.
    #[arg(
        long,
        env = "OHJAAMO_DATABASE_URL",
        default_value = "sqlite:ohjaamo.db",
        global = true
    )]
    database_url: String,
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Begin a new epoch of the event log. Run it after restoring the database from a
    /// backup: the writes that follow reuse sequence numbers consumers have already
    /// seen, and the new epoch tells them to resync instead of dropping them as
    /// duplicates (docs/bus-contract.md). Harmless otherwise: consumers resync once.
    NewEpoch,
    /// Print the event log's current epoch.
    Epoch,
    /// Write the access log as NDJSON AuditEvents to stdout, oldest first (for a SIEM
    /// or an archive); the last record's number goes to stderr for the next run's
    /// `--after-record`.
    ExportAccessLog(crate::access_log_export::ExportArgs),
}

pub async fn run(args: StoreArgs) -> anyhow::Result<()> {
    if let Some(path) = missing_sqlite_file(&args.database_url) {
        // Opening would create an empty database: a mistyped path must not look like
        // success after a restore.
        anyhow::bail!("no database at {path} (check the URL)");
    }
    let store = Store::connect(&args.database_url, 1).await?;
    match args.command {
        StoreCommand::NewEpoch => {
            let before = store.log_epoch().await?;
            let after = store.new_log_epoch().await?;
            tracing::warn!(before, after, "the event log begins a new epoch");
            println!("{after}");
        }
        StoreCommand::Epoch => println!("{}", store.log_epoch().await?),
        StoreCommand::ExportAccessLog(export) => {
            let events = crate::access_log_export::export(&store, export).await?;
            tracing::info!(events, "access log exported");
        }
    }
    Ok(())
}

/// The file of a `sqlite:` URL when it does not exist (`None` for other URLs and for
/// in-memory databases).
fn missing_sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || std::path::Path::new(path).exists() {
        return None;
    }
    Some(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::missing_sqlite_file;

    #[test]
    fn a_sqlite_url_to_no_file_is_refused_before_it_creates_one() {
        assert_eq!(
            missing_sqlite_file("sqlite:/no/such/dir/ohjaamo.db?mode=rwc").as_deref(),
            Some("/no/such/dir/ohjaamo.db")
        );
        assert_eq!(missing_sqlite_file("sqlite::memory:"), None);
        assert_eq!(missing_sqlite_file("postgres://db/ohjaamo"), None);
        let here = std::env::temp_dir().join("ohjaamo-store-admin-test.db");
        std::fs::write(&here, b"").unwrap();
        assert_eq!(
            missing_sqlite_file(&format!("sqlite://{}", here.display())),
            None
        );
        let _ = std::fs::remove_file(here);
    }
}
