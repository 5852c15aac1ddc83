//! The login burst: the `shop` binary in a process of its own, hit by N concurrent `auth.login`
//! calls (each on its own connection), in rounds; reports the shop's resident memory before,
//! at the peak of, and after each burst, with the calls' outcomes and latencies.
//!
//! Memory is read from `/proc/<pid>/status` (Linux): `VmRSS` now, and `VmHWM` (the peak) after
//! resetting it through `/proc/<pid>/clear_refs` before each burst, so start-up (seeding) does
//! not count. A 5 ms sampler of `VmRSS` backs the peak up where `clear_refs` is not allowed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use accord::client::HttpTransport;
use accord::{Cx, FrameworkCode, ProcedureError};
use hdrhistogram::Histogram;
use shop_api::{Auth, AuthClient, Credentials};

/// Options of the burst.
#[derive(clap::Args, Clone, Debug)]
pub struct BurstArgs {
    /// Concurrent logins per burst.
    #[arg(long, default_value_t = 128)]
    pub logins: usize,
    /// Bursts, each followed by a pause.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Seconds between the end of a burst and the "after" reading (the shop's hashing threads
    /// free their memory after 5 s idle).
    #[arg(long, default_value_t = 8.0)]
    pub settle_secs: f64,
    /// The `shop` binary (default: next to this one; `cargo build --release -p shop` first).
    #[arg(long)]
    pub shop_bin: Option<std::path::PathBuf>,
    /// Extra `NAME=VALUE` environment for the shop (e.g. `SHOP_HASH_THREADS=4`).
    #[arg(long = "shop-env")]
    pub shop_env: Vec<String>,
}

/// Runs the burst and prints a markdown report.
pub fn run(args: &BurstArgs, database_url: Option<&str>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let schema = format!("shop_burst_{}", std::process::id());
    let bin = args.shop_bin.clone().unwrap_or_else(|| {
        let me = std::env::current_exe().expect("this binary's path");
        me.with_file_name("shop")
    });
    assert!(bin.is_file(), "no shop binary at {}: build it with `cargo build --release -p shop`", bin.display());
    let mut command = Command::new(&bin);
    command
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .env("SHOP_WEB_DIR", "/nonexistent")
        .env("SHOP_LOGIN_RATE_PER_MINUTE", "1000000")
        .stdout(Stdio::piped());
    match database_url {
        Some(url) if url.starts_with("postgres") => {
            command.env("DATABASE_URL", url).env("DATABASE_SCHEMA", &schema);
        }
        _ => {
            command.env("DATABASE_URL", format!("sqlite://{}", dir.path().join("shop.db").display()));
        }
    }
    for pair in &args.shop_env {
        if let Some((name, value)) = pair.split_once('=') {
            command.env(name, value);
        }
    }
    let mut shop = ShopProcess(command.spawn().expect("start the shop"));
    let url = read_url(&mut shop.0);
    let pid = shop.0.id();
    eprintln!("shop (pid {pid}) on {url}; {} rounds of {} concurrent logins", args.rounds, args.logins);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("burst-load")
        .enable_all()
        .build()
        .expect("the load's runtime");
    let started_kib = rss_kib(pid, "VmRSS");
    let mut rows = Vec::new();
    for round in 1..=args.rounds {
        // Resetting the peak needs permission to write the file; the sampler covers otherwise.
        let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
        let before = rss_kib(pid, "VmRSS");
        let sampler = Sampler::start(pid);
        let began = Instant::now();
        let outcome = runtime.block_on(burst(&url, args.logins, round));
        let took = began.elapsed();
        let right_after = rss_kib(pid, "VmRSS");
        std::thread::sleep(Duration::from_secs_f64(args.settle_secs.max(0.0)));
        let sampled_peak = sampler.stop();
        let peak = if reset { rss_kib(pid, "VmHWM").max(sampled_peak) } else { sampled_peak };
        let after = rss_kib(pid, "VmRSS");
        rows.push((round, [before, peak, right_after, after], took, outcome));
    }
    let threads = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Threads:").map(|n| n.trim().to_owned())))
        .unwrap_or_default();
    shop.stop();

    let backend = if database_url.is_some_and(|u| u.starts_with("postgres")) { "postgres" } else { "sqlite" };
    println!("### Login burst on {backend}: {} concurrent `auth.login`, {} rounds\n", args.logins, args.rounds);
    println!("Shop RSS at start: {} MiB; threads after the last round: {threads}.\n", mib(started_kib));
    println!(
        "| round | RSS before MiB | peak MiB | at the end MiB | {} s later MiB | burst s | ok | OVERLOADED | other errors | ok p50 ms | ok p99 ms |",
        args.settle_secs
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (round, [before, peak, right_after, after], took, outcome) in rows {
        println!(
            "| {round} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {:.0} | {:.0} |",
            mib(before),
            mib(peak),
            mib(right_after),
            mib(after),
            took.as_secs_f64(),
            outcome.ok.len(),
            outcome.overloaded,
            outcome.other,
            outcome.ok.value_at_quantile(0.5) as f64 / 1000.0,
            outcome.ok.value_at_quantile(0.99) as f64 / 1000.0,
        );
    }
    if backend == "postgres"
        && let Some(url) = database_url
    {
        runtime.block_on(crate::drop_schema(url, &schema));
    }
}

/// The URL from the shop's `shop listening on http://...` line.
fn read_url(shop: &mut Child) -> String {
    let stdout = shop.stdout.take().expect("the shop's stdout");
    let mut lines = BufReader::new(stdout).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.contains("listening on"))
        .expect("the shop printed its address");
    // Keep draining stdout (logs) so the shop never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    listening.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_owned()
}

