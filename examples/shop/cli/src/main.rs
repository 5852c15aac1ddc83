//! `shop-cli`: calls the shop's procedures through the very traits the server implements.
//!
//! ```text
//! shop-cli login bob@example.com password123     # prints a token: export SHOP_TOKEN=...
//! shop-cli products list --search lamp
//! shop-cli products get 42
//! shop-cli orders checkout 42:2 7:1               # PRODUCT:QUANTITY ...
//! shop-cli orders list
//! shop-cli orders watch                           # live status changes
//! ```
//!
//! Exit codes: 0 success, 1 a domain error (e.g. `OUT_OF_STOCK`), 3 a framework or transport
//! error (not signed in, rate limited, server down...), 2 bad usage.

mod commands;
mod output;

use std::process::ExitCode;
use std::time::Duration;

use accord::Cx;
use clap::{Parser, Subcommand};

use crate::commands::Failure;

#[derive(Parser)]
#[command(version, about = "Work with the Accord shop example's server")]
struct Cli {
    /// The server's JSON-RPC endpoint.
    #[arg(long, env = "SHOP_URL", default_value = "http://127.0.0.1:3000/rpc")]
    url: String,
    /// A token from `shop-cli login`.
    #[arg(long, env = "SHOP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Give up on a call after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in; prints the token to use as SHOP_TOKEN.
    Login { email: String, password: String },
    /// Create an account; prints its token.
    Register { email: String, name: String, password: String },
    /// Who the token belongs to.
    Me,
    /// Sign out everywhere (every token of the user stops working).
    Logout,
    /// The catalogue.
    #[command(subcommand)]
    Products(ProductsCommand),
    /// Your orders.
    #[command(subcommand)]
    Orders(OrdersCommand),
}

#[derive(Subcommand)]
enum ProductsCommand {
    /// Search the catalogue.
    List {
        /// Part of the name, any case.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        category: Option<String>,
        /// Only products with stock left.
        #[arg(long)]
        in_stock: bool,
        /// Page number, from 1.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
        /// Products per page (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One product.
    Get { id: u32 },
    /// Change a product (admins only).
    Update {
        id: u32,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        price_cents: Option<u32>,
        #[arg(long)]
        stock: Option<u32>,
    },
}

#[derive(Subcommand)]
enum OrdersCommand {
    /// Your orders, newest first, with their items.
    List {
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
    /// One of your orders.
    Get { id: u32 },
    /// Order products: PRODUCT:QUANTITY, one or more.
    Checkout {
        #[arg(required = true, value_parser = commands::parse_line)]
        lines: Vec<shop_api::CartLine>,
        /// Idempotency key: reuse it to retry safely (default: a new random key).
        #[arg(long)]
        key: Option<String>,
    },
    /// Print status changes of your orders as they happen, until interrupted.
    Watch,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let cx = Cx::new().with_timeout(Duration::from_secs(cli.timeout));
    let connection = commands::Connection { url: cli.url.clone(), token: cli.token };
    match commands::run(&connection, &cx, cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { message, code, framework }) => {
            eprintln!("error: {message} ({code})");
            match code.as_str() {
                "TRANSPORT" => eprintln!("hint: is the shop running at {}? (`cargo run -p shop`)", cli.url),
                "UNAUTHENTICATED" => {
                    eprintln!("hint: sign in with `shop-cli login EMAIL PASSWORD`, then export SHOP_TOKEN")
                }
                _ => {}
            }
            ExitCode::from(if framework { 3 } else { 1 })
        }
    }
}
