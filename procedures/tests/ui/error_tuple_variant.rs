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

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum Tuple {
    #[error("x")]
    Missing(u32),
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

fn main() {}
