//! A TCP proxy the test controls, put between the shop and PostgreSQL: an outage without
//! touching the machine's services. [`Proxy::cut`] closes the listening socket (new connections
//! are refused) and resets every live connection; [`Proxy::restore`] listens again on the same
//! port.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
}

impl Proxy {
    /// Forwards `127.0.0.1:<some port>` to `target` (`host:port`).
    pub async fn start(target: &str) -> Self {
        let listener = listen("127.0.0.1:0".parse().expect("an address"));
        let addr = listener.local_addr().expect("bound");
        let (up, _) = watch::channel(true);
        let (target, mut state) = (target.to_owned(), up.subscribe());
        tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                match listener.take() {
                    Some(open) => {
                        tokio::select! {
                            accepted = open.accept() => {
                                if let Ok((client, _)) = accepted {
                                    tokio::spawn(forward(client, target.clone(), state.clone()));
                                }
                                listener = Some(open);
                            }
                            changed = state.changed() => {
                                if changed.is_err() {
                                    return;
                                }
                                if *state.borrow_and_update() {
                                    listener = Some(open);
                                }
                                // Otherwise cut: `open` is dropped, so connecting is refused.
                            }
                        }
                    }
                    None => {
                        if state.wait_for(|up| *up).await.is_err() {
                            return;
                        }
                        listener = Some(listen(addr));
                    }
                }
            }
        });
        Self { addr, up }
    }

    /// Where to connect instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The outage: refuse new connections, reset live ones.
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// The end of the outage.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// A listening socket on `addr`, which may have been listened on a moment ago.
fn listen(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(addr).expect("the proxy's port is free");
    socket.listen(128).expect("listen")
}

async fn forward(mut client: TcpStream, target: String, mut state: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(&target).await else { return };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = state.wait_for(|up| !*up) => {
            // A reset rather than a clean close, as when a database host goes away.
            let _ = client.set_zero_linger();
            let _ = server.set_zero_linger();
        }
    }
}

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
