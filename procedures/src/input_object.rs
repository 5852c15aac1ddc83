//! [`InputObject`]: the compile-time rule that a procedure's input is a JSON object.

/// A wire type that is a JSON object with named fields: what a procedure's input must be.
///
/// Accord sends an input by name: the call's `params` is the input object, and OpenRPC and the
/// TypeScript bindings describe its fields as named params. `#[accord::wire]` implements this
/// for structs with named fields (not `#[serde(transparent)]` ones); `#[accord::procedures]`
/// refuses any other input at compile time, with the error on the input's type. A procedure
/// without input simply takes none.
///
/// ```compile_fail
/// # use accord::{Cx, Error};
/// #[accord::wire]
/// pub struct TodoId(u32); // a newtype is a number on the wire, not an object
///
/// #[accord::procedures(namespace = "todos")]
/// pub trait Todos {
///     #[query]
///     async fn get(&self, cx: &Cx, input: TodoId) -> Result<String, Error>;
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a procedure's input: it is not an object with named fields",
    label = "Accord sends an input by name, as the `params` object",
    note = "use an #[accord::wire] struct with named fields (wrap a single value in a struct with one named field)"
)]
pub trait InputObject {}
