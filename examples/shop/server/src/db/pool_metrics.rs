//! Connection-pool statistics in the server's `/metrics`.
//!
//! | metric | labels | |
//! |---|---|---|
//! | `shop_db_connections` | `pool` (`write`/`read`), `state` (`in_use`/`idle`/`max`) | refreshed every second |
//! | `shop_db_acquire_seconds` | | histogram of the wait for a pooled connection |
//! | `shop_db_acquire_timeouts_total` | | acquisitions that gave up (answered `UNAVAILABLE`) |

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};

use super::Pool;

pub(super) struct PoolMetrics {
    /// Per pool: in use, idle.
    write: (Gauge, Gauge),
    read: (Gauge, Gauge),
    wait: Histogram,
    timeouts: Counter,
}

impl std::fmt::Debug for PoolMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolMetrics")
    }
}

impl PoolMetrics {
    pub fn register(metrics: &accord_server::Metrics, write: &Pool, read: &Pool) -> Self {
        let gauge = |pool: &str, state: &str| {
            metrics.gauge("shop_db_connections", &[("pool", pool.to_owned()), ("state", state.to_owned())])
        };
        for (name, pool) in [("write", write), ("read", read)] {
            let max = match pool {
                Pool::Sqlite(p) => p.options().get_max_connections(),
                Pool::Postgres(p) => p.options().get_max_connections(),
            };
            gauge(name, "max").set(f64::from(max));
        }
        let this = Self {
            write: (gauge("write", "in_use"), gauge("write", "idle")),
            read: (gauge("read", "in_use"), gauge("read", "idle")),
            wait: metrics.histogram("shop_db_acquire_seconds", &[]),
            timeouts: metrics.counter("shop_db_acquire_timeouts_total", &[]),
        };
        this.refresh(write, read);
        this
    }

    pub fn acquired(&self, waited: Duration, ok: bool) {
        self.wait.record(waited.as_secs_f64());
        if !ok {
            self.timeouts.increment(1);
        }
    }

    pub fn refresh(&self, write: &Pool, read: &Pool) {
        for ((in_use, idle), pool) in [(&self.write, write), (&self.read, read)] {
            let (size, idle_now) = pool.size_and_idle();
            let idle_now = u32::try_from(idle_now).unwrap_or(u32::MAX);
            in_use.set(f64::from(size.saturating_sub(idle_now)));
            idle.set(f64::from(idle_now));
        }
    }
}
