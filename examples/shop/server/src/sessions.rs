//! Bearer tokens: issued by `auth.login`, stored as SHA-256 hashes, recognised by the
//! [`SessionAuthenticator`] once per HTTP request or WebSocket connection.
//!
//! Browsers cannot set headers on a WebSocket, so a WebSocket upgrade may carry the token as
//! the `access_token` query parameter instead of `Authorization: Bearer`. Plain HTTP requests
//! must use the header (tokens in URLs end up in logs and histories).
//!
//! Lookups go through a short-lived cache (concurrent requests with one token cause one query);
//! `auth.logout` evicts the user's entries, so a logged-out token stops working at once on this
//! instance (other instances within the cache TTL, 30 s).

use std::sync::Arc;
use std::time::Duration;

use accord::{FrameworkCode, Identity, RpcError};
use accord_server::Authenticator;
use moka::future::Cache;
use sea_query::{Expr, ExprTrait, Query};
use sha2::{Digest, Sha256};

use crate::db::schema::{Sessions, Users};
use crate::db::{Database, DbError, Queries, now_ms};

/// How long a recognised token is remembered without asking the database.
const CACHE_TTL: Duration = Duration::from_secs(30);

/// A session as the authenticator needs it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub is_admin: bool,
    pub expires_at_ms: i64,
}

/// Issues and recognises tokens.
#[derive(Clone, Debug)]
pub struct SessionStore {
    db: Database,
    ttl: Duration,
    cache: Cache<String, Option<SessionRow>>,
}

/// A new random token (256 bits, hex).
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

/// What is stored for a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl SessionStore {
    pub fn new(db: Database, ttl: Duration) -> Self {
        let cache =
            Cache::builder().max_capacity(100_000).time_to_live(CACHE_TTL).support_invalidation_closures().build();
        Self { db, ttl, cache }
    }

    /// Stores a new session for `user_id`; returns the token and its expiry.
    pub async fn issue(&self, conn: &mut impl Queries, user_id: i64) -> Result<(String, i64), DbError> {
        let token = new_token();
        let expires_at_ms = now_ms().saturating_add(i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX));
        let insert = Query::insert()
            .into_table(Sessions::Table)
            .columns([Sessions::TokenHash, Sessions::UserId, Sessions::ExpiresAtMs])
            .values_panic([token_hash(&token).into(), user_id.into(), expires_at_ms.into()])
            .to_owned();
        conn.execute(&insert).await?;
        Ok((token, expires_at_ms))
    }

    /// Ends every session of `user_id`.
    pub async fn revoke_all(&self, conn: &mut impl Queries, user_id: i64) -> Result<(), DbError> {
        let delete =
            Query::delete().from_table(Sessions::Table).and_where(Expr::col(Sessions::UserId).eq(user_id)).to_owned();
        conn.execute(&delete).await?;
        self.cache.invalidate_entries_if(move |_, session| session.as_ref().is_some_and(|s| s.user_id == user_id)).ok();
        Ok(())
    }

    /// The session of `token`, if it exists (expired or not).
    async fn find(&self, token: &str) -> Result<Option<SessionRow>, Arc<DbError>> {
        let hash = token_hash(token);
        let db = self.db.clone();
        self.cache
            .try_get_with(hash.clone(), async move {
                let select = Query::select()
                    .column((Sessions::Table, Sessions::UserId))
                    .column((Users::Table, Users::IsAdmin))
                    .column((Sessions::Table, Sessions::ExpiresAtMs))
                    .from(Sessions::Table)
                    .inner_join(
                        Users::Table,
                        Expr::col((Users::Table, Users::Id)).equals((Sessions::Table, Sessions::UserId)),
                    )
                    .and_where(Expr::col((Sessions::Table, Sessions::TokenHash)).eq(hash))
                    .to_owned();
                db.read().await?.fetch_optional::<SessionRow>(&select).await
            })
            .await
    }

    /// The identity a token stands for: subject = user id, role `admin` for admins.
    pub async fn identity(&self, token: &str) -> Result<Identity, RpcError> {
        let unauthenticated = |why: &str| RpcError::framework(FrameworkCode::Unauthenticated, why);
        match self.find(token).await {
            Ok(Some(session)) if session.expires_at_ms > now_ms() => {
                // The expiry travels with the identity: an open WebSocket stops working at it.
                let expires_at = std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(u64::try_from(session.expires_at_ms).unwrap_or(0));
                let identity = Identity::new(session.user_id.to_string()).with_expiry(expires_at);
                Ok(if session.is_admin { identity.with_roles(["admin"]) } else { identity })
            }
            Ok(Some(_)) => Err(unauthenticated("the session has expired; sign in again")),
            Ok(None) => Err(unauthenticated("unknown or revoked token; sign in again")),
            // Shared by every request that waited for the same lookup.
            Err(error) => Err(error.to_rpc()),
        }
    }
}

