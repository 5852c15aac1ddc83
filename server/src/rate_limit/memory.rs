//! The in-process backend: one governor keyed GCRA limiter per rule, keyed by caller.
//!
//! Quota: a burst of `calls`, refilling one call every `per / calls` (at least 1 ns).
//!
//! **Bounded memory.** governor keeps one small state (the key and a `u64`) per caller and never forgets
//! one on its own. Every [`CHECK_EVERY`]th check of a rule looks at the time and the key count,
//! and runs `retain_recent()` (drops callers whose budget is full again, i.e. idle for about
//! `per + per / calls`) plus `shrink_to_fit()` when either [`RETAIN_INTERVAL`] has passed since
//! the last run or the key count has doubled since then. So memory follows the callers active
//! in the last `per` + 10 s, the sweep costs amortised O(1) per check, and no background task
//! is needed. A rule nobody calls holds whatever it had, which is bounded by the last sweep.
//!
//! **Hot path.** The rule is looked up by `&str`. governor wants a `&String` key, so the caller
//! is copied into a reused thread-local buffer: no allocation per check except the one governor
//! makes to store a caller it has not seen.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::{Quota, RateLimiter};

use super::bounded_store::{BoundedStore, is_capacity_refusal};
use super::{Decision, MAX_KEYS_PER_RULE, RateLimit};

type KeyedLimiter = RateLimiter<String, BoundedStore, DefaultClock, NoOpMiddleware>;

/// How many checks of a rule between two looks at whether to sweep.
const CHECK_EVERY: u32 = 256;
/// The longest time between two sweeps of a rule that is being checked.
const RETAIN_INTERVAL: Duration = Duration::from_secs(10);
/// The key count below which growth alone does not trigger a sweep.
const MIN_HIGH_WATER: usize = 1024;
/// What a caller refused because the rule tracks too many others is told to wait.
const CAPACITY_RETRY_AFTER: Duration = Duration::from_secs(1);
/// A caller buffer grown past this is dropped after use instead of kept.
const MAX_KEPT_BUFFER: usize = 1024;

thread_local! {
    static CALLER: RefCell<String> = const { RefCell::new(String::new()) };
}

pub(super) struct MemoryLimiter {
    rules: HashMap<Box<str>, Rule>,
    retain_interval: Duration,
}

struct Rule {
    limit: RateLimit,
    capacity: usize,
    limiter: KeyedLimiter,
    checks: AtomicU32,
    sweep: Mutex<Sweep>,
}

struct Sweep {
    last: Instant,
    high_water: usize,
}

impl MemoryLimiter {
    pub(super) fn new(rules: HashMap<Box<str>, RateLimit>) -> Self {
        Self::with_retain_interval(rules, RETAIN_INTERVAL)
    }

    fn with_retain_interval(rules: HashMap<Box<str>, RateLimit>, retain_interval: Duration) -> Self {
        Self::with_capacity(rules, retain_interval, MAX_KEYS_PER_RULE)
    }

    fn with_capacity(rules: HashMap<Box<str>, RateLimit>, retain_interval: Duration, capacity: usize) -> Self {
        let rules = rules.into_iter().map(|(id, limit)| (id, Rule::new(limit, capacity))).collect();
        Self { rules, retain_interval }
    }

    pub(super) fn limit(&self, rule: &str) -> Option<RateLimit> {
        self.rules.get(rule).map(|r| r.limit)
    }

    pub(super) fn check(&self, rule: &str, caller: &str) -> Decision {
        let Some(rule) = self.rules.get(rule) else { return Decision::Allow };
        if rule.limiter.len() >= rule.capacity {
            // Full: idle callers make room before a new one is refused.
            rule.sweep_if_free();
        }
        let outcome = CALLER.with_borrow_mut(|key| {
            key.clear();
            key.push_str(caller);
            let outcome = rule.limiter.check_key(key);
            if key.capacity() > MAX_KEPT_BUFFER {
                *key = String::new();
            }
            outcome
        });
        if rule.checks.fetch_add(1, Ordering::Relaxed).is_multiple_of(CHECK_EVERY) {
            rule.maybe_sweep(self.retain_interval);
        }
        match outcome {
            Ok(()) => Decision::Allow,
            Err(not_until) => {
                let wait = not_until.wait_time_from(rule.limiter.clock().now());
                if is_capacity_refusal(wait) {
                    return Decision::Deny { retry_after: CAPACITY_RETRY_AFTER };
                }
                Decision::Deny { retry_after: wait.max(Duration::from_millis(1)) }
            }
        }
    }
}

