//! The servers under test, as child processes of the `bench-server` binary: each has its own
//! tokio runtime and its own threads, so the load generator's runtime never serves a call.
//!
//! Also reads what the kernel knows about a process: CPU time (summed over its threads, from
//! `/proc/<pid>/task/*/schedstat`, in nanoseconds) and resident memory.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What the bench server prints once it is ready.
const READY_PREFIX: &str = "listening on http://";

/// How long a server may take to drain after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The `bench-server` binary: the sibling of this executable, rebuilt first when run by cargo.
pub fn server_binary(no_build: bool) -> PathBuf {
    let exe = std::env::current_exe().expect("the path of this executable");
    let dir = exe.parent().expect("this executable lives in a directory");
    let binary = dir.join("bench-server");
    // `cargo run --bin load` builds only `load`: build its sibling too, in the same profile, so
    // a stale or missing bench-server is never measured. A no-op when it is up to date.
    if let (false, Some(cargo)) = (no_build, std::env::var_os("CARGO")) {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "--bin", "bench-server", "--manifest-path"]).arg(manifest);
        if dir.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build for bench-server");
        assert!(status.success(), "cargo build of bench-server failed: {status}");
    }
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build --release -p accord-bench --bin bench-server`",
        binary.display()
    );
    binary
}

/// A running bench server.
pub struct ServerProcess {
    /// What the report calls it (`raw`, `default`, `full`, `full-auth`...).
    pub label: String,
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    stopped: Option<ExitStatus>,
    /// Kept open so that a late write to stdout does not hit a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    /// Starts `binary` with `BENCH_STACK=stack`, `BENCH_FULL_WITHOUT=without` on a free port and
    /// waits until it says it is listening. `RUST_LOG` is removed so the full stack always logs
    /// at `info`.
    pub fn spawn(binary: &Path, label: &str, stack: &str, without: &str) -> Self {
        let log = std::env::temp_dir().join(format!("accord-bench-{label}.log"));
        let stderr = File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let mut child = server_command(binary)
            .env("BENCH_STACK", stack)
            .env("BENCH_FULL_WITHOUT", without)
            .env("PORT", "0")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("the child's stdout is piped"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line).expect("read the bench server's stdout");
        let addr = line
            .trim()
            .strip_prefix(READY_PREFIX)
            .and_then(|rest| rest.split('/').next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| {
                panic!("bench server `{label}` did not start (read {read} bytes: {line:?}); see {}", log.display())
            });
        eprintln!("load: started {label} on {addr} (pid {}, stderr in {})", child.id(), log.display());
        Self { label: label.to_owned(), addr, child, stopped: None, _stdout: stdout }
    }

    /// CPU time the server has used so far, all threads, in nanoseconds.
    pub fn cpu_ns(&self) -> u64 {
        cpu_ns(&format!("/proc/{}/task", self.child.id()))
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// SIGTERM, then waits for the graceful exit (SIGKILL after 15 s).
    pub fn stop(&mut self) -> ExitStatus {
        let status = self.stopped.unwrap_or_else(|| terminate(&mut self.child));
        self.stopped = Some(status);
        status
    }
}

impl Drop for ServerProcess {
    /// A server left running (the load generator panicked) is stopped too.
    fn drop(&mut self) {
        self.stop();
    }
}

/// A command running `binary` that gets SIGTERM when the load generator dies, so a server
/// never outlives it (even when the load generator is killed).
pub fn server_command(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    // SAFETY: prctl(2) is async-signal-safe and touches no memory of this process.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        })
    };
    command
}

/// SIGTERM `child` and wait for it; SIGKILL if it has not exited within [`STOP_TIMEOUT`].
pub fn terminate(child: &mut Child) -> ExitStatus {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits in pid_t");
    // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait for a bench server") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().expect("wait for a killed bench server");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// CPU time of this process so far (the load generator), all threads, in nanoseconds.
pub fn own_cpu_ns() -> u64 {
    cpu_ns("/proc/self/task")
}

/// Busy CPU time of the whole machine so far, from `/proc/stat`, in nanoseconds: every
/// non-idle state, steal (time the hypervisor gave to another guest) included.
pub fn machine_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next().and_then(|line| line.strip_prefix("cpu ")) else { return 0 };
    let fields: Vec<u64> = line.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let field = |i: usize| fields.get(i).copied().unwrap_or(0);
    // SAFETY: sysconf(3) only reads a configuration value.
    let ticks_per_sec = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100).max(1);
    let ns = |ticks: u64| ticks * (1_000_000_000 / ticks_per_sec);
    let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
    ns(busy)
}

/// Sums the first field of `schedstat` (time on a CPU, ns) over the threads in `tasks`.
fn cpu_ns(tasks: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir(tasks) else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
