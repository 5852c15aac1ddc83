//! The three views agree (DESIGN.md §4) for every serde attribute `#[accord::wire]` supports:
//! `skip_serializing_if` (with `default`), field and container `default`, `flatten`, the
//! `rename_all` rules, `tag`, `tag` + `content`, `untagged`, `transparent`,
//! `deny_unknown_fields`, externally tagged enums mixing unit, newtype and struct variants, and
//! `with` described by the user (`#[schemars(with)]` + `#[ts(type)]`).
//!
//! The types live in a small test-only API (below); its bindings are generated into a temp dir
//! and checked with the machinery of the todos agreement test (`support/agreement.rs`): what
//! serde writes and what a client may send validate against the emitted JSON Schema and
//! type-check as the emitted TypeScript; wrong values are refused by serde and the schema (and by
//! TypeScript where a type can say so). Attributes that cannot be described exactly are refused at
//! compile time instead (`procedures/tests/ui/wire_serde_refused.rs`).

mod support;

use accord::{Api, Cx, RpcError};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use support::agreement::{self, Sample, SerdeView, Wrong, of, sent, wrong};

/// `skip_serializing_if` + `default`: left out when empty, optional both ways.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sparse {
    pub id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub count: u32,
}

/// Container `default`: every field may be left out.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub theme: String,
    pub page_size: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self { theme: "light".into(), page_size: 20 }
    }
}

/// `flatten`: the page's fields sit beside `query` (`Page` itself is no wire type of its own here:
/// it is described only inside `Search`).
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub query: String,
    #[serde(flatten)]
    pub page: Page,
}

#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub offset: u32,
    pub limit: u32,
}

/// `rename_all = "snake_case"` on a struct.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub struct Snake {
    pub created_at: u32,
    pub is_done: bool,
}

/// `rename_all = "kebab-case"` on a struct.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct Kebab {
    pub max_items: u32,
}

/// `rename_all = "SCREAMING_SNAKE_CASE"` on unit variants.
#[accord::wire]
#[derive(Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    LowPriority,
    HighPriority,
}

/// `tag` + `content` (adjacently tagged), with struct, unit and newtype variants.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "kind", content = "data", rename_all = "camelCase")]
pub enum Shape {
    Circle { radius: u32 },
    Point,
    Label(String),
}

/// `tag` (internally tagged), with `rename_all_fields` left to Accord's camelCase.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    Opened { at_ms: u32 },
    Closed,
}

/// `untagged`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum IdOrName {
    Id(u32),
    Name(String),
}

/// `transparent` newtypes: the wire holds the inner value.
#[accord::wire]
#[derive(Clone, Copy, Debug, PartialEq)]
#[serde(transparent)]
pub struct Cents(pub u32);

/// Uses the transparent and untagged types as fields.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Price {
    pub amount: Cents,
    pub item: IdOrName,
    pub level: Level,
}

/// `deny_unknown_fields`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Strict {
    pub a: u32,
}

/// Externally tagged (serde's default) with unit, newtype and struct variants.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Stop,
    Say(String),
    Move { delta_x: i32 },
}

/// A representation the user took over (`with`) and described (`schemars(with)`, `ts(type)`).
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Described {
    #[serde(with = "as_text")]
    #[schemars(with = "String")]
    #[ts(type = "string")]
    pub count: u32,
}

