//! A throwaway copy of the todos example (the repository is never modified), for tests that edit
//! its Rust source for real and run its `bindings` binary: the drift test and the contract test.
//!
//! The copy is a cargo workspace in a temp dir, built with its own persistent target dir
//! (`target/drift`) so reruns are fast and the main build is not blocked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{copy, copy_dir, read, write};

/// The throwaway copy of the todos example.
pub struct Example {
    pub root: PathBuf,
    target_dir: PathBuf,
}

impl Example {
    /// `<root>/Cargo.toml` + `Cargo.lock` (the repository's, so versions stay identical),
    /// `api/` (the API crate's sources and a standalone manifest), `web/` (the frontend) and a
    /// `node_modules` symlink to the repository's, so `@accord/client` resolves.
    pub fn new(repo: &Path, root: &Path) -> Self {
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

    /// `cargo run -q -p todos-api --bin bindings -- <args>` in the copy.
    pub fn bindings(&self, args: &[&str]) -> Output {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        super::run(
            Command::new(cargo)
                .args(["run", "-q", "-p", "todos-api", "--bin", "bindings", "--"])
                .args(args)
                .current_dir(&self.root)
                .env("CARGO_TARGET_DIR", &self.target_dir),
        )
    }

    /// `tsc --noEmit -p web/tsconfig.json` in the copy.
    pub fn tsc(&self, tsc: &super::Tsc) -> Output {
        tsc.run(&self.root, &["--noEmit", "--pretty", "false", "-p", "web/tsconfig.json"])
    }

    /// The copy's `api/src/lib.rs`.
    pub fn lib(&self) -> PathBuf {
        self.root.join("api/src/lib.rs")
    }

    /// Replaces the one occurrence of `from` in the copy's `lib.rs` with `to`.
    pub fn edit(&self, from: &str, to: &str) {
        let source = read(&self.lib());
        assert_eq!(source.matches(from).count(), 1, "lib.rs should contain exactly one {from:?}");
        write(&self.lib(), source.replacen(from, to, 1));
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
