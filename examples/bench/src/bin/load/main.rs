//! The load generator: starts every server variant as a child process of `bench-server`, loads
//! each one over 127.0.0.1 for a bounded time, and prints a markdown report on stdout
//! (progress goes to stderr).
//!
//! ```sh
//! cargo run --release -p accord-bench --bin load -- --duration-secs 10 --connections 32
//! ```
//!
//! In one run, by default in this order (`--scenarios` picks others): cold starts of each
//! stack; HTTP single calls against (a) raw jsonrpsee, (b) Accord default and (c) Accord full;
//! batches of 100 against single calls; WebSocket calls. `--breakdown` adds the full stack with
//! one part switched off at a time; `--scenarios soak` sends `--soak-calls` calls to the full
//! stack and samples its memory. Each scenario starts fresh servers and stops them (SIGTERM,
//! graceful) when done. Variants of one scenario are measured in interleaved rounds (a, b, c,
//! a, b, c...) so that drift of a shared machine hits all of them alike. Not run by CI: see
//! `BENCHMARKS.md`.

mod args;
mod cold;
mod report;
mod run;
mod soak;

use std::process::ExitStatus;
use std::time::Duration;

use accord_bench::client;
use bytes::Bytes;
use clap::Parser;

use crate::args::{Args, BREAKDOWN, Scenario};
use crate::report::Row;
use crate::run::{Measurement, Shape, Workload};
use accord_bench::process::{self as children, ServerProcess};

fn main() {
    let mut args = Args::parse();
    assert!(args.rounds >= 1 && args.duration_secs > 0.0, "--rounds and --duration-secs must be positive");
    if args.breakdown && !args.scenarios.contains(&Scenario::Breakdown) {
        args.scenarios.push(Scenario::Breakdown);
    }
    let binary = children::server_binary(args.no_build);
    let shape = Shape {
        connections: args.connections.max(1),
        warmup: Duration::from_secs_f64(args.warmup_secs.max(0.0)),
        duration: Duration::from_secs_f64(args.duration_secs / f64::from(args.rounds)),
    };
    let runtime = if args.client_threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.client_threads).enable_all().build()
    }
    .expect("build the load generator's runtime");

    let message = "x".repeat(args.message_len);
    let single = Workload::Http { body: Bytes::from(client::echo_call(1, &message, 7)), calls: 1 };
    let batch = Workload::Http {
        body: Bytes::from(client::echo_batch(args.batch_size, &message)),
        calls: args.batch_size.max(1),
    };
    let ws = Workload::Ws { text: client::echo_call(1, &message, 7).into() };

    let mut out = String::from("## Results\n\n");
    out += &report::machine();
    out += &format!(
        "- Load: {} connections, {} load-generator thread(s), `message` of {} chars, {:.0} s measured per variant \
         ({} interleaved rounds of {:.1} s, each after {:.1} s of warm-up); servers and load generator share the \
         machine's cores\n",
        shape.connections,
        args.client_threads,
        args.message_len,
        args.duration_secs,
        args.rounds,
        shape.duration.as_secs_f64(),
        shape.warmup.as_secs_f64(),
    );

    let mut exits = Vec::new();
    let mut measured: Vec<(String, Measurement)> = Vec::new();
    for scenario in &args.scenarios {
        let start = |label: &str, stack: &str, without: &str| ServerProcess::spawn(&binary, label, stack, without);
        match scenario {
            Scenario::Cold => {
                progress("cold starts");
                let cold: Vec<(&str, Vec<Duration>)> = ["raw", "default", "full"]
                    .into_iter()
                    .map(|stack| (stack, cold::cold_starts(&binary, stack, args.cold_runs.max(1))))
                    .collect();
                out += &format!(
                    "\n### Cold start (exec of `bench-server` → first `bench.echo` answer), {} runs\n\n",
                    args.cold_runs.max(1)
                );
                out += &report::cold_table(&cold);
            }
            Scenario::Http => {
                let (raw, default, full) =
                    (start("raw", "raw", ""), start("default", "default", ""), start("full", "full", ""));
                let runs = runtime.block_on(rounds(
                    &[(&raw, &single), (&default, &single), (&full, &single)],
                    shape,
                    args.rounds,
                ));
                let names = ["(a) raw jsonrpsee", "(b) Accord default", "(c) Accord full"];
                out += "\n### HTTP single calls (`POST /rpc`, keep-alive)\n\n";
                out += &report::calls_table(&rows(&names, &runs), &runs[0], "(a)");
                out += "\n";
                out += &report::verdict(&runs[0], &runs[1], &runs[2]);
                measured.extend(names.iter().map(|n| n.to_string()).zip(runs.iter().cloned()));
                exits.extend(stop([raw, default, full]));
            }
            Scenario::Batch => {
                let (raw, default) = (start("raw", "raw", ""), start("default", "default", ""));
                let targets = [(&default, &single), (&default, &batch), (&raw, &batch)];
                let runs = runtime.block_on(rounds(&targets, shape, args.rounds));
                let names = [
                    "single calls, Accord default".to_owned(),
                    format!("batches of {}, Accord default", args.batch_size),
                    format!("batches of {}, raw jsonrpsee", args.batch_size),
                ];
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                out += "\n### Batch vs single calls (HTTP)\n\n";
                out += &report::batch_table(&rows(&names, &runs));
                measured.extend(names.iter().map(|n| n.to_string()).zip(runs));
                exits.extend(stop([raw, default]));
            }
            Scenario::Ws => {
                let (raw, default) = (start("raw", "raw", ""), start("default", "default", ""));
                let runs = runtime.block_on(rounds(&[(&raw, &ws), (&default, &ws)], shape, args.rounds));
                let names = ["raw jsonrpsee (WebSocket)", "Accord default (WebSocket)"];
                out += "\n### WebSocket calls (request, then response, on each socket)\n\n";
                out += &report::calls_table(&rows(&names, &runs), &runs[0], "raw");
                measured.extend(names.iter().map(|n| n.to_string()).zip(runs));
                exits.extend(stop([raw, default]));
            }
            Scenario::Soak => {
                let full = start("full", "full", "");
                let turns = [&single, &batch, &ws];
                let soak = runtime.block_on(soak::run(
                    &full,
                    &turns,
                    shape.connections,
                    args.soak_calls,
                    Duration::from_secs(2),
                ));
                out += &format!(
                    "\n### Memory over {} calls (Accord full; single calls, batches of {} and WebSocket calls in 2 s turns)\n\n",
                    args.soak_calls, args.batch_size
                );
                out += &soak::table(&soak, args.soak_calls, turns.len());
                exits.extend(stop([full]));
            }
            Scenario::Breakdown => {
                let mut variants = vec![start("default", "default", ""), start("full", "full", "")];
                variants
                    .extend(BREAKDOWN.iter().map(|(label, without)| start(&label.replace(' ', "-"), "full", without)));
                let targets: Vec<_> = variants.iter().map(|server| (server, &single)).collect();
                let runs = runtime.block_on(rounds(&targets, shape, args.rounds));
                let mut names = vec!["(b) Accord default", "(c) Accord full"];
                names.extend(BREAKDOWN.iter().map(|(label, _)| *label));
                out += "\n### Full stack, one part off at a time (HTTP single calls)\n\n";
                out += &report::calls_table(&rows(&names, &runs), &runs[0], "(b)");
                measured.extend(names.iter().map(|n| n.to_string()).zip(runs));
                exits.extend(stop(variants));
            }
        }
    }
    if !exits.is_empty() {
        let clean = exits.iter().all(|(_, status)| status.success());
        let exits: Vec<String> = exits.iter().map(|(label, status)| format!("{label} {status}")).collect();
        out += &format!(
            "\nGraceful shutdown on SIGTERM: {} ({}).\n",
            if clean { "every server exited 0" } else { "NOT clean" },
            exits.join(", ")
        );
    }

    let all: Vec<Row<'_>> = measured.iter().map(|(name, measurement)| Row { name, measurement }).collect();
    if !all.is_empty() {
        let busiest = all.iter().map(|row| row.measurement.busiest_other_percent).fold(0.0, f64::max);
        out += &format!(
            "\nOther CPU use (neither server nor load generator) in the busiest measured round: {busiest:.0}% of one core.\n"
        );
    }
    let errors = report::first_errors(&all);
    if !errors.is_empty() {
        out += "\nErrors:\n\n";
        out += &errors;
    }
    print!("{out}");
}

