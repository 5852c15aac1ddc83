//! Where `diff --against` finds the baseline `openrpc.json`: a file, a bindings directory, a
//! file at a git revision (`REV:PATH`), or the bindings directory at a revision (`REV`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A baseline document and where it came from (for messages).
pub(crate) struct Baseline {
    pub text: String,
    pub origin: String,
}

/// Why the baseline could not be read.
#[derive(Debug, thiserror::Error)]
#[error("baseline `{spec}`: {reason}")]
pub(crate) struct BaselineError {
    spec: String,
    reason: String,
}

/// Reads the baseline that `spec` names. `bindings_dir` is the bindings directory of the
/// current checkout, whose path inside the repository is used for a bare revision.
pub(crate) fn read(spec: &str, bindings_dir: &Path) -> Result<Baseline, BaselineError> {
    let error = |reason: String| BaselineError { spec: spec.to_owned(), reason };
    let path = Path::new(spec);
    if path.is_dir() {
        let file = path.join("openrpc.json");
        let text = fs::read_to_string(&file).map_err(|e| error(format!("{}: {e}", file.display())))?;
        return Ok(Baseline { text, origin: file.display().to_string() });
    }
    if path.is_file() {
        let text = fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        return Ok(Baseline { text, origin: spec.to_owned() });
    }
    // `REV:PATH` is read from the repository around the working directory, as git would; a bare
    // revision from the repository that holds the bindings directory.
    let (object, repository) = match spec.split_once(':') {
        Some((revision, file)) if !revision.is_empty() && !file.is_empty() => (spec.to_owned(), PathBuf::from(".")),
        Some(_) => return Err(error("expected REV:PATH".into())),
        None => {
            let (file, root) = path_in_repository(bindings_dir).map_err(error)?;
            (format!("{spec}:{}", file.join("openrpc.json").to_string_lossy().replace('\\', "/")), root)
        }
    };
    let text = git(&["show", &object], &repository).map_err(|reason| {
        let not_path = if spec.contains(':') { "" } else { " (no such file or directory either)" };
        error(format!("{reason}{not_path}"))
    })?;
    Ok(Baseline { text, origin: format!("git {object}") })
}

/// `dir` relative to the root of the git repository that holds it, and that root.
fn path_in_repository(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let absolute = fs::canonicalize(dir).map_err(|e| format!("the bindings directory {}: {e}", dir.display()))?;
    let root = git(&["rev-parse", "--show-toplevel"], &absolute)?;
    let root = fs::canonicalize(root.trim()).map_err(|e| format!("the repository root: {e}"))?;
    let relative = absolute
        .strip_prefix(&root)
        .map(Path::to_path_buf)
        .map_err(|_| format!("{} is not inside the repository {}", absolute.display(), root.display()))?;
    Ok((relative, root))
}

/// Runs git in `dir` and returns its standard output.
fn git(args: &[&str], dir: &Path) -> Result<String, String> {
    let output =
        Command::new("git").args(args).current_dir(dir).output().map_err(|e| format!("could not run git: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("`git {}` failed: {}", args.join(" "), stderr.trim()));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| format!("`git {}` printed something that is not UTF-8", args.join(" ")))
}
