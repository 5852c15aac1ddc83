use super::*;

fn single(text: &str) -> Entry<'_> {
    match parse(text.as_bytes()) {
        Ok(Message::Single(entry)) => entry,
        other => panic!("{text}: {other:?}"),
    }
}

fn whole_error(text: &[u8]) -> &'static str {
    match parse(text) {
        Err(error) => error.framework_code().map_or("?", FrameworkCode::as_str),
        Ok(message) => panic!("{text:?} parsed: {message:?}"),
    }
}

fn invalid_id(entry: &Entry<'_>) -> &'static str {
    match entry {
        Entry::Invalid(id, error) => {
            assert_eq!(error.framework_code(), Some(FrameworkCode::InvalidRequest), "{error:?}");
            // Leaked for the table's convenience: test-only.
            Box::leak(id.as_json().to_owned().into_boxed_str())
        }
        Entry::Call(call) => panic!("accepted: {call:?}"),
    }
}

#[test]
fn every_valid_id_is_kept_as_written() {
    for id in ["1", "-1", "1.5", "18446744073709551616", "1e3", "0", r#""abc""#, r#""a\"b""#, "null"] {
        let text = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"a.b"}}"#);
        match single(&text) {
            Entry::Call(call) => assert_eq!(call.id.map(|id| id.as_json()), Some(id)),
            other => panic!("{id}: {other:?}"),
        }
    }
}

#[test]
fn invalid_ids_answer_invalid_request_with_a_null_id() {
    for id in ["{}", "[]", "true", "false", "[1]"] {
        let text = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"a.b"}}"#);
        assert_eq!(invalid_id(&single(&text)), "null", "{id}");
    }
}

