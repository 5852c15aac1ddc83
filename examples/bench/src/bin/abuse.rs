//! Hostile clients against a bench server (Accord's default stack, a child process), and what a
//! well-behaved newcomer sees meanwhile: how long its call takes, and the server's memory.
//!
//! ```sh
//! cargo run --release -p accord-bench --bin abuse            # every scenario, markdown on stdout
//! cargo run --release -p accord-bench --bin abuse -- --attackers 1100 --scenarios idle
//! ```
//!
//! Scenarios (each on a fresh server, with its default limits: 1024 connections, head 10 s,
//! body 30 s, keep-alive 60 s):
//! - `idle`: attackers each make one call and keep the connection open, quiet.
//! - `dribble`: attackers send a request line, then a header byte every second, forever; a
//!   connection that is closed reconnects at once.
//! - `body`: attackers send a chunked body one byte every 100 ms, forever; reconnecting too.
//!
//! For each: the newcomer's latency (p50 and worst of the samples, a fresh connection each),
//! the server's peak RSS while attacked, and how many attacker connections the server closed.
//! Not run by CI: see `BENCHMARKS.md`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use accord_bench::process::{self, ServerProcess};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
#[command(name = "abuse")]
struct Args {
    /// Hostile connections per scenario.
    #[arg(long, default_value_t = 1100)]
    attackers: usize,
    /// Newcomer calls measured per scenario, one after another.
    #[arg(long, default_value_t = 20)]
    samples: usize,
    /// Seconds each scenario is measured (after the attackers are in place).
    #[arg(long, default_value_t = 15.0)]
    seconds: f64,
    /// What to run.
    #[arg(long, value_delimiter = ',', default_value = "idle,dribble,body")]
    scenarios: Vec<String>,
    /// Use the existing bench-server binary as is.
    #[arg(long)]
    no_build: bool,
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"bench.echo","params":{"message":"hi","count":1}}"#;

fn request() -> String {
    format!(
        "POST /rpc HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{CALL}",
        CALL.len()
    )
}

/// One call on a fresh connection; its latency, or `None` if it failed or took over 30 s.
async fn newcomer(addr: SocketAddr) -> Option<Duration> {
    let started = Instant::now();
    let call = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream.write_all(request().as_bytes()).await.ok()?;
        let mut answer = vec![0u8; 4096];
        let read = stream.read(&mut answer).await.ok()?;
        String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200").then_some(())
    };
    tokio::time::timeout(Duration::from_secs(30), call).await.ok().flatten().map(|()| started.elapsed())
}

/// One attacker, keeping its kind of pressure up until `stop`; counts server-side closes.
async fn attack(kind: &'static str, addr: SocketAddr, stop: Arc<AtomicBool>, closed: Arc<AtomicU64>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut buf = vec![0u8; 4096];
        match kind {
            "idle" => {
                if stream.write_all(request().as_bytes()).await.is_err()
                    || stream.read(&mut buf).await.unwrap_or(0) == 0
                {
                    continue;
                }
                // Quiet from now on; wait for the server to give up on us.
                while !stop.load(Ordering::Relaxed) {
                    match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await {
                        Ok(Ok(0)) | Ok(Err(_)) => break,
                        _ => {}
                    }
                }
            }
            "dribble" => {
                let _ = stream.write_all(b"POST /rpc HTTP/1.1\r\nhost: bench\r\nx-slow: ").await;
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if stream.write_all(b"a").await.is_err() {
                        break;
                    }
                    if let Ok(Ok(0) | Err(_)) =
                        tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await
                    {
                        break;
                    }
                }
            }
            _ => {
                let head = "POST /rpc HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                let _ = stream.write_all(head.as_bytes()).await;
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if stream.write_all(b"1\r\n \r\n").await.is_err() {
                        break;
                    }
                    if let Ok(Ok(0) | Err(_)) =
                        tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await
                    {
                        break;
                    }
                }
            }
        }
        if !stop.load(Ordering::Relaxed) {
            closed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct Outcome {
    scenario: String,
    p50: Option<Duration>,
    worst: Option<Duration>,
    failed: usize,
    idle_rss_mib: f64,
    peak_rss_mib: f64,
    closed: u64,
}

async fn scenario(kind: &'static str, args: &Args, binary: &std::path::Path) -> Outcome {
    let server = ServerProcess::spawn(binary, &format!("abuse-{kind}"), "default", "");
    let addr = server.addr;
    let idle_rss = server.rss_kib().unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicU64::new(0));
    let mut attackers = tokio::task::JoinSet::new();
    for _ in 0..args.attackers {
        attackers.spawn(attack(kind, addr, stop.clone(), closed.clone()));
        // Ramp up without flooding the backlog with SYNs all at once.
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("abuse: {kind}: {} attackers in place", args.attackers);

    let mut latencies = Vec::new();
    let mut failed = 0;
    let mut peak_rss = idle_rss;
    let measure_until = Instant::now() + Duration::from_secs_f64(args.seconds);
    let gap = Duration::from_secs_f64(args.seconds / args.samples.max(1) as f64);
    while Instant::now() < measure_until {
        match newcomer(addr).await {
            Some(latency) => latencies.push(latency),
            None => failed += 1,
        }
        peak_rss = peak_rss.max(server.rss_kib().unwrap_or(0));
        let next = Instant::now() + gap;
        while Instant::now() < next {
            peak_rss = peak_rss.max(server.rss_kib().unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    attackers.shutdown().await;
    latencies.sort();
    Outcome {
        scenario: kind.to_owned(),
        p50: latencies.get(latencies.len() / 2).copied(),
        worst: latencies.last().copied(),
        failed,
        idle_rss_mib: idle_rss as f64 / 1024.0,
        peak_rss_mib: peak_rss as f64 / 1024.0,
        closed: closed.load(Ordering::Relaxed),
    }
}

fn main() {
    let args = Args::parse();
    let binary = process::server_binary(args.no_build);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let mut outcomes = Vec::new();
    for kind in ["idle", "dribble", "body"] {
        if args.scenarios.iter().any(|s| s == kind) {
            outcomes.push(runtime.block_on(scenario(kind, &args, &binary)));
        }
    }
    let ms = |d: Option<Duration>| d.map_or("—".to_owned(), |d| format!("{:.1} ms", d.as_secs_f64() * 1000.0));
    println!(
        "| scenario ({} attackers) | newcomer p50 | newcomer worst | newcomers failed | server RSS idle → peak | attacker connections closed by the server |",
        args.attackers
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for o in outcomes {
        println!(
            "| {} | {} | {} | {} | {:.0} → {:.0} MiB | {} |",
            o.scenario,
            ms(o.p50),
            ms(o.worst),
            o.failed,
            o.idle_rss_mib,
            o.peak_rss_mib,
            o.closed
        );
    }
}
