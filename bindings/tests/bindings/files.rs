//! `write` and `check` against a real directory.

use std::fs;
use std::path::Path;

use accord_bindings::{BindingsError, CheckReport};

use crate::bindings;

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|error| panic!("no temporary directory: {error}"))
}

fn check(dir: &Path) -> CheckReport {
    bindings().check(dir).unwrap_or_else(|error| panic!("check failed: {error}"))
}

fn write(dir: &Path) {
    bindings().write(dir).unwrap_or_else(|error| panic!("write failed: {error}"));
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn put(path: &Path, contents: &str) {
    fs::write(path, contents).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}

#[test]
fn a_missing_directory_is_all_missing_until_written() {
    let temp = tempdir();
    let dir = temp.path().join("web/src/api");
    let report = check(&dir);
    assert_eq!(report.missing, ["index.ts", "openrpc.json", "procedures.ts", "types.ts"]);
    assert!(!report.is_clean());

    write(&dir);
    let report = check(&dir);
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.to_string(), "up to date\n");
    assert_eq!(read(&dir.join("index.ts")), bindings().get("index.ts").unwrap_or_default());
}

#[test]
fn check_reports_stale_missing_and_extra_files() {
    let temp = tempdir();
    let dir = temp.path();
    write(dir);

    let types = dir.join("types.ts");
    put(&types, &read(&types).replace("export type BookId", "export type BookIdentifier"));
    fs::remove_file(dir.join("index.ts")).unwrap_or_else(|error| panic!("{error}"));
    put(&dir.join("old.ts"), "// an earlier generated file\n");
    fs::create_dir(dir.join("nested")).unwrap_or_else(|error| panic!("{error}"));

    let report = check(dir);
    assert!(!report.is_clean());
    assert_eq!(report.stale.len(), 1);
    assert_eq!(report.stale[0].name, "types.ts");
    let diff = &report.stale[0].diff;
    assert!(diff.contains("--- types.ts (on disk)") && diff.contains("+++ types.ts (generated)"), "{diff}");
    assert!(diff.contains("-export type BookIdentifier") && diff.contains("+export type BookId "), "{diff}");
    assert_eq!(report.missing, ["index.ts"]);
    assert_eq!(report.extra, ["old.ts"], "subdirectories are not files");

    let text = report.to_string();
    assert!(text.contains("stale: types.ts") && text.contains("-export type BookIdentifier"), "{text}");
    assert!(text.contains("missing: index.ts") && text.contains("extra: old.ts"), "{text}");

    // Writing repairs all three and leaves the subdirectory alone.
    write(dir);
    assert!(check(dir).is_clean());
    assert!(!dir.join("old.ts").exists());
    assert!(dir.join("nested").is_dir());
}

#[test]
fn write_leaves_up_to_date_files_untouched() {
    let temp = tempdir();
    write(temp.path());
    let path = temp.path().join("types.ts");
    let before = fs::metadata(&path).and_then(|m| m.modified()).unwrap_or_else(|error| panic!("{error}"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(temp.path());
    let after = fs::metadata(&path).and_then(|m| m.modified()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(before, after);
}

#[test]
fn a_directory_of_other_files_is_not_taken_over() {
    let temp = tempdir();
    let notes = temp.path().join("notes.md");
    put(&notes, "mine\n");
    let Err(error) = bindings().write(temp.path()) else { panic!("write should refuse") };
    assert!(matches!(error, BindingsError::ForeignDirectory { .. }), "{error:?}");
    assert!(error.to_string().contains("notes.md"), "{error}");
    assert_eq!(read(&notes), "mine\n");
    assert!(!temp.path().join("types.ts").exists());
}

#[test]
fn io_errors_name_the_path() {
    let temp = tempdir();
    let blocker = temp.path().join("file");
    put(&blocker, "");
    let Err(error) = bindings().write(blocker.join("api")) else { panic!("write should fail") };
    assert!(matches!(error, BindingsError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains(&blocker.display().to_string()), "{error}");
}
