//! Authentication runs once per HTTP request or WebSocket connection; procedures declared
//! `authenticated` refuse anonymous callers everywhere, batch entries and WebSocket calls too.

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn authenticated_procedures_refuse_anonymous_callers() {
    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let anonymous = post_json(&server, &call("svc.secret", json!(null))).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
    assert_eq!(anonymous["error"]["code"], -32041);

    let signed_in = post_with(&server, &[("authorization", "Bearer user")], &call("svc.secret", json!(null))).await;
    assert_eq!(signed_in.json::<Value>().await.unwrap()["result"], "for bob");

    // Open procedures still work anonymously.
    let open = post_json(&server, &call("svc.whoami", json!(null))).await;
    assert_eq!(open["result"]["subject"], Value::Null);
}

#[tokio::test]
async fn wrong_credentials_fail_every_call_rather_than_running_anonymously() {
    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let answer = post_with(&server, &[("authorization", "Bearer forged")], &call("svc.whoami", json!(null))).await;
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(code(&answer), "UNAUTHENTICATED");
    assert_eq!(answer["error"]["message"], "unknown token");
}

#[tokio::test]
async fn an_unauthenticated_batch_entry_is_refused() {
    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "svc.echo", "params": {"text": "x"}},
        {"jsonrpc": "2.0", "id": 2, "method": "svc.secret"},
    ]);
    let answers = post_json(&server, &batch).await;
    let answers = answers.as_array().expect("a batch answer");
    let by_id = |id: i64| answers.iter().find(|a| a["id"] == id).expect("an answer per id");
    assert_eq!(by_id(1)["result"]["text"], "x");
    assert_eq!(code(by_id(2)), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_websocket_is_authenticated_once_at_connect() {
    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let mut anonymous = socket(&server, None).await;
    send(&mut anonymous, &call("svc.secret", json!(null))).await;
    assert_eq!(code(&receive(&mut anonymous).await.expect("an answer")), "UNAUTHENTICATED");

    let mut signed_in = socket(&server, Some("Bearer admin")).await;
    send(&mut signed_in, &call("svc.secret", json!(null))).await;
    assert_eq!(receive(&mut signed_in).await.expect("an answer")["result"], "for ada");
}

#[tokio::test]
async fn procedures_check_roles_and_answer_forbidden() {
    let server = serve(builder(Impl::default()).authenticator(Tokens)).await;
    let user = post_with(&server, &[("authorization", "Bearer user")], &call("svc.admin", json!(null))).await;
    let user: Value = user.json().await.unwrap();
    assert_eq!(code(&user), "FORBIDDEN");
    assert_eq!(user["error"]["code"], -32043);
    let admin = post_with(&server, &[("authorization", "Bearer admin")], &call("svc.admin", json!(null))).await;
    assert_eq!(admin.json::<Value>().await.unwrap()["result"], "welcome");
}

#[tokio::test]
async fn the_requirement_is_part_of_the_description() {
    use accord::Api;
    let description = SvcApi::description();
    let secret = description.procedures.iter().find(|p| p.name == "svc.secret").expect("svc.secret");
    let echo = description.procedures.iter().find(|p| p.name == "svc.echo").expect("svc.echo");
    assert!(secret.authenticated);
    assert!(!echo.authenticated);
}
