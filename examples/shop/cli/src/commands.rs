//! Each command, run against the shop's traits. The functions take `&impl Products`,
//! `&impl Orders`...: the generated clients here, but they would run as well in-process.

use accord::client::{HttpTransport, TransportOptions, WsTransport};
use accord::{Cx, ProcedureError, RpcError};
use futures_util::StreamExt;
use shop_api::{
    Auth, AuthClient, CartLine, Checkout, Credentials, NewAccount, OrderError, OrderId, OrderQuery, Orders,
    OrdersClient, ProductId, ProductPatch, ProductQuery, Products, ProductsClient,
};

use crate::output;
use crate::{Command, OrdersCommand, ProductsCommand};

/// Where and as whom to call.
pub struct Connection {
    pub url: String,
    pub token: Option<String>,
}

/// A failed command: the error's message and `data.code`, and whether it is a framework error.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: String,
    pub framework: bool,
}

impl Failure {
    fn from_error<E: ProcedureError>(error: E) -> Self {
        let framework = error.as_rpc_error().is_some();
        let wire = error.into_rpc_error();
        let code = wire.data_code().unwrap_or("UNKNOWN").to_owned();
        Self { message: wire.message, code, framework }
    }

    fn transport(message: impl std::fmt::Display) -> Self {
        let wire = RpcError::transport(message.to_string());
        let code = wire.data_code().unwrap_or("TRANSPORT").to_owned();
        Self { message: wire.message, code, framework: true }
    }
}

impl<E: ProcedureError> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::from_error(error)
    }
}

/// `PRODUCT:QUANTITY`, e.g. `42:2`.
pub fn parse_line(value: &str) -> Result<CartLine, String> {
    let (product, quantity) = value.split_once(':').unwrap_or((value, "1"));
    let product_id = product.trim().parse().map_err(|_| format!("{product:?} is not a product id"))?;
    let quantity = quantity.trim().parse().map_err(|_| format!("{quantity:?} is not a quantity"))?;
    Ok(CartLine { product_id, quantity })
}

impl Connection {
    fn options(&self) -> Result<TransportOptions, Failure> {
        let options = TransportOptions::default();
        match &self.token {
            Some(token) => options.header("authorization", &format!("Bearer {token}")).map_err(Failure::transport),
            None => Ok(options),
        }
    }

    fn http(&self) -> Result<HttpTransport, Failure> {
        HttpTransport::with_options(&self.url, self.options()?).map_err(Failure::transport)
    }

    async fn ws(&self) -> Result<WsTransport, Failure> {
        let url = self.url.replacen("http", "ws", 1);
        WsTransport::connect_with_options(&url, self.options()?).await.map_err(Failure::transport)
    }
}

pub async fn run(connection: &Connection, cx: &Cx, command: Command) -> Result<(), Failure> {
    match command {
        Command::Login { email, password } => {
            let session = AuthClient::new(connection.http()?).login(cx, Credentials { email, password }).await?;
            output::session(&session);
        }
        Command::Register { email, name, password } => {
            let account = NewAccount { email, name, password };
            output::session(&AuthClient::new(connection.http()?).register(cx, account).await?);
        }
        Command::Me => output::user(&AuthClient::new(connection.http()?).me(cx).await?),
        Command::Logout => {
            AuthClient::new(connection.http()?).logout(cx).await?;
            println!("signed out everywhere");
        }
        Command::Products(command) => products(&ProductsClient::new(connection.http()?), cx, command).await?,
        Command::Orders(OrdersCommand::Watch) => watch(&OrdersClient::new(connection.ws().await?)).await?,
        Command::Orders(command) => orders(&OrdersClient::new(connection.http()?), cx, command).await?,
    }
    Ok(())
}

async fn products(api: &impl Products, cx: &Cx, command: ProductsCommand) -> Result<(), Failure> {
    match command {
        ProductsCommand::List { search, category, in_stock, page, limit } => {
            let offset = (page - 1).saturating_mul(limit);
            let query = ProductQuery { search, category, in_stock_only: in_stock, offset, limit: Some(limit) };
            output::product_page(&api.list(cx, query).await?);
        }
        ProductsCommand::Get { id } => output::product(&api.get(cx, ProductId { id }).await?),
        ProductsCommand::Update { id, name, description, price_cents, stock } => {
            let patch = ProductPatch { id, name, description, price_cents, stock };
            output::product(&api.update(cx, patch).await?);
        }
    }
    Ok(())
}

async fn orders(api: &impl Orders, cx: &Cx, command: OrdersCommand) -> Result<(), Failure> {
    match command {
        OrdersCommand::List { page, limit } => {
            let offset = (page - 1).saturating_mul(limit);
            output::order_page(&api.list_mine(cx, OrderQuery { offset, limit: Some(limit) }).await?);
        }
        OrdersCommand::Get { id } => output::order(&api.get(cx, OrderId { id }).await?),
        OrdersCommand::Checkout { lines, key } => {
            let idempotency_key = key.unwrap_or_else(random_key);
            let order = api.checkout(cx, Checkout { idempotency_key: idempotency_key.clone(), lines }).await?;
            output::order(&order);
            println!("(idempotency key {idempotency_key}: pass it with --key to retry without ordering twice)");
        }
        // Needs a WebSocket: `run` dispatches it to `watch` before this point.
        OrdersCommand::Watch => {}
    }
    Ok(())
}

async fn watch(api: &impl Orders) -> Result<(), Failure> {
    let mut events = api.events(&Cx::new()).await?;
    println!("watching your orders (Ctrl-C to stop)");
    // The transport reconnects and resumes by itself; a gap it cannot fill is reported, not fatal.
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event.value,
            Err(OrderError::Rpc(error)) if error.is_events_missed() => {
                println!("(some changes were missed while reconnecting: run `orders list` for the current state)");
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        println!("order #{} is now {}", event.order_id, output::status(event.status));
    }
    Ok(())
}

fn random_key() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
