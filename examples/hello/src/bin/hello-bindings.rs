//! `cargo run -p hello --bin hello-bindings -- generate`: writes the TypeScript bindings.

use accord::Api;

fn main() -> std::process::ExitCode {
    accord_bindings::cli(&[hello::HelloApi::description()], concat!(env!("CARGO_MANIFEST_DIR"), "/web/src/api"))
}
