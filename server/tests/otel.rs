//! OpenTelemetry export (feature `otel`) to an OTLP/HTTP collector run inside the test: one
//! server span per call with the RPC attributes, the caller's W3C trace continued (from the
//! HTTP headers, and per call from `meta` on a WebSocket), error codes, and the trace id on
//! log lines.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accord_server::telemetry::Telemetry;
use common::*;
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// Spans received by the collector.
type Received = Arc<Mutex<Vec<Span>>>;

/// A minimal OTLP/HTTP collector: decodes `POST /v1/traces` (protobuf) and keeps the spans.
async fn collector() -> (SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received: Received = Arc::default();
    let spans = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let spans = spans.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let spans = spans.clone();
                    async move {
                        assert_eq!(request.uri().path(), "/v1/traces");
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let export = ExportTraceServiceRequest::decode(body).unwrap();
                        let mut spans = spans.lock().unwrap();
                        for resource in export.resource_spans {
                            for scope in resource.scope_spans {
                                spans.extend(scope.spans);
                            }
                        }
                        Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                            bytes::Bytes::new(),
                        )))
                    }
                });
                let io = hyper_util::rt::TokioIo::new(socket);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    (address, received)
}

/// Log lines, as the fmt layer writes them.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn attribute(span: &Span, key: &str) -> Option<AnyValue> {
    span.attributes.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.clone()?.value)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// Multi-threaded: flushing blocks a thread while the collector, on this runtime, answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_exported_as_server_spans_that_continue_the_callers_trace() {
    let (collector, received) = collector().await;
    let vars = HashMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}")),
        ("OTEL_SERVICE_NAME", "otel-test".to_owned()),
    ]);
    let telemetry = Telemetry::from_lookup(|name| vars.get(name).cloned()).unwrap().expect("configured");
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::registry()
        .with(accord_server::log_filter(Some("info")))
        .with(tracing_subscriber::fmt::layer().json().with_current_span(true).with_writer(move || writer.clone()))
        .with(telemetry.layer());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = builder(Impl::default()).access_log(accord_server::AccessLog::default().success_sample_rate(1.0));
    let server = serve(server).await;
    let http_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{http_trace}-00f067aa0ba902b7-01");
    let answer = post_with(&server, &[("traceparent", &traceparent)], &call("svc.echo", json!({"text": "hi"}))).await;
    assert_eq!(answer.status(), 200);

    let ws_trace = "0af7651916cd43dd8448eb211c80319c";
    let mut socket = socket(&server, None).await;
    let with_meta = json!({
        "jsonrpc": "2.0", "id": 1, "method": "svc.echo", "params": {"text": "ws"},
        "meta": {"traceparent": format!("00-{ws_trace}-b7ad6b7169203331-01")},
    });
    send(&mut socket, &with_meta).await;
    assert_eq!(receive(&mut socket).await.unwrap()["result"]["text"], "ws");
    send(&mut socket, &json!({"jsonrpc": "2.0", "id": 2, "method": "svc.boom"})).await;
    assert_eq!(code(&receive(&mut socket).await.unwrap()), "INTERNAL");

    let _telemetry = tokio::task::spawn_blocking(move || {
        telemetry.flush().unwrap();
        telemetry
    })
    .await
    .unwrap();
    let spans = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let spans = received.lock().unwrap().clone();
            if spans.len() >= 3 {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("three spans exported");
    let by_trace = |trace: &str| spans.iter().find(|s| hex(&s.trace_id) == trace).cloned();

    let over_http = by_trace(http_trace).expect("the HTTP call continues the traceparent header");
    assert_eq!(over_http.name, "svc.echo");
    assert_eq!(hex(&over_http.parent_span_id), "00f067aa0ba902b7");
    assert_eq!(over_http.kind, opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32);
    assert_eq!(attribute(&over_http, "rpc.system"), Some(AnyValue::StringValue("jsonrpc".into())));
    assert_eq!(attribute(&over_http, "rpc.method"), Some(AnyValue::StringValue("svc.echo".into())));
    assert_eq!(attribute(&over_http, "rpc.jsonrpc.error_code"), None);

    let over_ws = by_trace(ws_trace).expect("the WebSocket call continues meta.traceparent");
    assert_eq!(hex(&over_ws.parent_span_id), "b7ad6b7169203331");

    let boom = spans.iter().find(|s| s.name == "svc.boom").expect("the failed call's span");
    assert_eq!(attribute(boom, "rpc.jsonrpc.error_code"), Some(AnyValue::IntValue(-32603)));
    let status = boom.status.clone().expect("a status");
    assert_eq!(status.code, opentelemetry_proto::tonic::trace::v1::status::StatusCode::Error as i32);

    // Log lines inside a call carry its trace id: the access log's among them.
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let access: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["target"] == "accord::access")
        .collect();
    assert!(access.iter().any(|line| line["span"]["trace_id"] == http_trace), "{text}");
    assert!(access.iter().any(|line| line["span"]["trace_id"] == ws_trace), "{text}");
}
