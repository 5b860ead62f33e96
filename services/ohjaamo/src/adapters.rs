//! The adapters this binary runs, each a subcommand `adapter-<name>`.
//!
//! An adapter is a crate that implements the kit's [`Adapter`] (its settings and its
//! `run`); registering it here is one line in [`adapters!`] — the subcommand, its
//! help, its flags and its start all follow from the crate (docs/adapters.md, "Adding
//! an adapter").

use ohjaamo_adapter_kit::Adapter;

/// Declares the adapter subcommands: `Variant => AdapterType`, with the help line
/// as its doc comment. The variant's name in kebab case is the subcommand.
macro_rules! adapters {
    ($($(#[$doc:meta])* $variant:ident => $adapter:ty,)*) => {
        // Parsed once at start and moved into the adapter: the size of its largest
        // settings is no cost worth a box.
        #[allow(clippy::large_enum_variant)]
        // The variants' names are the subcommands (`adapter-adt`, `adapter-pull`, ...):
        // the shared prefix is what the command line shows.
        #[allow(clippy::enum_variant_names)]
        #[derive(clap::Subcommand)]
        pub enum AdapterCommand {
            $($(#[$doc])* $variant(<$adapter as Adapter>::Args),)*
        }

        impl AdapterCommand {
            /// Runs the chosen adapter until SIGTERM or Ctrl-C.
            pub async fn run(self) -> anyhow::Result<()> {
                match self {
                    $(AdapterCommand::$variant(args) => {
                        <$adapter as Adapter>::run(args, crate::process::adapter_process()).await
                    })*
                }
            }
        }
    };
}

adapters! {
    /// Run the ADT-feed adapter: HL7 v2 over MLLP to the core's Encounters.
    AdapterAdt => ohjaamo_adapter_adt::Adt,
    /// Run the pull adapter: a Lifecare-style export pulled into the core.
    AdapterPull => ohjaamo_adapter_pull::Pull,
    /// Run the FHIR source adapter: an upstream FHIR R4 server (Epic/Apotti style)
    /// polled, or loaded through $export, into the core.
    AdapterFhirSource => ohjaamo_adapter_fhir_source::FhirSourceAdapter,
}
