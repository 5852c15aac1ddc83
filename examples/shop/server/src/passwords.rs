//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, 1 lane).
//!
//! Hashing is deliberately slow (tens of milliseconds) and memory-hungry, so it runs on a
//! [`BlockingPool`]: a few dedicated threads (one per CPU by default), never the async workers
//! and never more hashes at once than threads. A login that finds every thread busy waits up to
//! `SHOP_HASH_MAX_WAIT_MS`, then answers `OVERLOADED` with `retryAfterMs`.
//!
//! Each pool thread keeps its 19 MiB of Argon2 memory blocks in a thread-local buffer and reuses
//! it for every hash of a burst, instead of allocating and freeing 19 MiB per call; a thread
//! idle for [`RELEASE_AFTER`] frees its buffer. So the hashing memory is at most `threads` ×
//! 19 MiB during a burst, whatever its size, and goes back after it. (That it really goes back to
//! the system, rather than staying in glibc's arenas, is `main.rs`'s business: see its
//! `M_MMAP_THRESHOLD`.) Before, with `spawn_blocking`, a burst of 128 logins hashed on 128
//! threads at once and left the process at 2.4 GiB; see `BENCHMARKS.md` ("Login burst").

use std::cell::RefCell;
use std::time::Duration;

use accord::RpcError;
use accord_server::{BlockingPool, Metrics};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::config::HashingConfig;

/// The largest Argon2 memory cost a stored hash may ask for (64 MiB): a corrupted or hostile
/// row cannot make a login allocate without bound.
const MAX_BLOCKS: usize = 64 * 1024;

/// How long a hashing thread keeps its Argon2 memory without a hash to compute.
pub const RELEASE_AFTER: Duration = Duration::from_secs(5);

thread_local! {
    /// This thread's Argon2 memory, grown to the largest cost seen and reused until idle.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Hashes and verifies passwords on a bounded pool of threads.
#[derive(Clone, Debug)]
pub struct Passwords {
    pool: BlockingPool,
}

impl Passwords {
    /// Starts the hashing threads (`password-hash-N`), with their gauges in `metrics`.
    pub fn start(config: &HashingConfig, metrics: &Metrics) -> std::io::Result<Self> {
        let pool = BlockingPool::builder("password-hash")
            .threads(config.threads)
            .queue(config.queue)
            .max_wait(config.max_wait)
            .metrics(metrics)
            .on_idle(RELEASE_AFTER, || drop(BLOCKS.take()))
            .build()?;
        Ok(Self::new(pool))
    }

    /// Hashing on `pool`, whose threads keep their Argon2 memory (see [`Passwords::start`]).
    pub fn new(pool: BlockingPool) -> Self {
        Self { pool }
    }

    /// A PHC string (`$argon2id$v=19$...`) for `password`, with a fresh random salt.
    /// `OVERLOADED` when every hashing thread stays busy.
    pub async fn hash(&self, password: String) -> Result<String, RpcError> {
        match self.pool.run(move || BLOCKS.with_borrow_mut(|blocks| hash_in(&password, blocks))).await? {
            Ok(phc) => Ok(phc),
            Err(error) => {
                tracing::error!(%error, "hashing a password failed");
                Err(RpcError::internal())
            }
        }
    }

    /// Whether `password` matches `phc`; with `None` (no such account), checks it against a
    /// decoy hash nobody knows the password of, so that a failed login takes as long whether
    /// or not the account exists. A malformed stored hash counts as no match (and is logged).
    /// `OVERLOADED` when every hashing thread stays busy.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, RpcError> {
        Ok(self
            .pool
            .run(move || verify_now(password.as_bytes(), phc.as_deref().unwrap_or_else(|| decoy_hash())))
            .await?)
    }
}

/// Synchronous form of [`Passwords::hash`], for seeding: its memory is freed on return.
pub fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut blocks = Vec::new();
    hash_in(password, &mut blocks)
}

