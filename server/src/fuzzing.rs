//! The whole message path (parse → batch fan-out → pipeline → params decoding and validation →
//! handler → answer) without a network, for the fuzz targets in `server/fuzz/`. Hidden from
//! the docs: not a stable API.

use std::net::{IpAddr, Ipv4Addr};

use crate::auth::Authentication;
use crate::builder::ServerBuilder;
use crate::caller::{Caller, Transport};
use crate::dispatch::{self, MessageLimits};
use crate::pipeline::Pipeline;
use crate::server::ServeError;

/// Answers messages as `POST /rpc` would, for an anonymous caller.
#[doc(hidden)]
pub struct MessageHarness {
    pipeline: Pipeline,
    limits: MessageLimits,
    caller: Caller,
}

impl MessageHarness {
    /// The answer body to `message`; `None` when nothing is answered.
    pub async fn answer(&self, message: &[u8]) -> Option<Vec<u8>> {
        dispatch::answer(&self.pipeline, self.limits, &self.caller, message, None, false).await.body
    }
}

impl ServerBuilder {
    /// The builder's procedures and policies as a [`MessageHarness`] (for fuzzing).
    #[doc(hidden)]
    pub async fn into_message_harness(self) -> Result<MessageHarness, ServeError> {
        let (pipeline, limits) = self.pipeline_and_limits().await?;
        let caller = Caller::new(
            Transport::Http,
            None,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            None,
            http::Extensions::new(),
            Authentication::Anonymous,
        );
        Ok(MessageHarness { pipeline, limits, caller })
    }
}
