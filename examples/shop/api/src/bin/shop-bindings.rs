//! Generates or checks the shop's TypeScript bindings and OpenRPC document.
//!
//! `cargo run -p shop-api --bin shop-bindings -- generate` writes them into `examples/shop/web/src/api/`;
//! `cargo run -p shop-api --bin shop-bindings -- check` exits 4 when they are stale.
//! No server, runtime or database is involved: the descriptions are static.

use accord::Api;

fn main() -> std::process::ExitCode {
    let default_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src/api");
    let apis =
        [shop_api::AuthApi::description(), shop_api::ProductsApi::description(), shop_api::OrdersApi::description()];
    accord_bindings::cli(&apis, default_dir)
}
