//! Error enums round-trip through their wire form, including one with no domain errors.

use accord::{FrameworkCode, ProcedureError, RpcError};

#[accord::error]
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum OnlyFramework {
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::error]
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum Shop {
    #[error("no product {id}")]
    #[accord(code = 1404)]
    ProductNotFound { id: u32 },
    #[error("out of stock")]
    OutOfStock,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[test]
fn an_enum_without_domain_errors_is_never_in_typescript() {
    use accord::__private::ts_rs::TS;
    let config = accord::__private::ts_rs::Config::new();
    assert_eq!(OnlyFramework::inline(&config), "never");
    assert!(OnlyFramework::CASES.is_empty());
    let timeout = RpcError::framework(FrameworkCode::Timeout, "late");
    assert_eq!(OnlyFramework::from_rpc_error(timeout.clone()), OnlyFramework::Rpc(timeout));
}

#[test]
fn the_ready_made_error_is_the_same_as_an_enum_without_domain_errors() {
    use accord::__private::schemars::SchemaGenerator;
    use accord::__private::ts_rs::TS;
    let config = accord::__private::ts_rs::Config::new();
    assert_eq!(accord::Error::inline(&config), OnlyFramework::inline(&config));
    assert!(<accord::Error as ProcedureError>::CASES.is_empty());
    let schema = |generator: &mut SchemaGenerator, description: accord::TypeDescription| {
        description.json_schema(generator).as_value().clone()
    };
    let mut generator = SchemaGenerator::default();
    let ready = schema(&mut generator, accord::TypeDescription::of::<accord::Error>());
    let own = schema(&mut generator, accord::TypeDescription::of::<OnlyFramework>());
    let definitions = generator.take_definitions(true);
    let resolve = |schema: &serde_json::Value| match schema["$ref"].as_str() {
        Some(reference) => definitions[reference.rsplit('/').next().unwrap()].clone(),
        None => schema.clone(),
    };
    let (mut ready, mut own) = (resolve(&ready), resolve(&own));
    for schema in [&mut ready, &mut own] {
        if let Some(object) = schema.as_object_mut() {
            object.remove("title");
            object.remove("description");
        }
    }
    assert_eq!(ready, own);

    // A framework error passes through unchanged, both ways.
    let unavailable = RpcError::framework(FrameworkCode::Unavailable, "down");
    let error = accord::Error::from_rpc_error(unavailable.clone());
    assert_eq!(error.rpc_error(), &unavailable);
    assert_eq!(RpcError::from(error.clone()), unavailable);
    assert_eq!(error.into_rpc_error(), unavailable);
    // `?` turns an RpcError into it.
    fn fails() -> Result<(), accord::Error> {
        Err(RpcError::framework(FrameworkCode::Conflict, "taken"))?
    }
    assert_eq!(fails().unwrap_err().rpc_error().framework_code(), Some(FrameworkCode::Conflict));
}

#[test]
fn domain_errors_round_trip_and_framework_ones_stay_framework() {
    let wire = Shop::ProductNotFound { id: 7 }.into_rpc_error();
    assert_eq!(wire.code, 1404);
    assert_eq!(wire.data, Some(serde_json::json!({"code": "PRODUCT_NOT_FOUND", "id": 7})));
    assert_eq!(Shop::from_rpc_error(wire), Shop::ProductNotFound { id: 7 });
    assert_eq!(Shop::OutOfStock.into_rpc_error().code, accord::APPLICATION_ERROR_CODE);

    // A framework code never decodes as a domain error, even with a matching data shape.
    let internal = RpcError::internal();
    assert_eq!(Shop::from_rpc_error(internal.clone()), Shop::Rpc(internal));
    // An unknown domain code from a newer server stays readable as a framework-variant error.
    let unknown = RpcError { code: 1000, message: "new".into(), data: Some(serde_json::json!({"code": "NEW_THING"})) };
    assert_eq!(Shop::from_rpc_error(unknown.clone()), Shop::Rpc(unknown));
    assert_eq!(
        Shop::CASES.iter().map(|c| (c.code, c.rpc_code)).collect::<Vec<_>>(),
        [("PRODUCT_NOT_FOUND", 1404), ("OUT_OF_STOCK", 1000)]
    );
}