impl Rule {
    fn new(limit: RateLimit, capacity: usize) -> Self {
        let burst = NonZeroU32::new(limit.calls()).unwrap_or(NonZeroU32::MIN);
        let interval = (limit.per() / burst.get()).max(Duration::from_nanos(1));
        // `with_period` is `None` only for a zero interval, excluded just above.
        let quota = Quota::with_period(interval).map_or(Quota::per_second(burst), |q| q.allow_burst(burst));
        let sweep = Sweep { last: Instant::now(), high_water: MIN_HIGH_WATER };
        Self {
            limit,
            capacity,
            limiter: RateLimiter::new(quota, BoundedStore::new(capacity), DefaultClock::default()),
            checks: AtomicU32::new(1),
            sweep: Mutex::new(sweep),
        }
    }

    /// Sweeps idle callers if due. Never waits: if another thread is sweeping, returns.
    fn maybe_sweep(&self, retain_interval: Duration) {
        let Ok(mut sweep) = self.sweep.try_lock() else { return };
        let len = self.limiter.len();
        if sweep.last.elapsed() < retain_interval && len <= sweep.high_water {
            return;
        }
        self.sweep_now();
        sweep.last = Instant::now();
        sweep.high_water = (self.limiter.len() * 2).max(MIN_HIGH_WATER);
    }

    /// Sweeps now unless another thread already is.
    fn sweep_if_free(&self) {
        if let Ok(mut sweep) = self.sweep.try_lock() {
            self.sweep_now();
            sweep.last = Instant::now();
        }
    }

