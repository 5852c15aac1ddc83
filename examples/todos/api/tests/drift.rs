//! The tRPC-style guarantee, proven end to end on a copy of the todos example (the repository is
//! never modified): renaming a field of a Rust wire type makes the bindings `check` fail, and once
//! the bindings are regenerated the TypeScript frontend stops compiling at the call site.
//!
//! The copy is a throwaway cargo workspace in a temp dir, built with its own persistent target
//! dir (`target/drift`) so reruns are fast and the main build is not blocked. Needs `node` and
//! the repository's `node_modules`; skips without them unless `ACCORD_REQUIRE_TSC` is set.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use support::{code, copy, copy_dir, describe, read, text, write};

#[test]
fn renaming_a_rust_field_fails_the_check_then_the_frontend_build() {
    let Some(tsc) = support::tsc("drift test", true) else { return };
    let started = Instant::now();
    let repo = support::repo_root();
    let tmp = tempfile::Builder::new().prefix("accord-drift-").tempdir().expect("create a temp dir");
    let example = Example::new(&repo, tmp.path());

    // 1. The untouched copy is consistent: bindings up to date, frontend compiles.
    let check = example.bindings("check");
    assert_eq!(code(&check), 0, "the copied bindings should be up to date\n{}", describe(&check));
    let ts = example.tsc(&tsc);
    assert_eq!(code(&ts), 0, "the copied frontend should type-check\n{}", describe(&ts));

    // 2. Rename `NewTodo.title` to `summary` in the copy's Rust source.
    example.rename_new_todo_title();

    // 3. The bindings are now stale: `check` exits 4 with the diff of `types.ts`.
    let check = example.bindings("check");
    assert_eq!(code(&check), 4, "check should report stale bindings\n{}", describe(&check));
    let report = text(&check);
    assert!(report.contains("stale: types.ts"), "check should name types.ts\n{}", describe(&check));
    assert!(
        report.lines().any(|l| l.starts_with('+') && l.contains("summary: string")),
        "the types.ts diff should add `summary`\n{}",
        describe(&check)
    );

    // 4. Regenerate: `check` passes again, and the frontend no longer compiles at `create`.
    let generate = example.bindings("generate");
    assert_eq!(code(&generate), 0, "generate failed\n{}", describe(&generate));
    let check = example.bindings("check");
    assert_eq!(code(&check), 0, "check should pass after generate\n{}", describe(&check));
    let types = read(&example.root.join("web/src/api/types.ts"));
    assert!(types.contains("summary: string"), "regenerated types.ts lacks `summary`:\n{types}");

    let ts = example.tsc(&tsc);
    assert_ne!(code(&ts), 0, "the frontend should stop compiling once NewTodo.title is gone\n{}", describe(&ts));
    let create_line = example.create_call_line();
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

/// The throwaway copy of the todos example.
struct Example {
    root: PathBuf,
    target_dir: PathBuf,
}

impl Example {
    /// `<root>/Cargo.toml` + `Cargo.lock` (the repository's, so versions stay identical),
    /// `api/` (the API crate's sources and a standalone manifest), `web/` (the frontend) and a
    /// `node_modules` symlink to the repository's, so `@accord/client` resolves.
    fn new(repo: &Path, root: &Path) -> Self {
        let path = |p: &Path| p.to_str().expect("a UTF-8 repository path").replace('\\', "/");
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"api\"]\nresolver = \"3\"\n\n\
             [profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n",
        );
        copy(&repo.join("Cargo.lock"), &root.join("Cargo.lock"));

        let api = root.join("api");
        copy_dir(&repo.join("examples/todos/api/src"), &api.join("src"));
        write(
            &api.join("Cargo.toml"),
            format!(
                "[package]\nname = \"todos-api\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [dependencies]\naccord = {{ path = \"{}\" }}\naccord-bindings = {{ path = \"{}\" }}\nthiserror = \"2\"\n",
                path(&repo.join("procedures")),
                path(&repo.join("bindings")),
            ),
        );

        let web = root.join("web");
        copy_dir(&repo.join("examples/todos/web/src"), &web.join("src"));
        for file in ["tsconfig.json", "package.json"] {
            copy(&repo.join("examples/todos/web").join(file), &web.join(file));
        }
        symlink_dir(&repo.join("node_modules"), &root.join("node_modules"));

        Self { root: root.to_path_buf(), target_dir: repo.join("target/drift") }
    }

    /// `cargo run -q -p todos-api --bin bindings -- <command>` in the copy.
    fn bindings(&self, command: &str) -> Output {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        support::run(
            Command::new(cargo)
                .args(["run", "-q", "-p", "todos-api", "--bin", "bindings", "--", command])
                .current_dir(&self.root)
                .env("CARGO_TARGET_DIR", &self.target_dir),
        )
    }

    /// `tsc --noEmit -p web/tsconfig.json` in the copy.
    fn tsc(&self, tsc: &support::Tsc) -> Output {
        tsc.run(&self.root, &["--noEmit", "--pretty", "false", "-p", "web/tsconfig.json"])
    }

    /// Renames the field `title` of `NewTodo` (and only that one) to `summary`.
    fn rename_new_todo_title(&self) {
        let lib = self.root.join("api/src/lib.rs");
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

    /// The 1-based line of `todos.create({` in the copied frontend.
    fn create_call_line(&self) -> usize {
        let app = read(&self.root.join("web/src/App.tsx"));
        let lines: Vec<usize> =
            app.lines().enumerate().filter(|(_, l)| l.contains("create.mutate({")).map(|(i, _)| i + 1).collect();
        assert_eq!(lines.len(), 1, "App.tsx should call `create.mutate({{ ... }})` exactly once");
        lines[0]
    }
}

#[cfg(unix)]
fn symlink_dir(original: &Path, link: &Path) {
    std::os::unix::fs::symlink(original, link).unwrap_or_else(|e| panic!("symlink {}: {e}", link.display()));
}

#[cfg(windows)]
fn symlink_dir(original: &Path, link: &Path) {
    std::os::windows::fs::symlink_dir(original, link).unwrap_or_else(|e| panic!("symlink {}: {e}", link.display()));
}
