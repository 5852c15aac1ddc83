//! The three views of every todos wire type agree (DESIGN.md §4): serde (what the server and the
//! Rust client send and accept), the emitted JSON Schema (`openrpc.json`) and the emitted
//! TypeScript types (`types.ts`).
//!
//! Every sample value (each enum variant, `Option` as `Some` and `None`, empty and non-empty
//! collections, `I53` at ±(2^53 − 1), ...) must round-trip through serde, validate against its
//! schema and type-check as its TypeScript type. Wrong values must be rejected by serde and the
//! schema, and by TypeScript where a type can say so. The TypeScript part needs `node` and the
//! repository's `node_modules`; it skips without them unless `ACCORD_REQUIRE_TSC` is set.

mod support;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::PathBuf;

use accord::{Api, I53, ProcedureError, RpcError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use todos_api::{NewTodo, Priority, Todo, TodoError, TodoEvent, TodoFilter, TodoId, TodoPatch, TodoStats, TodosApi};

use support::{code, describe, read, write};

/// Every wire type of the API, as named in `types.ts` and `components.schemas`.
const TYPES: &[&str] =
    &["NewTodo", "Priority", "Todo", "TodoError", "TodoEvent", "TodoFilter", "TodoId", "TodoPatch", "TodoStats"];

/// Decodes a JSON value with serde; `Err` says why it did not decode (as expected).
type Decode = Box<dyn Fn(&Value) -> Result<(), String>>;

/// A JSON value of a wire type that every view must accept.
struct Sample {
    ty: &'static str,
    json: Value,
    /// Decodes `json` with serde; `Err` when it does not decode (back to the value it came from).
    serde: Decode,
}

/// `value` as serde writes it; serde must read it back as `value`.
fn of<T>(ty: &'static str, value: T) -> Sample
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + 'static,
{
    let json = serde_json::to_value(&value).unwrap_or_else(|e| panic!("serialize {value:?}: {e}"));
    let serde = Box::new(move |json: &Value| match serde_json::from_value::<T>(json.clone()) {
        Ok(back) if back == value => Ok(()),
        Ok(back) => Err(format!("decoded as {back:?}, not {value:?}")),
        Err(e) => Err(e.to_string()),
    });
    Sample { ty, json, serde }
}

/// A domain error as its `error.data` (without `requestId`), which must come back as `error`
/// through `ProcedureError::from_rpc_error`.
fn error(error: TodoError) -> Sample {
    let rpc = error.clone().into_rpc_error();
    let mut data = rpc.data.clone().unwrap_or_else(|| panic!("{error:?} has no data"));
    data.as_object_mut().expect("error data is an object").remove("requestId");
    let serde = Box::new(move |json: &Value| {
        let back = TodoError::from_rpc_error(RpcError { data: Some(json.clone()), ..rpc.clone() });
        if back == error { Ok(()) } else { Err(format!("decoded as {back:?}, not {error:?}")) }
    });
    Sample { ty: "TodoError", json: data, serde }
}

/// JSON that serde does not write but a TypeScript client may send (optional fields left out):
/// every view must accept it too.
fn sent<T: DeserializeOwned + Debug>(ty: &'static str, json: Value) -> Sample {
    Sample { ty, json, serde: Box::new(|json: &Value| decode::<T>(json).map(drop)) }
}

fn decode<T: DeserializeOwned + Debug>(json: &Value) -> Result<T, String> {
    serde_json::from_value(json.clone()).map_err(|e| e.to_string())
}

fn decode_error(json: &Value) -> Result<TodoError, String> {
    let rpc = RpcError { code: 1000, message: "m".into(), data: Some(json.clone()) };
    match TodoError::from_rpc_error(rpc) {
        TodoError::Rpc(_) => Err("not a domain error".into()),
        domain => Ok(domain),
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
        error(TodoError::NotFound { id: 7 }),
        error(TodoError::TitleTaken { title: "buy milk".into() }),
        error(TodoError::InvalidTitle { length: 0 }),
        error(TodoError::InvalidTitle { length: 201 }),
    ]
}

/// A JSON value that serde and the schema must reject; TypeScript too when `ts` is set (some
/// wrong values, like an integer past 2^53, are plain `number`s to TypeScript).
struct Wrong {
    ty: &'static str,
    json: Value,
    why: &'static str,
    serde: fn(&Value) -> Result<(), String>,
    ts: bool,
}

fn wrong<T: DeserializeOwned + Debug>(ty: &'static str, why: &'static str, ts: bool, json: Value) -> Wrong {
    Wrong { ty, json, why, serde: |json| decode::<T>(json).map(drop), ts }
}

fn wrong_values() -> Vec<Wrong> {
    let todo = json!({"id": 1, "title": "t", "done": false, "priority": "low", "tags": [], "createdAtMs": 0});
    let with = |key: &str, value: Value| {
        let mut todo = todo.clone();
        todo[key] = value;
        todo
    };
    let without = |key: &str| {
        let mut todo = todo.clone();
        todo.as_object_mut().expect("an object").remove(key);
        todo
    };
    let wrong_error =
        |why, ts, json| Wrong { ty: "TodoError", json, why, serde: |json| decode_error(json).map(drop), ts };
    vec![
        wrong::<Todo>("Todo", "createdAtMs = 2^53", false, with("createdAtMs", json!(9_007_199_254_740_992_i64))),
        wrong::<Todo>("Todo", "createdAtMs = -2^53", false, with("createdAtMs", json!(-9_007_199_254_740_992_i64))),
        wrong::<Todo>("Todo", "no title", true, without("title")),
        wrong::<Todo>("Todo", "no createdAtMs", true, without("createdAtMs")),
        wrong::<Todo>("Todo", "a string id", true, with("id", json!("1"))),
        wrong::<Todo>("Todo", "a negative id", false, with("id", json!(-1))),
        wrong::<Todo>("Todo", "a fractional id", false, with("id", json!(1.5))),
        wrong::<Todo>("Todo", "an unknown priority", true, with("priority", json!("urgent"))),
        wrong::<TodoId>("TodoId", "a string id", true, json!({"id": "1"})),
        wrong::<TodoId>("TodoId", "id = 2^32", false, json!({"id": 4_294_967_296_u64})),
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
fn validators() -> BTreeMap<&'static str, jsonschema::Validator> {
    let openrpc: Value =
        serde_json::from_str(&read(&emitted_dir().join("openrpc.json"))).expect("openrpc.json is JSON");
    let components = &openrpc["components"];
    TYPES
        .iter()
        .map(|&ty| {
            assert!(components["schemas"][ty].is_object(), "openrpc.json has no components.schemas.{ty}");
            let schema = json!({"$ref": format!("#/components/schemas/{ty}"), "components": components});
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .build(&schema)
                .unwrap_or_else(|e| panic!("the schema of {ty} does not compile: {e}"));
            (ty, validator)
        })
        .collect()
}

/// The emitted files are what the current Rust types generate (else this test compares stale
/// files and its failures would mislead).
#[test]
fn emitted_bindings_are_current() {
    let bindings = accord_bindings::generate(&[TodosApi::description()]).expect("generate the bindings");
    let report = bindings.check(emitted_dir()).expect("read the emitted bindings");
    assert!(
        report.is_clean(),
        "{report}the emitted bindings are stale: cargo run -p todos-api --bin bindings -- generate"
    );
}

#[test]
fn samples_cover_every_wire_type() {
    let samples = samples();
    for ty in TYPES {
        assert!(samples.iter().any(|s| s.ty == *ty), "no sample of {ty}");
        assert!(wrong_values().iter().any(|w| w.ty == *ty), "no wrong value of {ty}");
    }
}

#[test]
fn serde_and_the_schema_accept_every_sample() {
    let validators = validators();
    let mut failures = Vec::new();
    for sample in samples() {
        if let Err(e) = (sample.serde)(&sample.json) {
            failures.push(format!("serde: {} {}: {e}", sample.ty, sample.json));
        }
        for error in validators[sample.ty].iter_errors(&sample.json) {
            failures.push(format!("schema: {} {}: {error} at {}", sample.ty, sample.json, error.instance_path()));
        }
    }
    assert!(failures.is_empty(), "views disagree:\n{}", failures.join("\n"));
}

#[test]
fn serde_and_the_schema_reject_every_wrong_value() {
    let validators = validators();
    let mut failures = Vec::new();
    for wrong in wrong_values() {
        if (wrong.serde)(&wrong.json).is_ok() {
            failures.push(format!("serde accepts {} with {}: {}", wrong.ty, wrong.why, wrong.json));
        }
        if validators[wrong.ty].is_valid(&wrong.json) {
            failures.push(format!("the schema accepts {} with {}: {}", wrong.ty, wrong.why, wrong.json));
        }
    }
    assert!(failures.is_empty(), "views disagree:\n{}", failures.join("\n"));
}

#[test]
fn typescript_accepts_every_sample_and_rejects_wrong_values() {
    let Some(tsc) = support::tsc("agreement test", false) else { return };
    let tmp = tempfile::Builder::new().prefix("accord-agreement-").tempdir().expect("create a temp dir");
    let dir = tmp.path();
    support::copy_dir(&emitted_dir(), &dir.join("api"));
    write(&dir.join("package.json"), "{ \"type\": \"module\" }\n");
    write(
        &dir.join("tsconfig.json"),
        serde_json::to_string_pretty(&json!({
            "compilerOptions": {
                "target": "ES2022", "lib": ["ES2022"], "types": [],
                "module": "NodeNext", "moduleResolution": "NodeNext", "noEmit": true,
                "strict": true, "exactOptionalPropertyTypes": true, "noUncheckedIndexedAccess": true,
                "verbatimModuleSyntax": true, "skipLibCheck": false,
            },
            "files": ["samples.ts"],
        }))
        .expect("serialize tsconfig"),
    );
    let source = samples_ts();
    write(&dir.join("samples.ts"), &source);

    let output = tsc.run(dir, &["--pretty", "false", "-p", "tsconfig.json"]);
    if code(&output) != 0 {
        // Show the sample lines tsc complains about next to its messages.
        let lines: Vec<&str> = source.lines().collect();
        let cited: Vec<String> = support::text(&output)
            .lines()
            .filter_map(|l| l.strip_prefix("samples.ts(")?.split(',').next()?.parse::<usize>().ok())
            .filter_map(|n| {
                let line = lines.get(n - 1)?;
                // An unused `@ts-expect-error` is reported on the comment: show the value below it.
                let next = lines.get(n).filter(|_| line.starts_with("// @ts-expect-error"));
                Some(format!("line {n}: {line}{}", next.map(|l| format!("\n          {l}")).unwrap_or_default()))
            })
            .collect();
        panic!("TypeScript disagrees with serde:\n{}\n--- cited lines\n{}", describe(&output), cited.join("\n"));
    }
}

/// One `const` per sample (which must type-check) and per wrong value TypeScript can reject (each
/// under `@ts-expect-error`, so tsc fails if one stops being an error).
fn samples_ts() -> String {
    let mut out = String::from(
        "// Written by examples/todos/api/tests/agreement.rs: what serde writes must type-check.\n\
         import type { NewTodo, Priority, Todo, TodoError, TodoEvent, TodoFilter, TodoId, TodoPatch, TodoStats } from \"./api/index.js\";\n\n",
    );
    for (i, sample) in samples().iter().enumerate() {
        out.push_str(&format!("export const sample_{i}: {} = {};\n", sample.ty, sample.json));
    }
    out.push('\n');
    for (i, wrong) in wrong_values().iter().filter(|w| w.ts).enumerate() {
        out.push_str(&format!("// @ts-expect-error {}\n", wrong.why));
        out.push_str(&format!("export const wrong_{i}: {} = {};\n", wrong.ty, wrong.json));
    }
    // Controls on the TypeScript side only: a literal with a field the type lacks, a missing `type`.
    out.push_str("// @ts-expect-error a field NewTodo does not have\n");
    out.push_str("export const extra: NewTodo = { title: \"t\", summary: \"s\" };\n");
    out.push_str("// @ts-expect-error an event without its tag\n");
    out.push_str("export const untagged: TodoEvent = { id: 1 };\n");
    out
}
