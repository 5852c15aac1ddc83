//! Serves Accord procedures over JSON-RPC 2.0: HTTP `POST /rpc` and WebSocket `/rpc` on one
//! port, built on jsonrpsee and tokio.
//!
//! Mount the [`accord::Handlers`] of one or more implementations and start:
//!
//! ```no_run
//! # use accord::{Cx, RpcError};
//! # #[accord::wire] pub struct Ping { pub n: u32 }
//! # #[accord::error] #[derive(Debug, thiserror::Error)]
//! # pub enum PingError { #[error("never")] Never, #[error(transparent)] #[accord(rpc)] Rpc(RpcError) }
//! # #[accord::procedures(namespace = "ping")]
//! # pub trait Pings { #[query] async fn ping(&self, cx: &Cx, input: Ping) -> Result<Ping, PingError>; }
//! # struct MyPings;
//! # impl Pings for MyPings { async fn ping(&self, _: &Cx, input: Ping) -> Result<Ping, PingError> { Ok(input) } }
//! # async fn run() -> Result<(), accord_server::ServeError> {
//! let server = accord_server::Server::builder()
//!     .mount(PingsApi::handlers(MyPings))?
//!     .serve("127.0.0.1:3000")
//!     .await?;
//! println!("listening on http://{}/rpc", server.local_addr());
//! server.stopped().await;
//! # Ok(()) }
//! ```
//!
//! Wire format: `docs/wire.md` in the repository. Errors returned by procedures become JSON-RPC
//! error objects with a stable `data.code`; see [`accord::RpcError`].

mod error_object;
mod module;
mod routes;
mod server;

pub use error_object::to_error_object;
pub use routes::RPC_PATH;
pub use server::{RunningServer, ServeError, Server, ServerBuilder};
