//! Every SQL statement runs in a client span with the database semantic conventions
//! (`db.system`, `db.operation.name`, `db.query.text` with placeholders, never values), inside
//! the call's span: what an OpenTelemetry exporter turns into the database part of a trace.

mod support;

use std::sync::{Arc, Mutex};

use accord::{Cx, Kind};
use shop_api::{ProductQuery, Products};
use support::{Backend, SMALL, start};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// A span's name and its fields as text.
type Recorded = (String, Vec<(String, String)>);

/// Every span opened.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<Recorded>>>);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, _: &tracing::span::Id, _: Context<'_, S>) {
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push((attrs.metadata().name().to_owned(), fields));
    }
}

#[tokio::test]
async fn statements_run_in_database_spans_without_their_values() {
    let spans = Spans::default();
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let Some(test) = start(Backend::Sqlite, Some(SMALL), |_| {}).await else { return };
    spans.0.lock().unwrap().clear();

    let cx = Cx::new().with_extension(Kind::Query);
    let query = ProductQuery { search: Some("secret-search-term".into()), ..Default::default() };
    test.shop().catalog.list(&cx, query).await.expect("list");

    let recorded = spans.0.lock().unwrap().clone();
    let queries: Vec<&Vec<(String, String)>> =
        recorded.iter().filter(|(name, _)| name == "db.query").map(|(_, fields)| fields).collect();
    assert!(!queries.is_empty(), "{recorded:?}");
    let field = |fields: &Vec<(String, String)>, name: &str| {
        fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone()).unwrap_or_default()
    };
    for fields in &queries {
        assert_eq!(field(fields, "db.system"), "sqlite");
        assert_eq!(field(fields, "otel.kind"), "client");
        let text = field(fields, "db.query.text");
        assert!(text.starts_with(&field(fields, "db.operation.name")), "{text}");
        assert!(!text.contains("secret-search-term"), "values stay out of spans: {text}");
    }
    assert!(queries.iter().any(|fields| field(fields, "db.query.text").contains('?')), "placeholders: {queries:?}");
    test.finish().await;
}
