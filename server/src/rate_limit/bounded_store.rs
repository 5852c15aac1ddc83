//! governor's DashMap state store with a cap on the number of callers it tracks.
//!
//! governor keeps one state per key it has seen and never forgets one by itself; the memory
//! backend sweeps idle keys, but a flood of fresh keys (one per address of a large IPv6
//! range, say) inside one window would still grow without bound. At the cap, a key not yet
//! tracked is measured against a state that is always over its limit, so the call is refused
//! and nothing is stored; the limiter reports such refusals as a 1 s wait
//! ([`is_capacity_refusal`]).

use std::time::Duration;

use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::{NotKeyed, StateStore};

use super::RateLimit;

/// The theoretical arrival time of a caller that may never call: every check against it fails
/// with a wait of over a century (far enough to tell from a real wait, near enough that
/// governor's arithmetic on it cannot overflow).
const FULL: u64 = u64::MAX / 4;

pub(super) struct BoundedStore {
    map: DashMapStateStore<String>,
    capacity: usize,
}

impl BoundedStore {
    pub(super) fn new(capacity: usize) -> Self {
        Self { map: DashMapStateStore::default(), capacity }
    }
}

/// Whether a refusal's wait comes from the cap rather than from a real limit (no real limit
/// waits longer than its window, which is at most [`RateLimit::MAX_PER`]).
pub(super) fn is_capacity_refusal(wait: Duration) -> bool {
    wait > RateLimit::MAX_PER
}

impl StateStore for BoundedStore {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if let Some(state) = self.map.get(key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        if self.map.len() >= self.capacity {
            return f(Some(Nanos::from(FULL))).map(|(outcome, _)| outcome);
        }
        self.map.measure_and_replace(key, f)
    }
}

impl ShrinkableKeyedStateStore<String> for BoundedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        self.map.retain_recent(drop_below);
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        ShrinkableKeyedStateStore::len(&self.map)
    }

    fn is_empty(&self) -> bool {
        ShrinkableKeyedStateStore::is_empty(&self.map)
    }
}
