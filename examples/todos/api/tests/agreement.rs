//! The three views of every todos wire type agree (DESIGN.md §4): serde (what the server and the
//! Rust client send and accept), the emitted JSON Schema (`openrpc.json`) and the emitted
//! TypeScript types (`types.ts`).
//!
//! Every sample value (each enum variant, `Option` as `Some` and `None`, empty and non-empty
//! collections, `I53` at ±(2^53 − 1), ...) must round-trip through serde, validate against its
//! schema and type-check as its TypeScript type. Wrong values must be rejected by serde and the
//! schema, and by TypeScript where a type can say so. The TypeScript part needs `node` and the
//! repository's `node_modules`; it skips without them unless `ACCORD_REQUIRE_TSC` is set.
//!
//! The checks are shared with the shop example (`support/agreement.rs`); this file holds what is
//! the todos API's own: its wire types, their values and the TypeScript-only controls.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use accord::{Api, I53};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use todos_api::{NewTodo, Priority, Todo, TodoError, TodoEvent, TodoFilter, TodoId, TodoPatch, TodoStats, TodosApi};

use support::agreement::{
    self, Sample, SerdeView, TWO_POW_32, TWO_POW_53, Wrong, error, of, sent, with, without, wrong,
};

/// Every wire type of the API, as named in `types.ts` and `components.schemas`.
const TYPES: &[&str] =
    &["NewTodo", "Priority", "Todo", "TodoError", "TodoEvent", "TodoFilter", "TodoId", "TodoPatch", "TodoStats"];

/// The todos types have no validation rules: the serde view is serde alone.
impl<T: DeserializeOwned> SerdeView for T {
    fn decode(json: &Value) -> Result<T, String> {
        agreement::from_json(json)
    }
}

fn samples() -> Vec<Sample> {
    let todo = |id: u32, title: &str, ms: i64| Todo {
        id,
        title: title.into(),
        done: false,
        priority: Priority::Normal,
        tags: vec![],
        created_at_ms: I53::new(ms).expect("in range"),
        note: None,
    };
    let full = Todo {
        done: true,
        priority: Priority::High,
        tags: vec!["home".into(), "ünïcödé ✓".into(), String::new()],
        note: Some("line one\nline \"two\" \\ three".into()),
        ..todo(u32::MAX, "buy milk", I53::MAX)
    };
    let oldest = Todo { priority: Priority::Low, note: Some(String::new()), ..todo(0, "", I53::MIN) };

    vec![
        of("Todo", todo(1, "read the docs", 1_700_000_000_000)),
        of("Todo", full.clone()),
        of("Todo", oldest.clone()),
        sent::<Todo>(
            "Todo",
            json!({"id": 3, "title": "t", "done": false, "priority": "low", "tags": [], "createdAtMs": 0}),
        ),
        of("Priority", Priority::Low),
        of("Priority", Priority::Normal),
        of("Priority", Priority::High),
        of("TodoId", TodoId { id: 0 }),
        of("TodoId", TodoId { id: u32::MAX }),
        of("NewTodo", NewTodo { title: "x".into(), ..Default::default() }),
        of(
            "NewTodo",
            NewTodo {
                title: "plan".into(),
                priority: Priority::High,
                tags: vec!["a".into(), "b".into()],
                note: Some("n".into()),
            },
        ),
        sent::<NewTodo>("NewTodo", json!({"title": "only a title"})),
        of("TodoPatch", TodoPatch { id: 1, ..Default::default() }),
        of(
            "TodoPatch",
            TodoPatch { id: 2, title: Some("renamed".into()), done: Some(true), priority: Some(Priority::Low) },
        ),
        of("TodoPatch", TodoPatch { id: 3, done: Some(false), priority: Some(Priority::High), ..Default::default() }),
        sent::<TodoPatch>("TodoPatch", json!({"id": 4})),
        of("TodoFilter", TodoFilter::default()),
        of("TodoFilter", TodoFilter { done: Some(true), tag: Some("home".into()) }),
        of("TodoFilter", TodoFilter { done: Some(false), tag: None }),
        sent::<TodoFilter>("TodoFilter", json!({})),
        of("TodoStats", TodoStats::default()),
        of(
            "TodoStats",
            TodoStats {
                total: 3,
                done: 1,
                by_tag: BTreeMap::from([("home".into(), 2), ("work".into(), u32::MAX), (String::new(), 0)]),
            },
        ),
        of("TodoEvent", TodoEvent::Created { todo: full.clone() }),
        of("TodoEvent", TodoEvent::Updated { todo: oldest }),
        of("TodoEvent", TodoEvent::Deleted { id: 7 }),
        error("TodoError", TodoError::NotFound { id: 7 }),
        error("TodoError", TodoError::TitleTaken { title: "buy milk".into() }),
        error("TodoError", TodoError::InvalidTitle { length: 0 }),
        error("TodoError", TodoError::InvalidTitle { length: 201 }),
    ]
}

