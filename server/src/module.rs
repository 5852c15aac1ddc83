//! Mounting [`accord::Handlers`] on a jsonrpsee `RpcModule`.
//!
//! Each procedure becomes one jsonrpsee method under its wire name; a subscription also gets
//! `<name>.unsubscribe`, and its notifications use its own name as the method, ending with an
//! `error` notification (`null` when the stream completed, an error object when it failed).

use accord::{Cx, Handler, Handlers};
use futures_util::StreamExt;
use jsonrpsee::core::SubscriptionError;
use jsonrpsee::core::server::{PendingSubscriptionSink, SubscriptionCloseResponse, SubscriptionMessage};
use jsonrpsee::{Extensions, RpcModule};
use serde_json::value::RawValue;

use crate::error_object::to_error_object;
use crate::server::ServeError;

/// One module holding every procedure of every mounted API.
pub fn rpc_module(apis: &[Handlers]) -> Result<RpcModule<()>, ServeError> {
    let mut module = RpcModule::new(());
    for api in apis {
        for (procedure, handler) in api.iter() {
            let name = procedure.name;
            let registered = match (handler, procedure.unsubscribe) {
                (Handler::Call(call), _) => {
                    let call = call.clone();
                    module
                        .register_async_method(name, move |params, _, extensions: Extensions| {
                            let future = call(Cx::new().with_extensions(extensions), params.as_str());
                            async move { future.await.map_err(to_error_object) }
                        })
                        .map(drop)
                }
                (Handler::Subscribe(subscribe), Some(unsubscribe)) => {
                    let subscribe = subscribe.clone();
                    module
                        .register_subscription(name, name, unsubscribe, move |params, pending, _, extensions| {
                            let opened = subscribe(Cx::new().with_extensions(extensions), params.as_str());
                            async move { forward(opened.await, pending).await }
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
    opened: Result<accord::ItemStream, accord::RpcError>,
    pending: PendingSubscriptionSink,
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
        }
    }
}

fn close_with<T: serde::Serialize>(error: &T) -> SubscriptionCloseResponse {
    let raw = serde_json::value::to_raw_value(error).unwrap_or_else(|_| RawValue::NULL.to_owned());
    SubscriptionCloseResponse::NotifErr(SubscriptionError::from_json(raw))
}
