//! The bad-input corpus (run by `bad_inputs.rs`): each case is a message as a client sends it
//! and the answer JSON-RPC 2.0 requires. Ids in expectations are raw JSON text, compared
//! byte for byte with what comes back.
//!
//! The API is `common`'s `svc`: `echo {text}`, `slow {ms: u32}`, `whoami` (no input),
//! `secret` (needs a signed-in caller) and the subscriptions `ticks` and `feed` (tracked). The
//! server has no authenticator.
#![allow(dead_code)]

/// What must come back.
pub enum Expect {
    /// A result, under this id.
    Ok { id: String },
    /// An error with this `data.code`, under this id.
    Error { id: String, code: &'static str },
    /// No answer at all (notifications only).
    Nothing,
    /// A batch answer, entry by entry.
    Batch(Vec<Expect>),
}

/// One message and its answer.
pub struct Case {
    pub name: &'static str,
    pub body: Vec<u8>,
    pub expect: Expect,
    pub http: bool,
    pub websocket: bool,
}

fn case(name: &'static str, body: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case { name, body: body.into(), expect, http: true, websocket: true }
}

fn http_only(mut case: Case) -> Case {
    case.websocket = false;
    case
}

fn websocket_only(mut case: Case) -> Case {
    case.http = false;
    case
}

fn ok(id: &str) -> Expect {
    Expect::Ok { id: id.into() }
}

fn error(id: &str, code: &'static str) -> Expect {
    Expect::Error { id: id.into(), code }
}

fn whole(code: &'static str) -> Expect {
    error("null", code)
}

/// A request object with these raw members.
fn request(id: &str, method: &str, params: Option<&str>) -> String {
    match params {
        Some(params) => format!(r#"{{"jsonrpc":"2.0","id":{id},"method":{method},"params":{params}}}"#),
        None => format!(r#"{{"jsonrpc":"2.0","id":{id},"method":{method}}}"#),
    }
}

fn echo(id: &str) -> String {
    request(id, r#""svc.echo""#, Some(r#"{"text":"hi"}"#))
}

fn notification(method: &str, params: Option<&str>) -> String {
    match params {
        Some(params) => format!(r#"{{"jsonrpc":"2.0","method":{method},"params":{params}}}"#),
        None => format!(r#"{{"jsonrpc":"2.0","method":{method}}}"#),
    }
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(parse_errors());
    cases.extend(invalid_messages());
    cases.extend(malformed_requests());
    cases.extend(ids());
    cases.extend(methods());
    cases.extend(params());
    cases.extend(notifications());
    cases.extend(batches());
    cases.extend(meta_and_whitespace());
    cases.extend(protocol_methods());
    cases
}

/// Not JSON (or not UTF-8): one `PARSE_ERROR` with a null id.
fn parse_errors() -> Vec<Case> {
    let p = || whole("PARSE_ERROR");
    vec![
        case("empty message", "", p()),
        case("whitespace only", " \n\t ", p()),
        case("lone open brace", "{", p()),
        case("lone close brace", "}", p()),
        case("lone open bracket", "[", p()),
        case("unclosed batch", "[{}", p()),
        case("truncated object", r#"{"jsonrpc":"2.0","id":1,"method":"svc.echo""#, p()),
        case("missing comma", r#"{"jsonrpc":"2.0" "id":1}"#, p()),
        case("single quotes", "{'jsonrpc':'2.0','id':1}", p()),
        case("unquoted keys", r#"{jsonrpc:"2.0",id:1}"#, p()),
        case("trailing comma in object", r#"{"jsonrpc":"2.0",}"#, p()),
        case("trailing comma in array", "[1,2,]", p()),
        case("NaN", "NaN", p()),
        case("Infinity", "Infinity", p()),
        case("NaN inside", r#"{"jsonrpc":"2.0","id":NaN,"method":"svc.echo"}"#, p()),
        case("a comment", "// hi\n{}", p()),
        case("trailing garbage", format!("{} extra", echo("1")), p()),
        case("two objects", format!("{} {}", echo("1"), echo("2")), p()),
        case("byte order mark", format!("\u{feff}{}", echo("1")), p()),
        case("not UTF-8", &b"\xff\xfe\xfd"[..], p()),
        case("not UTF-8 inside a string", [&br#"{"jsonrpc":"2.0","id":1,"method":"svc"#[..], b"\xff\"}"].concat(), p()),
        case(
            "truncated UTF-8 sequence",
            [&br#"{"jsonrpc":"2.0","id":1,"method":"svc.ech"#[..], b"\xc3\"}"].concat(),
            p(),
        ),
        case("overlong UTF-8 encoding", [&br#"{"jsonrpc":"2.0","id":1,"method":""#[..], b"\xc0\xaf\"}"].concat(), p()),
        case("unterminated string", r#""unterminated"#, p()),
        case("raw control character in a string", request("1", "\"svc.echo\"", Some("{\"text\":\"a\u{1}b\"}")), p()),
        case("short unicode escape", request("1", "\"svc.echo\"", Some(r#"{"text":"\u12"}"#)), p()),
        case("unknown escape", request("1", "\"svc.echo\"", Some(r#"{"text":"\q"}"#)), p()),
        case("a batch of 900,000 nested arrays", nested(900_000), Expect::Batch(vec![whole("INVALID_REQUEST")])),
        case("deep params", request("1", "\"svc.echo\"", Some(&nested(300))), error("1", "INVALID_PARAMS")),
        case("leading zero", "01", p()),
        case("leading zero in the id", r#"{"jsonrpc":"2.0","id":01,"method":"svc.echo"}"#, p()),
        case("lone minus", "-", p()),
        case("truncated true", "tru", p()),
        case("truncated null", "nul", p()),
        case("form feed is not JSON whitespace", format!("\u{c}{}", echo("1")), p()),
        case("number with a trailing dot", r#"{"jsonrpc":"2.0","id":1.,"method":"svc.echo"}"#, p()),
    ]
}

/// JSON, but not a request or a batch: one `INVALID_REQUEST` with a null id.
fn invalid_messages() -> Vec<Case> {
    let i = || whole("INVALID_REQUEST");
    vec![
        case("empty batch", "[]", i()),
        case("a number", "42", i()),
        case("a negative float", "-1.5e3", i()),
        case("a string", r#""svc.echo""#, i()),
        case("null", "null", i()),
        case("true", "true", i()),
        case("false", "false", i()),
        case("duplicate id member", r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"svc.echo"}"#, i()),
        case("duplicate method member", r#"{"jsonrpc":"2.0","id":1,"method":"svc.echo","method":"svc.whoami"}"#, i()),
        case("empty object", "{}", i()),
    ]
}

/// A request object that breaks a rule: `INVALID_REQUEST`, under its id when the id is valid.
fn malformed_requests() -> Vec<Case> {
    let i = || error("7", "INVALID_REQUEST");
    let with = |members: &str| format!(r#"{{"id":7,{members}}}"#);
    vec![
        case("no jsonrpc member", with(r#""method":"svc.whoami""#), i()),
        case("jsonrpc 1.0", with(r#""jsonrpc":"1.0","method":"svc.whoami""#), i()),
        case("jsonrpc as a number", with(r#""jsonrpc":2.0,"method":"svc.whoami""#), i()),
        case("jsonrpc with a space", with(r#""jsonrpc":"2.0 ","method":"svc.whoami""#), i()),
        case("jsonrpc null", with(r#""jsonrpc":null,"method":"svc.whoami""#), i()),
        case("jsonrpc 2", with(r#""jsonrpc":"2","method":"svc.whoami""#), i()),
        case("jsonrpc escaped", with(r#""jsonrpc":"2\u002e0","method":"svc.whoami""#), i()),
        case("no method", with(r#""jsonrpc":"2.0""#), i()),
        case("numeric method", with(r#""jsonrpc":"2.0","method":1"#), i()),
        case("null method", with(r#""jsonrpc":"2.0","method":null"#), i()),
        case("boolean method", with(r#""jsonrpc":"2.0","method":true"#), i()),
        case("object method", with(r#""jsonrpc":"2.0","method":{}"#), i()),
        case("array method", with(r#""jsonrpc":"2.0","method":["svc.echo"]"#), i()),
        case("string params", with(r#""jsonrpc":"2.0","method":"svc.echo","params":"text""#), i()),
        case("numeric params", with(r#""jsonrpc":"2.0","method":"svc.echo","params":5"#), i()),
        case("boolean params", with(r#""jsonrpc":"2.0","method":"svc.echo","params":true"#), i()),
        case("numeric meta", with(r#""jsonrpc":"2.0","method":"svc.whoami","meta":1"#), i()),
        case("string meta", with(r#""jsonrpc":"2.0","method":"svc.whoami","meta":"x""#), i()),
        case("negative meta timeout", with(r#""jsonrpc":"2.0","method":"svc.whoami","meta":{"timeoutMs":-1}"#), i()),
        case("string meta timeout", with(r#""jsonrpc":"2.0","method":"svc.whoami","meta":{"timeoutMs":"5"}"#), i()),
        case("fractional meta timeout", with(r#""jsonrpc":"2.0","method":"svc.whoami","meta":{"timeoutMs":1.5}"#), i()),
        case("array meta", with(r#""jsonrpc":"2.0","method":"svc.whoami","meta":[]"#), i()),
        // An invalid id cannot be echoed: the answer's id is null.
        case("object id", request("{}", "\"svc.whoami\"", None), whole("INVALID_REQUEST")),
        case("array id", request("[]", "\"svc.whoami\"", None), whole("INVALID_REQUEST")),
        case("true id", request("true", "\"svc.whoami\"", None), whole("INVALID_REQUEST")),
        case("false id", request("false", "\"svc.whoami\"", None), whole("INVALID_REQUEST")),
        case("array holding an id", request("[1]", "\"svc.whoami\"", None), whole("INVALID_REQUEST")),
        case("object holding an id", request(r#"{"a":1}"#, "\"svc.whoami\"", None), whole("INVALID_REQUEST")),
        case("invalid id and no method", r#"{"jsonrpc":"2.0","id":{}}"#, whole("INVALID_REQUEST")),
    ]
}

/// Every valid id comes back exactly as sent.
fn ids() -> Vec<Case> {
    let long = format!("\"{}\"", "i".repeat(100_000));
    let mut cases = vec![
        case("id 1", echo("1"), ok("1")),
        case("id 0", echo("0"), ok("0")),
        case("id -1", echo("-1"), ok("-1")),
        case("id 1.5", echo("1.5"), ok("1.5")),
        case("id 2^64", echo("18446744073709551616"), ok("18446744073709551616")),
        case("id 1e3", echo("1e3"), ok("1e3")),
        case("id -0", echo("-0"), ok("-0")),
        case("id 1E-7", echo("1E-7"), ok("1E-7")),
        case("id 2^53 + 1", echo("9007199254740993"), ok("9007199254740993")),
        case("id past f64's range", echo("-1.1e4005"), ok("-1.1e4005")),
        case("id with 30 digits", echo("123456789012345678901234567890.5"), ok("123456789012345678901234567890.5")),
        case("empty string id", echo(r#""""#), ok(r#""""#)),
        case("string id", echo(r#""abc""#), ok(r#""abc""#)),
        case("id with escaped quotes", echo(r#""a\"b""#), ok(r#""a\"b""#)),
        case("id with a unicode escape", echo(r#""\u00e9""#), ok(r#""\u00e9""#)),
        case("id with raw unicode", echo("\"ünïcödé ☃\""), ok("\"ünïcödé ☃\"")),
        case("id with an escaped NUL", echo(r#""a\u0000b""#), ok(r#""a\u0000b""#)),
        case("null id", echo("null"), ok("null")),
        case("id with spaces around", r#"{"jsonrpc":"2.0","id":  7  ,"method":"svc.whoami"}"#, ok("7")),
    ];
    cases.push(case("a 100 kB string id", echo(&long), Expect::Ok { id: long }));
    cases
}

/// Method names that name nothing, and procedures called the wrong way.
fn methods() -> Vec<Case> {
    let m = || error("1", "METHOD_NOT_FOUND");
    let call = |method: &str| request("1", method, None);
    vec![
        case("unknown method", call(r#""svc.nope""#), m()),
        case("empty method", call(r#""""#), m()),
        case("upper-case method", call(r#""SVC.ECHO""#), m()),
        case("namespace only", call(r#""svc.""#), m()),
        case("method only", call(r#"".echo""#), m()),
        case("trailing space", call(r#""svc.echo ""#), m()),
        case("escaped NUL in the method", call(r#""svc\u0000echo""#), m()),
        case("a 10 kB method", call(&format!("\"{}\"", "m".repeat(10_000))), m()),
        case("reserved rpc. prefix", call(r#""rpc.nope""#), m()),
        case("unicode method", call("\"svc.échø\""), m()),
        case("method with a path", call(r#""../svc.echo""#), m()),
        http_only(case("subscription over HTTP", call(r#""svc.ticks""#), error("1", "INVALID_REQUEST"))),
        http_only(case(
            "unsubscribe over HTTP",
            request("1", r#""svc.ticks.unsubscribe""#, Some(r#"["1"]"#)),
            error("1", "INVALID_REQUEST"),
        )),
        websocket_only(case(
            "unsubscribe an unknown subscription",
            request("1", r#""svc.ticks.unsubscribe""#, Some(r#"["999"]"#)),
            ok("1"),
        )),
        websocket_only(case(
            "unsubscribe without an id",
            request("1", r#""svc.ticks.unsubscribe""#, Some("[]")),
            error("1", "INVALID_PARAMS"),
        )),
        websocket_only(case(
            "unsubscribe with an object",
            request("1", r#""svc.ticks.unsubscribe""#, Some(r#"{"id":"1"}"#)),
            error("1", "INVALID_PARAMS"),
        )),
        case("an authenticated procedure, anonymously", call(r#""svc.secret""#), error("1", "UNAUTHENTICATED")),
    ]
}

/// Params that do not decode into the input type: `INVALID_PARAMS`.
fn params() -> Vec<Case> {
    let v = || error("1", "INVALID_PARAMS");
    let echo_with = |params: &str| request("1", r#""svc.echo""#, Some(params));
    let slow_with = |params: &str| request("1", r#""svc.slow""#, Some(params));
    let whoami_with = |params: &str| request("1", r#""svc.whoami""#, Some(params));
    vec![
        case("no params", request("1", r#""svc.echo""#, None), v()),
        case("null params", echo_with("null"), v()),
        case("missing field", echo_with("{}"), v()),
        case("number for a string", echo_with(r#"{"text":5}"#), v()),
        case("null for a string", echo_with(r#"{"text":null}"#), v()),
        case("array for a string", echo_with(r#"{"text":["a"]}"#), v()),
        case("object for a string", echo_with(r#"{"text":{"a":1}}"#), v()),
        case("empty positional params", echo_with("[]"), v()),
        case("two positional params", echo_with(r#"[{"text":"a"},{"text":"b"}]"#), v()),
        case("a string as the positional param", echo_with(r#"["a"]"#), v()),
        case("a bad positional param", echo_with(r#"[{"text":1}]"#), v()),
        case("duplicate field", echo_with(r#"{"text":"a","text":"b"}"#), v()),
        case("field in the wrong case", echo_with(r#"{"TEXT":"a"}"#), v()),
        case("lone surrogate escape", echo_with(r#"{"text":"\ud800"}"#), v()),
        case("negative for u32", slow_with(r#"{"ms":-1}"#), v()),
        case("fraction for u32", slow_with(r#"{"ms":1.5}"#), v()),
        case("u32 overflow", slow_with(r#"{"ms":4294967296}"#), v()),
        case("huge integer", slow_with(r#"{"ms":123456789012345678901234567890}"#), v()),
        case("string for u32", slow_with(r#"{"ms":"10"}"#), v()),
        case("boolean for u32", slow_with(r#"{"ms":true}"#), v()),
        case("exponent for u32", slow_with(r#"{"ms":1e2}"#), v()),
        case("input to a procedure without one", whoami_with(r#"{"x":1}"#), v()),
        case("positional input to a procedure without one", whoami_with("[1]"), v()),
        case("empty params where none are taken", whoami_with("{}"), ok("1")),
        case("empty positional params where none are taken", whoami_with("[]"), ok("1")),
        case("null params where none are taken", whoami_with("null"), ok("1")),
        case("positional params", echo_with(r#"[{"text":"a"}]"#), ok("1")),
        case("an escaped NUL in a string", echo_with(r#"{"text":"a\u0000b"}"#), ok("1")),
        case("unknown fields are ignored", echo_with(r#"{"text":"a","extra":[1,{"b":null}]}"#), ok("1")),
        case("deep but allowed nesting", echo_with(&format!(r#"{{"text":"a","extra":{}}}"#, nested(100))), ok("1")),
        case("a 1 MB string", echo_with(&format!(r#"{{"text":"{}"}}"#, "x".repeat(1_000_000))), ok("1")),
        case("escaped unicode", echo_with(r#"{"text":"\u00e9\ud83d\ude00"}"#), ok("1")),
        case("subscription with input it does not take", request("1", r#""svc.ticks""#, Some(r#"{"x":1}"#)), {
            // Over HTTP a subscription is refused before its params are read.
            v()
        }),
    ]
    .into_iter()
    .map(|case| if case.name.starts_with("subscription with") { websocket_only(case) } else { case })
    .collect()
}

/// Requests without an id run and are never answered.
fn notifications() -> Vec<Case> {
    vec![
        case("a notification", notification(r#""svc.echo""#, Some(r#"{"text":"x"}"#)), Expect::Nothing),
        case("a notification of an unknown method", notification(r#""svc.nope""#, None), Expect::Nothing),
        case("a notification with bad params", notification(r#""svc.echo""#, Some(r#"{"text":1}"#)), Expect::Nothing),
        case("a notification of a subscription", notification(r#""svc.ticks""#, None), Expect::Nothing),
        case("a notification with null params", notification(r#""svc.whoami""#, Some("null")), Expect::Nothing),
        case(
            "a notification with meta",
            r#"{"jsonrpc":"2.0","method":"svc.whoami","meta":{"timeoutMs":10}}"#,
            Expect::Nothing,
        ),
        case("a notification needing a sign-in", notification(r#""svc.secret""#, None), Expect::Nothing),
        case(
            "a notification of unsubscribe",
            notification(r#""svc.ticks.unsubscribe""#, Some(r#"["1"]"#)),
            Expect::Nothing,
        ),
    ]
}

fn batch(entries: &[String]) -> String {
    format!("[{}]", entries.join(","))
}

/// Batches: each entry judged on its own, answered in order, notifications left out.
fn batches() -> Vec<Case> {
    let note = notification(r#""svc.echo""#, Some(r#"{"text":"x"}"#));
    let hundred: Vec<String> = (0..100).map(|i| echo(&i.to_string())).collect();
    let hundred_and_one: Vec<String> = (0..101).map(|i| echo(&i.to_string())).collect();
    vec![
        case("batch of one", batch(&[echo("1")]), Expect::Batch(vec![ok("1")])),
        case(
            "batch with a scalar entry",
            batch(&[echo("1"), "5".into()]),
            Expect::Batch(vec![ok("1"), whole("INVALID_REQUEST")]),
        ),
        case(
            "batch of scalars",
            "[1,2,3]",
            Expect::Batch(vec![whole("INVALID_REQUEST"), whole("INVALID_REQUEST"), whole("INVALID_REQUEST")]),
        ),
        case("batch of notifications", batch(&[note.clone(), note.clone()]), Expect::Nothing),
        case("batch of a notification and a call", batch(&[note.clone(), echo("2")]), Expect::Batch(vec![ok("2")])),
        case("batch with duplicate ids", batch(&[echo("1"), echo("1")]), Expect::Batch(vec![ok("1"), ok("1")])),
        case("nested batch", format!("[{}]", batch(&[echo("1")])), Expect::Batch(vec![whole("INVALID_REQUEST")])),
        case("batch over the limit", batch(&hundred_and_one), whole("BATCH_TOO_BIG")),
        case("batch at the limit", batch(&hundred), Expect::Batch((0..100).map(|i| ok(&i.to_string())).collect())),
        case(
            "batch with an unknown method",
            batch(&[request("1", r#""svc.nope""#, None)]),
            Expect::Batch(vec![error("1", "METHOD_NOT_FOUND")]),
        ),
        case(
            "batch with bad params",
            batch(&[request("1", r#""svc.echo""#, Some("{}"))]),
            Expect::Batch(vec![error("1", "INVALID_PARAMS")]),
        ),
        case(
            "batch with an invalid id",
            batch(&[request("{}", r#""svc.echo""#, None), echo("2")]),
            Expect::Batch(vec![whole("INVALID_REQUEST"), ok("2")]),
        ),
        case("batch of null", "[null]", Expect::Batch(vec![whole("INVALID_REQUEST")])),
        case("batch of an empty object", "[{}]", Expect::Batch(vec![whole("INVALID_REQUEST")])),
        case("batch of a string", r#"["svc.echo"]"#, Expect::Batch(vec![whole("INVALID_REQUEST")])),
        case("batch of an empty batch", "[[]]", Expect::Batch(vec![whole("INVALID_REQUEST")])),
        case(
            "batch of every id type",
            batch(&[echo("1"), echo(r#""a""#), echo("-1"), echo("1.5"), echo("null")]),
            Expect::Batch(vec![ok("1"), ok(r#""a""#), ok("-1"), ok("1.5"), ok("null")]),
        ),
        case(
            "batch with a malformed request",
            batch(&[r#"{"jsonrpc":"1.0","id":3,"method":"svc.echo"}"#.into(), echo("4")]),
            Expect::Batch(vec![error("3", "INVALID_REQUEST"), ok("4")]),
        ),
        case(
            "batch with an anonymous call to an authenticated procedure",
            batch(&[echo("1"), request("2", r#""svc.secret""#, None)]),
            Expect::Batch(vec![ok("1"), error("2", "UNAUTHENTICATED")]),
        ),
        http_only(case(
            "batch with a subscription over HTTP",
            batch(&[request("1", r#""svc.ticks""#, None)]),
            Expect::Batch(vec![error("1", "INVALID_REQUEST")]),
        )),
        case(
            "batch with whitespace",
            format!("[ \n{} ,\t{} ]", echo("1"), echo("2")),
            Expect::Batch(vec![ok("1"), ok("2")]),
        ),
    ]
}

/// The `meta` extension and JSON whitespace.
fn meta_and_whitespace() -> Vec<Case> {
    let slow =
        |meta: &str| format!(r#"{{"jsonrpc":"2.0","id":1,"method":"svc.slow","params":{{"ms":2000}},"meta":{meta}}}"#);
    let whoami = |meta: &str| format!(r#"{{"jsonrpc":"2.0","id":1,"method":"svc.whoami","meta":{meta}}}"#);
    vec![
        case("a meta deadline shorter than the call", slow(r#"{"timeoutMs":20}"#), error("1", "TIMEOUT")),
        case("meta with unknown keys", whoami(r#"{"timeoutMs":60000,"traceparent":"x"}"#), ok("1")),
        case("null meta", whoami("null"), ok("1")),
        case("empty meta", whoami("{}"), ok("1")),
        case("a huge meta deadline", whoami(r#"{"timeoutMs":18446744073709551615}"#), ok("1")),
        case("200 bytes of leading whitespace", format!("{}{}", " ".repeat(200), echo("1")), ok("1")),
        case("100 kB of leading whitespace", format!("{}{}", "\n".repeat(100_000), echo("1")), ok("1")),
        case("trailing whitespace", format!("{}\n\r\t ", echo("1")), ok("1")),
        case(
            "whitespace between tokens",
            "{ \"jsonrpc\" :\t\"2.0\" ,\n\"id\" : 1 , \"method\" : \"svc.whoami\" }",
            ok("1"),
        ),
        case("members in another order", r#"{"method":"svc.whoami","id":1,"jsonrpc":"2.0"}"#, ok("1")),
        case("unknown top-level members", r#"{"jsonrpc":"2.0","id":1,"method":"svc.whoami","x":[1]}"#, ok("1")),
    ]
}

/// The methods the server answers itself (`rpc.ping`, `rpc.authenticate`) and `meta.lastEventId`.
fn protocol_methods() -> Vec<Case> {
    let with_meta = |meta: &str| format!(r#"{{"jsonrpc":"2.0","id":1,"method":"svc.whoami","meta":{meta}}}"#);
    let authenticate = |params: &str| request("1", r#""rpc.authenticate""#, Some(params));
    vec![
        case("rpc.ping", request("1", r#""rpc.ping""#, None), ok("1")),
        case("rpc.ping with params", request(r#""p""#, r#""rpc.ping""#, Some(r#"{"x":1}"#)), ok(r#""p""#)),
        case("rpc.ping with a null id", request("null", r#""rpc.ping""#, None), ok("null")),
        case("rpc.ping as a notification", notification(r#""rpc.ping""#, None), Expect::Nothing),
        case(
            "rpc.ping in a batch",
            batch(&[request("1", r#""rpc.ping""#, None), echo("2")]),
            Expect::Batch(vec![ok("1"), ok("2")]),
        ),
        case("rpc.ping escaped", request("1", r#""rpc\u002eping""#, None), ok("1")),
        case("rpc.pings", request("1", r#""rpc.pings""#, None), error("1", "METHOD_NOT_FOUND")),
        http_only(case(
            "rpc.authenticate over HTTP",
            authenticate(r#"{"authorization":"Bearer x"}"#),
            error("1", "INVALID_REQUEST"),
        )),
        websocket_only(case(
            "rpc.authenticate without an authenticator",
            authenticate(r#"{"authorization":"Bearer x"}"#),
            error("1", "INVALID_REQUEST"),
        )),
        case(
            "rpc.authenticate in a batch",
            batch(&[authenticate(r#"{"authorization":"Bearer x"}"#), echo("2")]),
            Expect::Batch(vec![error("1", "INVALID_REQUEST"), ok("2")]),
        ),
        case(
            "rpc.authenticate escaped",
            request("1", r#""rpc.authenticat\u0065""#, Some("{}")),
            error("1", "INVALID_REQUEST"),
        ),
        case("rpc.authenticate as a notification", notification(r#""rpc.authenticate""#, Some("{}")), Expect::Nothing),
        case("meta.lastEventId on a query is ignored", with_meta(r#"{"lastEventId":"m:1-0"}"#), ok("1")),
        case("meta.lastEventId null", with_meta(r#"{"lastEventId":null}"#), ok("1")),
        case("meta.lastEventId a number", with_meta(r#"{"lastEventId":7}"#), error("1", "INVALID_REQUEST")),
        case("meta.lastEventId an object", with_meta(r#"{"lastEventId":{"id":"x"}}"#), error("1", "INVALID_REQUEST")),
        case("meta.lastEventId empty", with_meta(r#"{"lastEventId":""}"#), error("1", "INVALID_REQUEST")),
        case(
            "meta.lastEventId of 257 bytes",
            with_meta(&format!(r#"{{"lastEventId":"{}"}}"#, "e".repeat(257))),
            error("1", "INVALID_REQUEST"),
        ),
        case(
            "meta.lastEventId of 256 bytes",
            with_meta(&format!(r#"{{"lastEventId":"{}"}}"#, "e".repeat(256))),
            ok("1"),
        ),
        http_only(case(
            "a tracked subscription over HTTP",
            r#"{"jsonrpc":"2.0","id":1,"method":"svc.feed","meta":{"lastEventId":"x:1-0"}}"#,
            error("1", "INVALID_REQUEST"),
        )),
    ]
}
