//! The labelled corpus (`tests/corpus/*.json`): every edit is classified as labelled, for
//! params and for results (types) or backward and forward (procedures). Data-driven: a new
//! case is a few lines of JSON. Failures are collected, so one run shows every wrong label.

use accord_bindings::diff::{Class, DiffOptions, DiffReport, Direction, Position, diff_documents};
use serde_json::{Map, Value, json};

fn corpus(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("the corpus is not JSON: {error}"))
}

fn class(name: &str) -> Option<Class> {
    match name {
        "none" => None,
        "trivial" => Some(Class::Trivial),
        "safe" => Some(Class::Safe),
        "warning" => Some(Class::Warning),
        "breaking" => Some(Class::Breaking),
        other => panic!("unknown class `{other}` in the corpus"),
    }
}

fn show(class: Option<Class>) -> &'static str {
    class.map_or("none", Class::as_str)
}

fn report(old: &Value, new: &Value, direction: Direction) -> DiffReport {
    diff_documents(old, new, &DiffOptions::default().direction(direction))
        .unwrap_or_else(|error| panic!("the corpus documents do not compare: {error}"))
}

/// The most severe class among the changes reaching `procedure` at `position`, and their paths.
fn worst(report: &DiffReport, procedure: &str, position: Position) -> (Option<Class>, Vec<String>) {
    let reaching: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.reaches.iter().any(|r| r.procedure == procedure && r.position == position))
        .collect();
    let worst = reaching.iter().map(|c| c.class).max();
    let paths = reaching.iter().filter(|c| Some(c.class) == worst).map(|c| c.path.clone()).collect();
    (worst, paths)
}

fn listing(report: &DiffReport) -> String {
    report.changes.iter().map(|c| format!("    {} {} [{}] at {}\n", c.class, c.message, c.rule, c.path)).collect()
}

/// Two documents where `T` is the input of `t.send` and the result of `t.get`.
fn type_document(schema: &Value, definitions: &Map<String, Value>) -> Value {
    let mut schemas = definitions.clone();
    schemas.insert("T".into(), schema.clone());
    let reference = json!({ "$ref": "#/components/schemas/T" });
    json!({
        "openrpc": "1.3.2",
        "info": { "title": "corpus", "version": "0" },
        "methods": [
            { "name": "t.get", "params": [], "result": { "name": "result", "schema": reference }, "x-accord-kind": "query" },
            { "name": "t.send", "params": [], "x-accord-input": reference,
              "result": { "name": "result", "schema": { "type": "null" } }, "x-accord-kind": "mutation" },
        ],
        "components": { "schemas": schemas },
    })
}

fn definitions(case: &Value, key: &str) -> Map<String, Value> {
    let mut out = case.get("definitions").and_then(Value::as_object).cloned().unwrap_or_default();
    out.extend(case.get(key).and_then(Value::as_object).cloned().unwrap_or_default());
    out
}

#[test]
fn every_labelled_type_edit_is_classified_as_labelled() {
    let corpus = corpus(include_str!("../corpus/types.json"));
    let cases = corpus["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40, "the corpus should hold at least 40 edits, it holds {}", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let old = type_document(&case["before"], &definitions(case, "definitions_before"));
        let new = type_document(&case["after"], &definitions(case, "definitions_after"));
        let backward = report(&old, &new, Direction::Backward);
        let forward = report(&old, &new, Direction::Forward);
        for (position, label, procedure) in
            [(Position::Params, "params", "t.send"), (Position::Result, "results", "t.get")]
        {
            let expected_path = case.get(format!("{label}_path")).or_else(|| case.get("path")).and_then(Value::as_str);
            let expected = class(case[label].as_str().expect("a class"));
            let (got, paths) = worst(&backward, procedure, position);
            if got != expected {
                failures.push(format!(
                    "{name}: {label} should be {}, got {}\n{}",
                    show(expected),
                    show(got),
                    listing(&backward)
                ));
            } else if let Some(path) = expected_path
                && got.is_some()
                && !paths.iter().any(|p| p == path)
            {
                failures
                    .push(format!("{name}: {label}: the {} change should be at `{path}`, not {paths:?}", show(got)));
            }
            // New clients and the old server: params are read by the old server, so they take
            // the rules of results, and results those of params.
            let mirrored = if position == Position::Params { "results" } else { "params" };
            let (forward_class, _) = worst(&forward, procedure, position);
            let expected_forward = class(case[mirrored].as_str().expect("a class"));
            if forward_class != expected_forward {
                failures.push(format!(
                    "{name}: forward {label} should be {} (as backward {mirrored}), got {}\n{}",
                    show(expected_forward),
                    show(forward_class),
                    listing(&forward)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases disagree:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

fn procedure_document(base: &Value, edit: &Value, definitions: &Value) -> Value {
    let mut methods = Vec::new();
    if let Some(edit) = edit.as_object() {
        let mut method = base.as_object().cloned().unwrap_or_default();
        method.extend(edit.clone());
        method.insert("name".into(), "p.call".into());
        methods.push(Value::Object(method));
    }
    json!({
        "openrpc": "1.3.2",
        "info": { "title": "corpus", "version": "0" },
        "methods": methods,
        "components": { "schemas": definitions },
    })
}

#[test]
fn every_labelled_procedure_edit_is_classified_as_labelled() {
    let corpus = corpus(include_str!("../corpus/procedures.json"));
    let cases = corpus["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let old = procedure_document(&corpus["base"], &case["before"], &corpus["definitions"]);
        let new = procedure_document(&corpus["base"], &case["after"], &corpus["definitions"]);
        for (direction, label) in [(Direction::Backward, "backward"), (Direction::Forward, "forward")] {
            let report = report(&old, &new, direction);
            let expected = class(case[label].as_str().expect("a class"));
            let got = report.changes.iter().map(|c| c.class).max();
            if got != expected {
                failures.push(format!(
                    "{name}: {label} should be {}, got {}\n{}",
                    show(expected),
                    show(got),
                    listing(&report)
                ));
                continue;
            }
            // Rules name the edit, so they are the same in both directions.
            if let Some(rule) = case.get("rule").and_then(Value::as_str)
                && got.is_some()
                && !report.changes.iter().any(|c| Some(c.class) == got && c.rule == rule)
            {
                failures.push(format!(
                    "{name}: {label}: no {} change has the rule `{rule}`\n{}",
                    show(got),
                    listing(&report)
                ));
            }
            if report.is_breaking() != (expected == Some(Class::Breaking)) {
                failures.push(format!("{name}: {label}: is_breaking() disagrees with the class"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases disagree:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
