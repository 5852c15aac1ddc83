//! The command line of an API crate's `bindings` binary: `generate` writes the files, `check`
//! reports whether they are up to date, `diff` whether deployed clients still work (both for CI).

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use accord::Description;

/// The exit codes of [`cli`] and [`run`].
pub mod exit {
    /// Written, or up to date.
    pub const OK: u8 = 0;
    /// Generation, reading or writing failed.
    pub const ERROR: u8 = 1;
    /// The arguments are wrong.
    pub const USAGE: u8 = 2;
    /// `check` found stale, missing or extra files.
    pub const STALE: u8 = 4;
    /// `diff` found a breaking change that the allowlist does not cover.
    pub const BREAKING: u8 = 100;
}

const USAGE: &str = "usage: bindings (generate | check) [--out DIR]\n       \
                     bindings diff --against BASELINE [--forward] [--format text|json] [--allow FILE] [--out DIR]\n\
                     BASELINE: an openrpc.json, a bindings directory, REV:PATH, or a git revision (its copy of --out)";

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Generate,
    Check,
    Diff(crate::diff_command::DiffArgs),
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Help,
    Run { command: Command, out: Option<PathBuf> },
}

/// Runs the command line in `std::env::args()` for `apis` and returns the exit code.
///
/// - `generate [--out DIR]` writes the bindings into `DIR` (default: `default_dir`);
/// - `check [--out DIR]` prints the stale files' diffs, the missing and extra files, and how to
///   regenerate, and exits [`exit::STALE`] (4) unless the directory is up to date.
///
/// - `diff --against BASELINE [--forward] [--format text|json] [--allow FILE]` classifies every
///   change since the baseline for the clients already deployed and exits [`exit::BREAKING`]
///   (100) when one breaks (see [`crate::diff`]).
///
/// Wrong arguments exit [`exit::USAGE`] (2); generation and IO errors exit [`exit::ERROR`] (1).
pub fn cli(apis: &[Description], default_dir: &str) -> ExitCode {
    let code = run(std::env::args_os().skip(1), apis, default_dir, &mut std::io::stdout(), &mut std::io::stderr());
    ExitCode::from(code)
}

/// [`cli`] with explicit arguments (without the program name) and output streams: the report
/// and progress go to `stdout`, errors and usage problems to `stderr`.
pub fn run<I>(args: I, apis: &[Description], default_dir: &str, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let (command, out) = match parse(args.into_iter().map(Into::into)) {
        Ok(Parsed::Help) => {
            let _ = writeln!(stdout, "{USAGE}");
            return exit::OK;
        }
        Ok(Parsed::Run { command, out }) => (command, out),
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}\n{USAGE}");
            return exit::USAGE;
        }
    };
    let dir = out.clone().unwrap_or_else(|| PathBuf::from(default_dir));

    let bindings = match crate::generate(apis) {
        Ok(bindings) => bindings,
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            return exit::ERROR;
        }
    };
    match command {
        Command::Diff(args) => crate::diff_command::run(&args, &bindings, &dir, stdout, stderr),
        Command::Generate => match bindings.write(&dir) {
            Ok(()) => {
                let _ = writeln!(stdout, "wrote {} files to {}", bindings.files().len(), dir.display());
                exit::OK
            }
            Err(error) => {
                let _ = writeln!(stderr, "error: {error}");
                exit::ERROR
            }
        },
        Command::Check => match bindings.check(&dir) {
            Ok(report) if report.is_clean() => {
                let _ = writeln!(stdout, "bindings in {} are up to date", dir.display());
                exit::OK
            }
            Ok(report) => {
                let _ = write!(stdout, "{report}");
                let _ = writeln!(stdout, "bindings in {} are stale; {}", dir.display(), hint(out.as_ref()));
                exit::STALE
            }
            Err(error) => {
                let _ = writeln!(stderr, "error: {error}");
                exit::ERROR
            }
        },
    }
}

