//! Integration tests of `accord-bindings` over APIs defined with the real macros.

mod api;
mod cli;
mod corpus;
mod diff_cli;
mod errors;
mod files;
mod framework_errors;
mod openrpc;
mod typescript;

use accord::{Api, Description};

/// The two well-formed test APIs.
fn apis() -> Vec<Description> {
    vec![api::ShelfApi::description(), api::LoansApi::description()]
}

fn bindings() -> accord_bindings::Bindings {
    match accord_bindings::generate(&apis()) {
        Ok(bindings) => bindings,
        Err(error) => panic!("generation failed: {error}"),
    }
}

fn file(bindings: &accord_bindings::Bindings, name: &str) -> String {
    bindings.get(name).unwrap_or_else(|| panic!("no {name}")).to_owned()
}