/// A PHC string for `password`, computed in `blocks` (grown as needed).
fn hash_in(password: &str, blocks: &mut Vec<Block>) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let argon2 = Argon2::default();
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let memory = sized(blocks, argon2.params().block_count())?;
    argon2.hash_password_into_with_memory(password.as_bytes(), &salt, &mut output, memory)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(Salt::new(&salt)?),
        hash: Some(Output::new(&output)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (constant-time comparison).
fn verify_now(password: &[u8], phc: &str) -> bool {
    match check(password, phc) {
        Ok(matches) => matches,
        Err(error) => {
            tracing::error!(%error, "a stored password hash is unusable");
            false
        }
    }
}

fn check(password: &[u8], phc: &str) -> Result<bool, argon2::password_hash::Error> {
    use argon2::password_hash::Error;
    let hash = PasswordHash::new(phc)?;
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return Err(Error::EncodingInvalid) };
    let algorithm = Algorithm::try_from(hash.algorithm.as_str())?;
    let version = hash.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let params = Params::try_from(&hash)?;
    let mut output = [0u8; Output::MAX_LENGTH];
    let output = output.get_mut(..expected.len()).ok_or(Error::OutputSize)?;
    let argon2 = Argon2::new(algorithm, version, params);
    BLOCKS.with_borrow_mut(|blocks| -> Result<(), Error> {
        let memory = sized(blocks, argon2.params().block_count())?;
        Ok(argon2.hash_password_into_with_memory(password, salt, output, memory)?)
    })?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(output)? == *expected)
}

/// The first `count` blocks of `blocks`, grown if needed. Argon2 writes every block before it
/// reads it, so what an earlier hash left there does no harm.
fn sized(blocks: &mut Vec<Block>, count: usize) -> Result<&mut [Block], argon2::password_hash::Error> {
    if count > MAX_BLOCKS {
        return Err(argon2::password_hash::Error::ParamsInvalid);
    }
    if blocks.len() < count {
        blocks.resize(count, Block::new());
    }
    Ok(&mut blocks[..count])
}

/// A hash of a random password nobody knows (computed on first use, on a pool thread).
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut secret = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        hash_now(&hex::encode(secret)).unwrap_or_default()
    });
    &DECOY
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use argon2::PasswordVerifier;

    use super::*;

    fn passwords(threads: usize) -> Passwords {
        Passwords::new(BlockingPool::builder("test-hash").threads(threads).build().unwrap())
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = passwords(1);
        let phc = passwords.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(passwords.verify("correct horse".into(), Some(phc.clone())).await.unwrap());
        assert!(!passwords.verify("wrong horse".into(), Some(phc)).await.unwrap());
        assert!(!passwords.verify("anything".into(), Some("not a hash".into())).await.unwrap());
        assert!(!passwords.verify("anything".into(), None).await.unwrap(), "the decoy matches nothing");
    }

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        // Ours verified by the crate's own verifier, and a hash made by the crate verified by ours
        // (older rows were hashed with `Argon2::default().hash_password`).
        let ours = hash_now("hunter42").unwrap();
        assert!(Argon2::default().verify_password(b"hunter42", ours.as_str()).is_ok());
        let theirs = argon2::PasswordHasher::hash_password(&Argon2::default(), b"hunter42").unwrap().to_string();
        assert!(verify_now(b"hunter42", &theirs));
        assert!(!verify_now(b"hunter43", &theirs));
        // Other parameters and variants are read from the string.
        let params = Params::new(8, 1, 1, Some(16)).unwrap();
        let small = Argon2::new(Algorithm::Argon2i, Version::V0x10, params);
        let small = argon2::PasswordHasher::hash_password(&small, b"pw").unwrap().to_string();
        assert!(verify_now(b"pw", &small) && !verify_now(b"px", &small));
    }

    #[test]
    fn a_stored_hash_asking_for_too_much_memory_is_refused() {
        let params = Params::new(8, 1, 1, None).unwrap();
        let phc = argon2::PasswordHasher::hash_password(&Argon2::from(params), b"pw").unwrap().to_string();
        let greedy = phc.replace("m=8,", "m=4194304,"); // 4 GiB
        assert!(!verify_now(b"pw", &greedy));
    }

    #[tokio::test]
    async fn a_busy_pool_answers_overloaded() {
        let pool = BlockingPool::builder("busy-hash").threads(1).queue(0).max_wait(Duration::ZERO).build().unwrap();
        let passwords = Passwords::new(pool.clone());
        let (hold, held) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn(async move { pool.run(move || held.recv()).await });
        while passwords.pool.busy() == 0 {
            tokio::task::yield_now().await;
        }
        let refused = passwords.verify("pw".into(), None).await.unwrap_err();
        assert_eq!(refused.framework_code(), Some(accord::FrameworkCode::Overloaded));
        hold.send(()).unwrap();
        blocker.await.unwrap().unwrap().unwrap();
    }
}
