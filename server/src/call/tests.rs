//! Each layer on its own, around a stub procedure: what it refuses, with which error, and what
//! it lets through. The whole stack is tested over sockets in `server/tests/`.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use accord::{Cx, Handler, Identity, Kind, RpcError};
use serde_json::value::RawValue;
use tokio::sync::Semaphore;

use super::admission::Admission;
use super::authenticate::Authenticate;
use super::endpoint::Endpoint;
use super::guard::Guard;
use super::observe::Observe;
use super::rate_limits::RateLimits;
use super::{Call, CallService, Reply};
use crate::AccessLog;
use crate::auth::Authentication;
use crate::caller::{Caller, Transport};
use crate::metrics::Metrics;
use crate::pipeline::Procedure;
use crate::protocol;
use crate::rate_limit::{RateLimit, RateLimitBackend, RateLimiter};

/// A query answering whether it was given a deadline after `sleep`, or panicking when `sleep`
/// is `None`.
fn procedure(metrics: &Metrics, kind: Kind, authenticated: bool, sleep: Option<Duration>) -> Procedure {
    let handler: Handler = Handler::Call(Arc::new(move |cx: Cx, _params: Option<&str>| {
        Box::pin(async move {
            let Some(sleep) = sleep else { panic!("the procedure blew up") };
            tokio::time::sleep(sleep).await;
            let answer = if cx.deadline().is_some() { "\"with a deadline\"" } else { "\"without a deadline\"" };
            Ok(RawValue::from_string(answer.into()).expect("json"))
        }) as accord::CallFuture
    }));
    Procedure {
        name: "test.call",
        kind,
        tracked: false,
        authenticated,
        timeout: Duration::from_millis(200),
        in_flight: None,
        rate_limit: Some(RateLimit::per_minute(1).key()),
        metrics: metrics.procedure("test.call", kind.as_str()),
        codes: &[],
        handler,
    }
}

fn caller(transport: Transport, authentication: Authentication) -> Caller {
    let address = IpAddr::V4(Ipv4Addr::LOCALHOST);
    Caller::new(transport, None, address, None, http::Extensions::new(), authentication)
}

fn request() -> protocol::Call<'static> {
    protocol::Call { id: None, method: Cow::Borrowed("test.call"), params: None, meta: protocol::Meta::default() }
}

async fn run<S: CallService>(service: &S, procedure: &Procedure, caller: &Caller) -> Result<Reply, RpcError> {
    let request = request();
    let authentication = caller.authentication();
    let mut cx = Cx::new().with_kind(procedure.kind);
    if let Authentication::Authenticated(identity) = &authentication {
        cx = cx.with_identity(identity.clone());
    }
    let call = Call { procedure, caller, request: &request, batch_size: None, authentication, cx };
    service.call(call).await
}

fn code(result: Result<Reply, RpcError>) -> String {
    match result {
        Ok(_) => "OK".into(),
        Err(error) => error.data_code().unwrap_or("<none>").to_owned(),
    }
}

fn ok() -> Option<Duration> {
    Some(Duration::ZERO)
}

#[tokio::test]
async fn authenticate_refuses_what_the_caller_may_not_call() {
    let metrics = Metrics::new();
    let layer = Authenticate::new(Guard::new(Endpoint));
    let open = procedure(&metrics, Kind::Query, false, ok());
    let signed_in_only = procedure(&metrics, Kind::Query, true, ok());
    let subscription = procedure(&metrics, Kind::Subscription, false, ok());
    let anonymous = caller(Transport::Http, Authentication::Anonymous);
    let ada = caller(Transport::Http, Authentication::Authenticated(Identity::new("ada")));
    let expired = Identity::new("bob").with_expiry(SystemTime::now() - Duration::from_secs(1));
    let expired = caller(Transport::Http, Authentication::Authenticated(expired));
    let refused = RpcError::framework(accord::FrameworkCode::Unauthenticated, "unknown token");
    let refused = caller(Transport::Http, Authentication::Refused(refused));

    assert_eq!(code(run(&layer, &open, &anonymous).await), "OK");
    assert_eq!(code(run(&layer, &signed_in_only, &anonymous).await), "UNAUTHENTICATED");
    assert_eq!(code(run(&layer, &signed_in_only, &ada).await), "OK");
    assert_eq!(code(run(&layer, &open, &expired).await), "UNAUTHENTICATED");
    assert_eq!(code(run(&layer, &open, &refused).await), "UNAUTHENTICATED", "refused credentials never run anonymous");
    assert_eq!(code(run(&layer, &subscription, &anonymous).await), "INVALID_REQUEST", "subscriptions need a WebSocket");
}

