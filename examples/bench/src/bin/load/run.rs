//! One measured run: `connections` closed-loop workers, each on its own keep-alive connection,
//! sending a request, waiting for the answer, sending the next, until the time is up.
//!
//! The first `warmup` of a run is not recorded (connections open, caches and allocators warm
//! up, the server's threads spin up); only requests *sent* inside the measured window count.
//! Latency is per request (a batch is one request), recorded in an HDR histogram. CPU time of
//! the server and of the load generator is sampled at both ends of the window.

use std::time::{Duration, Instant};

use accord_bench::client::{self, ClientError, HttpConn, WsConn};
use accord_bench::stack::TOKEN;
use bytes::Bytes;
use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use accord_bench::process::{self as children, ServerProcess};

/// What each worker sends.
#[derive(Clone)]
pub enum Workload {
    /// `POST /rpc` with this body, expecting `calls` results per answer.
    Http { body: Bytes, calls: usize },
    /// A WebSocket text message, expecting one result.
    Ws { text: Utf8Bytes },
}

impl Workload {
    /// Calls per request.
    fn calls(&self) -> usize {
        match self {
            Workload::Http { calls, .. } => *calls,
            Workload::Ws { .. } => 1,
        }
    }
}

/// How long and how wide.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What one or more runs against one server measured.
#[derive(Clone)]
pub struct Measurement {
    /// Requests answered in full, inside the window(s).
    pub requests: u64,
    /// Calls answered (requests × calls per request).
    pub calls: u64,
    /// Requests answered with any error, or that failed.
    pub errors: u64,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
    /// Length of the measured window(s).
    pub seconds: f64,
    /// Requests per second of each run (round).
    pub rates: Vec<f64>,
    /// Request latency, nanoseconds.
    pub latency: Histogram<u64>,
    pub server_cpu_ns: u64,
    pub client_cpu_ns: u64,
    /// CPU time used on the machine by neither the server nor the load generator (other
    /// processes, the kernel's own threads, steal).
    pub other_cpu_ns: u64,
    /// The largest [`Measurement::other_cpu_percent`] of a single run.
    pub busiest_other_percent: f64,
    /// The server's resident memory after the last run.
    pub server_rss_kib: Option<u64>,
}

impl Measurement {
    fn empty() -> Self {
        Self {
            requests: 0,
            calls: 0,
            errors: 0,
            first_error: None,
            seconds: 0.0,
            rates: Vec::new(),
            latency: new_histogram(),
            server_cpu_ns: 0,
            client_cpu_ns: 0,
            other_cpu_ns: 0,
            busiest_other_percent: 0.0,
            server_rss_kib: None,
        }
    }

    /// Adds another run's numbers (rounds of the same variant).
    pub fn merge(&mut self, other: &Measurement) {
        self.requests += other.requests;
        self.calls += other.calls;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        self.seconds += other.seconds;
        self.rates.extend_from_slice(&other.rates);
        self.latency.add(&other.latency).expect("histograms with the same bounds merge");
        self.server_cpu_ns += other.server_cpu_ns;
        self.client_cpu_ns += other.client_cpu_ns;
        self.other_cpu_ns += other.other_cpu_ns;
        self.busiest_other_percent = self.busiest_other_percent.max(other.busiest_other_percent);
        self.server_rss_kib = other.server_rss_kib.or(self.server_rss_kib);
    }

    /// Merges a list of runs.
    pub fn total(runs: &[Measurement]) -> Measurement {
        let mut total = Measurement::empty();
        for run in runs {
            total.merge(run);
        }
        total
    }

    /// Requests per second: the median over the runs (rounds), so that one round disturbed by
    /// something else on the machine does not move the result.
    pub fn requests_per_sec(&self) -> f64 {
        let mut rates = self.rates.clone();
        rates.sort_by(f64::total_cmp);
        match rates.len() {
            0 => 0.0,
            n if n % 2 == 1 => rates[n / 2],
            n => (rates[n / 2 - 1] + rates[n / 2]) / 2.0,
        }
    }

    /// The slowest and fastest run, requests per second.
    pub fn rate_range(&self) -> (f64, f64) {
        let min = self.rates.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.rates.iter().copied().fold(0.0, f64::max);
        (if min.is_finite() { min } else { 0.0 }, max)
    }

    /// Calls per second (the median requests per second times the calls per request).
    pub fn calls_per_sec(&self) -> f64 {
        self.requests_per_sec() * self.calls as f64 / self.requests.max(1) as f64
    }

    /// Latency at `quantile` (0..=1), microseconds.
    pub fn latency_us(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1_000.0
    }

    /// Server CPU per call, microseconds.
    pub fn server_us_per_call(&self) -> f64 {
        self.server_cpu_ns as f64 / 1_000.0 / self.calls.max(1) as f64
    }

