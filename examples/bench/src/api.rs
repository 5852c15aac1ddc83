//! The benchmarked procedure: `bench.echo` answers with its input.
//!
//! The input is validated (`message` is at most 1000 characters) before the procedure runs, so
//! a longer message is answered with `INVALID_PARAMS` and never reaches [`Echoer`].

use accord::{Cx, RpcError};

/// A message and a number, echoed back unchanged.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Echo {
    /// At most 1000 characters (Unicode scalar values, not bytes).
    #[garde(length(chars, max = 1000))]
    pub message: String,
    /// Any 32-bit integer.
    pub n: i32,
}

/// `bench.echo` fails only for framework reasons (invalid params, rate limits, ...).
#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Never returned. `#[accord::error]` does not compile today on an enum whose only variant
    /// is `#[accord(rpc)]` (the TypeScript derive joins an empty list of cases).
    #[error("never returned")]
    Never,
    /// Framework and transport errors.
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// The benchmark's API: one query.
#[accord::procedures(namespace = "bench")]
pub trait Bench {
    /// Answers with the input.
    #[query]
    async fn echo(&self, cx: &Cx, input: Echo) -> Result<Echo, BenchError>;
}

/// The implementation: no state, no work beyond the framework's.
#[derive(Clone, Copy, Debug, Default)]
pub struct Echoer;

impl Bench for Echoer {
    async fn echo(&self, _: &Cx, input: Echo) -> Result<Echo, BenchError> {
        Ok(input)
    }
}
