//! One trace from an adapter to a consumer (issue 6, traces): the adapter kit's push
//! client writes a record inside a root span, the core (in this process, relay
//! publishing to the real RabbitMQ) serves the request in a span that continues the
//! adapter's `traceparent` header and keeps the trace context with the event in its
//! outbox, the relay puts it in the AMQP headers, and the consumer's `delivery_span`
//! (what `ohjaamo bed-reservations` handles each delivery in) continues it. Spans are
//! collected with OpenTelemetry's in-memory exporter; every hop must be parent-linked
//! within one trace id.
//!
//! Needs RabbitMQ (`OHJAAMO_TEST_AMQP_URL`, see `support`); skipped loudly without it,
//! fails without it when `CI=true`. The test's queue is exclusive to its connection and
//! deleted at the end; the organisation is unique to the run.

mod support;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt as _};
use ohjaamo_adapter_kit::{Backoff, EntryOutcome, PushClient, Upsert};
use ohjaamo_bus::lapin::options::{
    BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use ohjaamo_bus::lapin::types::{AMQPValue, FieldTable};
use ohjaamo_bus::lapin::{Channel, message::Delivery};
use ohjaamo_core::log::relay::Bus;
use ohjaamo_core::picture::deriver::DeriverOptions;
use ohjaamo_core::{AppState, Background, Config};
use ohjaamo_proto::v1::{Event, event::Payload};
use ohjaamo_store::Store;
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use prost::Message as _;
use serde_json::json;
use support::broker_url;
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// The global subscriber, so that the spans of the server's and the relay's tasks on
/// every worker thread are seen; W3C Trace Context as the global propagator, as
/// `ohjaamo`'s `logging::init` installs it.
fn telemetry() -> (InMemorySpanExporter, SdkTracerProvider) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("trace_chain")));
    tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
    (exporter, provider)
}

/// A core in this process: API, deriver and relay to RabbitMQ, over a SQLite file.
struct Core {
    base: String,
    server: tokio::task::JoinHandle<()>,
    background: Background,
    store: Arc<Store>,
    file: std::path::PathBuf,
}