/// Stops each server (SIGTERM, graceful drain) and returns its label and exit status.
fn stop(servers: impl IntoIterator<Item = ServerProcess>) -> Vec<(String, ExitStatus)> {
    servers
        .into_iter()
        .map(|mut server| {
            let status = server.stop();
            (server.label.clone(), status)
        })
        .collect()
}

/// Pairs row names with measurements.
fn rows<'a>(names: &[&'a str], runs: &'a [Measurement]) -> Vec<Row<'a>> {
    names.iter().zip(runs).map(|(name, measurement)| Row { name, measurement }).collect()
}

/// Measures each (server, workload) pair `rounds` times, interleaved, and merges the rounds.
async fn rounds(targets: &[(&ServerProcess, &Workload)], shape: Shape, rounds: u32) -> Vec<Measurement> {
    let mut runs: Vec<Vec<Measurement>> = vec![Vec::new(); targets.len()];
    for round in 1..=rounds {
        for (i, (server, workload)) in targets.iter().enumerate() {
            let kind = match workload {
                Workload::Http { calls: 1, .. } => "http",
                Workload::Http { .. } => "http batch",
                Workload::Ws { .. } => "ws",
            };
            progress(&format!("round {round}/{rounds}: {kind} → {}", server.label));
            let measurement = run::measure(server, workload, shape).await;
            progress(&format!(
                "  {:.0} req/s, {:.0} calls/s, p50 {:.0} µs, p99 {:.0} µs, {} errors; other CPU {:.0}% of a core",
                measurement.requests_per_sec(),
                measurement.calls_per_sec(),
                measurement.latency_us(0.5),
                measurement.latency_us(0.99),
                measurement.errors,
                measurement.other_cpu_percent(),
            ));
            runs[i].push(measurement);
        }
    }
    runs.iter().map(|runs| Measurement::total(runs)).collect()
}

fn progress(what: &str) {
    eprintln!("load: {what}");
}
