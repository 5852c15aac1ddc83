//! The markdown report: machine, settings, one table per scenario, ratios and the verdict on the
//! target, ready to paste into `BENCHMARKS.md`.

use std::fmt::Write;
use std::process::Command;
use std::time::Duration;

use crate::run::Measurement;

/// The throughput the full stack must keep, as a share of raw jsonrpsee's.
pub const TARGET: f64 = 0.85;

/// A measured variant with its row label.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    pub name: &'a str,
    pub measurement: &'a Measurement,
}

/// What the machine is.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:")?.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(|| "?".into(), |kib| format!("{:.1}", kib / 1024.0 / 1024.0));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = command_output("rustc", &["--version"]);
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    format!(
        "- Machine: {cpus} CPUs (nproc), {model}, {memory_gib} GiB RAM, Linux {}\n- Toolchain: {rustc}, \
         `--release`\n- Date: {date}\n",
        kernel.trim()
    )
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| format!("unknown ({program} not found)"))
}

/// Single calls over HTTP, or calls over WebSocket: throughput, its ratio to `baseline`,
/// latency and CPU.
pub fn calls_table(rows: &[Row<'_>], baseline: &Measurement, baseline_name: &str) -> String {
    let mut out = format!(
        "| stack | req/s | rounds min–max | vs {baseline_name} | p50 µs | p99 µs | server CPU µs/call | \
         load CPU µs/call | server RSS MiB | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for row in rows {
        let m = row.measurement;
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0}–{:.0} | {:.2} | {:.0} | {:.0} | {:.1} | {:.1} | {} | {} |",
            row.name,
            m.requests_per_sec(),
            m.rate_range().0,
            m.rate_range().1,
            m.requests_per_sec() / baseline.requests_per_sec().max(f64::EPSILON),
            m.latency_us(0.5),
            m.latency_us(0.99),
            m.server_us_per_call(),
            m.client_us_per_call(),
            m.server_rss_kib.map_or_else(|| "?".into(), |kib| format!("{:.0}", kib as f64 / 1024.0)),
            m.errors,
        );
    }
    out
}

/// Batches against singles: calls per second is what to compare; latency is per request.
pub fn batch_table(rows: &[Row<'_>]) -> String {
    let mut out = String::from(
        "| mode | calls/s | requests/s | p50 µs/request | p99 µs/request | server CPU µs/call | errors |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let m = row.measurement;
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {} |",
            row.name,
            m.calls_per_sec(),
            m.requests_per_sec(),
            m.latency_us(0.5),
            m.latency_us(0.99),
            m.server_us_per_call(),
            m.errors,
        );
    }
    out
}

/// The two ratios and whether the target is met.
pub fn verdict(raw: &Measurement, default: &Measurement, full: &Measurement) -> String {
    let ratio = |m: &Measurement| m.requests_per_sec() / raw.requests_per_sec().max(f64::EPSILON);
    let (b, c) = (ratio(default), ratio(full));
    let met = if c >= TARGET { "**met**" } else { "**not met**" };
    let cost = |m: &Measurement| raw.server_us_per_call() / m.server_us_per_call().max(f64::EPSILON);
    format!(
        "Throughput ratios: (b)/(a) = **{b:.2}**, (c)/(a) = **{c:.2}**. Target (c)/(a) ≥ {TARGET}: {met}.\n\n\
         Server CPU per call, as a ratio (a)/(x) (what the throughput ratio would be if the server had the \
         cores to itself): (b) {:.2}, (c) {:.2}.\n",
        cost(default),
        cost(full)
    )
}

/// Cold start per stack: median, min and max of the runs.
pub fn cold_table(rows: &[(&str, Vec<Duration>)]) -> String {
    let mut out = String::from("| stack | runs | median ms | min ms | max ms |\n|---|---:|---:|---:|---:|\n");
    for (name, runs) in rows {
        let mut sorted = runs.clone();
        sorted.sort();
        let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1_000.0);
        let _ = writeln!(
            out,
            "| {name} | {} | {:.1} | {:.1} | {:.1} |",
            sorted.len(),
            ms(sorted.get(sorted.len() / 2)),
            ms(sorted.first()),
            ms(sorted.last()),
        );
    }
    out
}

/// Errors worth a look, one line each.
pub fn first_errors(rows: &[Row<'_>]) -> String {
    rows.iter()
        .filter_map(|row| Some(format!("- {}: first error: `{}`\n", row.name, row.measurement.first_error.as_ref()?)))
        .collect()
}
