//! Generates or checks the todos TypeScript bindings and OpenRPC document.
//!
//! `cargo run -p todos-api --bin bindings -- generate` writes them;
//! `cargo run -p todos-api --bin bindings -- check` exits 4 when they are stale.
//! No server, runtime or database is involved: the description is static.

use accord::Api;

fn main() -> std::process::ExitCode {
    let default_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src/api");
    accord_bindings::cli(&[todos_api::TodosApi::description()], default_dir)
}
