//! The server: mounts APIs, binds one port, and stops on request.

use std::net::SocketAddr;

use accord::Handlers;
use jsonrpsee::server::{RandomStringIdProvider, RegisterMethodError, ServerConfig, ServerHandle};
use tokio::net::ToSocketAddrs;

use crate::module::rpc_module;
use crate::routes::RoutesLayer;

/// Why a server could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Two mounted APIs (or one API twice) define the same wire method.
    #[error("the method `{name}` is defined twice; each namespace can be mounted once")]
    Register {
        /// The wire name.
        name: &'static str,
        /// What jsonrpsee said.
        #[source]
        source: RegisterMethodError,
    },
    /// A subscription's description lacks its unsubscribe name (a bug in generated code).
    #[error("the subscription `{0}` has no unsubscribe method name")]
    MissingUnsubscribe(&'static str),
    /// The address could not be bound.
    #[error("could not listen: {0}")]
    Bind(#[source] std::io::Error),
}

/// Builds a [`Server`].
#[derive(Debug, Default)]
pub struct ServerBuilder {
    apis: Vec<Handlers>,
}

/// An Accord server. Create one with [`Server::builder`].
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A builder with nothing mounted.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }
}

impl ServerBuilder {
    /// Mounts an implementation's handlers (`<Trait>Api::handlers(implementation)`).
    ///
    /// Fails when one of its wire methods is already mounted.
    pub fn mount(mut self, handlers: Handlers) -> Result<Self, ServeError> {
        let taken = self.apis.iter().flat_map(|api| api.iter().map(|(p, _)| p.name)).collect::<Vec<_>>();
        if let Some((procedure, _)) = handlers.iter().find(|(p, _)| taken.contains(&p.name)) {
            return Err(ServeError::Register {
                name: procedure.name,
                source: RegisterMethodError::AlreadyRegistered(procedure.name.to_owned()),
            });
        }
        self.apis.push(handlers);
        Ok(self)
    }

    /// Binds `address` and starts serving in the background.
    pub async fn serve(self, address: impl ToSocketAddrs) -> Result<RunningServer, ServeError> {
        let module = rpc_module(&self.apis)?;
        let config = ServerConfig::builder().set_id_provider(RandomStringIdProvider::new(16)).build();
        let server = jsonrpsee::server::Server::builder()
            .set_config(config)
            .set_http_middleware(tower::ServiceBuilder::new().layer(RoutesLayer))
            .build(address)
            .await
            .map_err(ServeError::Bind)?;
        let local_addr = server.local_addr().map_err(ServeError::Bind)?;
        let handle = server.start(module);
        Ok(RunningServer { local_addr, handle })
    }
}

/// A started server. Dropping it does not stop it; call [`RunningServer::stop`].
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    handle: ServerHandle,
}

impl RunningServer {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<addr>/rpc`.
    pub fn http_url(&self) -> String {
        format!("http://{}{}", self.local_addr, crate::RPC_PATH)
    }

    /// `ws://<addr>/rpc`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.local_addr, crate::RPC_PATH)
    }

    /// Asks the server to stop: it stops accepting connections and closes open ones.
    /// Returns immediately; await [`RunningServer::stopped`] to wait for the end.
    pub fn stop(&self) {
        // Already stopped is fine: stopping is idempotent for callers.
        let _ = self.handle.stop();
    }

    /// Resolves when the server has stopped.
    pub async fn stopped(self) {
        self.handle.stopped().await
    }
}