fn wrong_values() -> Vec<Wrong> {
    let todo = json!({"id": 1, "title": "t", "done": false, "priority": "low", "tags": [], "createdAtMs": 0});
    let wrong_error = |why, ts, json| agreement::wrong_error::<TodoError>("TodoError", why, ts, json);
    vec![
        wrong::<Todo>("Todo", "createdAtMs = 2^53", false, with(&todo, "createdAtMs", json!(TWO_POW_53))),
        wrong::<Todo>("Todo", "createdAtMs = -2^53", false, with(&todo, "createdAtMs", json!(-TWO_POW_53))),
        wrong::<Todo>("Todo", "no title", true, without(&todo, "title")),
        wrong::<Todo>("Todo", "no createdAtMs", true, without(&todo, "createdAtMs")),
        wrong::<Todo>("Todo", "a string id", true, with(&todo, "id", json!("1"))),
        wrong::<Todo>("Todo", "a negative id", false, with(&todo, "id", json!(-1))),
        wrong::<Todo>("Todo", "a fractional id", false, with(&todo, "id", json!(1.5))),
        wrong::<Todo>("Todo", "an unknown priority", true, with(&todo, "priority", json!("urgent"))),
        wrong::<TodoId>("TodoId", "a string id", true, json!({"id": "1"})),
        wrong::<TodoId>("TodoId", "id = 2^32", false, json!({"id": TWO_POW_32})),
        wrong::<Priority>("Priority", "a number", true, json!(2)),
        wrong::<Priority>("Priority", "wrong case", true, json!("High")),
        wrong::<NewTodo>("NewTodo", "no title", true, json!({"tags": ["a"]})),
        wrong::<NewTodo>("NewTodo", "tags not strings", true, json!({"title": "t", "tags": [1]})),
        wrong::<TodoPatch>("TodoPatch", "no id", true, json!({"done": true})),
        wrong::<TodoFilter>("TodoFilter", "done as a string", true, json!({"done": "yes"})),
        wrong::<TodoStats>(
            "TodoStats",
            "a negative count in byTag",
            false,
            json!({"total": 1, "done": 0, "byTag": {"a": -1}}),
        ),
        wrong::<TodoStats>(
            "TodoStats",
            "a string count in byTag",
            true,
            json!({"total": 1, "done": 0, "byTag": {"a": "1"}}),
        ),
        wrong::<TodoEvent>("TodoEvent", "an unknown event type", true, json!({"type": "archived", "id": 1})),
        wrong::<TodoEvent>("TodoEvent", "deleted without id", true, json!({"type": "deleted"})),
        wrong_error("an unknown code", true, json!({"code": "GONE", "id": 1})),
        wrong_error("a framework code", true, json!({"code": "TIMEOUT"})),
        wrong_error("NOT_FOUND without id", true, json!({"code": "NOT_FOUND"})),
        wrong_error("TITLE_TAKEN with a numeric title", true, json!({"code": "TITLE_TAKEN", "title": 5})),
    ]
}

fn emitted_dir() -> PathBuf {
    support::repo_root().join("examples/todos/web/src/api")
}

/// Validators for every wire type against the emitted `openrpc.json`, draft 7.
fn validators() -> agreement::Validators {
    agreement::validators(&agreement::openrpc(&emitted_dir()), TYPES)
}

/// Wrong values on the TypeScript side only: a literal with a field the type lacks, a missing `type`.
const TS_CONTROLS: &[(&str, &str)] = &[
    ("a field NewTodo does not have", "export const extra: NewTodo = { title: \"t\", summary: \"s\" };"),
    ("an event without its tag", "export const untagged: TodoEvent = { id: 1 };"),
];

/// The emitted files are what the current Rust types generate (else this test compares stale
/// files and its failures would mislead).
#[test]
fn emitted_bindings_are_current() {
    agreement::assert_bindings_current(&[TodosApi::description()], &emitted_dir(), "bindings");
}

#[test]
fn samples_cover_every_wire_type() {
    agreement::assert_covered(TYPES, &samples(), &wrong_values());
}

#[test]
fn serde_and_the_schema_accept_every_sample() {
    agreement::assert_accepted(&validators(), &samples());
}

#[test]
fn serde_and_the_schema_reject_every_wrong_value() {
    agreement::assert_rejected(&validators(), &wrong_values());
}

#[test]
fn typescript_accepts_every_sample_and_rejects_wrong_values() {
    let by = "examples/todos/api/tests/agreement.rs";
    let source = agreement::samples_ts(by, TYPES, &samples(), &wrong_values(), TS_CONTROLS);
    agreement::assert_typescript_accepts(&emitted_dir(), &source);
}
