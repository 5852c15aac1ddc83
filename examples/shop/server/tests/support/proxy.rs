//! The outage tests' tools: the cut-able TCP proxy (shared with the server's tests) and how to
//! point a PostgreSQL URL through it.

use std::net::SocketAddr;
use std::time::Duration;

#[path = "../../../../../server/tests/proxy/mod.rs"]
mod tcp;

pub use tcp::Proxy;

/// `url` (`postgres://user@host:port/db?...`) with its host and port replaced by `addr`.
pub fn through(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let user_info = authority.rsplit_once('@').map(|(user, _)| format!("{user}@")).unwrap_or_default();
    format!("{scheme}://{user_info}{addr}{path}")
}

/// The `host:port` a PostgreSQL URL points at.
pub fn target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.contains(':') { host.to_owned() } else { format!("{host}:5432") }
}

/// Polls `check` every 100 ms until it holds, for at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_pointed_at_the_proxy() {
        let addr = "127.0.0.1:4000".parse().unwrap();
        assert_eq!(
            super::through("postgres://postgres@127.0.0.1:5432/test", addr),
            "postgres://postgres@127.0.0.1:4000/test"
        );
        assert_eq!(
            super::through("postgres://localhost/db?sslmode=disable", addr),
            "postgres://127.0.0.1:4000/db?sslmode=disable"
        );
        assert_eq!(super::target("postgres://u:p@db.local/test"), "db.local:5432");
        assert_eq!(super::target("postgres://postgres@127.0.0.1:5432/test"), "127.0.0.1:5432");
    }
}
