//! Declarative validation: `#[garde(...)]` rules on `#[accord::wire]` inputs are checked after
//! the params decode and before the procedure runs, every violation is reported with its wire
//! path, and the rules reach the JSON Schema.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use accord::{Cx, FrameworkCode, Handler, RpcError, Stream, TypeDescription, Validate};
use serde_json::{Value, json};

/// A postal address.
#[accord::wire]
#[derive(Clone, Debug)]
pub struct Address {
    #[garde(length(min = 1))]
    pub street_name: String,
    #[garde(pattern(r"^[0-9]{5}$"))]
    pub postal_code: String,
}

#[accord::wire]
#[derive(Clone, Debug)]
pub struct LineItem {
    #[garde(length(chars, min = 1, max = 40))]
    pub product_name: String,
    pub gift_wrap: bool,
}

/// An order, with one rule of each kind.
#[accord::wire]
#[derive(Clone, Debug)]
pub struct NewOrder {
    #[garde(length(chars, min = 1, max = 100))]
    pub customer_name: String,
    #[garde(range(min = 1, max = 99))]
    pub quantity: u32,
    #[garde(range(min = 0))]
    pub deliver_after_ms: accord::I53,
    #[garde(email)]
    pub contact_email: String,
    #[garde(dive)]
    pub shipping_address: Address,
    #[garde(length(max = 3), dive)]
    pub line_items: Vec<LineItem>,
    #[garde(inner(length(min = 1, max = 20)))]
    pub tags: Vec<String>,
    #[serde(default, rename = "note")]
    #[garde(length(max = 10))]
    pub comment: Option<String>,
    /// No rule: never validated, needs no attribute.
    pub rush: bool,
}

/// A wire type without rules: unaffected.
#[accord::wire]
#[derive(Clone, Debug)]
pub struct Lookup {
    pub order_id: u32,
}

/// Diving into a type without rules is allowed (and finds nothing).
#[accord::wire]
#[derive(Clone, Debug)]
pub struct Batch {
    #[garde(dive, length(min = 1))]
    pub lookups: Vec<Lookup>,
}

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

#[accord::procedures(namespace = "orders")]
pub trait Orders {
    #[mutation]
    async fn place(&self, cx: &Cx, input: NewOrder) -> Result<u32, OrderError>;
    #[query]
    async fn get(&self, cx: &Cx, input: Lookup) -> Result<u32, OrderError>;
    #[query]
    async fn count(&self, cx: &Cx) -> Result<u32, OrderError>;
    #[subscription]
    async fn watch(&self, cx: &Cx, input: NewOrder) -> Result<Stream<u32, OrderError>, OrderError>;
}

#[derive(Clone, Default)]
struct Shop {
    calls: Arc<AtomicUsize>,
}

impl Orders for Shop {
    async fn place(&self, _cx: &Cx, input: NewOrder) -> Result<u32, OrderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(input.quantity)
    }
    async fn get(&self, _cx: &Cx, input: Lookup) -> Result<u32, OrderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(input.order_id)
    }
    async fn count(&self, _cx: &Cx) -> Result<u32, OrderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(0)
    }
    async fn watch(&self, _cx: &Cx, _input: NewOrder) -> Result<Stream<u32, OrderError>, OrderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Box::pin(futures_util_free_empty()))
    }
}

/// An empty stream, without pulling in futures-util.
fn futures_util_free_empty() -> impl futures_core::Stream<Item = Result<u32, OrderError>> + Send + 'static {
    struct Empty;
    impl futures_core::Stream for Empty {
        type Item = Result<u32, OrderError>;
        fn poll_next(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(None)
        }
    }
    Empty
}

fn valid_order() -> Value {
    json!({
        "customerName": "Ada",
        "quantity": 2,
        "deliverAfterMs": 0,
        "contactEmail": "ada@example.com",
        "shippingAddress": {"streetName": "Main St", "postalCode": "12345"},
        "lineItems": [{"productName": "tea", "giftWrap": false}, {"productName": "cup", "giftWrap": true}],
        "tags": ["gift"],
        "note": "thanks",
        "rush": false,
    })
}

async fn call(shop: &Shop, method: &str, params: Option<Value>) -> Result<Value, RpcError> {
    let handlers = OrdersApi::handlers(shop.clone());
    let (_, handler) = handlers.iter().find(|(p, _)| p.name == method).expect("no such procedure");
    let Handler::Call(f) = handler else { panic!("{method} is not a query or mutation") };
    let params = params.map(|p| p.to_string());
    let result = f(Cx::new(), params.as_deref()).await?;
    Ok(serde_json::from_str(result.get()).unwrap())
}

