//! The API: one trait, one wire type.

use accord::{Cx, Error};

/// Who to greet.
#[accord::wire]
pub struct Name {
    pub name: String,
}

#[accord::procedures(namespace = "hello")]
pub trait Hello {
    /// Says hello.
    #[query]
    async fn greet(&self, cx: &Cx, input: Name) -> Result<String, Error>;
}
