//! Serves Accord procedures over JSON-RPC 2.0: HTTP `POST /rpc` and WebSocket `/rpc` on one
//! port, on tokio (hyper's HTTP/1 server, tokio-tungstenite), behind one middleware stack that
//! every call goes through (single, batched, or on a WebSocket):
//!
//! observe (span, metrics, access log) → authenticate → rate limits → admission (in-flight
//! limits) → deadline and panic guard → the app's own call layers → the procedure ([`call`]).
//! Beside `/rpc` the same port serves `/healthz`, `/readyz` and `/metrics`. See the README for
//! defaults and how to configure or replace each part.
//!
//! Live data: [`topics`] is a publish/subscribe facility (in process, or Redis Streams shared by
//! every instance) whose subscriptions resume after a reconnect, on any instance.
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
//! use std::time::Duration;
//! use accord_server::{Policy, RateLimit, Server};
//!
//! let server = Server::builder()
//!     .mount(PingsApi::handlers(MyPings))?
//!     .procedure(PingsApi::PING, Policy::new().timeout(Duration::from_secs(2)).rate_limit(RateLimit::per_second(50)))
//!     .serve("127.0.0.1:3000")
//!     .await?;
//! println!("listening on {}", server.http_url());
//! server.run_until_signal().await; // SIGINT/SIGTERM: drain, finish in-flight calls, return
//! # Ok(()) }
//! ```
//!
//! Around the pipeline, HTTP concerns are tower layers ([`ServerBuilder::layer`], and
//! [`ServerBuilder::cors`] for browsers on other origins); the whole server is a tower service
//! that mounts in an existing app ([`ServerBuilder::build`], [`Server::rpc_service`]);
//! `rpc.discover` answers the OpenRPC document; with the `otel` feature every call is an
//! OpenTelemetry server span (`telemetry`).
//!
//! Cargo features: `logging` (default; [`init_logging`], [`log_filter`]), `redis` (the Redis
//! rate-limit backend), `otel` (OpenTelemetry export), `axum` (the caller's address from axum's
//! `ConnectInfo` when mounted).
//!
//! Wire format: `docs/wire.md` in the repository.

#![warn(missing_docs, unreachable_pub)]

mod access_log;
mod auth;
mod blocking;
mod body;
mod builder;
pub mod call;
mod caller;
mod client_address;
mod config;
mod connections;
mod cors;
mod discover;
mod dispatch;
mod fuzzing;
mod health;
mod listener;
#[cfg(feature = "logging")]
mod logging;
mod metrics;
mod pipeline;
mod protocol;
pub mod rate_limit;
mod request_id;
mod server;
mod service;
mod shutdown;
mod static_files;
#[cfg(feature = "otel")]
pub mod telemetry;
pub mod topics;
mod tower_service;
mod websocket;

pub use access_log::AccessLog;
pub use auth::Authenticator;
pub use blocking::{BlockingError, BlockingPool, BlockingPoolBuilder};
pub use body::Body;
pub use builder::{DEFAULT_SHUTDOWN_GRACE, DEFAULT_TIMEOUT, ServerBuilder};
pub use client_address::ClientAddress;
pub use config::{Limits, Policy};
pub use cors::{Cors, CorsError};
pub use discover::DISCOVER;
#[doc(hidden)]
pub use fuzzing::MessageHarness;
pub use ipnet::IpNet;
#[cfg(feature = "logging")]
pub use logging::{LogFormat, init_logging, log_filter};
pub use metrics::Metrics;
pub use rate_limit::{CallerKey, RateLimit, RateLimitBackend};
#[cfg(feature = "redis")]
pub use rate_limit::{OnBackendError, RedisBackend};
pub use request_id::REQUEST_ID_HEADER;
pub use server::{RunningServer, ServeError, Server};
pub use service::{RPC_PATH, TIMEOUT_HEADER};
pub use topics::{Retention, Topic, TopicError, Topics};
pub use tower_service::AccordService;
