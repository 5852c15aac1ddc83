//! Cold start: from the `exec` of `bench-server` until its first `bench.echo` answer.
//!
//! The clock starts just before the child is spawned. The load generator then connects in a
//! tight loop (a refused connect costs microseconds) and, once connected, sends one call over
//! plain blocking HTTP/1.1 (`Connection: close`) and reads the answer. A connection accepted
//! before the procedure can answer does not count: the loop goes on until a `result` arrives.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use accord_bench::client;
use accord_bench::stack::TOKEN;

use accord_bench::process as children;

/// Give up on a server that has not answered within this.
const LIMIT: Duration = Duration::from_secs(20);

/// `runs` cold starts of `stack`, each the time to the first answer.
pub fn cold_starts(binary: &Path, stack: &str, runs: usize) -> Vec<Duration> {
    (0..runs).map(|_| cold_start(binary, stack)).collect()
}

fn cold_start(binary: &Path, stack: &str) -> Duration {
    let port = free_port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let body = client::echo_call(1, "cold", 1);
    let request = format!(
        "POST /rpc HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );

    let started = Instant::now();
    let mut child = children::server_command(binary)
        .env("BENCH_STACK", stack)
        .env("PORT", port.to_string())
        .env_remove("BENCH_FULL_WITHOUT")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
    let elapsed = loop {
        assert!(started.elapsed() < LIMIT, "bench-server ({stack}) did not answer within {LIMIT:?}");
        if let Some(status) = child.try_wait().expect("poll the bench server") {
            panic!("bench-server ({stack}) exited during cold start: {status}");
        }
        let Ok(mut stream) = TcpStream::connect(addr) else {
            std::thread::yield_now();
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut answer = Vec::new();
        if stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_end(&mut answer).is_ok()
            && client::results(&answer) == 1
        {
            break started.elapsed();
        }
    };
    // The server listens for SIGTERM from before it announces itself, so this drains it.
    let status = children::terminate(&mut child);
    assert!(status.success(), "bench-server ({stack}) did not exit cleanly on SIGTERM: {status}");
    elapsed
}

/// A port nothing listens on right now (the kernel's choice; freed at once for the child).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("the bound address").port()
}