/// The shop's process; killed if the benchmark ends early (a panic), so it is never orphaned.
struct ShopProcess(Child);

impl ShopProcess {
    /// SIGTERM, then up to 30 s to drain and exit.
    fn stop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ShopProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// What the calls of one burst answered.
struct Outcome {
    /// Latencies of the successful logins, µs.
    ok: Histogram<u64>,
    overloaded: u64,
    other: u64,
}

async fn burst(url: &str, logins: usize, round: usize) -> Outcome {
    let go = Arc::new(tokio::sync::Barrier::new(logins));
    let calls = (0..logins).map(|i| {
        // A transport each: its own connection, as N separate browsers would have.
        let auth = AuthClient::new(HttpTransport::new(url).expect("transport"));
        let go = go.clone();
        // The seeded users 3..=50 share the demo password; bob and ada are 2 and 1.
        let email = format!("user{}@example.com", 3 + (i + round) % 48);
        tokio::spawn(async move {
            go.wait().await;
            let started = Instant::now();
            let credentials = Credentials { email, password: shop::seed::DEMO_PASSWORD.into() };
            (auth.login(&Cx::new(), credentials).await, started.elapsed())
        })
    });
    let mut outcome = Outcome { ok: Histogram::new(3).expect("histogram"), overloaded: 0, other: 0 };
    for call in futures_util::future::join_all(calls).await {
        match call {
            Ok((Ok(_), took)) => {
                outcome.ok.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX)).ok();
            }
            Ok((Err(error), _))
                if error.as_rpc_error().and_then(accord::RpcError::framework_code)
                    == Some(FrameworkCode::Overloaded) =>
            {
                outcome.overloaded += 1;
            }
            Ok((Err(error), _)) => {
                eprintln!("login failed: {error}");
                outcome.other += 1;
            }
            Err(_) => outcome.other += 1,
        }
    }
    outcome
}

/// Samples `VmRSS` every 5 ms and remembers the largest.
struct Sampler {
    done: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl Sampler {
    fn start(pid: u32) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let thread = std::thread::spawn({
            let (done, peak) = (done.clone(), peak.clone());
            move || {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib(pid, "VmRSS"), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        });
        Self { done, peak, thread }
    }

    fn stop(self) -> u64 {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak.load(Ordering::Relaxed)
    }
}

/// A `kB` field of `/proc/<pid>/status` (0 when unreadable).
fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.0}", kib as f64 / 1024.0)
}
