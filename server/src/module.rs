//! Mounting [`accord::Handlers`] on a jsonrpsee `RpcModule`.
//!
//! Each procedure becomes one jsonrpsee method under its wire name; a subscription also gets
//! `<name>.unsubscribe`, and its notifications use its own name as the method, ending with an
//! `error` notification (`null` when the stream completed, an error object when it failed).

use accord::{Cx, FrameworkCode, Handler, Handlers, RequestId, RpcError};
use futures_util::StreamExt;
use jsonrpsee::core::SubscriptionError;
use jsonrpsee::core::server::{PendingSubscriptionSink, SubscriptionCloseResponse, SubscriptionMessage};
use jsonrpsee::{Extensions, RpcModule};
use serde_json::value::RawValue;
use tokio::sync::watch;

use crate::error_object::{to_error_object, with_request_id};
use crate::server::ServeError;

/// One module holding every procedure of every mounted API. `shutdown` turns true when the
/// server starts draining: open subscriptions then end with `UNAVAILABLE`.
pub fn rpc_module(apis: &[Handlers], shutdown: watch::Receiver<bool>) -> Result<RpcModule<()>, ServeError> {
    let mut module = RpcModule::new(());
    for api in apis {
        for (procedure, handler) in api.iter() {
            let name = procedure.name;
            let registered = match (handler, procedure.unsubscribe) {
                (Handler::Call(call), _) => {
                    let call = call.clone();
                    module
                        .register_async_method(name, move |params, _, extensions: Extensions| {
                            let request_id = extensions.get::<RequestId>().cloned();
                            let future = call(Cx::from_extensions(extensions), params.as_str());
                            async move { future.await.map_err(|e| to_error_object(with_request_id(e, request_id.as_ref()))) }
                        })
                        .map(drop)
                }
                (Handler::Subscribe(subscribe), Some(unsubscribe)) => {
                    let subscribe = subscribe.clone();
                    let shutdown = shutdown.clone();
                    module
                        .register_subscription(name, name, unsubscribe, move |params, pending, _, extensions| {
                            let request_id = extensions.get::<RequestId>().cloned();
                            let opened = subscribe(Cx::from_extensions(extensions), params.as_str());
                            let shutdown = shutdown.clone();
                            async move {
                                let opened = opened.await.map_err(|e| with_request_id(e, request_id.as_ref()));
                                forward(opened, pending, shutdown).await
                            }
                        })
                        .map(drop)
                }
                (Handler::Subscribe(_), None) => return Err(ServeError::MissingUnsubscribe(name)),
            };
            registered.map_err(|source| ServeError::Register { name, source })?;
        }
    }
    Ok(module)
}

/// Accepts (or refuses) a subscription and forwards its items until it ends or the client
/// goes away.
async fn forward(
    opened: Result<accord::ItemStream, RpcError>,
    pending: PendingSubscriptionSink,
    mut shutdown: watch::Receiver<bool>,
) -> SubscriptionCloseResponse {
    let mut items = match opened {
        Ok(items) => items,
        Err(error) => {
            pending.reject(to_error_object(error)).await;
            return SubscriptionCloseResponse::None;
        }
    };
    let Ok(sink) = pending.accept().await else {
        return SubscriptionCloseResponse::None;
    };
    loop {
        tokio::select! {
            item = items.next() => match item {
                Some(Ok(raw)) => {
                    if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                        return SubscriptionCloseResponse::None;
                    }
                }
                Some(Err(error)) => return close_with(&error),
                None => return close_with(&()),
            },
            () = sink.closed() => return SubscriptionCloseResponse::None,
            () = draining(&mut shutdown) => {
                let error = RpcError::framework(FrameworkCode::Unavailable, "the server is shutting down; resubscribe");
                return close_with(&error);
            }
        }
    }
}

/// Resolves once the server starts draining; never, if the server's handle is gone (a dropped
/// handle does not stop the server).
async fn draining(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|draining| *draining).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn close_with<T: serde::Serialize>(error: &T) -> SubscriptionCloseResponse {
    let raw = serde_json::value::to_raw_value(error).unwrap_or_else(|_| RawValue::NULL.to_owned());
    SubscriptionCloseResponse::NotifErr(SubscriptionError::from_json(raw))
}
