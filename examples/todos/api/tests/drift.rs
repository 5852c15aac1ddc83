//! The tRPC-style guarantee, proven end to end on a copy of the todos example (the repository is
//! never modified): renaming a field of a Rust wire type makes the bindings `check` fail, and once
//! the bindings are regenerated the TypeScript frontend stops compiling at the call site.
//!
//! The copy is a throwaway cargo workspace in a temp dir, built with its own persistent target
//! dir (`target/drift`) so reruns are fast and the main build is not blocked. Needs `node` and
//! the repository's `node_modules`; skips without them unless `ACCORD_REQUIRE_TSC` is set.

mod support;

use std::time::Instant;

use support::example::Example;
use support::{code, describe, read, text, write};

#[test]
fn renaming_a_rust_field_fails_the_check_then_the_frontend_build() {
    let Some(tsc) = support::tsc("drift test", true) else { return };
    let started = Instant::now();
    let repo = support::repo_root();
    let tmp = tempfile::Builder::new().prefix("accord-drift-").tempdir().expect("create a temp dir");
    let example = Example::new(&repo, tmp.path());

    // 1. The untouched copy is consistent: bindings up to date, frontend compiles.
    let check = example.bindings(&["check"]);
    assert_eq!(code(&check), 0, "the copied bindings should be up to date\n{}", describe(&check));
    let ts = example.tsc(&tsc);
    assert_eq!(code(&ts), 0, "the copied frontend should type-check\n{}", describe(&ts));

    // 2. Rename `NewTodo.title` to `summary` in the copy's Rust source.
    rename_new_todo_title(&example);

    // 3. The bindings are now stale: `check` exits 4 with the diff of `types.ts`.
    let check = example.bindings(&["check"]);
    assert_eq!(code(&check), 4, "check should report stale bindings\n{}", describe(&check));
    let report = text(&check);
    assert!(report.contains("stale: types.ts"), "check should name types.ts\n{}", describe(&check));
    assert!(
        report.lines().any(|l| l.starts_with('+') && l.contains("summary: string")),
        "the types.ts diff should add `summary`\n{}",
        describe(&check)
    );

    // 4. Regenerate: `check` passes again, and the frontend no longer compiles at `create`.
    let generate = example.bindings(&["generate"]);
    assert_eq!(code(&generate), 0, "generate failed\n{}", describe(&generate));
    let check = example.bindings(&["check"]);
    assert_eq!(code(&check), 0, "check should pass after generate\n{}", describe(&check));
    let types = read(&example.root.join("web/src/api/types.ts"));
    assert!(types.contains("summary: string"), "regenerated types.ts lacks `summary`:\n{types}");

    let ts = example.tsc(&tsc);
    assert_ne!(code(&ts), 0, "the frontend should stop compiling once NewTodo.title is gone\n{}", describe(&ts));
    let create_line = create_call_line(&example);
    let errors = text(&ts);
    let at_create = errors.lines().find(|l| {
        l.contains(&format!("src/App.tsx({create_line},")) && (l.contains("'title'") || l.contains("summary"))
    });
    assert!(
        at_create.is_some(),
        "tsc should report the `create` call in src/App.tsx (line {create_line}) and the renamed field\n{}",
        describe(&ts)
    );
    eprintln!("drift test: {} in {:.1?}", at_create.unwrap_or_default(), started.elapsed());
}

/// Renames the field `title` of `NewTodo` (and only that one) to `summary`.
fn rename_new_todo_title(example: &Example) {
    let lib = example.root.join("api/src/lib.rs");
    let source = read(&lib);
    let start = source.find("pub struct NewTodo {").expect("lib.rs defines `pub struct NewTodo {`");
    let end = start + source[start..].find("\n}\n").expect("NewTodo's closing brace");
    let body = &source[start..end];
    let field = "    pub title: String,\n";
    assert_eq!(body.matches(field).count(), 1, "NewTodo should have exactly one `title` field:\n{body}");
    let renamed =
        format!("{}{}{}", &source[..start], body.replace(field, "    pub summary: String,\n"), &source[end..]);
    assert_eq!(renamed.matches("pub summary: String,").count(), 1);
    assert_eq!(renamed.matches("pub title: String,").count(), source.matches("pub title: String,").count() - 1);
    write(&lib, renamed);
}

/// The 1-based line of `create.mutate({` in the copied frontend.
fn create_call_line(example: &Example) -> usize {
    let app = read(&example.root.join("web/src/App.tsx"));
    let lines: Vec<usize> =
        app.lines().enumerate().filter(|(_, l)| l.contains("create.mutate({")).map(|(i, _)| i + 1).collect();
    assert_eq!(lines.len(), 1, "App.tsx should call `create.mutate({{ ... }})` exactly once");
    lines[0]
}