    fn sweep_now(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

impl fmt::Debug for MemoryLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.rules.iter().map(|(id, rule)| (id, rule.limit))).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rules: &[(&str, u32, Duration)]) -> MemoryLimiter {
        limiter_sweeping_every(rules, RETAIN_INTERVAL)
    }

    fn limiter_sweeping_every(rules: &[(&str, u32, Duration)], interval: Duration) -> MemoryLimiter {
        let rules = rules.iter().map(|&(id, calls, per)| (id.into(), RateLimit::new(calls, per).unwrap())).collect();
        MemoryLimiter::with_retain_interval(rules, interval)
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn ten_per_minute_allows_a_burst_of_ten_then_one_every_six_seconds() {
        let limiter = limiter(&[("*", 10, MINUTE)]);
        for i in 0..10 {
            assert_eq!(limiter.check("*", "alice"), Decision::Allow, "call {i}");
        }
        for _ in 0..5 {
            let Decision::Deny { retry_after } = limiter.check("*", "alice") else { panic!("allowed an 11th call") };
            assert!(
                retry_after > Duration::from_millis(5_500) && retry_after <= Duration::from_secs(6),
                "{retry_after:?}"
            );
        }
    }

    #[test]
    fn callers_and_rules_are_independent() {
        let limiter = limiter(&[("*", 2, MINUTE), ("todos.create", 1, MINUTE)]);
        for caller in ["alice", "bob"] {
            assert!(limiter.check("*", caller).is_allowed());
            assert!(limiter.check("*", caller).is_allowed());
            assert!(!limiter.check("*", caller).is_allowed());
        }
        assert!(limiter.check("todos.create", "alice").is_allowed());
        assert!(!limiter.check("todos.create", "alice").is_allowed());
        assert!(limiter.check("todos.create", "bob").is_allowed());
        assert!(!limiter.check("*", "alice").is_allowed(), "rule `*` still exhausted");
    }

    #[test]
    fn an_unknown_rule_allows() {
        let limiter = limiter(&[("*", 1, MINUTE)]);
        for _ in 0..100 {
            assert_eq!(limiter.check("todos.delete", "alice"), Decision::Allow);
        }
        assert_eq!(limiter.limit("todos.delete"), None);
        assert_eq!(limiter.limit("*"), Some(RateLimit::new(1, MINUTE).unwrap()));
    }

    #[test]
    fn a_caller_is_allowed_again_after_the_refill() {
        let limiter = limiter(&[("*", 2, Duration::from_millis(40))]);
        assert!(limiter.check("*", "alice").is_allowed());
        assert!(limiter.check("*", "alice").is_allowed());
        let Decision::Deny { retry_after } = limiter.check("*", "alice") else { panic!("allowed a 3rd call") };
        assert!(retry_after <= Duration::from_millis(20), "{retry_after:?}");
        std::thread::sleep(retry_after + Duration::from_millis(2));
        assert!(limiter.check("*", "alice").is_allowed());
    }

    #[test]
    fn a_sweep_forgets_idle_callers() {
        let limiter = limiter(&[("*", 1, Duration::from_millis(20))]);
        for i in 0..1000 {
            limiter.check("*", &format!("caller-{i}"));
        }
        let rule = &limiter.rules["*"];
        assert!(rule.limiter.len() >= 1000);
        std::thread::sleep(Duration::from_millis(60));
        rule.sweep_now();
        assert_eq!(rule.limiter.len(), 0);
    }

    #[test]
    fn checks_sweep_on_their_own_so_many_callers_stay_bounded() {
        let limiter = limiter_sweeping_every(&[("*", 1, Duration::from_millis(20))], Duration::from_millis(30));
        let rule = &limiter.rules["*"];
        for round in 0..4 {
            for i in 0..3000 {
                limiter.check("*", &format!("round-{round}-caller-{i}"));
            }
            // Every earlier round is idle by now and must have been swept during this one.
            assert!(rule.limiter.len() <= 3000, "round {round}: {} keys", rule.limiter.len());
            std::thread::sleep(Duration::from_millis(60));
        }
        assert!(rule.limiter.len() <= 3000);
    }

    #[test]
    fn a_full_rule_refuses_new_callers_but_keeps_counting_known_ones() {
        let rules = [("*".into(), RateLimit::new(2, MINUTE).unwrap())].into_iter().collect();
        let limiter = MemoryLimiter::with_capacity(rules, RETAIN_INTERVAL, 3);
        for caller in ["a", "b", "c"] {
            assert!(limiter.check("*", caller).is_allowed());
        }
        assert_eq!(limiter.check("*", "d"), Decision::Deny { retry_after: CAPACITY_RETRY_AFTER });
        assert_eq!(limiter.rules["*"].limiter.len(), 3, "the refused caller is not stored");
        assert!(limiter.check("*", "a").is_allowed(), "known callers keep their own budget");
        assert!(!limiter.check("*", "a").is_allowed());
    }

    #[test]
    fn a_full_rule_makes_room_by_sweeping_idle_callers() {
        let rules = [("*".into(), RateLimit::new(1, Duration::from_millis(20)).unwrap())].into_iter().collect();
        let limiter = MemoryLimiter::with_capacity(rules, Duration::from_secs(3600), 3);
        for caller in ["a", "b", "c"] {
            assert!(limiter.check("*", caller).is_allowed());
        }
        std::thread::sleep(Duration::from_millis(60));
        assert!(limiter.check("*", "d").is_allowed(), "idle callers were swept for the newcomer");
    }

    #[test]
    fn growth_alone_triggers_a_sweep() {
        // A sweep interval that never elapses: only doubling of the key count can trigger.
        let limiter = limiter_sweeping_every(&[("*", 1, Duration::from_millis(10))], Duration::from_secs(3600));
        let rule = &limiter.rules["*"];
        for i in 0..MIN_HIGH_WATER {
            limiter.check("*", &format!("old-{i}"));
        }
        std::thread::sleep(Duration::from_millis(40));
        for i in 0..4 * MIN_HIGH_WATER {
            limiter.check("*", &format!("new-{i}"));
        }
        assert!(rule.limiter.len() <= 4 * MIN_HIGH_WATER, "{} keys: the old ones were not swept", rule.limiter.len());
    }
}
