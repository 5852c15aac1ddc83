#![allow(unused_imports)]

use accord::{Cx, RpcError};

#[accord::wire]
pub struct In { pub id: u32 }

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum E {
    #[error("missing")]
    Missing,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::procedures(namespace = "t")]
pub trait T {
    #[query(idempotent)]
    async fn get(&self, cx: &Cx, input: In) -> Result<In, E>;
}

fn main() {}
