//! `live`: what subscribers of `todos.changes` see when the instance they are connected to
//! restarts (SIGTERM, drain, a new process on the same port) while changes keep being made.
//!
//! Two `todos-server` processes share events through Redis (`REDIS_URL`): subscribers (the Rust
//! client) are connected to A, a publisher creates todos at a steady rate through B, and A is
//! restarted a third of the way in. Reported: events delivered, duplicates, missing, out of
//! order, `EVENTS_MISSED` markers, each subscriber's reconnect time (SIGTERM → open again) and
//! A's downtime (SIGTERM → the new process listening). `--in-process` runs one instance without
//! Redis instead (the publisher goes through the restarting instance; resuming is impossible
//! and the subscribers are told so).
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --release -p accord-bench --bin live
//! cargo run --release -p accord-bench --bin live -- --in-process
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accord::Cx;
use accord::client::{ConnectionState, HttpTransport, TransportOptions, WsTransport};
use accord_bench::process::{server_command, terminate};
use clap::Parser;
use futures_util::StreamExt;
use todos_api::{NewTodo, TodoError, TodoEvent, Todos, TodosClient};

#[derive(Parser)]
struct Args {
    /// Subscribers connected to the restarting instance.
    #[arg(long, default_value_t = 50)]
    subscribers: usize,
    /// Changes made in all.
    #[arg(long, default_value_t = 3000)]
    events: usize,
    /// Changes per second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// One instance, events in process (no Redis).
    #[arg(long)]
    in_process: bool,
}

/// One `todos-server` process.
struct Instance {
    child: Child,
    port: u16,
}

fn todos_server() -> PathBuf {
    let exe = std::env::current_exe().expect("this executable's path");
    let dir = exe.parent().expect("a directory");
    if let Some(cargo) = std::env::var_os("CARGO") {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", "todos-server", "--bin", "todos-server", "--manifest-path"])
            .arg(manifest);
        if dir.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        assert!(build.status().expect("cargo build").success(), "building todos-server failed");
    }
    dir.join("todos-server")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

impl Instance {
    fn start(binary: &Path, port: u16, redis: Option<&str>) -> Self {
        let mut command = server_command(binary);
        command.env("PORT", port.to_string()).env("RUST_LOG", "warn").env_remove("TODOS_WEB_DIR");
        match redis {
            Some(url) => command.env("REDIS_URL", url),
            None => command.env_remove("REDIS_URL"),
        };
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start todos-server");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        while !line.contains("listening on http://") {
            line.clear();
            assert!(stdout.read_line(&mut line).expect("read its stdout") > 0, "todos-server exited");
        }
        // Keep reading (and dropping) its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in stdout.lines() {});
        Self { child, port }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/rpc", self.port)
    }
}

/// What one subscriber saw.
#[derive(Default)]
struct Seen {
    events: Vec<usize>,
    markers: usize,
    opened: Vec<Instant>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let redis = if args.in_process {
        None
    } else {
        Some(std::env::var("REDIS_URL").expect("set REDIS_URL (or pass --in-process)"))
    };
    let binary = todos_server();
    let port = free_port();
    let mut a = Some(Instance::start(&binary, port, redis.as_deref()));
    let a_url = |scheme: &str| format!("{scheme}://127.0.0.1:{port}/rpc");
    let b = redis.as_deref().map(|url| Instance::start(&binary, free_port(), Some(url)));
    tokio::time::sleep(Duration::from_millis(500)).await; // readers follow the stream

    let options = TransportOptions::default().reconnect_backoff(Duration::from_millis(50), Duration::from_secs(1));
    let mut subscribers = Vec::new();
    for _ in 0..args.subscribers {
        let transport = WsTransport::connect_with_options(&a_url("ws"), options.clone()).await.expect("connect");
        let mut states = transport.watch_state();
        let client = TodosClient::new(transport);
        let mut changes = client.changes(&Cx::new()).await.expect("subscribe");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let watcher = seen.clone();
        tokio::spawn(async move {
            while states.changed().await.is_ok() {
                if *states.borrow_and_update() == ConnectionState::Open {
                    watcher.lock().unwrap().opened.push(Instant::now());
                }
            }
        });
        let collector = seen.clone();
        tokio::spawn(async move {
            let _client = client;
            while let Some(item) = changes.next().await {
                let mut seen = collector.lock().unwrap();
                match item {
                    Ok(item) => {
                        if let TodoEvent::Created { todo } = item.value
                            && let Some(n) = todo.title.strip_prefix("e-").and_then(|n| n.parse().ok())
                        {
                            seen.events.push(n);
                        }
                    }
                    Err(TodoError::Rpc(error)) if error.is_events_missed() => seen.markers += 1,
                    Err(error) => panic!("a subscription failed: {error}"),
                }
            }
        });
        subscribers.push(seen);
    }

