//! Serves the API on 127.0.0.1:$PORT (default 3000), then calls it from Rust through the same trait.

use accord::Cx;
use accord::client::HttpTransport;
use hello::{Hello, HelloApi, HelloClient, Name};

struct Greeter;

impl Hello for Greeter {
    async fn greet(&self, _cx: &Cx, input: Name) -> Result<String, accord::Error> {
        Ok(format!("Hello, {}!", input.name))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let server =
        accord_server::Server::builder().mount(HelloApi::handlers(Greeter))?.serve(format!("127.0.0.1:{port}")).await?;
    println!("listening on {}", server.http_url());

    let client = HelloClient::new(HttpTransport::new(&server.http_url())?);
    println!("{}", client.greet(&Cx::new(), Name { name: "Rust".into() }).await?);

    server.run_until_signal().await;
    Ok(())
}
