//! Sessions end everywhere: signing out (or a session expiring) stops a WebSocket opened
//! before, within the server's re-authentication bound, and malformed credentials are refused
//! rather than run as anonymous. On both databases.

mod support;

use std::time::Duration;

use accord::client::HttpTransport;
use accord::{Cx, FrameworkCode, ProcedureError};
use futures_util::StreamExt;
use shop_api::{Auth, AuthClient, Orders, OrdersClient, ProductQuery, Products, ProductsClient};
use support::{Backend, SMALL, http_as, login, start, ws_as};

fn code<E: ProcedureError>(error: &E) -> Option<FrameworkCode> {
    error.as_rpc_error().and_then(accord::RpcError::framework_code)
}

async fn signing_out_ends_open_websockets(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let (url, ws) = (test.url(), test.ws_url());
    let token = login(&url, "bob@example.com").await;
    let socket = AuthClient::new(ws_as(&ws, &token).await);
    assert_eq!(socket.me(&Cx::new()).await.expect("signed in").email, "bob@example.com");
    let mut events = OrdersClient::new(ws_as(&ws, &token).await).events(&Cx::new()).await.expect("subscribe");

    AuthClient::new(http_as(&url, &token)).logout(&Cx::new()).await.expect("logout");
    // The server re-checks open sockets every 5 s (Limits::reauthenticate_every).
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.next().await {
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Some(error),
                None => return None,
            }
        }
    })
    .await
    .expect("the subscription ended within the bound");
    let error = ended.expect("ended with an error, not as completed");
    assert_eq!(code(&error), Some(FrameworkCode::Unauthenticated), "{error:?}");
    assert_eq!(code(&socket.me(&Cx::new()).await.expect_err("revoked")), Some(FrameworkCode::Unauthenticated));
    test.finish().await;
}

async fn malformed_credentials_are_refused(backend: Backend) {
    let Some(test) = start(backend, Some(SMALL), |_| {}).await else { return };
    let url = test.url();
    let anonymous = ProductsClient::new(HttpTransport::new(&url).unwrap());
    assert!(anonymous.list(&Cx::new(), ProductQuery::default()).await.is_ok(), "no credentials: anonymous");
    for header in ["Bearer", "Bearer ", "Basic Ym9iOnB3", "token-without-scheme", "Bearer a b"] {
        let cx = Cx::new().with_header("authorization", header);
        let refused = anonymous.list(&cx, ProductQuery::default()).await.expect_err(header);
        assert_eq!(code(&refused), Some(FrameworkCode::Unauthenticated), "{header:?}: {refused:?}");
    }
    let unknown = ProductsClient::new(http_as(&url, "not-a-real-token"));
    let refused = unknown.list(&Cx::new(), ProductQuery::default()).await.expect_err("unknown token");
    assert_eq!(code(&refused), Some(FrameworkCode::Unauthenticated));
    test.finish().await;
}

both!(signing_out_ends_open_websockets, malformed_credentials_are_refused);
