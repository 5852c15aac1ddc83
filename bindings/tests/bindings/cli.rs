//! The command line, through `run` with explicit arguments and captured output.

use std::fs;
use std::path::Path;

use accord::{Api, Description};
use accord_bindings::exit;

use crate::{api, apis};

/// What a run of the command line returned and printed.
pub(crate) struct Outcome {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the command line with `args` over `apis`.
pub(crate) fn run(args: &[&str], apis: &[Description], default_dir: &Path) -> Outcome {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let default_dir = default_dir.to_string_lossy();
    let code = accord_bindings::run(args.iter().copied(), apis, &default_dir, &mut stdout, &mut stderr);
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    Outcome { code, stdout: text(stdout), stderr: text(stderr) }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|error| panic!("no temporary directory: {error}"))
}

#[test]
fn generate_then_check_is_clean() {
    let temp = tempdir();
    let dir = temp.path().join("api");
    let generated = run(&["generate"], &apis(), &dir);
    assert_eq!(generated.code, exit::OK, "{}", generated.stderr);
    assert!(generated.stdout.contains("wrote 4 files"), "{}", generated.stdout);
    assert!(dir.join("procedures.ts").is_file());

    let checked = run(&["check"], &apis(), &dir);
    assert_eq!(checked.code, exit::OK, "{}{}", checked.stdout, checked.stderr);
    assert!(checked.stdout.contains("up to date"));
}

#[test]
fn check_exits_4_with_a_diff_and_a_hint_when_stale() {
    let temp = tempdir();
    let dir = temp.path().join("custom");
    assert_eq!(run(&["generate", "--out", &dir.to_string_lossy()], &apis(), temp.path()).code, exit::OK);
    let procedures = dir.join("procedures.ts");
    let edited = fs::read_to_string(&procedures).unwrap_or_default().replace("allBooks", "everyBook");
    fs::write(&procedures, edited).unwrap_or_else(|error| panic!("{error}"));

    let out = format!("--out={}", dir.display());
    let checked = run(&["check", &out], &apis(), temp.path());
    assert_eq!(checked.code, exit::STALE);
    assert!(checked.stdout.contains("stale: procedures.ts"), "{}", checked.stdout);
    assert!(
        checked.stdout.contains("-    everyBook") && checked.stdout.contains("+    allBooks"),
        "{}",
        checked.stdout
    );
    assert!(checked.stdout.contains("-- generate --out "), "the hint repeats --out: {}", checked.stdout);
    assert!(checked.stdout.contains("run: cargo run -p accord-bindings --bin bindings"), "{}", checked.stdout);
}

#[test]
fn check_exits_4_when_the_directory_is_missing() {
    let temp = tempdir();
    let checked = run(&["check"], &apis(), &temp.path().join("nowhere"));
    assert_eq!(checked.code, exit::STALE);
    assert!(checked.stdout.contains("missing: types.ts"), "{}", checked.stdout);
}

#[test]
fn bad_arguments_exit_2_with_the_usage() {
    let temp = tempdir();
    for args in [&[][..], &["publish"], &["check", "--out"], &["generate", "extra"]] {
        let outcome = run(args, &apis(), temp.path());
        assert_eq!(outcome.code, exit::USAGE, "{args:?}");
        assert!(outcome.stderr.contains("usage: bindings (generate | check) [--out DIR]"), "{}", outcome.stderr);
    }
    let help = run(&["--help"], &apis(), temp.path());
    assert_eq!(help.code, exit::OK);
    assert!(help.stdout.starts_with("usage:"));
}

#[test]
fn generation_errors_exit_1_and_write_nothing() {
    let temp = tempdir();
    let dir = temp.path().join("api");
    let outcome = run(&["generate"], &[api::big::CountersApi::description()], &dir);
    assert_eq!(outcome.code, exit::ERROR);
    assert!(outcome.stderr.contains("error: ") && outcome.stderr.contains("accord::I53"), "{}", outcome.stderr);
    assert!(!dir.exists());
}
