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
}

pub async fn run(args: StoreArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.database_url, 1).await?;
    match args.command {
        StoreCommand::NewEpoch => {
            let before = store.log_epoch().await?;
            let after = store.new_log_epoch().await?;
            tracing::warn!(before, after, "the event log begins a new epoch");
            println!("{after}");
        }
        StoreCommand::Epoch => println!("{}", store.log_epoch().await?),
    }
    Ok(())
}