impl Core {
    async fn start(bus_url: &str, organization: &str, unique: &str) -> Core {
        let file = std::env::temp_dir().join(format!("ohjaamo-trace-chain-{unique}.db"));
        let store = Store::connect(&format!("sqlite:{}", file.display()), 4)
            .await
            .expect("the SQLite test database");
        let store = Arc::new(store);
        let state = AppState::new(
            store.clone(),
            Config {
                default_tenant: organization.to_owned(),
                ..Config::default()
            },
        );
        let background = Background::start(
            &state,
            Bus::Amqp {
                url: bus_url.to_owned(),
            },
            DeriverOptions {
                refresh: Duration::from_secs(3600),
                poll: Duration::from_millis(50),
                report_interval: Duration::ZERO,
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}/fhir", listener.local_addr().expect("address"));
        let app = ohjaamo_core::http::server::app(state);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the server failed");
        });
        Core {
            base,
            server,
            background,
            store,
            file,
        }
    }

    async fn stop(self) {
        self.server.abort();
        drop(self.background);
        self.store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.file.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_trace_from_the_adapter_through_the_core_and_the_bus_to_the_consumer() {
    let Some(bus_url) = broker_url() else {
        return;
    };
    let (exporter, provider) = telemetry();
    let unique = format!(
        "{}{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond() % 1_000_000_000
    );
    let organization = format!("1.2.246.10.{unique}");

    // The consumer's queue first, so that the event cannot be published before it.
    let connection = ohjaamo_bus::connect(&bus_url, "trace_chain test", Duration::from_secs(10))
        .await
        .expect("RabbitMQ");
    let channel = connection.create_channel().await.expect("a channel");
    ohjaamo_bus::declare_exchange(&channel)
        .await
        .expect("the exchange");
    let queue = channel
        .queue_declare(
            format!("trace-chain-{unique}").as_str().into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("the test queue");
    let queue = queue.name().as_str().to_owned();
    // The Location's own event, and the ward picture derived from it (what the
    // reference consumer binds).
    for binding in ["resource.Location.#", "picture.ward.#"] {
        let binding = format!("v1.{}.{binding}", ohjaamo_bus::key_part(&organization));
        channel
            .queue_bind(
                queue.as_str().into(),
                ohjaamo_bus::EXCHANGE.into(),
                binding.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("binding the test queue");
    }

    let core = Core::start(&bus_url, &organization, &unique).await;
    let outcome = AssertUnwindSafe(chain(
        &channel,
        &queue,
        &core.base,
        &organization,
        &exporter,
        &provider,
    ))
    .catch_unwind()
    .await;

    core.stop().await;
    let deleted = channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    let _ = connection.close(200, "trace_chain done".into()).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    deleted.expect("deleting the test queue");
}

async fn chain(
    channel: &Channel,
    queue: &str,
    base: &str,
    organization: &str,
    exporter: &InMemorySpanExporter,
    provider: &SdkTracerProvider,
) {
    let mut deliveries = channel
        .basic_consume(
            queue.into(),
            "trace-chain".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consuming the test queue");

    // The adapter: one record pushed inside a root span of its own.
    let push = PushClient::new(
        base,
        organization,
        "trace-chain",
        Duration::from_secs(10),
        Backoff {
            base: Duration::from_millis(50),
            max: Duration::from_secs(1),
        },
    )
    .expect("the push client");
    let (_keep, mut shutdown) = tokio::sync::watch::channel(false);
    let ward = json!({
        "resourceType": "Location",
        "identifier": [{"system": "urn:oid:1.2.246.10.99.1", "value": "TRACE-WARD"}],
        "name": "Jäljitysosasto",
        "status": "active",
        "physicalType": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
            "code": "wa",
        }]},
    });
    let upserts = [Upsert::put(
        "Location?identifier=urn:oid:1.2.246.10.99.1|TRACE-WARD".into(),
        ward,
    )];
    let outcomes = push
        .push(&upserts, &mut shutdown)
        .instrument(tracing::info_span!("adapter_round"))
        .await
        .expect("the push settles");
    assert_eq!(outcomes, vec![EntryOutcome::Stored]);

    // The consumer: the Location's event, handled in the span the reference consumer
    // uses; and the ward picture derived from it, in whichever order they arrive.
    let mut resource = None;
    let mut picture_header = None;
    while resource.is_none() || picture_header.is_none() {
        let delivery = tokio::time::timeout(Duration::from_secs(30), deliveries.next())
            .await
            .expect("the Location's event and its ward picture within 30 s")
            .expect("the consumer is open")
            .expect("a delivery");
        if delivery.routing_key.as_str().contains(".picture.") {
            picture_header =
                Some(traceparent_header(&delivery).expect("the picture event has a traceparent"));
            delivery.ack(BasicAckOptions::default()).await.expect("ack");
        } else {
            resource = Some(delivery);
        }
    }
    let (delivery, picture_header) = (resource.unwrap(), picture_header.unwrap());
    let header = traceparent_header(&delivery).expect("the message has a traceparent header");
    let span = ohjaamo_bed_reservations::delivery_span(&delivery);
    let event = async {
        let event = Event::decode(delivery.data.as_slice()).expect("an ohjaamo.v1.Event");
        tracing::Span::current().record("sequence", event.sequence);
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
        event
    }
    .instrument(span)
    .await;
    assert!(
        matches!(&event.payload, Some(Payload::ResourceChange(c)) if c.resource_type == "Location"),
        "the event is the Location's resource change: {:?}",
        event.payload
    );
    let envelope_trace = event.trace.expect("the envelope carries the trace context");
    assert_eq!(
        envelope_trace.traceparent, header,
        "the AMQP header and the envelope carry the same traceparent"
    );

    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let named = |name: &str| -> &SpanData {
        let mut found = spans.iter().filter(|s| s.name == name);
        let span = found
            .next()
            .unwrap_or_else(|| panic!("no {name} span among {}", describe(&spans)));
        assert!(found.next().is_none(), "more than one {name} span");
        span
    };
    let root = named("adapter_round");
    let push_batch = named("push_batch");
    let consumer = named("consume_event");
    let trace = root.span_context.trace_id();
    let requests: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.name == "request" && s.span_context.trace_id() == trace)
        .collect();
    let [request] = requests.as_slice() else {
        panic!(
            "expected one core request span in the adapter's trace {trace}: {}",
            describe(&spans)
        );
    };
    let (carried_trace, carried_span) = parse_traceparent(&header);

    println!("trace {trace}");
    for (what, s) in [
        ("adapter root", root),
        ("adapter push", push_batch),
        ("core request", *request),
        ("consumer", consumer),
    ] {
        println!(
            "  {what:<13} {:<14} span {} parent {}",
            s.name,
            s.span_context.span_id(),
            s.parent_span_id
        );
    }
    println!("  AMQP header   traceparent {header}");

    assert_eq!(
        root.parent_span_id,
        SpanId::INVALID,
        "the root has no parent"
    );
    assert_eq!(push_batch.span_context.trace_id(), trace);
    assert_eq!(push_batch.parent_span_id, root.span_context.span_id());
    assert_eq!(
        request.parent_span_id,
        push_batch.span_context.span_id(),
        "the core's request span is a child of the adapter's push (traceparent over HTTP)"
    );
    assert_eq!(
        carried_trace, trace,
        "the event carries the adapter's trace"
    );
    assert!(
        descends_from(&spans, carried_span, request.span_context.span_id()),
        "the span the event carries ({carried_span}) is the core's request span or within it: {}",
        describe(&spans)
    );
    assert_eq!(
        consumer.span_context.trace_id(),
        trace,
        "the consumer continues the trace"
    );
    assert_eq!(
        consumer.parent_span_id, carried_span,
        "the consumer's span is a child of the span the message carried"
    );
    println!("  picture event traceparent {picture_header}");
    assert_eq!(
        parse_traceparent(&picture_header).0,
        trace,
        "the ward picture derived from the write joins the write's trace"
    );
}

