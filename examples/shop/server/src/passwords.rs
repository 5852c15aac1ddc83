//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes).
//!
//! Hashing is deliberately slow (tens of milliseconds), so it runs on tokio's blocking pool,
//! never on the async workers.

use accord::RpcError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A PHC string (`$argon2id$v=19$...`) for `password`, with a fresh random salt.
pub async fn hash(password: String) -> Result<String, RpcError> {
    let hashed = tokio::task::spawn_blocking(move || hash_now(&password)).await;
    match hashed {
        Ok(Ok(phc)) => Ok(phc),
        Ok(Err(error)) => {
            tracing::error!(%error, "hashing a password failed");
            Err(RpcError::internal())
        }
        Err(join) => {
            tracing::error!(error = %join, "the hashing task failed");
            Err(RpcError::internal())
        }
    }
}

/// Synchronous form of [`hash`], for seeding.
pub fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default().hash_password(password.as_bytes())?.to_string())
}

/// Whether `password` matches `phc`. A malformed stored hash counts as no match (and is logged).
pub async fn verify(password: String, phc: String) -> bool {
    let checked = tokio::task::spawn_blocking(move || {
        match Argon2::default().verify_password(password.as_bytes(), phc.as_str()) {
            Ok(()) => true,
            Err(argon2::password_hash::Error::PasswordInvalid) => false,
            Err(error) => {
                tracing::error!(%error, "a stored password hash is unusable");
                false
            }
        }
    })
    .await;
    checked.unwrap_or(false)
}

/// A hash of a random password nobody knows: verifying against it for unknown emails makes a
/// failed login take as long whether or not the account exists.
pub fn decoy_hash() -> String {
    static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut secret = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        hash_now(&hex::encode(secret)).unwrap_or_default()
    });
    DECOY.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), phc.clone()).await);
        assert!(!verify("wrong horse".into(), phc).await);
        assert!(!verify("anything".into(), "not a hash".into()).await);
        assert!(!verify("anything".into(), decoy_hash()).await);
    }
}
