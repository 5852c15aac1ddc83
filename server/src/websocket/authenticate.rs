//! `rpc.authenticate`: credentials sent on an open WebSocket, as its first message or later to
//! refresh them, instead of on the upgrade request (where URLs end up in proxy logs).
//!
//! The connection's reader handles it inline, before reading the next message, so every
//! message after it runs as the identity it established. The authenticator sees the upgrade
//! request with `Authorization` set to the value sent; the outcome becomes the connection's
//! authentication, and that request is what the periodic re-authentication uses from then on.
//! A refusal leaves the connection refused (calls answer `UNAUTHENTICATED`) until a later
//! `rpc.authenticate` succeeds.

use std::time::Duration;

use accord::{FrameworkCode, RpcError};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::auth::{self, Authentication};
use crate::caller::Caller;
use crate::pipeline::with_request_id;
use crate::protocol::{self, Entry, Id, Message};
use crate::request_id;
use crate::service::Shared;

/// The longest the reader waits for the authenticator before answering `UNAVAILABLE`.
const AUTHENTICATOR_TIMEOUT: Duration = Duration::from_secs(10);

/// Refusals in a row after which the connection is closed (1008): a client guessing tokens
/// gets a handful of tries per connection.
pub(super) const MAX_REFUSALS: u32 = 10;

/// What the reader does with a message.
pub(super) enum InBand {
    /// Not a lone `rpc.authenticate`: dispatch it as usual.
    No,
    /// Handled: send this answer (`None` for a notification). `refused` tells whether the
    /// credentials were refused.
    Answered { answer: Option<String>, refused: bool },
}

/// Handles `bytes` when it is a lone `rpc.authenticate` request. `credentials` is the upgrade
/// request the connection authenticates with; it takes the new `Authorization` value.
pub(super) async fn in_band(
    shared: &Shared,
    caller: &Caller,
    credentials: &mut http::request::Parts,
    bytes: &[u8],
) -> InBand {
    // Cheap test first: most messages are not this one.
    if memchr::memmem::find(bytes, protocol::AUTHENTICATE.as_bytes()).is_none() {
        return InBand::No;
    }
    let Ok(Message::Single(Entry::Call(call))) = protocol::parse(bytes) else { return InBand::No };
    if call.method != protocol::AUTHENTICATE {
        return InBand::No;
    }
    let outcome = authenticate(shared, caller, credentials, call.params).await;
    let refused = outcome.is_err();
    let answer = call.id.map(|id| answer(id, outcome));
    InBand::Answered { answer, refused }
}

fn answer(id: Id<'_>, outcome: Result<Box<RawValue>, RpcError>) -> String {
    let mut response = protocol::Response::new(false, usize::MAX);
    match outcome {
        Ok(result) => response.push(id, Ok(&result)),
        Err(error) => response.push(id, Err(&with_request_id(error, &request_id::generate()))),
    }
    String::from_utf8(response.into_body().unwrap_or_default()).unwrap_or_default()
}

async fn authenticate(
    shared: &Shared,
    caller: &Caller,
    credentials: &mut http::request::Parts,
    params: Option<&RawValue>,
) -> Result<Box<RawValue>, RpcError> {
    #[derive(Deserialize)]
    struct Params {
        authorization: String,
    }
    let Some(authenticator) = shared.authenticator.as_deref() else {
        return Err(RpcError::framework(FrameworkCode::InvalidRequest, "this server does not authenticate callers"));
    };
    let invalid = |reason: &str| {
        RpcError::framework(FrameworkCode::InvalidParams, format!("invalid params: {reason}"))
            .with_data_field("path", "authorization")
            .with_data_field("reason", reason)
    };
    let params: Params = params
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .ok_or_else(|| invalid("expected {\"authorization\": \"<what an Authorization header would carry>\"}"))?;
    let value = http::HeaderValue::from_str(&params.authorization)
        .map_err(|_| invalid("not a valid header value (control characters?)"))?;

    let mut request = credentials.clone();
    request.headers.insert(http::header::AUTHORIZATION, value);
    let authentication = tokio::time::timeout(AUTHENTICATOR_TIMEOUT, auth::authenticate(Some(authenticator), &request))
        .await
        .map_err(|_| {
            tracing::warn!("the authenticator did not answer rpc.authenticate in time");
            RpcError::framework(FrameworkCode::Unavailable, "could not check the credentials in time; try again")
        })?;
    *credentials = request;
    let authentication = match authentication {
        Authentication::Anonymous => Authentication::Refused(RpcError::framework(
            FrameworkCode::Unauthenticated,
            "these credentials were not recognised",
        )),
        other => other,
    };
    caller.set_authentication(authentication.clone());
    match authentication {
        Authentication::Authenticated(identity) => {
            let subject = serde_json::json!({ "subject": identity.subject() });
            serde_json::value::to_raw_value(&subject).map_err(|_| RpcError::internal())
        }
        Authentication::Refused(error) => Err(error),
        Authentication::Anonymous => Err(auth::revoked()),
    }
}