/// How to regenerate: the `cargo run` line when cargo tells us the package (the binary's name is
/// this executable's, so an API crate may call its binary anything).
fn hint(out: Option<&PathBuf>) -> String {
    let out = out.map(|dir| format!(" --out {}", dir.display())).unwrap_or_default();
    let bin = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|stem| stem.to_string_lossy().into_owned()))
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "bindings".to_owned());
    match std::env::var("CARGO_PKG_NAME") {
        Ok(package) if !package.is_empty() => format!("run: cargo run -p {package} --bin {bin} -- generate{out}"),
        _ => format!("run the bindings binary with `generate{out}` to update them"),
    }
}

fn parse(args: impl Iterator<Item = OsString>) -> Result<Parsed, String> {
    let mut command: Option<&'static str> = None;
    let mut out = None;
    let mut diff = crate::diff_command::DiffArgs::default();
    let mut args = args;
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            return Err(format!("unexpected argument {}", arg.to_string_lossy()));
        };
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (text, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(value) => Ok(value),
                None => args
                    .next()
                    .and_then(|v| v.to_str().map(str::to_owned))
                    .ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag {
            "-h" | "--help" | "help" => return Ok(Parsed::Help),
            "generate" if command.is_none() => command = Some("generate"),
            "check" if command.is_none() => command = Some("check"),
            "diff" if command.is_none() => command = Some("diff"),
            "--out" if out.is_none() => out = Some(PathBuf::from(value("--out")?)),
            "--against" if diff.against.is_none() => diff.against = Some(value("--against")?),
            "--allow" if diff.allow.is_none() => diff.allow = Some(PathBuf::from(value("--allow")?)),
            "--format" => {
                diff.json = match value("--format")?.as_str() {
                    "json" => true,
                    "text" => false,
                    other => return Err(format!("--format is `text` or `json`, not `{other}`")),
                }
            }
            "--forward" if inline.is_none() => diff.forward = true,
            "--out" | "--against" | "--allow" => return Err(format!("{flag} is given twice")),
            _ => return Err(format!("unexpected argument `{text}`")),
        }
    }
    let diff_flags = diff != crate::diff_command::DiffArgs::default();
    match command {
        Some("diff") if diff.against.is_none() => Err("diff needs --against BASELINE".into()),
        Some("diff") => Ok(Parsed::Run { command: Command::Diff(diff), out }),
        Some(_) if diff_flags => Err("--against, --forward, --format and --allow are options of diff".into()),
        Some("generate") => Ok(Parsed::Run { command: Command::Generate, out }),
        Some(_) => Ok(Parsed::Run { command: Command::Check, out }),
        None => Err("missing command".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Parsed, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn commands_and_out_are_parsed() {
        assert_eq!(parse_strs(&["generate"]), Ok(Parsed::Run { command: Command::Generate, out: None }));
        let out = Some(PathBuf::from("web/api"));
        assert_eq!(parse_strs(&["check", "--out", "web/api"]), Ok(Parsed::Run { command: Command::Check, out }));
        let out = Some(PathBuf::from("x"));
        assert_eq!(parse_strs(&["--out=x", "generate"]), Ok(Parsed::Run { command: Command::Generate, out }));
        assert_eq!(parse_strs(&["--help"]), Ok(Parsed::Help));
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse_strs(&[]).is_err());
        assert!(parse_strs(&["generate", "check"]).is_err());
        assert!(parse_strs(&["check", "--out"]).is_err());
        assert!(parse_strs(&["check", "--out", "a", "--out", "b"]).is_err());
        assert!(parse_strs(&["check", "--out=a", "--out=b"]).is_err());
        assert!(parse_strs(&["frobnicate"]).is_err());
        assert!(parse_strs(&["diff"]).is_err(), "diff needs --against");
        assert!(parse_strs(&["check", "--forward"]).is_err());
        assert!(parse_strs(&["diff", "--against", "a", "--format", "yaml"]).is_err());
        assert!(parse_strs(&["diff", "--against", "a", "--against", "b"]).is_err());
    }

    #[test]
    fn diff_options_are_parsed() {
        let parsed =
            parse_strs(&["diff", "--against=origin/main", "--forward", "--format", "json", "--allow", "a.toml"]);
        let Ok(Parsed::Run { command: Command::Diff(args), out: None }) = parsed else { panic!("{parsed:?}") };
        assert_eq!(args.against.as_deref(), Some("origin/main"));
        assert!(args.forward && args.json);
        assert_eq!(args.allow, Some(PathBuf::from("a.toml")));
    }
}
