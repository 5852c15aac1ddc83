//! Writing answers: JSON-RPC response objects, alone or as a batch array, straight into one
//! buffer (results are copied once, from the handler's serialized output into the body).

use accord::RpcError;
use serde_json::value::RawValue;

use super::Id;

/// The body of an answer under construction, bounded by the server's response limit.
#[derive(Debug)]
pub(crate) struct Response {
    body: Vec<u8>,
    batch: bool,
    entries: usize,
    limit: usize,
}

impl Response {
    /// An answer to a single request (`batch: false`) or a batch, at most `limit` bytes.
    pub(crate) fn new(batch: bool, limit: usize) -> Self {
        Self { body: Vec::new(), batch, entries: 0, limit }
    }

    /// Appends the answer to one call. A result that would take the body past the limit is
    /// replaced by an error saying so, so every call still gets an answer.
    pub(crate) fn push(&mut self, id: Id<'_>, outcome: Result<&RawValue, &RpcError>) {
        if self.batch {
            self.body.push(if self.entries == 0 { b'[' } else { b',' });
        }
        match outcome {
            Ok(result) if self.fits(id, result.get().len()) => write_result(&mut self.body, id, result),
            Ok(_) => {
                tracing::warn!(
                    limit = self.limit,
                    "an answer is larger than the response limit; sent an error instead"
                );
                write_error(&mut self.body, id, &too_big(self.limit));
            }
            Err(error) => write_error(&mut self.body, id, error),
        }
        self.entries += 1;
    }

    fn fits(&self, id: Id<'_>, result_len: usize) -> bool {
        const ENVELOPE: usize = r#"{"jsonrpc":"2.0","id":,"result":}]"#.len();
        self.body.len() + id.as_json().len() + result_len + ENVELOPE <= self.limit
    }

    /// The finished body; `None` when nothing was pushed (only notifications: no answer).
    pub(crate) fn into_body(mut self) -> Option<Vec<u8>> {
        if self.entries == 0 {
            return None;
        }
        if self.batch {
            self.body.push(b']');
        }
        Some(self.body)
    }
}

/// The error that stands in for an answer over the response limit.
fn too_big(limit: usize) -> RpcError {
    RpcError::framework(
        accord::FrameworkCode::Internal,
        format!("the answer is larger than this server sends ({limit} bytes)"),
    )
}

fn write_result(out: &mut Vec<u8>, id: Id<'_>, result: &RawValue) {
    // One allocation for a single call's answer (the envelope is 32 bytes).
    out.reserve(id.as_json().len() + result.get().len() + 32);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.as_json().as_bytes());
    out.extend_from_slice(br#","result":"#);
    out.extend_from_slice(result.get().as_bytes());
    out.push(b'}');
}

/// Writes an error object. Exposed for the answers to whole messages (parse errors, bodies too
/// large) that are not built entry by entry.
pub(crate) fn write_error(out: &mut Vec<u8>, id: Id<'_>, error: &RpcError) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.as_json().as_bytes());
    out.extend_from_slice(br#","error":"#);
    if serde_json::to_writer(&mut *out, error).is_err() {
        // Serializing a String, an i32 and a Value into a Vec cannot fail; stay valid anyway.
        out.extend_from_slice(br#"{"code":-32603,"message":"internal error","data":{"code":"INTERNAL"}}"#);
    }
    out.push(b'}');
}

/// A whole answer holding one error under `id`.
pub(crate) fn error_body(id: Id<'_>, error: &RpcError) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_error(&mut out, id, error);
    out
}
