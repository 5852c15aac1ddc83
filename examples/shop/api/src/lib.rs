//! The shop API: every procedure, input, output and error of the shop example, defined once.
//!
//! Three namespaces, one trait each:
//!
//! - [`Auth`] (`auth.*`): accounts and sessions; `auth.login` hands out the bearer token the
//!   other namespaces need.
//! - [`Products`] (`products.*`): the catalogue, searchable and paged; admins edit it.
//! - [`Orders`] (`orders.*`): checkout (idempotent), the caller's orders with their items, and
//!   live status updates.
//!
//! The server (`shop`), the Rust CLI (`shop-cli`) and the TypeScript bindings
//! (`src/bin/bindings.rs`, written to `examples/shop/web/src/api/`) all come from this crate.
//! Money is an integer number of cents; times are milliseconds since the Unix epoch.
//!
//! No text input accepts the NUL character (U+0000): every input string carries the rule
//! `pattern(r"^[^\x00]*$")`, so a NUL is refused with `INVALID_PARAMS` and a violation at its
//! field, before any database sees it. PostgreSQL cannot store NUL in text at all, and SQLite
//! would end a search pattern at it (matching every product); refusing it up front answers the
//! same on both. The rule is in the JSON Schema too (`pattern`), so clients can check it first.

mod auth;
mod orders;
mod products;

pub use auth::*;
pub use orders::*;
pub use products::*;