    /// CPU used by anything else during the window, in percent of one core.
    pub fn other_cpu_percent(&self) -> f64 {
        self.other_cpu_ns as f64 / 1e7 / self.seconds.max(f64::EPSILON)
    }

    /// Load-generator CPU per call, microseconds.
    pub fn client_us_per_call(&self) -> f64 {
        self.client_cpu_ns as f64 / 1_000.0 / self.calls.max(1) as f64
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 ns to 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// What one worker saw.
struct Tally {
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    latency: Histogram<u64>,
}

impl Tally {
    fn new() -> Self {
        Self { requests: 0, errors: 0, first_error: None, latency: new_histogram() }
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }
}

/// One run of `workload` against `server`.
pub async fn measure(server: &ServerProcess, workload: &Workload, shape: Shape) -> Measurement {
    let begin = Instant::now();
    let from = begin + shape.warmup;
    let until = from + shape.duration;

    let mut workers = JoinSet::new();
    for _ in 0..shape.connections {
        let workload = workload.clone();
        let addr = server.addr;
        workers.spawn(async move {
            match workload {
                Workload::Http { body, calls } => http_worker(addr, body, calls, from, until).await,
                Workload::Ws { text } => ws_worker(addr, text, from, until).await,
            }
        });
    }

    tokio::time::sleep_until(from.into()).await;
    let (server_cpu, client_cpu, machine_cpu) = (server.cpu_ns(), children::own_cpu_ns(), children::machine_cpu_ns());
    tokio::time::sleep_until(until.into()).await;
    let server_cpu = server.cpu_ns().saturating_sub(server_cpu);
    let client_cpu = children::own_cpu_ns().saturating_sub(client_cpu);
    let machine_cpu = children::machine_cpu_ns().saturating_sub(machine_cpu);

    let mut measurement = Measurement::empty();
    while let Some(tally) = workers.join_next().await {
        let tally = tally.expect("a load worker panicked");
        measurement.requests += tally.requests;
        measurement.errors += tally.errors;
        if measurement.first_error.is_none() {
            measurement.first_error = tally.first_error;
        }
        measurement.latency.add(&tally.latency).expect("histograms with the same bounds merge");
    }
    measurement.calls = measurement.requests * workload.calls() as u64;
    measurement.seconds = shape.duration.as_secs_f64();
    measurement.rates = vec![measurement.requests as f64 / measurement.seconds.max(f64::EPSILON)];
    measurement.server_cpu_ns = server_cpu;
    measurement.client_cpu_ns = client_cpu;
    measurement.other_cpu_ns = machine_cpu.saturating_sub(server_cpu + client_cpu);
    measurement.busiest_other_percent = measurement.other_cpu_percent();
    measurement.server_rss_kib = server.rss_kib();
    measurement
}

async fn http_worker(addr: std::net::SocketAddr, body: Bytes, calls: usize, from: Instant, until: Instant) -> Tally {
    let mut tally = Tally::new();
    let mut connection = match HttpConn::connect(addr, Some(TOKEN)).await {
        Ok(connection) => connection,
        Err(error) => {
            tally.error(format!("connect: {error}"));
            return tally;
        }
    };
    loop {
        let sent = Instant::now();
        if sent >= until {
            return tally;
        }
        let answer = connection.post(body.clone()).await;
        let measured = sent >= from;
        match answer {
            Ok(answer) if client::results(&answer) == calls => {
                if measured {
                    tally.requests += 1;
                    tally.latency.saturating_record(nanos(sent.elapsed()));
                }
            }
            Ok(answer) => tally.error(String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned()),
            Err(error) => {
                tally.error(error.to_string());
                return tally;
            }
        }
    }
}

async fn ws_worker(addr: std::net::SocketAddr, text: Utf8Bytes, from: Instant, until: Instant) -> Tally {
    let mut tally = Tally::new();
    let mut connection = match WsConn::connect(addr, Some(TOKEN)).await {
        Ok(connection) => connection,
        Err(error) => {
            tally.error(format!("connect: {error}"));
            return tally;
        }
    };
    loop {
        let sent = Instant::now();
        if sent >= until {
            connection.close().await;
            return tally;
        }
        let answer: Result<Utf8Bytes, ClientError> = connection.call(text.clone()).await;
        let measured = sent >= from;
        match answer {
            Ok(answer) if client::results(answer.as_bytes()) == 1 => {
                if measured {
                    tally.requests += 1;
                    tally.latency.saturating_record(nanos(sent.elapsed()));
                }
            }
            Ok(answer) => tally.error(answer.as_str().chars().take(300).collect()),
            Err(error) => {
                tally.error(error.to_string());
                return tally;
            }
        }
    }
}

fn nanos(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}
