//! `bindings diff` through the command line: the shelf API against its next version
//! (`api::shelf_v2`), with baselines from a directory, a file and a git revision.

use std::fs;
use std::process::Command;

use accord::{Api, Description};
use accord_bindings::exit;
use serde_json::Value;

use crate::api;
use crate::cli::run;

fn v1() -> Vec<Description> {
    vec![api::ShelfApi::description()]
}

fn v2() -> Vec<Description> {
    vec![api::shelf_v2::ShelfApi::description()]
}

/// A temp dir with v1's bindings in `api/`.
fn baseline() -> (tempfile::TempDir, std::path::PathBuf) {
    let temp = tempfile::tempdir().unwrap_or_else(|error| panic!("no temporary directory: {error}"));
    let dir = temp.path().join("api");
    let generated = run(&["generate"], &v1(), &dir);
    assert_eq!(generated.code, exit::OK, "{}", generated.stderr);
    (temp, dir)
}

#[test]
fn an_unchanged_api_exits_0() {
    let (_temp, dir) = baseline();
    let outcome = run(&["diff", "--against", &dir.to_string_lossy()], &v1(), &dir);
    assert_eq!(outcome.code, exit::OK, "{}{}", outcome.stdout, outcome.stderr);
    assert!(outcome.stdout.contains("no changes"), "{}", outcome.stdout);
}

#[test]
fn a_breaking_change_exits_100_and_says_where_it_hurts() {
    let (_temp, dir) = baseline();
    let outcome = run(&["diff", "--against", &dir.to_string_lossy()], &v2(), &dir);
    assert_eq!(outcome.code, exit::BREAKING, "{}{}", outcome.stdout, outcome.stderr);
    let out = &outcome.stdout;
    assert!(out.contains("breaking  `NewBook.isbn` added as required"), "{out}");
    assert!(out.contains("breaks `shelf.add` (params)"), "{out}");
    // `Book.pages` is optional: a warning, at every procedure that returns a `Book`.
    assert!(out.contains("warning   optional `Book.pages` removed"), "{out}");
    assert!(
        out.contains(
            "affects `shelf.add` (result), `shelf.added` (item), `shelf.allBooks` (result), `shelf.get` (result)"
        ),
        "every procedure reached, sorted: {out}"
    );
    assert!(out.contains("safe      `shelf.count` added"), "{out}");
    assert!(out.contains("trivial   `shelf.allBooks` is now deprecated"), "{out}");
    assert!(out.contains("1 breaking, 1 warning"), "{out}");

    // Forward: new clients, old server. The new procedure breaks them; the new required input
    // field does not (the old server ignores it).
    let forward = run(&["diff", "--forward", "--against", &dir.to_string_lossy()], &v2(), &dir);
    assert_eq!(forward.code, exit::BREAKING);
    assert!(forward.stdout.contains("breaking  `shelf.count` added"), "{}", forward.stdout);
    assert!(!forward.stdout.contains("breaking  `NewBook.isbn`"), "{}", forward.stdout);
}

#[test]
fn json_output_is_for_tools() {
    let (_temp, dir) = baseline();
    let file = dir.join("openrpc.json");
    let outcome = run(&["diff", "--format=json", "--against", &file.to_string_lossy()], &v2(), &dir);
    assert_eq!(outcome.code, exit::BREAKING, "{}", outcome.stderr);
    let report: Value = serde_json::from_str(&outcome.stdout).unwrap_or_else(|e| panic!("{e}: {}", outcome.stdout));
    assert_eq!(report["breaking"], true);
    assert_eq!(report["direction"], "backward");
    assert_eq!(report["summary"]["breaking"], 1);
    let change = &report["changes"][0];
    assert_eq!(change["class"], "breaking");
    assert_eq!(change["rule"], "required-property-added");
    assert_eq!(change["path"], "NewBook.isbn");
    assert_eq!(change["reaches"], serde_json::json!([{ "procedure": "shelf.add", "position": "params" }]));
    assert!(report["baseline"].as_str().is_some_and(|b| b.ends_with("openrpc.json")));
}

