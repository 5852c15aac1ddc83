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
    // `{prefix:08x}-{n:x}`, written on the stack: one allocation (the id's) per call.
    let mut id = [0_u8; 8 + 1 + 16];
    let mut len = 0;
    for shift in (0..8).rev() {
        id[len] = HEX[(prefix >> (shift * 4)) as usize & 0xf];
        len += 1;
    }
    id[len] = b'-';
    len += 1;
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        id[len] = HEX[(n >> (shift * 4)) as usize & 0xf];
        len += 1;
    }
    RequestId::new(std::str::from_utf8(&id[..len]).unwrap_or_default())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

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

    #[test]
    fn generated_ids_are_the_prefix_and_the_counter_in_hex() {
        let a = generate();
        let b = generate();
        let (prefix, n) = a.as_str().split_once('-').expect("a dash");
        assert_eq!(prefix.len(), 8);
        let n = u64::from_str_radix(n, 16).expect("hex");
        let (b_prefix, b_n) = b.as_str().split_once('-').expect("a dash");
        assert_eq!(b_prefix, prefix);
        assert!(u64::from_str_radix(b_n, 16).expect("hex") > n, "{a} then {b}");
    }
}