#[tokio::test]
async fn rate_limits_refuse_past_the_procedures_rule() {
    let metrics = Metrics::new();
    let limit = RateLimit::per_minute(1);
    let limiter = RateLimiter::new(RateLimitBackend::Memory, [("test.call".to_owned(), limit)]).await.unwrap();
    let layer = RateLimits::new(Some(limiter), None, Endpoint);
    let procedure = procedure(&metrics, Kind::Query, false, ok());
    let anonymous = caller(Transport::Http, Authentication::Anonymous);
    assert_eq!(code(run(&layer, &procedure, &anonymous).await), "OK");
    let refused = run(&layer, &procedure, &anonymous).await.expect_err("refused");
    assert_eq!(refused.data_code(), Some("RATE_LIMITED"));
    let data = refused.data.as_ref().expect("data");
    assert!(data["retryAfterMs"].as_u64().is_some_and(|ms| ms > 0), "{data}");
    assert!(metrics.render().contains("accord_rejected_total"), "{}", metrics.render());
}

#[tokio::test]
async fn admission_sheds_load_at_once_and_frees_its_slot() {
    let metrics = Metrics::new();
    let procedure = procedure(&metrics, Kind::Query, false, ok());
    let anonymous = caller(Transport::Http, Authentication::Anonymous);
    let full = Admission::new(Arc::new(Semaphore::new(0)), Endpoint);
    let refused = run(&full, &procedure, &anonymous).await.expect_err("refused");
    assert_eq!(refused.data_code(), Some("OVERLOADED"));
    assert_eq!(refused.data.as_ref().expect("data")["retryAfterMs"], 100);

    let slots = Arc::new(Semaphore::new(1));
    let one = Admission::new(slots.clone(), Endpoint);
    assert_eq!(code(run(&one, &procedure, &anonymous).await), "OK");
    assert_eq!(code(run(&one, &procedure, &anonymous).await), "OK", "the slot came back");
    assert_eq!(slots.available_permits(), 1);
}

#[tokio::test]
async fn the_guard_times_out_and_catches_panics() {
    let metrics = Metrics::new();
    let anonymous = caller(Transport::Http, Authentication::Anonymous);
    let guard = Guard::new(Endpoint);
    let slow = procedure(&metrics, Kind::Query, false, Some(Duration::from_secs(5)));
    let timed_out = run(&guard, &slow, &anonymous).await.expect_err("timed out");
    assert_eq!(timed_out.data_code(), Some("TIMEOUT"));
    assert_eq!(timed_out.data.as_ref().expect("data")["timeoutMs"], 200);
    let panics = procedure(&metrics, Kind::Query, false, None);
    assert_eq!(code(run(&guard, &panics, &anonymous).await), "INTERNAL");
    match run(&guard, &procedure(&metrics, Kind::Query, false, ok()), &anonymous).await {
        Ok(Reply::Value(value)) => {
            assert_eq!(value.get(), "\"with a deadline\"", "the guard gives the procedure its deadline")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn observe_labels_every_outcome() {
    let metrics = Metrics::new();
    let anonymous = caller(Transport::Http, Authentication::Anonymous);
    let observed = Observe::new(AccessLog::default(), Authenticate::new(Guard::new(Endpoint)));
    assert_eq!(code(run(&observed, &procedure(&metrics, Kind::Query, false, ok()), &anonymous).await), "OK");
    assert_eq!(
        code(run(&observed, &procedure(&metrics, Kind::Query, true, ok()), &anonymous).await),
        "UNAUTHENTICATED"
    );
    let rendered = metrics.render();
    assert!(rendered.contains(r#"outcome="OK""#), "{rendered}");
    assert!(rendered.contains(r#"outcome="UNAUTHENTICATED""#), "{rendered}");
}