fn violations(error: &RpcError) -> Vec<(String, String)> {
    let data = error.data.as_ref().expect("data");
    data["violations"]
        .as_array()
        .expect("data.violations")
        .iter()
        .map(|v| (v["path"].as_str().unwrap().to_owned(), v["reason"].as_str().unwrap().to_owned()))
        .collect()
}

fn paths(error: &RpcError) -> Vec<String> {
    violations(error).into_iter().map(|(path, _)| path).collect()
}

#[tokio::test]
async fn three_broken_rules_are_all_reported_and_the_method_never_runs() {
    let shop = Shop::default();
    let mut order = valid_order();
    order["customerName"] = json!("");
    order["quantity"] = json!(0);
    order["lineItems"][1]["productName"] = json!("");

    let error = call(&shop, "orders.place", Some(order)).await.unwrap_err();

    assert_eq!(error.code, -32602);
    assert_eq!(error.framework_code(), Some(FrameworkCode::InvalidParams));
    assert_eq!(paths(&error), ["customerName", "quantity", "lineItems[1].productName"]);
    let data = error.data.as_ref().unwrap();
    assert_eq!(data["path"], "customerName", "the first violation, as for decode errors");
    assert_eq!(data["reason"], "length is lower than 1");
    assert_eq!(
        error.message,
        "invalid params: 3 violations: `customerName`: length is lower than 1; `quantity`: lower than 1; \
         `lineItems[1].productName`: length is lower than 1"
    );
    assert_eq!(shop.calls.load(Ordering::SeqCst), 0, "the method must not run");
}