#[test]
fn a_missing_id_is_a_notification() {
    match single(r#"{"jsonrpc":"2.0","method":"a.b","params":{}}"#) {
        Entry::Call(call) => assert!(call.id.is_none()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_requests_keep_a_valid_id() {
    let cases = [
        r#"{"id":7,"method":"a.b"}"#,
        r#"{"jsonrpc":"1.0","id":7,"method":"a.b"}"#,
        r#"{"jsonrpc":2.0,"id":7,"method":"a.b"}"#,
        r#"{"jsonrpc":"2.0","id":7}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":1}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":null}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"a.b","params":"x"}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"a.b","params":3}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"a.b","meta":1}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"a.b","meta":{"timeoutMs":-5}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"a.b","meta":{"traceparent":7}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"a.b","meta":{"tracestate":["x"]}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"a.b","meta":{"lastEventId":5}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"a.b","meta":{"lastEventId":""}}"#,
    ];
    for text in cases {
        assert_eq!(invalid_id(&single(text)), "7", "{text}");
    }
}

#[test]
fn params_and_meta_are_read() {
    match single(
        r#"{"jsonrpc":"2.0","id":"x","method":"a\u002eb","params":{"k":[1]},"meta":{"timeoutMs":250,"other":1}}"#,
    ) {
        Entry::Call(call) => {
            assert_eq!(call.method, "a.b");
            assert_eq!(call.params.map(RawValue::get), Some(r#"{"k":[1]}"#));
            assert_eq!(call.meta.timeout, Some(Duration::from_millis(250)));
        }
        other => panic!("{other:?}"),
    }
    let traced =
        r#"{"jsonrpc":"2.0","id":1,"method":"a.b","meta":{"traceparent":"00-ab-cd-01","tracestate":"k=\u0076"}}"#;
    match single(traced) {
        Entry::Call(call) => {
            assert_eq!(call.meta.traceparent.as_deref(), Some("00-ab-cd-01"));
            assert_eq!(call.meta.tracestate.as_deref(), Some("k=v"), "escapes are decoded");
            assert_eq!(call.meta.timeout, None);
        }
        other => panic!("{other:?}"),
    }
    match single(r#"{"jsonrpc":"2.0","id":1,"method":"a.b","params":null}"#) {
        Entry::Call(call) => assert!(call.params.is_none()),
        other => panic!("{other:?}"),
    }
    match single(r#"{"jsonrpc":"2.0","id":1,"method":"a.b","meta":{"lastEventId":"m1.\u0037"}}"#) {
        Entry::Call(call) => assert_eq!(call.meta.last_event_id.as_ref().map(accord::EventId::as_str), Some("m1.7")),
        other => panic!("{other:?}"),
    }
    let too_long =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"a.b","meta":{{"lastEventId":"{}"}}}}"#, "i".repeat(257));
    assert_eq!(invalid_id(&single(&too_long)), "1");
}

#[test]
fn whole_messages_that_cannot_be_read() {
    assert_eq!(whole_error(b""), "PARSE_ERROR");
    assert_eq!(whole_error(b"{"), "PARSE_ERROR");
    assert_eq!(whole_error(b"{\"jsonrpc\":\"2.0\"} x"), "PARSE_ERROR");
    assert_eq!(whole_error(b"\xff\xfe"), "PARSE_ERROR");
    assert_eq!(whole_error(b"[1,"), "PARSE_ERROR");
    assert_eq!(whole_error(b"[]"), "INVALID_REQUEST");
    assert_eq!(whole_error(b"42"), "INVALID_REQUEST");
    assert_eq!(whole_error(b"\"call\""), "INVALID_REQUEST");
    assert_eq!(whole_error(b"null"), "INVALID_REQUEST");
    assert_eq!(whole_error(br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"a.b"}"#), "INVALID_REQUEST");
}

#[test]
fn leading_whitespace_of_any_length_is_fine() {
    let text = format!("{}{}", " \n\t\r".repeat(1000), r#"{"jsonrpc":"2.0","id":1,"method":"a.b"}"#);
    assert!(matches!(single(&text), Entry::Call(_)));
}

#[test]
fn batch_entries_are_judged_one_by_one() {
    let text = r#"[{"jsonrpc":"2.0","id":1,"method":"a.b"}, 5, {"jsonrpc":"2.0","id":true,"method":"a.b"}, {"jsonrpc":"2.0","method":"a.c"}]"#;
    let Ok(Message::Batch(entries)) = parse(text.as_bytes()) else { panic!("not a batch") };
    assert_eq!(entries.len(), 4);
    assert!(matches!(&entries[0], Entry::Call(call) if call.id == Some(Id("1"))));
    assert_eq!(invalid_id(&entries[1]), "null");
    assert_eq!(invalid_id(&entries[2]), "null");
    assert!(matches!(&entries[3], Entry::Call(call) if call.id.is_none()));
}

#[test]
fn answers_are_written_with_the_id_as_sent() {
    let result = RawValue::from_string("{\"ok\":true}".into()).unwrap();
    let mut single = Response::new(false, 1024);
    single.push(Id("1.5"), Ok(&result));
    assert_eq!(single.into_body().unwrap(), br#"{"jsonrpc":"2.0","id":1.5,"result":{"ok":true}}"#);

    let mut batch = Response::new(true, 1024);
    batch.push(Id("-1"), Ok(&result));
    batch.push(Id::NULL, Err(&RpcError::framework(FrameworkCode::InvalidRequest, "no")));
    let body: serde_json::Value = serde_json::from_slice(&batch.into_body().unwrap()).unwrap();
    assert_eq!(body[0]["id"], -1);
    assert_eq!(body[1]["id"], serde_json::Value::Null);
    assert_eq!(body[1]["error"]["data"]["code"], "INVALID_REQUEST");

    assert!(Response::new(true, 1024).into_body().is_none(), "only notifications: no answer");
}

#[test]
fn an_answer_over_the_limit_becomes_an_error() {
    let big = RawValue::from_string(format!("\"{}\"", "x".repeat(500))).unwrap();
    let mut response = Response::new(false, 200);
    response.push(Id("1"), Ok(&big));
    let body: serde_json::Value = serde_json::from_slice(&response.into_body().unwrap()).unwrap();
    assert_eq!(body["id"], 1);
    assert_eq!(body["error"]["data"]["code"], "INTERNAL");
}
