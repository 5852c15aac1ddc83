//! The access log: one event per call and per batch entry, with the documented fields and
//! never params or credentials.
//!
//! Alone in its test binary on purpose: it installs a thread-local subscriber, and tracing
//! caches per-callsite interest process-wide, so events could be missed if other tests in the
//! same process hit the callsites first without a subscriber.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// One event's fields, as `(name, value)`.
type Fields = Vec<(String, String)>;

/// Captures access-log events.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<Fields>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Captured {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "accord::access" {
            return;
        }
        struct Visitor(Fields);
        impl tracing::field::Visit for Visitor {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push((field.name().to_owned(), format!("{value:?}").trim_matches('"').to_owned()));
            }
        }
        let mut fields = Visitor(Vec::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
}

#[test]
fn the_access_log_has_one_event_per_batch_entry_without_params() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let log = accord_server::AccessLog::default().success_sample_rate(1.0);
            let server = serve(builder(Impl::default()).authenticator(Tokens).access_log(log)).await;
            let batch = json!([
                {"jsonrpc": "2.0", "id": 1, "method": "svc.echo", "params": {"text": "secret-param"}},
                {"jsonrpc": "2.0", "id": 2, "method": "svc.boom"},
                {"jsonrpc": "2.0", "id": 3, "method": "svc.secret"},
            ]);
            post_with(&server, &[("x-request-id", "batch-1"), ("authorization", "Bearer user")], &batch).await;
        })
    });
    let events = captured.0.lock().unwrap().clone();
    let field =
        |event: &Fields, name: &str| event.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(events.len(), 3, "{events:?}");
    let mut outcomes: Vec<String> = events.iter().map(|e| field(e, "outcome")).collect();
    outcomes.sort();
    assert_eq!(outcomes, ["INTERNAL", "OK", "OK"]);
    for event in &events {
        assert_eq!(field(event, "request_id"), "batch-1");
        assert_eq!(field(event, "batch_size"), "3");
        assert_eq!(field(event, "identity"), "bob");
        assert!(!field(event, "duration_us").is_empty());
        assert!(!format!("{event:?}").contains("secret-param"), "params logged: {event:?}");
        assert!(!format!("{event:?}").contains("Bearer"), "credentials logged: {event:?}");
    }
}