#[tokio::test]
async fn every_kind_of_rule_reports_its_wire_path() {
    let shop = Shop::default();
    let mut order = valid_order();
    order["contactEmail"] = json!("not an email");
    order["deliverAfterMs"] = json!(-1);
    order["shippingAddress"]["postalCode"] = json!("12a45");
    order["shippingAddress"]["streetName"] = json!("");
    order["tags"] = json!(["ok", ""]);
    order["note"] = json!("far too long for a note");
    order["lineItems"] = json!([
        {"productName": "a", "giftWrap": false},
        {"productName": "b", "giftWrap": false},
        {"productName": "c", "giftWrap": false},
        {"productName": "d", "giftWrap": false},
    ]);

    let error = call(&shop, "orders.place", Some(order)).await.unwrap_err();

    assert_eq!(
        paths(&error),
        [
            "deliverAfterMs",
            "contactEmail",
            "shippingAddress.streetName",
            "shippingAddress.postalCode",
            "lineItems",
            "tags[1]",
            "note",
        ]
    );
    let reasons: Vec<String> = violations(&error).into_iter().map(|(_, reason)| reason).collect();
    assert_eq!(reasons[0], "lower than 0");
    assert!(reasons[1].starts_with("not a valid email"), "{reasons:?}");
    assert_eq!(reasons[3], "does not match pattern /^[0-9]{5}$/");
    assert_eq!(reasons[4], "length is greater than 3");
    assert_eq!(shop.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_valid_input_reaches_the_method() {
    let shop = Shop::default();
    assert_eq!(call(&shop, "orders.place", Some(valid_order())).await.unwrap(), json!(2));
    let mut order = valid_order();
    order.as_object_mut().unwrap().remove("note");
    assert_eq!(call(&shop, "orders.place", Some(order)).await.unwrap(), json!(2));
    assert_eq!(shop.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn decode_errors_come_first_and_stay_as_they_were() {
    let shop = Shop::default();
    let mut order = valid_order();
    order["customerName"] = json!(""); // would be a violation...
    order["quantity"] = json!("two"); // ...but the input does not even decode
    let error = call(&shop, "orders.place", Some(order)).await.unwrap_err();
    let data = error.data.as_ref().unwrap();
    assert_eq!(data["path"], "quantity");
    assert!(data.get("violations").is_none(), "{data}");
    assert_eq!(shop.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn types_without_rules_and_procedures_without_input_are_unaffected() {
    let shop = Shop::default();
    assert_eq!(call(&shop, "orders.get", Some(json!({"orderId": 0}))).await.unwrap(), json!(0));
    assert_eq!(call(&shop, "orders.count", None).await.unwrap(), json!(0));
    assert_eq!(Lookup { order_id: 0 }.validate(), Ok(()));
    assert_eq!(Batch { lookups: vec![Lookup { order_id: 0 }] }.validate(), Ok(()));
    assert_eq!(Batch { lookups: vec![] }.validate().unwrap_err()[0].path, "lookups");
    assert_eq!(shop.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn subscriptions_validate_their_input_too() {
    let shop = Shop::default();
    let handlers = OrdersApi::handlers(shop.clone());
    let (_, handler) = handlers.iter().find(|(p, _)| p.name == "orders.watch").unwrap();
    let Handler::Subscribe(f) = handler else { panic!("not a subscription") };
    let mut order = valid_order();
    order["quantity"] = json!(100);
    let Err(error) = f(Cx::new(), Some(&order.to_string())).await else { panic!("accepted") };
    assert_eq!(paths(&error), ["quantity"]);
    assert_eq!(violations(&error)[0].1, "greater than 99");
    assert!(f(Cx::new(), Some(&valid_order().to_string())).await.is_ok());
    assert_eq!(shop.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn the_rules_are_in_the_json_schema() {
    let mut generator = schemars::generate::SchemaSettings::draft07().into_generator();
    TypeDescription::of::<NewOrder>().json_schema(&mut generator);
    let definitions = Value::Object(generator.definitions().clone());
    let order = &definitions["NewOrder"]["properties"];
    assert_eq!(order["customerName"]["minLength"], 1, "{order:#}");
    assert_eq!(order["customerName"]["maxLength"], 100);
    assert_eq!(order["quantity"]["minimum"], 1);
    assert_eq!(order["quantity"]["maximum"], 99);
    assert_eq!(order["deliverAfterMs"]["minimum"], 0, "{order:#}");
    assert_eq!(order["contactEmail"]["format"], "email");
    assert_eq!(order["lineItems"]["maxItems"], 3);
    assert_eq!(order["tags"]["items"]["minLength"], 1);
    assert_eq!(order["tags"]["items"]["maxLength"], 20);
    assert_eq!(order["note"]["maxLength"], 10);
    assert!(order["rush"].get("minimum").is_none());

    let address = &definitions["Address"]["properties"];
    assert_eq!(address["postalCode"]["pattern"], "^[0-9]{5}$");
    assert_eq!(address["streetName"]["minLength"], 1);
    assert_eq!(definitions["LineItem"]["properties"]["productName"]["maxLength"], 40);
}

// Paths through enums, newtypes, renames and generics.

#[accord::wire]
#[derive(Clone, Debug)]
pub enum Shape {
    Circle {
        #[garde(range(min = 1))]
        radius_mm: u32,
    },
    #[serde(rename = "rect")]
    Rectangle {
        #[garde(range(min = 1))]
        width_mm: u32,
        #[serde(rename = "h")]
        #[garde(range(min = 1))]
        height_mm: u32,
    },
    Point,
}

#[accord::wire]
#[derive(Clone, Debug)]
#[serde(tag = "kind")]
pub enum Tagged {
    Square {
        #[garde(range(min = 1))]
        side_mm: u32,
    },
}

#[accord::wire]
#[derive(Clone, Debug)]
pub struct Email(#[garde(email)] pub String);

#[accord::wire]
#[derive(Clone, Debug)]
#[serde(rename_all = "snake_case")]
pub struct Drawing {
    #[garde(dive)]
    pub shapes: Vec<Shape>,
    #[garde(dive)]
    pub tagged: Option<Tagged>,
    #[garde(dive)]
    pub author_email: Email,
    #[garde(dive)]
    pub page: Page<Email>,
}

/// Generic: rules on a field of type parameter type work, `dive` into one does not (it needs a
/// `T: garde::Validate` bound on the type, which ts-rs cannot instantiate).
#[accord::wire]
#[derive(Clone, Debug)]
pub struct Page<T> {
    #[garde(length(max = 1))]
    pub page_items: Vec<T>,
}

#[test]
fn paths_follow_enums_newtypes_renames_and_generics() {
    let drawing = Drawing {
        shapes: vec![Shape::Point, Shape::Circle { radius_mm: 0 }, Shape::Rectangle { width_mm: 0, height_mm: 0 }],
        tagged: Some(Tagged::Square { side_mm: 0 }),
        author_email: Email("nope".into()),
        page: Page { page_items: vec![Email("a@b.co".into()), Email("x".into())] },
    };
    let violations = drawing.validate().unwrap_err();
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "shapes[1].Circle.radiusMm",
            "shapes[2].rect.widthMm",
            "shapes[2].rect.h",
            "tagged.sideMm",
            "author_email",
            "page.pageItems",
        ],
        "{violations:#?}"
    );
    // The JSON the paths describe.
    let wire = serde_json::to_value(&drawing).unwrap();
    assert_eq!(wire["shapes"][1]["Circle"]["radiusMm"], 0);
    assert_eq!(wire["shapes"][2]["rect"]["h"], 0);
    assert_eq!(wire["tagged"]["sideMm"], 0);
    assert_eq!(wire["page"]["pageItems"][1], "x");
}
