use accord::{Cx, Error};

/// A newtype: a number on the wire.
#[accord::wire]
pub struct TodoId(pub u32);

/// An enum: a string on the wire.
#[accord::wire]
pub enum Order {
    Newest,
    Oldest,
}

/// Transparent: its one field's value on the wire.
#[accord::wire]
#[serde(transparent)]
pub struct Wrapped {
    pub id: u32,
}

#[accord::procedures(namespace = "todos")]
pub trait Todos {
    #[query]
    async fn get(&self, cx: &Cx, input: TodoId) -> Result<String, Error>;
    #[query]
    async fn list(&self, cx: &Cx, input: Order) -> Result<String, Error>;
    #[query]
    async fn peek(&self, cx: &Cx, input: Wrapped) -> Result<String, Error>;
    #[query]
    async fn count(&self, cx: &Cx, input: u32) -> Result<String, Error>;
}

fn main() {}
