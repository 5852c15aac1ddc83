//! Shared by the drift and agreement tests (of this crate, and of `shop-api` through `#[path]`):
//! the repository root, the TypeScript compiler from the repository's `node_modules`, running
//! commands with readable failures, and the agreement tests' machinery ([`agreement`]).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod agreement;
pub mod example;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The repository root (three levels above this crate).
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    root.canonicalize().unwrap_or_else(|e| panic!("cannot resolve the repository root {}: {e}", root.display()))
}

/// `node` plus the repository's `typescript/bin/tsc`.
pub struct Tsc {
    script: PathBuf,
}

impl Tsc {
    /// `node <repo>/node_modules/typescript/bin/tsc <args>`, run in `dir`.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        let mut command = Command::new("node");
        command.arg(&self.script).args(args).current_dir(dir);
        run(&mut command)
    }
}

/// The TypeScript compiler, or `None` when `node` or the repository's `node_modules` is missing
/// (or, with `client`, the built `@accord/client` typings): then the test prints why and skips,
/// unless `ACCORD_REQUIRE_TSC` is set (CI), which makes it fail instead. `test` names the test in
/// the message ("drift test").
pub fn tsc(test: &str, client: bool) -> Option<Tsc> {
    let repo = repo_root();
    let script = repo.join("node_modules/typescript/bin/tsc");
    let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let missing = if !node_ok {
        Some(format!("{test} needs node (Node >= 20 on PATH)"))
    } else if !script.is_file() {
        Some(format!("{test} needs node_modules (run npm ci)"))
    } else if client && !repo.join("client-ts/dist/index.d.ts").is_file() {
        Some(format!("{test} needs the built @accord/client (run npm run build -w client-ts)"))
    } else if client && !repo.join("client-ts/tanstack-query/dist/index.d.ts").is_file() {
        Some(format!("{test} needs the built @accord/tanstack-query (run npm run build -w @accord/tanstack-query)"))
    } else {
        None
    };
    match missing {
        None => Some(Tsc { script }),
        Some(why) if std::env::var_os("ACCORD_REQUIRE_TSC").is_some_and(|v| !v.is_empty()) => {
            panic!("{why}; ACCORD_REQUIRE_TSC is set, so this is a failure rather than a skip")
        }
        Some(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// Runs `command` to completion, printing it (with its directory and extra environment) and how
/// long it took, so that a failing test shows what it did.
pub fn run(command: &mut Command) -> Output {
    let shown = show(command);
    eprintln!("$ {shown}");
    let started = Instant::now();
    let output = command.output().unwrap_or_else(|e| panic!("cannot run `{shown}`: {e}"));
    eprintln!("  -> {} in {:.1?}", output.status, started.elapsed());
    output
}

/// The exit code (`-1` when killed by a signal).
pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

/// Stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Stdout followed by stderr.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Copies the directory `from` to `to` (created), recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display())) {
        let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
        let target = to.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            copy_dir(&entry.path(), &target);
        } else {
            copy(&entry.path(), &target);
        }
    }
}

/// Copies the file `from` to `to`.
pub fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
}

/// Writes `contents` to `path`.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) {
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Reads `path` as UTF-8.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn show(command: &Command) -> String {
    let mut shown = String::new();
    if let Some(dir) = command.get_current_dir() {
        shown.push_str(&format!("(cd {}) ", dir.display()));
    }
    for (key, value) in command.get_envs() {
        let value = value.map(OsStr::to_string_lossy).unwrap_or_default();
        shown.push_str(&format!("{}={value} ", key.to_string_lossy()));
    }
    shown.push_str(&command.get_program().to_string_lossy());
    for arg in command.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}
