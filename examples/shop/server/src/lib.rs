//! The shop example server: [`shop_api`]'s procedures on a real database.
//!
//! - Data: sqlx + sea-query, one code path for SQLite (embedded default) and PostgreSQL
//!   ([`db`]); migrations in `migrations/`; demo data from [`seed`].
//! - `auth.*` ([`accounts`], [`sessions`], [`passwords`]): Argon2id hashes, bearer tokens stored
//!   hashed, an authenticator for the server.
//! - `products.*` ([`catalog`]): search and paging; `products.get` behind a coalescing cache.
//! - `orders.*` ([`orders`], [`checkout`], [`order_events`], [`fulfilment`]): idempotent
//!   checkout, orders with items in a constant number of queries, live status.
//!
//! See `examples/shop/README.md` for how each production concern is handled.

pub mod accounts;
pub mod app;
pub mod catalog;
pub mod checkout;
pub mod config;
pub mod db;
mod errors;
pub mod fulfilment;
pub mod order_events;
pub mod orders;
pub mod passwords;
pub mod seed;
pub mod sessions;

pub use app::{Shop, StartError};
pub use config::Config;