/// The `traceparent` AMQP header, as the relay writes it (a long string).
fn traceparent_header(delivery: &Delivery) -> Option<String> {
    let headers = delivery.properties.headers().as_ref()?;
    match headers.inner().get("traceparent")? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        other => panic!("traceparent is not a long string: {other:?}"),
    }
}

/// `00-<trace id>-<span id>-<flags>`.
fn parse_traceparent(header: &str) -> (TraceId, SpanId) {
    let parts: Vec<&str> = header.split('-').collect();
    assert_eq!(parts.len(), 4, "a W3C traceparent: {header}");
    (
        TraceId::from_hex(parts[1]).expect("trace id"),
        SpanId::from_hex(parts[2]).expect("span id"),
    )
}

/// Whether `span` is `ancestor` or one of its descendants among `spans`.
fn descends_from(spans: &[SpanData], mut span: SpanId, ancestor: SpanId) -> bool {
    for _ in 0..spans.len() + 1 {
        if span == ancestor {
            return true;
        }
        match spans.iter().find(|s| s.span_context.span_id() == span) {
            Some(s) => span = s.parent_span_id,
            None => return false,
        }
    }
    false
}

fn describe(spans: &[SpanData]) -> String {
    spans
        .iter()
        .map(|s| {
            format!(
                "{} (trace {}, span {}, parent {})",
                s.name,
                s.span_context.trace_id(),
                s.span_context.span_id(),
                s.parent_span_id
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
