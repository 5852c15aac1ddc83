//! A TCP proxy a test controls, put between the code under test and a dependency (Redis,
//! PostgreSQL): an outage without touching the machine's services. [`Proxy::cut`] closes the
//! listening socket (new connections are refused) and resets every live connection;
//! [`Proxy::restore`] listens again on the same port.
//!
//! Shared by `outage_redis.rs` here and the shop example's outage tests (through `#[path]`).
#![allow(dead_code)] // each test binary uses part of this

use std::net::SocketAddr;

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