#[test]
fn the_allowlist_lets_a_deliberate_break_pass_and_reports_stale_entries() {
    let (temp, dir) = baseline();
    let allowlist = temp.path().join("allow.toml");
    fs::write(
        &allowlist,
        "[[allow]]\npath = \"NewBook.isbn\"\nrule = \"required-property-added\"\nreason = \"the app sends isbn since 2.0\"\n\n\
         [[allow]]\npath = \"Book.title\"\nreason = \"a rename that was reverted\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let args = ["diff", "--against", &dir.to_string_lossy(), "--allow", &allowlist.to_string_lossy()];
    let outcome = run(&args, &v2(), &dir);
    assert_eq!(outcome.code, exit::OK, "{}{}", outcome.stdout, outcome.stderr);
    assert!(outcome.stdout.contains("allowed: the app sends isbn since 2.0"), "{}", outcome.stdout);
    assert!(outcome.stdout.contains("1 breaking (1 allowed)"), "{}", outcome.stdout);
    assert!(
        outcome.stdout.contains("allowlist: the entry for `Book.title` matches no breaking change; remove it"),
        "{}",
        outcome.stdout
    );

    fs::write(&allowlist, "[[allow]]\npath = \"NewBook.isbn\"\nreason = \" \"\n").unwrap_or_else(|e| panic!("{e}"));
    let outcome = run(&args, &v2(), &dir);
    assert_eq!(outcome.code, exit::ERROR);
    assert!(outcome.stderr.contains("empty reason"), "{}", outcome.stderr);
}

#[test]
fn unreadable_baselines_exit_1_and_bad_usage_2() {
    let (temp, dir) = baseline();
    let missing = temp.path().join("nowhere.json");
    let outcome = run(&["diff", "--against", &missing.to_string_lossy()], &v1(), &dir);
    assert_eq!(outcome.code, exit::ERROR, "{}", outcome.stdout);
    assert!(outcome.stderr.contains("baseline"), "{}", outcome.stderr);

    let not_openrpc = temp.path().join("other.json");
    fs::write(&not_openrpc, "{\"methods\": 3}").unwrap_or_else(|e| panic!("{e}"));
    let outcome = run(&["diff", "--against", &not_openrpc.to_string_lossy()], &v1(), &dir);
    assert_eq!(outcome.code, exit::ERROR);
    assert!(outcome.stderr.contains("not a usable OpenRPC document"), "{}", outcome.stderr);

    assert_eq!(run(&["diff"], &v1(), &dir).code, exit::USAGE);
    assert_eq!(run(&["diff", "--against", "x", "--format", "xml"], &v1(), &dir).code, exit::USAGE);
}

#[test]
fn a_git_revision_is_a_baseline() {
    let (temp, dir) = baseline();
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(temp.path())
            .output()
            .unwrap_or_else(|e| panic!("git: {e}"));
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "api"]);
    git(&["commit", "-qm", "v1"]);
    // The working copy moves on to v2; the committed baseline stays v1.
    assert_eq!(run(&["generate"], &v2(), &dir).code, exit::OK);

    let outcome = run(&["diff", "--against", "HEAD"], &v2(), &dir);
    assert_eq!(outcome.code, exit::BREAKING, "{}{}", outcome.stdout, outcome.stderr);
    assert!(outcome.stdout.contains("baseline: git HEAD:api/openrpc.json"), "{}", outcome.stdout);

    let outcome = run(&["diff", "--against", "no-such-branch"], &v2(), &dir);
    assert_eq!(outcome.code, exit::ERROR);
    assert!(outcome.stderr.contains("git show no-such-branch:api/openrpc.json"), "{}", outcome.stderr);
}

#[test]
fn deprecation_reaches_openrpc_and_typescript() {
    let bindings = accord_bindings::generate(&v2()).unwrap_or_else(|e| panic!("{e}"));
    let openrpc: Value = serde_json::from_str(bindings.get("openrpc.json").unwrap_or_default()).unwrap_or_default();
    let methods = openrpc["methods"].as_array().cloned().unwrap_or_default();
    let all_books = methods.iter().find(|m| m["name"] == "shelf.allBooks").cloned().unwrap_or_default();
    assert_eq!(all_books["deprecated"], true);
    assert!(methods.iter().filter(|m| m["name"] != "shelf.allBooks").all(|m| m.get("deprecated").is_none()));
    let added_ms = &openrpc["components"]["schemas"]["Book"]["properties"]["addedMs"];
    assert_eq!(added_ms["deprecated"], true, "{added_ms}");
    assert_eq!(added_ms["description"], "When it was added.", "the tag stays out of the schema: {added_ms}");

    let add = methods.iter().find(|m| m["name"] == "shelf.add").cloned().unwrap_or_default();
    let params = add["params"].as_array().cloned().unwrap_or_default();
    let pages = params.iter().find(|p| p["name"] == "pages").cloned().unwrap_or_default();
    assert_eq!(pages["deprecated"], true, "a deprecated input field is a deprecated param: {add}");
    assert!(params.iter().filter(|p| p["name"] != "pages").all(|p| p.get("deprecated").is_none()), "{add}");

    let procedures = bindings.get("procedures.ts").unwrap_or_default();
    assert!(procedures.contains("    /** @deprecated */\n    allBooks:"), "{procedures}");
    let types = bindings.get("types.ts").unwrap_or_default();
    assert!(
        types.contains("When it was added.\n *\n * @deprecated use the audit log\n */\naddedMs: number"),
        "{types}"
    );
}
