//! Request ids: accepted from `x-request-id` when they are safe to log, generated otherwise.
//!
//! An incoming id ends up in log lines, metrics exemplars and error bodies, so it is bounded
//! (1..=64 bytes) and limited to `[A-Za-z0-9._:-]`; anything else is replaced, not rejected:
//! a bad id must not fail a good call.

use std::sync::atomic::{AtomicU64, Ordering};

use accord::RequestId;

/// The header carrying the id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

const MAX_LEN: usize = 64;

/// The id a client sent, if it is acceptable.
pub(crate) fn accept(value: &[u8]) -> Option<RequestId> {
    let valid = !value.is_empty()
        && value.len() <= MAX_LEN
        && value.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    // Checked ASCII above, so this cannot fail; `ok()` keeps the path panic-free.
    valid.then(|| std::str::from_utf8(value).ok().map(RequestId::new)).flatten()
}

/// A new id: a per-process random prefix and a counter, unique without a syscall per call.
pub(crate) fn generate() -> RequestId {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let prefix = *PREFIX.get_or_init(random::u32_any);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    RequestId::new(format!("{prefix:08x}-{n:x}"))
}

mod random {
    /// A random u32 from the standard library's randomly seeded hasher (no extra dependency).
    pub(super) fn u32_any() -> u32 {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(std::process::id().into());
        hasher.finish() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_safe_ids_and_refuses_the_rest() {
        assert_eq!(accept(b"abc-123_x.y:z").map(|id| id.as_str().to_owned()), Some("abc-123_x.y:z".into()));
        for bad in [&b""[..], b"has space", b"new\nline", b"\xff", &[b'a'; 65]] {
            assert!(accept(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_unique_and_acceptable() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(accept(a.as_str().as_bytes()).is_some());
    }
}