mod as_text {
    pub fn serialize<S: serde::Serializer>(value: &u32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[accord::error]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AttributesError {
    #[error("refused")]
    Refused,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// Every attribute under test, as inputs (objects) and outputs.
#[accord::procedures(namespace = "attributes")]
pub trait Attributes {
    #[query]
    async fn sparse(&self, cx: &Cx, input: Sparse) -> Result<Sparse, AttributesError>;
    #[query]
    async fn settings(&self, cx: &Cx, input: Settings) -> Result<Settings, AttributesError>;
    #[query]
    async fn search(&self, cx: &Cx, input: Search) -> Result<Search, AttributesError>;
    #[query]
    async fn snake(&self, cx: &Cx, input: Snake) -> Result<Kebab, AttributesError>;
    #[query]
    async fn shape(&self, cx: &Cx, input: Strict) -> Result<Shape, AttributesError>;
    #[query]
    async fn event(&self, cx: &Cx) -> Result<Event, AttributesError>;
    #[query]
    async fn price(&self, cx: &Cx, input: Price) -> Result<Command, AttributesError>;
    #[query]
    async fn described(&self, cx: &Cx, input: Described) -> Result<Described, AttributesError>;
}

const TYPES: &[&str] = &[
    "Command",
    "Described",
    "Event",
    "IdOrName",
    "Kebab",
    "Level",
    "Price",
    "Search",
    "Settings",
    "Shape",
    "Snake",
    "Sparse",
    "Strict",
];

impl<T: DeserializeOwned> SerdeView for T {
    fn decode(json: &Value) -> Result<T, String> {
        agreement::from_json(json)
    }
}

fn samples() -> Vec<Sample> {
    let sparse = Sparse { id: 1, ..Default::default() };
    vec![
        of("Sparse", sparse.clone()),
        of("Sparse", Sparse { note: Some("n".into()), tags: vec!["a".into()], count: 3, ..sparse }),
        sent::<Sparse>("Sparse", json!({"id": 2, "note": null})),
        of("Settings", Settings::default()),
        sent::<Settings>("Settings", json!({})),
        sent::<Settings>("Settings", json!({"pageSize": 50})),
        of("Search", Search { query: "milk".into(), page: Page { offset: 0, limit: 10 } }),
        of("Search", Search { query: String::new(), page: Page { offset: 5, limit: u32::MAX } }),
        of("Snake", Snake { created_at: 7, is_done: true }),
        of("Kebab", Kebab { max_items: 3 }),
        of("Level", Level::LowPriority),
        of("Level", Level::HighPriority),
        of("Shape", Shape::Circle { radius: 2 }),
        of("Shape", Shape::Point),
        of("Shape", Shape::Label("x".into())),
        of("Event", Event::Opened { at_ms: 1 }),
        of("Event", Event::Closed),
        of("IdOrName", IdOrName::Id(7)),
        of("IdOrName", IdOrName::Name("seven".into())),
        of("Price", Price { amount: Cents(250), item: IdOrName::Id(1), level: Level::HighPriority }),
        of("Strict", Strict { a: 1 }),
        of("Described", Described { count: 42 }),
        of("Command", Command::Stop),
        of("Command", Command::Say("hi".into())),
        of("Command", Command::Move { delta_x: -3 }),
    ]
}

fn wrong_values() -> Vec<Wrong> {
    vec![
        wrong::<Sparse>("Sparse", "no id", true, json!({"note": "n"})),
        wrong::<Settings>("Settings", "a string page size", true, json!({"pageSize": "big"})),
        wrong::<Search>("Search", "the flattened page missing", true, json!({"query": "q"})),
        wrong::<Search>("Search", "a negative offset", false, json!({"query": "q", "offset": -1, "limit": 1})),
        wrong::<Snake>("Snake", "camelCase keys", true, json!({"createdAt": 1, "isDone": true})),
        wrong::<Kebab>("Kebab", "snake_case key", true, json!({"max_items": 1})),
        wrong::<Level>("Level", "the Rust spelling", true, json!("LowPriority")),
        wrong::<Shape>("Shape", "content beside the tag", true, json!({"kind": "circle", "radius": 2})),
        wrong::<Shape>("Shape", "an unknown kind", true, json!({"kind": "square", "data": {}})),
        wrong::<Event>("Event", "no tag", true, json!({"atMs": 1})),
        wrong::<Event>("Event", "snake_case field", true, json!({"type": "opened", "at_ms": 1})),
        wrong::<IdOrName>("IdOrName", "a boolean", true, json!(true)),
        wrong::<Price>(
            "Price",
            "cents as an object",
            true,
            json!({"amount": {"0": 1}, "item": 1, "level": "LOW_PRIORITY"}),
        ),
        wrong::<Strict>("Strict", "an unknown field", false, json!({"a": 1, "b": 2})),
        wrong::<Described>("Described", "a number where text is sent", true, json!({"count": 42})),
        wrong::<Command>("Command", "a struct variant as a string", true, json!("Move")),
        wrong::<Command>("Command", "two variants at once", true, json!({"Say": "a", "Stop": null})),
    ]
}

/// The test API's bindings, written to a temp dir.
fn emitted() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::Builder::new().prefix("accord-serde-attributes-").tempdir().expect("create a temp dir");
    let dir = tmp.path().join("api");
    let bindings = accord_bindings::generate(&[AttributesApi::description()]).expect("generate the bindings");
    bindings.write(&dir).expect("write the bindings");
    (tmp, dir)
}

fn validators(dir: &std::path::Path) -> agreement::Validators {
    agreement::validators(&agreement::openrpc(dir), TYPES)
}

#[test]
fn samples_cover_every_type() {
    agreement::assert_covered(TYPES, &samples(), &wrong_values());
}

#[test]
fn serde_and_the_schema_accept_every_sample() {
    let (_tmp, dir) = emitted();
    agreement::assert_accepted(&validators(&dir), &samples());
}

#[test]
fn serde_and_the_schema_reject_every_wrong_value() {
    let (_tmp, dir) = emitted();
    agreement::assert_rejected(&validators(&dir), &wrong_values());
}

#[test]
fn typescript_accepts_every_sample_and_rejects_wrong_values() {
    let (_tmp, dir) = emitted();
    let controls: &[(&str, &str)] = &[
        ("a skipped field is optional, not absent", "export const typo: Sparse = { id: 1, notes: \"n\" };"),
        (
            "Cents is a number, not an object",
            "export const cents: Price = { amount: { value: 1 }, item: 1, level: \"LOW_PRIORITY\" };",
        ),
    ];
    let by = "examples/todos/api/tests/serde_attributes.rs";
    let source = agreement::samples_ts(by, TYPES, &samples(), &wrong_values(), controls);
    agreement::assert_typescript_accepts(&dir, &source);
}

/// What the emitted files say about each attribute, precisely.
#[test]
fn the_bindings_describe_each_attribute() {
    let (_tmp, dir) = emitted();
    let openrpc = agreement::openrpc(&dir);
    let schemas = &openrpc["components"]["schemas"];
    assert_eq!(schemas["Sparse"]["required"], json!(["id"]), "skipped and defaulted fields are optional");
    assert!(schemas["Settings"].get("required").is_none_or(|r| r == &json!([])), "{}", schemas["Settings"]);
    let search = &schemas["Search"];
    assert!(search["properties"].get("offset").is_some() && search["properties"].get("page").is_none(), "{search}");

    let types = std::fs::read_to_string(dir.join("types.ts")).expect("types.ts");
    for expected in [
        "note?: string | null",
        "tags?: Array<string>",
        "count?: number",
        "theme?: string",
        "pageSize?: number",
        "created_at: number",
        "\"max-items\": number",
        "export type Level = \"LOW_PRIORITY\" | \"HIGH_PRIORITY\";",
    ] {
        assert!(types.contains(expected), "types.ts lacks {expected:?}:\n{types}");
    }
}
