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