    let publisher_url = b.as_ref().map_or_else(|| a_url("http"), |b| b.url("http"));
    let publisher = TodosClient::new(HttpTransport::new(&publisher_url).expect("publisher"));
    let every = Duration::from_secs(1) / args.rate.max(1);
    let restart_at = args.events / 3;
    let mut failed = 0;
    let (mut stopped, mut downtime) = (None, Duration::ZERO);
    let mut restart = None;
    let started = Instant::now();
    for n in 0..args.events {
        if n == restart_at {
            // A is restarted on another thread while the publisher goes on.
            let (binary, redis) = (binary.clone(), redis.clone());
            let mut old = a.take().expect("A runs");
            let at = Instant::now();
            stopped = Some(at);
            restart = Some(tokio::task::spawn_blocking(move || {
                terminate(&mut old.child);
                let again = Instance::start(&binary, port, redis.as_deref());
                (again, at.elapsed())
            }));
        }
        let todo = NewTodo { title: format!("e-{n}"), ..Default::default() };
        if publisher.create(&Cx::new(), todo).await.is_err() {
            failed += 1;
        }
        tokio::time::sleep_until((started + every * u32::try_from(n + 1).unwrap_or(u32::MAX)).into()).await;
    }
    if let Some(restart) = restart {
        let (again, took) = restart.await.expect("restart");
        a = Some(again);
        downtime = took;
    }
    let expected = args.events - failed;
    // Let the last events arrive: until every subscriber has them all, or none progresses for 5 s.
    let total = || subscribers.iter().map(|s| s.lock().unwrap().events.len()).sum::<usize>();
    let (mut last, mut progressed) = (total(), Instant::now());
    while last < expected * subscribers.len() && progressed.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = total();
        if now != last {
            (last, progressed) = (now, Instant::now());
        }
    }
    let drained = started.elapsed();

    report(&args, &subscribers, expected, failed, stopped, downtime);
    println!(
        "  all delivered {drained:.1?} after the first change (publishing took {:.1?})",
        every * u32::try_from(args.events).unwrap_or(u32::MAX)
    );
    if let Some(mut a) = a {
        terminate(&mut a.child);
    }
    if let Some(mut b) = b {
        terminate(&mut b.child);
    }
}

fn report(
    args: &Args,
    subscribers: &[Arc<Mutex<Seen>>],
    expected: usize,
    failed: usize,
    stopped: Option<Instant>,
    downtime: Duration,
) {
    let (mut delivered, mut duplicates, mut missing, mut disordered, mut markers) = (0, 0, 0, 0, 0);
    let mut reconnects = Vec::new();
    for seen in subscribers {
        let seen = seen.lock().unwrap();
        delivered += seen.events.len();
        let mut unique = seen.events.clone();
        unique.sort_unstable();
        unique.dedup();
        duplicates += seen.events.len() - unique.len();
        missing += expected.saturating_sub(unique.len());
        if std::env::var_os("LIVE_DEBUG").is_some() {
            let first_gap = (0..expected).find(|n| unique.binary_search(n).is_err());
            eprintln!("subscriber: {} events, first missing {first_gap:?}, last {:?}", unique.len(), unique.last());
        }
        disordered += seen.events.windows(2).filter(|pair| pair[1] <= pair[0]).count();
        markers += seen.markers;
        if let Some(stopped) = stopped
            && let Some(open) = seen.opened.iter().find(|at| **at > stopped)
        {
            reconnects.push(open.duration_since(stopped));
        }
    }
    reconnects.sort_unstable();
    let quantile = |q: f64| {
        reconnects
            .get(((reconnects.len() as f64 - 1.0) * q).round() as usize)
            .map_or("-".into(), |d| format!("{d:.0?}"))
    };
    let mode = if args.in_process { "in process (one instance)" } else { "Redis, two instances" };
    println!(
        "live: {mode}; {} subscribers, {} changes at {}/s, restart after {}",
        args.subscribers,
        args.events,
        args.rate,
        args.events / 3
    );
    println!("  changes refused during the restart: {failed}");
    println!("  delivered {delivered} of {} expected ({} per subscriber)", expected * subscribers.len(), expected);
    println!(
        "  duplicates {duplicates}, missing {missing}, out of order {disordered}, EVENTS_MISSED markers {markers}"
    );
    println!("  downtime (SIGTERM → new process listening): {downtime:.0?}");
    println!(
        "  reconnect (SIGTERM → open again): p50 {}, p90 {}, max {} ({} of {} reconnected)",
        quantile(0.5),
        quantile(0.9),
        quantile(1.0),
        reconnects.len(),
        subscribers.len()
    );
}
