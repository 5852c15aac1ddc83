//! The machinery of an API crate's agreement test (DESIGN.md §4), the same for every API: sample
//! and wrong JSON values of its wire types, JSON Schema validators built from its emitted
//! `openrpc.json`, and the checks that serde, the schema and TypeScript accept every sample and
//! reject every wrong value. Each crate's `tests/agreement.rs` brings its wire types, its values,
//! its TypeScript-only controls, and how its serde view reads a value ([`SerdeView`]).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::Path;

use accord::{ProcedureError, RpcError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{code, describe, read, text, write};

/// `2^53`, one past the largest integer an `I53` (and a JavaScript `number`) holds exactly.
pub const TWO_POW_53: i64 = 9_007_199_254_740_992;
/// `2^32`, one past the largest `u32`.
pub const TWO_POW_32: u64 = 4_294_967_296;

/// How the serde view reads a wire type, as the server would; each agreement test implements it
/// once for every type (serde alone, or serde then the type's `accord::Validate` rules).
pub trait SerdeView: Sized {
    /// The value `json` reads as; `Err` says why it does not read.
    fn decode(json: &Value) -> Result<Self, String>;
}

/// `json` read with serde alone; `Err` says why it does not decode.
pub fn from_json<T: DeserializeOwned>(json: &Value) -> Result<T, String> {
    serde_json::from_value(json.clone()).map_err(|e| e.to_string())
}

/// Reads a JSON value with the serde view; `Err` says why it did not read (as expected).
pub type Decode = Box<dyn Fn(&Value) -> Result<(), String>>;

/// A JSON value of a wire type that every view must accept.
pub struct Sample {
    pub ty: &'static str,
    pub json: Value,
    /// Reads `json` with the serde view; `Err` when it does not read (back to the value it came
    /// from).
    pub serde: Decode,
}

/// `value` as serde writes it; the serde view must read it back as `value`.
pub fn of<T>(ty: &'static str, value: T) -> Sample
where
    T: Serialize + SerdeView + PartialEq + Debug + 'static,
{
    let json = serde_json::to_value(&value).unwrap_or_else(|e| panic!("serialize {value:?}: {e}"));
    let serde = Box::new(move |json: &Value| match T::decode(json) {
        Ok(back) if back == value => Ok(()),
        Ok(back) => Err(format!("decoded as {back:?}, not {value:?}")),
        Err(e) => Err(e),
    });
    Sample { ty, json, serde }
}

/// A domain error as its `error.data` (without `requestId`), which must come back as `error`
/// through `ProcedureError::from_rpc_error`.
pub fn error<E>(ty: &'static str, error: E) -> Sample
where
    E: ProcedureError + Clone + PartialEq + Debug,
{
    let rpc = error.clone().into_rpc_error();
    let mut data = rpc.data.clone().unwrap_or_else(|| panic!("{error:?} has no data"));
    data.as_object_mut().expect("error data is an object").remove("requestId");
    let serde = Box::new(move |json: &Value| {
        let back = E::from_rpc_error(RpcError { data: Some(json.clone()), ..rpc.clone() });
        if back == error { Ok(()) } else { Err(format!("decoded as {back:?}, not {error:?}")) }
    });
    Sample { ty, json: data, serde }
}

/// JSON that serde does not write but a TypeScript client may send (optional fields left out,
/// `null` for `None`): every view must accept it too.
pub fn sent<T: SerdeView + 'static>(ty: &'static str, json: Value) -> Sample {
    Sample { ty, json, serde: Box::new(|json: &Value| T::decode(json).map(drop)) }
}

/// A JSON value that the serde view and the schema must reject; TypeScript too when `ts` is set
/// (some wrong values, like an integer past 2^53 or a string too short, are plain `number`s and
/// `string`s to TypeScript).
pub struct Wrong {
    pub ty: &'static str,
    pub json: Value,
    pub why: &'static str,
    pub serde: fn(&Value) -> Result<(), String>,
    pub ts: bool,
}

/// `json`, which the serde view must not read as a `T`.
pub fn wrong<T: SerdeView>(ty: &'static str, why: &'static str, ts: bool, json: Value) -> Wrong {
    Wrong { ty, json, why, serde: |json| T::decode(json).map(drop), ts }
}

/// `json` as an `error.data`, which `E::from_rpc_error` must not read as one of `E`'s domain
/// errors.
pub fn wrong_error<E: ProcedureError>(ty: &'static str, why: &'static str, ts: bool, json: Value) -> Wrong {
    Wrong { ty, json, why, serde: |json| decode_error::<E>(json).map(drop), ts }
}

fn decode_error<E: ProcedureError>(json: &Value) -> Result<E, String> {
    let rpc = RpcError { code: 1000, message: "m".into(), data: Some(json.clone()) };
    let error = E::from_rpc_error(rpc);
    if error.as_rpc_error().is_some() { Err("not a domain error".into()) } else { Ok(error) }
}

/// `json` with `key` set to `value`.
pub fn with(json: &Value, key: &str, value: Value) -> Value {
    let mut json = json.clone();
    json[key] = value;
    json
}

/// `json` without `key`.
pub fn without(json: &Value, key: &str) -> Value {
    let mut json = json.clone();
    json.as_object_mut().expect("an object").remove(key);
    json
}

/// The emitted files in `emitted` are what `apis` generate (else the agreement test compares
/// stale files and its failures would mislead).
/// `bin` is the crate's bindings binary, for the message.
pub fn assert_bindings_current(apis: &[accord::Description], emitted: &Path, bin: &str) {
    let bindings = accord_bindings::generate(apis).expect("generate the bindings");
    let report = bindings.check(emitted).expect("read the emitted bindings");
    assert!(
        report.is_clean(),
        "{report}the emitted bindings are stale: cargo run -p {} --bin {bin} -- generate",
        env!("CARGO_PKG_NAME")
    );
}

/// Every type in `types` has a sample and a wrong value.
pub fn assert_covered(types: &[&str], samples: &[Sample], wrongs: &[Wrong]) {
    for ty in types {
        assert!(samples.iter().any(|s| s.ty == *ty), "no sample of {ty}");
        assert!(wrongs.iter().any(|w| w.ty == *ty), "no wrong value of {ty}");
    }
}

/// A JSON Schema validator per wire type.
pub type Validators = BTreeMap<&'static str, jsonschema::Validator>;

/// The `openrpc.json` emitted in `emitted`.
pub fn openrpc(emitted: &Path) -> Value {
    serde_json::from_str(&read(&emitted.join("openrpc.json"))).expect("openrpc.json is JSON")
}

/// Validators for each of `types` against its schema in `openrpc`, draft 7.
pub fn validators(openrpc: &Value, types: &[&'static str]) -> Validators {
    let components = &openrpc["components"];
    types
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

/// The serde view and the schema accept every sample.
pub fn assert_accepted(validators: &Validators, samples: &[Sample]) {
    let mut failures = Vec::new();
    for sample in samples {
        if let Err(e) = (sample.serde)(&sample.json) {
            failures.push(format!("serde: {} {}: {e}", sample.ty, sample.json));
        }
        for error in validators[sample.ty].iter_errors(&sample.json) {
            failures.push(format!("schema: {} {}: {error} at {}", sample.ty, sample.json, error.instance_path()));
        }
    }
    assert!(failures.is_empty(), "views disagree:\n{}", failures.join("\n"));
}

/// The serde view and the schema reject every wrong value.
pub fn assert_rejected(validators: &Validators, wrongs: &[Wrong]) {
    let mut failures = Vec::new();
    for wrong in wrongs {
        if (wrong.serde)(&wrong.json).is_ok() {
            failures.push(format!("serde accepts {} with {}: {}", wrong.ty, wrong.why, wrong.json));
        }
        if validators[wrong.ty].is_valid(&wrong.json) {
            failures.push(format!("the schema accepts {} with {}: {}", wrong.ty, wrong.why, wrong.json));
        }
    }
    assert!(failures.is_empty(), "views disagree:\n{}", failures.join("\n"));
}

/// `samples.ts`, written by the test file `by`: imports `types` from the emitted bindings, then
/// one `const` per sample (which must type-check) and per wrong value TypeScript can reject (each
/// under `@ts-expect-error`, so tsc fails if one stops being an error), then the `controls`:
/// wrong values on the TypeScript side only, as `(why, declaration)`.
pub fn samples_ts(by: &str, types: &[&str], samples: &[Sample], wrongs: &[Wrong], controls: &[(&str, &str)]) -> String {
    let mut out = format!(
        "// Written by {by}: what serde writes must type-check.\n\
         import type {{ {} }} from \"./api/index.js\";\n\n",
        types.join(", ")
    );
    for (i, sample) in samples.iter().enumerate() {
        out.push_str(&format!("export const sample_{i}: {} = {};\n", sample.ty, sample.json));
    }
    out.push('\n');
    for (i, wrong) in wrongs.iter().filter(|w| w.ts).enumerate() {
        out.push_str(&format!("// @ts-expect-error {}\n", wrong.why));
        out.push_str(&format!("export const wrong_{i}: {} = {};\n", wrong.ty, wrong.json));
    }
    for (why, declaration) in controls {
        out.push_str(&format!("// @ts-expect-error {why}\n{declaration}\n"));
    }
    out
}

/// tsc, strict, accepts `source` (see [`samples_ts`]) next to a copy of the bindings emitted in
/// `emitted`; on failure, the message shows the lines it cites. Skips without `node` or the
/// repository's `node_modules`, unless `ACCORD_REQUIRE_TSC` is set (see [`super::tsc`]).
pub fn assert_typescript_accepts(emitted: &Path, source: &str) {
    let Some(tsc) = super::tsc("agreement test", false) else { return };
    let tmp = tempfile::Builder::new().prefix("accord-agreement-").tempdir().expect("create a temp dir");
    let dir = tmp.path();
    super::copy_dir(emitted, &dir.join("api"));
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
    write(&dir.join("samples.ts"), source);

    let output = tsc.run(dir, &["--pretty", "false", "-p", "tsconfig.json"]);
    if code(&output) != 0 {
        panic!("TypeScript disagrees with serde:\n{}\n--- cited lines\n{}", describe(&output), cited(&output, source));
    }
}

/// The lines of `samples.ts` that tsc's messages cite, to show next to them.
fn cited(output: &std::process::Output, source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let cited: Vec<String> = text(output)
        .lines()
        .filter_map(|l| l.strip_prefix("samples.ts(")?.split(',').next()?.parse::<usize>().ok())
        .filter_map(|n| {
            let line = lines.get(n.checked_sub(1)?)?;
            // An unused `@ts-expect-error` is reported on the comment: show the value below it.
            let next = lines.get(n).filter(|_| line.starts_with("// @ts-expect-error"));
            Some(format!("line {n}: {line}{}", next.map(|l| format!("\n          {l}")).unwrap_or_default()))
        })
        .collect();
    cited.join("\n")
}
