//! `bindings diff`: the current description against a baseline `openrpc.json`, for CI.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::exit;
use crate::diff::{Allowlist, DiffOptions, Direction, diff_documents};
use crate::{Bindings, baseline};

/// The options of `diff`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DiffArgs {
    /// The baseline (see [`baseline::read`]).
    pub against: Option<String>,
    /// New clients against the baseline's server.
    pub forward: bool,
    /// `--format json`.
    pub json: bool,
    /// The allowlist file.
    pub allow: Option<PathBuf>,
}

/// Runs `diff` and returns the exit code: 0, [`exit::BREAKING`] or [`exit::ERROR`].
pub(crate) fn run(
    args: &DiffArgs,
    bindings: &Bindings,
    dir: &Path,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    match classify(args, bindings, dir) {
        Ok((report, origin)) => {
            if args.json {
                let mut json = report.to_json();
                json["baseline"] = origin.into();
                let _ = writeln!(stdout, "{json:#}");
            } else {
                let _ = writeln!(stdout, "baseline: {origin}");
                let _ = write!(stdout, "{report}");
            }
            if report.is_breaking() { exit::BREAKING } else { exit::OK }
        }
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            exit::ERROR
        }
    }
}

fn classify(args: &DiffArgs, bindings: &Bindings, dir: &Path) -> Result<(crate::diff::DiffReport, String), String> {
    let spec = args.against.as_deref().unwrap_or_default();
    let baseline = baseline::read(spec, dir).map_err(|e| e.to_string())?;
    let old: serde_json::Value = serde_json::from_str(&baseline.text)
        .map_err(|e| format!("the baseline {} is not JSON: {e}", baseline.origin))?;
    let current = bindings.get("openrpc.json").unwrap_or_default();
    let new: serde_json::Value =
        serde_json::from_str(current).map_err(|e| format!("the generated openrpc.json is not JSON: {e}"))?;
    let allowlist = match &args.allow {
        None => Allowlist::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("the allowlist {}: {e}", path.display()))?;
            Allowlist::parse(&text).map_err(|e| format!("the allowlist {}: {e}", path.display()))?
        }
    };
    let direction = if args.forward { Direction::Forward } else { Direction::Backward };
    let options = DiffOptions::default().direction(direction).allowlist(allowlist);
    let report = diff_documents(&old, &new, &options).map_err(|e| e.to_string())?;
    Ok((report, baseline.origin))
}
