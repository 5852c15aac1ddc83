//! Answering one message (an HTTP body or a WebSocket frame): a single call, or a batch whose
//! entries go through the pipeline one by one, up to `batch_concurrency` at a time, answered in
//! request order. Notifications run but get no answer; a message of notifications only gets no
//! answer at all. `rpc.ping` is answered `true` here, before any check (it is a keep-alive).

use accord::{FrameworkCode, Kind, LimitData, RetryHintData, RpcError};
use futures_util::StreamExt;
use serde_json::value::RawValue;

use crate::caller::Caller;
use crate::pipeline::{Opened, Outcome, Pipeline, with_request_id};
use crate::protocol::{self, Call, Entry, Id, Message, Response};
use crate::request_id;
use crate::websocket::Subscriptions;

/// What a message came to.
pub(crate) struct Answer {
    /// The body to send; `None` when nothing is answered (notifications only).
    pub body: Option<Vec<u8>>,
    /// Subscriptions opened by the message, to start once `body` is on its way (their items
    /// must not overtake the answer that names them).
    pub opened: Vec<(String, Opened)>,
}

/// Limits that apply to a message as a whole.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MessageLimits {
    pub max_batch_len: usize,
    pub batch_concurrency: usize,
    pub max_response_bytes: usize,
}

/// Answers `bytes` for `caller`. `subscriptions` is the WebSocket's registry (`None` over HTTP);
/// `draining` refuses every call with `UNAVAILABLE` (a draining WebSocket's late messages).
pub(crate) async fn answer(
    pipeline: &Pipeline,
    limits: MessageLimits,
    caller: &Caller,
    bytes: &[u8],
    subscriptions: Option<&Subscriptions>,
    draining: bool,
) -> Answer {
    let message = match protocol::parse(bytes) {
        Ok(message) => message,
        Err(error) => return Answer { body: Some(protocol::error_body(Id::NULL, &error)), opened: Vec::new() },
    };
    let mut opened = Vec::new();
    let body = match message {
        Message::Single(entry) => {
            let mut response = Response::new(false, limits.max_response_bytes);
            let run = Run { pipeline, caller, subscriptions, batch_size: None, draining };
            if let Some((id, outcome)) = run.entry(entry).await {
                respond(&mut response, id, outcome, &mut opened, subscriptions);
            }
            response.into_body()
        }
        Message::Batch(entries) if entries.len() > limits.max_batch_len => {
            let message =
                format!("a batch holds at most {} calls; this one held {}", limits.max_batch_len, entries.len());
            let limit = LimitData { limit: u32::try_from(limits.max_batch_len).unwrap_or(u32::MAX) };
            let error = RpcError::from_data(FrameworkCode::BatchTooBig, message, limit);
            Some(protocol::error_body(Id::NULL, &error))
        }
        Message::Batch(entries) => {
            let run = Run { pipeline, caller, subscriptions, batch_size: Some(entries.len()), draining };
            // Built in a loop, not with `map(|entry| ...)`: a closure here trips rustc's
            // higher-ranked `Send` check on the borrowed entries.
            let mut futures = Vec::with_capacity(entries.len());
            for entry in entries {
                futures.push(run.entry(entry));
            }
            let mut answers = futures_util::stream::iter(futures).buffered(limits.batch_concurrency);
            let mut response = Response::new(true, limits.max_response_bytes);
            while let Some(answer) = answers.next().await {
                if let Some((id, outcome)) = answer {
                    respond(&mut response, id, outcome, &mut opened, subscriptions);
                }
            }
            response.into_body()
        }
    };
    Answer { body, opened }
}

/// Writes one call's answer; registers an opened subscription under a new id.
fn respond(
    response: &mut Response,
    id: Id<'_>,
    outcome: Outcome,
    opened: &mut Vec<(String, Opened)>,
    subscriptions: Option<&Subscriptions>,
) {
    match outcome {
        Outcome::Answer(result) => response.push(id, result.as_deref()),
        Outcome::Subscribed(subscription) => match subscriptions.map(|s| s.reserve(&subscription)) {
            Some(Ok(subscription_id)) => {
                let quoted = serde_json::value::to_raw_value(&subscription_id);
                match quoted {
                    Ok(raw) => response.push(id, Ok(&raw)),
                    Err(_) => response.push(id, Err(&RpcError::internal())),
                }
                opened.push((subscription_id, subscription));
            }
            Some(Err(error)) => response.push(id, Err(&error)),
            // The pipeline refuses subscriptions off a WebSocket; never reached.
            None => response.push(id, Err(&RpcError::internal())),
        },
    }
}

