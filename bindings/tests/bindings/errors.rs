//! What generation refuses, and how it says so.

use accord::{Api, Description};
use accord_bindings::BindingsError;

use crate::api;

fn error(apis: &[Description]) -> BindingsError {
    match accord_bindings::generate(apis) {
        Ok(_) => panic!("generation should fail"),
        Err(error) => error,
    }
}

#[test]
fn two_rust_types_with_one_typescript_name_are_refused() {
    let error = error(&[api::clash::ClashApi::description()]);
    let BindingsError::NameClash { name, first, second } = &error else { panic!("{error:?}") };
    assert_eq!(name, "Item");
    assert!(first.ends_with("a::Item") && second.ends_with("b::Item"), "{first} {second}");
    let message = error.to_string();
    assert!(message.contains("`Item`") && message.contains("a::Item") && message.contains("b::Item"), "{message}");
}

#[test]
fn a_64_bit_integer_is_refused_by_name() {
    let error = error(&[api::big::CountersApi::description()]);
    assert!(matches!(error, BindingsError::LargeInteger { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("`Counter`"), "{message}");
    assert!(message.contains("counters.read"), "{message}");
    assert!(message.contains("accord::I53") && message.contains("string"), "{message}");
}

#[test]
fn duplicate_wire_methods_are_refused() {
    let error = error(&[api::ShelfApi::description(), api::LoansApi::description(), api::ShelfApi::description()]);
    let BindingsError::DuplicateMethod { name, first, second } = &error else { panic!("{error:?}") };
    assert_eq!((name.as_str(), first.as_str(), second.as_str()), ("shelf.get", "Shelf", "Shelf"));
}

#[test]
fn an_input_that_is_not_an_object_is_refused() {
    let error = error(&[api::shapes::ShapesApi::description()]);
    let BindingsError::OpenRpc(accord::openrpc::OpenRpcError::InputNotObject { procedure, rust_type }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(procedure, "shapes.area");
    assert!(rust_type.ends_with("Shape"), "{rust_type}");
}
