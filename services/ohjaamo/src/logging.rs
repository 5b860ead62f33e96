//! Logging and tracing with `tracing`: readable text locally, JSON lines in
//! production, the level from `RUST_LOG` (default `info`; the demo has its own); and, when an OTLP endpoint
//! is configured by the standard `OTEL_*` variables, spans exported as OpenTelemetry
//! traces with W3C trace context propagation.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Keeps the trace exporter alive; dropping it flushes the spans not yet sent.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("could not flush the last traces: {e}");
        }
    }
}

/// What is logged when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber, filtering by `RUST_LOG` or else by
/// `default_filter`. Call once, before the runtime starts.
pub fn init(format: Format, default_filter: &str, to_stderr: bool) -> Telemetry {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // W3C Trace Context is read from requests whether or not this process exports.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let (provider, otlp_problem) = match otlp_configured() {
        true => match otlp_provider() {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        },
        false => (None, None),
    };
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(env!("CARGO_PKG_NAME"))));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    // A command whose standard output is its data (an export) logs to stderr.
    let writer = match to_stderr {
        true => BoxMakeWriter::new(std::io::stderr),
        false => BoxMakeWriter::new(std::io::stdout),
    };
    match format {
        Format::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(writer))
            .init(),
        Format::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(writer),
            )
            .init(),
    }
    if let Some(problem) = otlp_problem {
        tracing::error!(error = %problem, "OTLP trace export is configured but could not start; continuing without traces");
    }
    Telemetry { provider }
}

/// Export only when told where to: the standard endpoint variables, and not disabled
/// by `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
fn otlp_configured() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let is = |name: &str, value: &str| {
        std::env::var(name).is_ok_and(|v| v.trim().eq_ignore_ascii_case(value))
    };
    (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        && !is("OTEL_SDK_DISABLED", "true")
        && !is("OTEL_TRACES_EXPORTER", "none")
}

/// OTLP over HTTP/protobuf with a batch processor; endpoint, headers and timeouts
/// come from the `OTEL_EXPORTER_OTLP_*` variables, the service name from
/// `OTEL_SERVICE_NAME` (default `ohjaamo`).
fn otlp_provider() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let resource = match std::env::var("OTEL_SERVICE_NAME") {
        Ok(_) => Resource::builder().build(),
        Err(_) => Resource::builder().with_service_name("ohjaamo").build(),
    };
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