/// `rpc.ping` and `rpc.authenticate` (on a WebSocket, a lone `rpc.authenticate` is answered
/// by the connection itself, in order: one that reaches here came over HTTP or in a batch).
/// `None` for any other method.
fn protocol_method(call: &Call<'_>, websocket: bool) -> Option<Result<Box<RawValue>, RpcError>> {
    match &*call.method {
        protocol::PING => Some(Ok(RawValue::from_string("true".into()).unwrap_or_else(|_| RawValue::NULL.to_owned()))),
        protocol::AUTHENTICATE => {
            let why = if websocket {
                "rpc.authenticate is sent alone, as its own WebSocket message, not in a batch"
            } else {
                "rpc.authenticate is for WebSockets; over HTTP send credentials with each request"
            };
            Some(Err(RpcError::framework(FrameworkCode::InvalidRequest, why)))
        }
        _ => None,
    }
}

/// Running the entries of one message.
struct Run<'r> {
    pipeline: &'r Pipeline,
    caller: &'r Caller,
    subscriptions: Option<&'r Subscriptions>,
    batch_size: Option<usize>,
    draining: bool,
}

impl Run<'_> {
    /// One entry's id and outcome; `None` for a notification.
    async fn entry<'a>(&self, entry: Entry<'a>) -> Option<(Id<'a>, Outcome)> {
        let call = match entry {
            Entry::Invalid(id, error) => return Some((id, Outcome::Answer(Err(error)))),
            Entry::Call(call) => call,
        };
        let outcome = if let Some(answer) = protocol_method(&call, self.subscriptions.is_some()) {
            Outcome::Answer(answer.map_err(|error| with_request_id(error, &request_id::generate())))
        } else if self.draining {
            let hint = RetryHintData { retry_after_ms: Some(0), limit: None };
            let error = RpcError::from_data(FrameworkCode::Unavailable, "the server is shutting down; reconnect", hint);
            Outcome::Answer(Err(with_request_id(error, &request_id::generate())))
        } else if self.pipeline.unsubscribe.contains(&*call.method) {
            Outcome::Answer(self.unsubscribe(&call).map_err(|error| with_request_id(error, &request_id::generate())))
        } else if call.id.is_none() && self.is_subscription(&call) {
            // A subscription nobody can be told the id of: nothing to run.
            return None;
        } else {
            self.pipeline.call(self.caller, &call, self.batch_size).await
        };
        Some((call.id?, outcome))
    }

    fn is_subscription(&self, call: &Call<'_>) -> bool {
        self.pipeline.procedures.get(&*call.method).is_some_and(|p| p.kind == Kind::Subscription)
    }

    /// `<method>.unsubscribe` with the subscription id as the only positional param: `true`
    /// when it was open on this connection.
    fn unsubscribe(&self, call: &Call<'_>) -> Result<Box<RawValue>, RpcError> {
        let Some(subscriptions) = self.subscriptions else {
            return Err(RpcError::framework(
                FrameworkCode::InvalidRequest,
                "unsubscribe on the WebSocket that opened the subscription",
            ));
        };
        let id = call
            .params
            .and_then(|raw| serde_json::from_str::<(String,)>(raw.get()).ok())
            .map(|(id,)| id)
            .ok_or_else(|| {
                RpcError::framework(FrameworkCode::InvalidParams, "unsubscribe takes the subscription id: [\"<id>\"]")
                    .with_data_field("path", "")
                    .with_data_field("reason", "expected [\"<subscription id>\"]")
            })?;
        let ended = subscriptions.cancel(&id);
        Ok(RawValue::from_string(ended.to_string()).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }
}
