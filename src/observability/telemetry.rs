//! Logging and tracing set-up: human-readable logs in development, JSON in Lambda and
//! production; with the `otlp` feature, spans exported over OTLP/HTTP when the `OTEL_*`
//! variables ask for it (see [`TraceExport`]).

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::settings::{Settings, SettingsError, TraceExport};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// What must outlive the service: the span exporter, flushed by [`Telemetry::shutdown`].
#[must_use = "spans still buffered are lost unless `shutdown` is called"]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered, waiting at most `timeout`.
    pub fn shutdown(self, timeout: std::time::Duration) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider {
            if let Err(error) = provider.shutdown_with_timeout(timeout) {
                eprintln!("kafka-producer: spans not all exported at shutdown: {error}");
            }
        }
        #[cfg(not(feature = "otlp"))]
        let _ = timeout;
    }
}

/// Installs the global subscriber. A filter that does not parse is a start-up error, and so is an
/// OTLP exporter that cannot be built.
pub fn init(settings: &Settings) -> Result<Telemetry, SettingsError> {
    let filter = EnvFilter::try_new(&settings.log_filter).map_err(|e| SettingsError {
        setting: "LOG_LEVEL".into(),
        reason: format!("{:?} is not a log filter: {e}", settings.log_filter),
    })?;
    let logs: BoxedLayer = if settings.log_json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(false)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    };
    #[cfg_attr(not(feature = "otlp"), allow(unused_mut))]
    let mut layers = vec![logs];
    let telemetry = Telemetry {
        #[cfg(feature = "otlp")]
        provider: match &settings.trace_export {
            TraceExport::Off => None,
            TraceExport::Otlp { service_name, .. } => {
                let (provider, layer) = otlp::layer(service_name)?;
                layers.push(layer);
                Some(provider)
            }
        },
    };
    // Already installed (tests set up their own): keep the first one.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    match &settings.trace_export {
        TraceExport::Off => {}
        TraceExport::Otlp { endpoint, .. } if cfg!(feature = "otlp") => tracing::info!(
            endpoint = endpoint.as_deref().unwrap_or("http://localhost:4318 (default)"),
            "exporting spans over OTLP/HTTP"
        ),
        TraceExport::Otlp { .. } => tracing::warn!(
            "OTLP span export is asked for, but this build has no `otlp` feature: no span is exported"
        ),
    }
    Ok(telemetry)
}

#[cfg(feature = "otlp")]
mod otlp {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::Layer;

    use super::BoxedLayer;
    use crate::settings::SettingsError;

    /// The tracer provider (batching, on a thread of its own) and the layer that turns this
    /// crate's spans into OpenTelemetry spans. The exporter reads the standard `OTEL_EXPORTER_OTLP_*`
    /// variables (endpoint, headers, timeout), the resource `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn layer(service_name: &str) -> Result<(SdkTracerProvider, BoxedLayer), SettingsError> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| SettingsError {
                setting: "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
                reason: format!("no OTLP exporter: {e}"),
            })?;
        let resource = Resource::builder()
            .with_service_name(service_name.to_owned())
            .with_attribute(opentelemetry::KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION"),
            ));
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        let tracer = provider.tracer(env!("CARGO_PKG_NAME"));
        // This crate's spans only: the libraries' own spans (hyper, rdkafka) would be noise.
        let only_ours = Targets::new().with_target(env!("CARGO_CRATE_NAME"), tracing::Level::INFO);
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(only_ours)
            .boxed();
        Ok((provider, layer))
    }
}

/// Joins the request's span to the caller's trace and answers the ids it has in the exported
/// trace, so that the `traceparent` written into records names the exported span. `None` when
/// spans are not exported: the caller then keeps ids of its own.
#[cfg(feature = "otlp")]
pub fn join_trace(
    span: &tracing::Span,
    parent: Option<&super::trace_context::TraceParent>,
) -> Option<super::trace_context::TraceParent> {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    if let Some(parent) = parent {
        let flags = u8::from_str_radix(&parent.flags, 16).unwrap_or(0);
        let remote = SpanContext::new(
            TraceId::from_hex(&parent.trace_id).ok()?,
            SpanId::from_hex(&parent.span_id).ok()?,
            TraceFlags::new(flags),
            true,
            TraceState::NONE,
        );
        // Fails only when the span is not exported at all; the caller keeps its ids then.
        span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote))
            .ok()?;
    }
    let context = span.context();
    let ours = context.span().span_context().clone();
    ours.is_valid().then(|| super::trace_context::TraceParent {
        trace_id: ours.trace_id().to_string(),
        span_id: ours.span_id().to_string(),
        flags: format!("{:02x}", ours.trace_flags().to_u8()),
    })
}

/// Without the `otlp` feature no span is exported: the caller keeps ids of its own.
#[cfg(not(feature = "otlp"))]
pub fn join_trace(
    _span: &tracing::Span,
    _parent: Option<&super::trace_context::TraceParent>,
) -> Option<super::trace_context::TraceParent> {
    None
}
