//! Will deployed clients still work? Proven end to end on a copy of the todos example (the
//! repository is never modified): each test edits the copy's Rust source for real, as a team
//! would, and runs its `bindings diff` against the repository's `openrpc.json` (the "deployed"
//! contract). Edits that `tsc` gets wrong (it compiles today's frontend against tomorrow's types)
//! are among them: an optional input made required, `u32` → `f64` in a result, an input field or
//! an error variant removed, a type renamed with the same shape.
//!
//! Builds share `target/drift` with the drift test. No `node` needed.

mod support;

use std::path::Path;

use support::example::Example;
use support::{code, copy, describe, read, text, write};

/// One real edit of `api/src/lib.rs` and what `diff` must say about it.
struct Edit {
    name: &'static str,
    /// `(from, to)` replacements, each `from` occurring once.
    replace: &'static [(&'static str, &'static str)],
    /// Extra arguments after `diff --against <baseline>`.
    args: &'static [&'static str],
    exit: i32,
    /// Lines (or parts of lines) the report must contain.
    says: &'static [&'static str],
}

const EDITS: &[Edit] = &[
    Edit {
        name: "an optional input field made required",
        replace: &[("    #[serde(default)]\n    pub tag: Option<String>,", "    pub tag: String,")],
        args: &[],
        exit: 100,
        says: &["breaking  `TodoFilter.tag` is now required", "breaks `todos.list` (params)"],
    },
    Edit {
        name: "an input field removed",
        replace: &[("    #[serde(default)]\n    pub tags: Vec<String>,\n", "")],
        args: &[],
        exit: 0,
        says: &["safe      `NewTodo.tags` removed (the server ignores it when sent)", "in `todos.create` (params)"],
    },
    Edit {
        name: "u32 to f64 in a result",
        replace: &[(
            "    /// Unique, assigned by the server.\n    pub id: u32,",
            "    /// Unique, assigned by the server.\n    pub id: f64,",
        )],
        args: &[],
        exit: 100,
        says: &[
            "breaking  `Todo.id` changed from integer to number",
            "breaks `todos.changes` (item), `todos.create` (result), `todos.delete` (result), `todos.get` (result), `todos.list` (result), `todos.update` (result)",
        ],
    },
    Edit {
        name: "an error variant removed",
        replace: &[(
            "    /// The title is empty or longer than 200 characters.\n    #[error(\"a title has 1 to 200 characters, this one has {length}\")]\n    InvalidTitle { length: u32 },\n",
            "",
        )],
        args: &[],
        exit: 0,
        says: &["safe      `TodoError`: error `INVALID_TITLE` no longer returned"],
    },
    Edit {
        name: "a type renamed with the same shape",
        replace: &[
            ("pub struct TodoStats {", "pub struct Stats {"),
            ("Result<TodoStats, TodoError>", "Result<Stats, TodoError>"),
        ],
        args: &[],
        exit: 0,
        says: &["trivial   type `TodoStats` renamed to `Stats`", "0 breaking, 0 warning, 0 safe, 1 trivial"],
    },
    Edit {
        name: "an enum value added (read in results)",
        replace: &[("    High,\n}", "    High,\n    Urgent,\n}")],
        args: &[],
        exit: 100,
        says: &["breaking  `Priority`: value `urgent` added", "breaks `todos.changes` (item)", "`todos.get` (result)"],
    },
    Edit {
        name: "an enum value added, listed in the allowlist",
        replace: &[("    High,\n}", "    High,\n    Urgent,\n}")],
        args: &["--allow", "ALLOWLIST"],
        exit: 0,
        says: &["allowed: every client shipped since 1.4 shows unknown priorities as normal"],
    },
    Edit {
        name: "a procedure now needs authentication",
        replace: &[("    #[mutation]\n    async fn delete", "    #[mutation(authenticated)]\n    async fn delete")],
        args: &["--format", "json"],
        exit: 100,
        says: &["\"rule\": \"authentication-added\"", "\"path\": \"todos.delete\""],
    },
    Edit {
        name: "a procedure added, then deployed clients first (--forward)",
        replace: &[(
            "    /// Every change from now on, as it happens.",
            "    /// Archive a todo.\n    #[mutation]\n    async fn archive(&self, cx: &Cx, input: TodoId) -> Result<Todo, TodoError>;\n\n    /// Every change from now on, as it happens.",
        )],
        args: &["--forward"],
        exit: 100,
        says: &["breaking  `todos.archive` added: the baseline's server does not have it"],
    },
];

#[test]
fn real_edits_of_the_todos_api_are_classified_for_deployed_clients() {
    let repo = support::repo_root();
    let tmp = tempfile::Builder::new().prefix("accord-contract-").tempdir().expect("create a temp dir");
    let example = Example::new(&repo, tmp.path());
    let baseline = tmp.path().join("baseline.openrpc.json");
    copy(&repo.join("examples/todos/web/src/api/openrpc.json"), &baseline);
    let allowlist = tmp.path().join("allowlist.toml");
    write(
        &allowlist,
        "[[allow]]\npath = \"Priority\"\nrule = \"enum-value-added\"\n\
         reason = \"every client shipped since 1.4 shows unknown priorities as normal\"\n",
    );
    let original = read(&example.lib());

    // The untouched copy: nothing changed.
    let against = baseline.to_string_lossy().into_owned();
    let unchanged = example.bindings(&["diff", "--against", &against]);
    assert_eq!(code(&unchanged), 0, "{}", describe(&unchanged));
    assert!(text(&unchanged).contains("no changes"), "{}", describe(&unchanged));

    let mut failures = Vec::new();
    for edit in EDITS {
        write(&example.lib(), &original);
        for (from, to) in edit.replace {
            example.edit(from, to);
        }
        let mut args = vec!["diff".to_owned(), "--against".to_owned(), against.clone()];
        let file = |arg: &&str| if *arg == "ALLOWLIST" { path(&allowlist) } else { (*arg).to_owned() };
        args.extend(edit.args.iter().map(file));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = example.bindings(&args);
        let report = String::from_utf8_lossy(&output.stdout).into_owned();
        if code(&output) != edit.exit {
            failures.push(format!(
                "{}: exit {} (expected {})\n{}",
                edit.name,
                code(&output),
                edit.exit,
                describe(&output)
            ));
            continue;
        }
        for line in edit.says {
            if !report.contains(line) {
                failures.push(format!("{}: the report lacks {line:?}\n{report}", edit.name));
            }
        }
    }
    write(&example.lib(), &original);
    assert!(failures.is_empty(), "{} of {} edits disagree:\n{}", failures.len(), EDITS.len(), failures.join("\n"));
}

fn path(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
