//! Who is calling, worked out once per HTTP request or WebSocket connection and shared by
//! every call made on it (each batch entry, each call on the socket).
//!
//! A WebSocket outlives its credentials: a session may be revoked or expire while the socket
//! stays open. So a caller's authentication is a watched value, which the WebSocket connection
//! keeps current (`websocket::revocation`) and which open subscriptions watch to end when the
//! identity they were opened with is gone.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use accord::{Identity, RequestId, RpcError};
use tokio::sync::watch;

use crate::auth::Authentication;
use crate::client_address::{ClientAddress, address_key};

/// How the calls arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    Http,
    WebSocket,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Caller {
    pub transport: Transport,
    /// The HTTP request's id (every call of the request shares it); `None` on a WebSocket,
    /// where each call gets its own.
    pub request_id: Option<RequestId>,
    /// The client address (also in `extensions`, as [`ClientAddress`]).
    address: IpAddr,
    /// Its rate-limit key, worked out the first time a rate limit needs it.
    address_key: OnceLock<Box<str>>,
    /// `x-accord-timeout-ms` of the HTTP request (or WebSocket upgrade).
    pub requested_timeout: Option<Duration>,
    /// The HTTP request's extensions, shared by every call's `Cx` (not copied per call).
    pub extensions: Arc<http::Extensions>,
    authentication: Authenticated,
}

/// A caller's authentication: fixed for an HTTP request, watched on a WebSocket (it is
/// re-authenticated while open). An HTTP request does without the channel: building and
/// dropping one per request was a measurable part of a call.
#[derive(Debug)]
enum Authenticated {
    Fixed(Authentication),
    Watched(watch::Sender<Authentication>),
}

impl Caller {
    pub(crate) fn new(
        transport: Transport,
        request_id: Option<RequestId>,
        address: IpAddr,
        requested_timeout: Option<Duration>,
        mut extensions: http::Extensions,
        authentication: Authentication,
    ) -> Self {
        extensions.insert(ClientAddress(address));
        Self {
            transport,
            request_id,
            address,
            address_key: OnceLock::new(),
            requested_timeout,
            extensions: Arc::new(extensions),
            authentication: match transport {
                Transport::Http => Authenticated::Fixed(authentication),
                Transport::WebSocket => Authenticated::Watched(watch::Sender::new(authentication)),
            },
        }
    }

    /// The rate-limit key of the client address (`ip:<v4>`, `ip:<v6 /64>`).
    pub(crate) fn address_key(&self) -> &str {
        self.address_key.get_or_init(|| address_key(self.address))
    }

    /// The authentication now (cheap: an `Arc` clone at most).
    pub(crate) fn authentication(&self) -> Authentication {
        match &self.authentication {
            Authenticated::Fixed(authentication) => authentication.clone(),
            Authenticated::Watched(watched) => watched.borrow().clone(),
        }
    }

    /// Replaces the authentication (a WebSocket re-authenticated or lost its identity). An
    /// HTTP request's is fixed: this does nothing there.
    pub(crate) fn set_authentication(&self, authentication: Authentication) {
        if let Authenticated::Watched(watched) = &self.authentication {
            watched.send_replace(authentication);
        }
    }

    /// A receiver that sees every later change (none, for an HTTP request).
    pub(crate) fn watch_authentication(&self) -> watch::Receiver<Authentication> {
        match &self.authentication {
            Authenticated::Fixed(authentication) => watch::channel(authentication.clone()).1,
            Authenticated::Watched(watched) => watched.subscribe(),
        }
    }
}

/// Resolves when the identity `opened_as` is no longer the caller's, with the error the
/// subscription ends with; never, for a subscription opened anonymously.
pub(crate) async fn identity_ended(
    mut watch: watch::Receiver<Authentication>,
    opened_as: Option<Identity>,
) -> RpcError {
    let Some(opened_as) = opened_as else { return std::future::pending().await };
    loop {
        let ended = match &*watch.borrow_and_update() {
            // The same subject with the same roles: refreshed credentials (a new expiry, say)
            // keep the subscriptions going.
            Authentication::Authenticated(identity)
                if identity.subject() == opened_as.subject() && identity.roles() == opened_as.roles() =>
            {
                None
            }
            Authentication::Refused(error) => Some(error.clone()),
            _ => Some(crate::auth::revoked()),
        };
        if let Some(error) = ended {
            return error;
        }
        if watch.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}
