//! Fuzzes the whole message path: bytes → JSON-RPC parsing → batch fan-out → the pipeline →
//! params decoding and validation (garde rules) → the handler → the answer.
//!
//! Invariants checked on every input: nothing panics, an answer is valid JSON (syntax), and no answer
//! is `INTERNAL` (the handlers here cannot fail, so `INTERNAL` would mean the framework
//! mistook a bad input for its own bug). Run it as `server/fuzz/README.md` says.
#![no_main]

use std::sync::OnceLock;

use accord::{Cx, RpcError};
use accord_server::{MessageHarness, Server};

/// A signup form with the rules a real API has.
#[accord::wire]
pub struct Signup {
    #[garde(length(min = 1, max = 40))]
    pub name: String,
    #[garde(email)]
    pub email: String,
    #[garde(range(min = 13, max = 130))]
    pub age: u32,
    #[garde(length(max = 5), inner(length(min = 1, max = 20)))]
    pub tags: Vec<String>,
    #[garde(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    #[garde(dive)]
    pub address: Option<Address>,
}

#[accord::wire]
pub struct Address {
    #[garde(length(min = 1, max = 100))]
    pub street: String,
    #[garde(pattern(r"^[0-9]{5}$"))]
    pub zip: String,
}

#[accord::wire]
pub enum Shape {
    Circle { radius: f64 },
    Square { side: f64 },
}

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("never")]
    Never,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::procedures(namespace = "fuzz")]
pub trait Fuzz {
    #[mutation]
    async fn signup(&self, cx: &Cx, input: Signup) -> Result<Signup, FuzzError>;
    #[query]
    async fn area(&self, cx: &Cx, input: Shape) -> Result<f64, FuzzError>;
    #[query]
    async fn ping(&self, cx: &Cx) -> Result<u32, FuzzError>;
}

struct Echo;

impl Fuzz for Echo {
    async fn signup(&self, _: &Cx, input: Signup) -> Result<Signup, FuzzError> {
        Ok(input)
    }
    async fn area(&self, _: &Cx, input: Shape) -> Result<f64, FuzzError> {
        Ok(match input {
            Shape::Circle { radius } => radius * radius * 3.14,
            Shape::Square { side } => side * side,
        })
    }
    async fn ping(&self, _: &Cx) -> Result<u32, FuzzError> {
        Ok(1)
    }
}

fn harness() -> &'static (tokio::runtime::Runtime, MessageHarness) {
    static HARNESS: OnceLock<(tokio::runtime::Runtime, MessageHarness)> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        let builder = Server::builder().mount(FuzzApi::handlers(Echo)).expect("mount");
        let harness = runtime.block_on(builder.into_message_harness()).expect("a harness");
        (runtime, harness)
    })
}

libfuzzer_sys::fuzz_target!(|message: &[u8]| {
    let (runtime, harness) = harness();
    if let Some(answer) = runtime.block_on(harness.answer(message)) {
        let text = std::str::from_utf8(&answer).expect("every answer is UTF-8");
        // Syntax only: ids are echoed as written, and JSON allows numbers (`1e400`) that
        // serde_json's `Value` refuses to hold.
        let _: &serde_json::value::RawValue = serde_json::from_str(text).expect("every answer is JSON");
        assert!(!text.contains(r#""code":"INTERNAL""#), "a bad input answered INTERNAL: {text}");
    }
});