/// The server's authenticator: see the module docs.
#[derive(Clone, Debug)]
pub struct SessionAuthenticator(pub SessionStore);

impl Authenticator for SessionAuthenticator {
    async fn authenticate(&self, request: &http::request::Parts) -> Result<Option<Identity>, RpcError> {
        match bearer_token(request)? {
            Some(token) => self.0.identity(&token).await.map(Some),
            None => Ok(None),
        }
    }
}

/// `Authorization: Bearer <token>`, or (deprecated: send `rpc.authenticate` instead)
/// `?access_token=` on a WebSocket upgrade. Credentials
/// that are present but malformed (another scheme, an empty token, a token in the URL of a
/// plain HTTP request) are refused, never taken as anonymous.
fn bearer_token(request: &http::request::Parts) -> Result<Option<String>, RpcError> {
    let malformed = |why: &str| RpcError::framework(FrameworkCode::Unauthenticated, why);
    if let Some(value) = request.headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| malformed("the Authorization header is not text"))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(malformed("expected `Authorization: Bearer <token>`")),
        };
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(malformed("the bearer token is empty or malformed"));
        }
        return Ok(Some(token.to_owned()));
    }
    let Some(query) = request.uri.query() else { return Ok(None) };
    let Some(token) = query.split('&').find_map(|pair| pair.strip_prefix("access_token=")) else { return Ok(None) };
    let upgrade = request.headers.get(http::header::UPGRADE).and_then(|v| v.to_str().ok());
    if !upgrade.is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        // A token in a plain request's URL ends up in logs and histories.
        return Err(malformed("send the token in the Authorization header, not in the URL"));
    }
    if token.is_empty() {
        return Err(malformed("the access_token is empty"));
    }
    Ok(Some(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut builder = http::Request::builder().uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn tokens_come_from_the_header_or_a_websocket_query() {
        let token = |uri: &str, headers: &[(&str, &str)]| bearer_token(&parts(uri, headers)).ok().flatten();
        assert_eq!(token("/rpc", &[("authorization", "Bearer abc")]), Some("abc".into()));
        assert_eq!(token("/rpc", &[("authorization", "bearer  abc ")]), Some("abc".into()));
        assert_eq!(token("/rpc?access_token=xyz", &[("upgrade", "websocket")]), Some("xyz".into()));
        assert_eq!(token("/rpc", &[]), None, "no credentials: anonymous");
    }

    #[test]
    fn malformed_credentials_are_refused_not_anonymous() {
        for headers in [
            &[("authorization", "Basic abc")][..],
            &[("authorization", "Bearer")],
            &[("authorization", "Bearer ")],
            &[("authorization", "Bearer a b")],
            &[("authorization", "abc")],
        ] {
            let refused = bearer_token(&parts("/rpc", headers)).unwrap_err();
            assert_eq!(refused.framework_code(), Some(FrameworkCode::Unauthenticated), "{headers:?}");
        }
        // Not on plain HTTP: a token in a URL leaks into logs.
        assert!(bearer_token(&parts("/rpc?access_token=xyz", &[])).is_err());
        assert!(bearer_token(&parts("/rpc?access_token=", &[("upgrade", "websocket")])).is_err());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
