//! Typed procedure names (`<Trait>Api::METHOD`) and the object-input rule.

use accord::{Api, Cx, Error, InputObject, ProcedureName};

#[accord::wire]
pub struct Page {
    pub after: Option<u32>,
}

#[accord::wire]
pub struct Paged<T> {
    pub items: Vec<T>,
}

#[accord::procedures(namespace = "orders")]
pub trait Orders {
    #[query]
    async fn list_mine(&self, cx: &Cx, input: Page) -> Result<Paged<u32>, Error>;
    #[mutation]
    async fn checkout(&self, cx: &Cx) -> Result<u32, Error>;
}

#[test]
fn each_procedure_has_a_typed_name_matching_its_description() {
    const LIST_MINE: ProcedureName = OrdersApi::LIST_MINE;
    assert_eq!(LIST_MINE.as_str(), "orders.listMine");
    assert_eq!(OrdersApi::CHECKOUT.to_string(), "orders.checkout");
    let names: Vec<&str> = OrdersApi::description().procedures.iter().map(|p| p.name).collect();
    assert_eq!(names, [OrdersApi::LIST_MINE.as_str(), OrdersApi::CHECKOUT.as_str()]);
}

#[test]
fn structs_with_named_fields_are_input_objects_generic_ones_too() {
    fn input_object<T: InputObject>() {}
    input_object::<Page>();
    input_object::<Paged<String>>();
}
