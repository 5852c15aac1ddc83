//! `write`: puts the generated files in their directory, which the generator owns.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::BindingsError;
use crate::check::list_files;

/// Writes `files` into `dir` and removes every other file there (not subdirectories).
pub(crate) fn write(files: &BTreeMap<String, String>, dir: &Path) -> Result<(), BindingsError> {
    let existing = list_files(dir)?.unwrap_or_default();
    if !existing.is_empty() && !existing.iter().any(|entry| files.contains_key(&entry.name)) {
        return Err(BindingsError::ForeignDirectory {
            path: dir.to_owned(),
            files: existing.into_iter().map(|entry| entry.name).collect(),
        });
    }

    fs::create_dir_all(dir).map_err(BindingsError::io(dir))?;
    for (name, contents) in files {
        let path = dir.join(name);
        // Unchanged files keep their modification time, so watchers and bundlers stay quiet.
        if fs::read(&path).is_ok_and(|on_disk| on_disk == contents.as_bytes()) {
            continue;
        }
        fs::write(&path, contents).map_err(BindingsError::io(path))?;
    }
    for entry in existing {
        if !files.contains_key(&entry.name) {
            fs::remove_file(&entry.path).map_err(BindingsError::io(&entry.path))?;
        }
    }
    Ok(())
}
