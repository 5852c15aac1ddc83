//! `check`: compares the generated files with a directory and reports stale (with a unified
//! diff), missing and extra files, without changing anything.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::BindingsError;

/// What [`Bindings::check`](crate::Bindings::check) found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// Generated files whose contents on disk differ, sorted by name.
    pub stale: Vec<StaleFile>,
    /// Generated files absent from the directory, sorted.
    pub missing: Vec<String>,
    /// Files in the directory that the generator does not produce, sorted.
    pub extra: Vec<String>,
}

/// A file whose contents on disk differ from the generated ones.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaleFile {
    /// The file name.
    pub name: String,
    /// A unified diff from the contents on disk to the generated contents.
    pub diff: String,
}

impl CheckReport {
    /// Whether the directory holds exactly the generated files.
    pub fn is_clean(&self) -> bool {
        self.stale.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

impl fmt::Display for CheckReport {
    /// The diffs, then one line per missing or extra file; `up to date` when clean.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return writeln!(f, "up to date");
        }
        for stale in &self.stale {
            writeln!(f, "stale: {}", stale.name)?;
            write!(f, "{}", stale.diff)?;
            if !stale.diff.ends_with('\n') {
                writeln!(f)?;
            }
        }
        for name in &self.missing {
            writeln!(f, "missing: {name}")?;
        }
        for name in &self.extra {
            writeln!(f, "extra: {name} (not generated; `generate` removes it)")?;
        }
        Ok(())
    }
}

/// A file (anything but a directory) found in the output directory.
pub(crate) struct Entry {
    /// The file name, lossily decoded for reports.
    pub name: String,
    pub path: PathBuf,
}

/// The files directly in `dir`, sorted by name; `None` when `dir` does not exist.
pub(crate) fn list_files(dir: &Path) -> Result<Option<Vec<Entry>>, BindingsError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(BindingsError::io(dir)(error)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(BindingsError::io(dir))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(BindingsError::io(&path))?;
        if !file_type.is_dir() {
            files.push(Entry { name: entry.file_name().to_string_lossy().into_owned(), path });
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(files))
}

/// Compares `files` with the contents of `dir`.
pub(crate) fn check(files: &BTreeMap<String, String>, dir: &Path) -> Result<CheckReport, BindingsError> {
    let mut report = CheckReport::default();
    for (name, generated) in files {
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(bytes) => {
                let on_disk = String::from_utf8_lossy(&bytes);
                if on_disk != generated.as_str() {
                    report.stale.push(StaleFile { name: name.clone(), diff: diff(name, &on_disk, generated) });
                }
            }
            Err(error) if error.kind() == ErrorKind::NotFound => report.missing.push(name.clone()),
            Err(error) => return Err(BindingsError::io(path)(error)),
        }
    }
    for entry in list_files(dir)?.unwrap_or_default() {
        if !files.contains_key(&entry.name) {
            report.extra.push(entry.name);
        }
    }
    Ok(report)
}

/// A unified diff from `on_disk` to `generated`.
fn diff(name: &str, on_disk: &str, generated: &str) -> String {
    TextDiff::from_lines(on_disk, generated)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name} (on disk)"), &format!("{name} (generated)"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_shows_both_sides() {
        let diff = diff("types.ts", "a\nb\nc\n", "a\nB\nc\n");
        assert!(diff.contains("--- types.ts (on disk)"), "{diff}");
        assert!(diff.contains("+++ types.ts (generated)"), "{diff}");
        assert!(diff.contains("-b\n") && diff.contains("+B\n"), "{diff}");
    }

    #[test]
    fn a_clean_report_says_so() {
        let report = CheckReport::default();
        assert!(report.is_clean());
        assert_eq!(report.to_string(), "up to date\n");
    }
}
