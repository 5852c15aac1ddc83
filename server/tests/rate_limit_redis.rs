//! The Redis rate-limit backend against a real Redis at `REDIS_URL` (skipped when unset), with
//! two limiters standing for two server instances that share one budget per caller.
//!
//! The unreachable-Redis tests need no Redis and always run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accord_server::rate_limit::{Decision, OnBackendError, RateLimit, RateLimitBackend, RateLimiter, RedisBackend};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const MINUTE: Duration = Duration::from_secs(60);

fn redis_url() -> Option<String> {
    let url = std::env::var("REDIS_URL").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        eprintln!("skipped: REDIS_URL not set");
    }
    url
}

/// A key prefix no other test or run uses.
fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("accord:test:rl:{}:{nanos}:{test}:", std::process::id())
}

async fn instance(url: &str, prefix: &str, rules: &[(&str, RateLimit)]) -> RateLimiter {
    let backend = RateLimitBackend::Redis(RedisBackend::new(url).key_prefix(prefix));
    let rules = rules.iter().map(|(id, limit)| (id.to_string(), *limit));
    RateLimiter::new(backend, rules).await.expect("a limiter")
}

#[tokio::test]
async fn two_instances_share_one_budget() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("shared");
    let limit = RateLimit::new(10, MINUTE).unwrap();
    let a = instance(&url, &prefix, &[("*", limit)]).await;
    let b = instance(&url, &prefix, &[("*", limit)]).await;

    let mut allowed = 0;
    for i in 0..30 {
        let instance = if i % 2 == 0 { &a } else { &b };
        match instance.check("*", "alice").await {
            Decision::Allow => allowed += 1,
            Decision::Deny { retry_after } => {
                assert!(allowed == 10, "denied after only {allowed} calls");
                assert!(retry_after > Duration::ZERO && retry_after <= MINUTE, "{retry_after:?}");
            }
            Decision::Unavailable { .. } => panic!("Redis is up: no backend error expected"),
        }
    }
    assert_eq!(allowed, 10);

    // The counter key expires with the window.
    let mut conn = redis::Client::open(url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL").arg(format!("{prefix}*:alice")).query_async(&mut conn).await.unwrap();
    assert!(ttl > 0 && ttl <= 60_001, "PTTL {ttl}");
}

#[tokio::test]
async fn a_concurrent_burst_allows_exactly_the_limit() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("burst");
    let limit = RateLimit::new(10, MINUTE).unwrap();
    let instances = [instance(&url, &prefix, &[("*", limit)]).await, instance(&url, &prefix, &[("*", limit)]).await];

    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let limiter = instances[i % 2].clone();
            tokio::spawn(async move { limiter.check("*", "burst-caller").await })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if task.await.unwrap().is_allowed() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}

#[tokio::test]
async fn callers_and_rules_have_their_own_budgets() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("independent");
    let one = RateLimit::new(1, MINUTE).unwrap();
    let limiter = instance(&url, &prefix, &[("*", one), ("todos.create", one)]).await;

    assert!(limiter.check("*", "alice").await.is_allowed());
    assert!(!limiter.check("*", "alice").await.is_allowed());
    assert!(limiter.check("*", "bob").await.is_allowed());
    assert!(limiter.check("todos.create", "alice").await.is_allowed());
    assert!(!limiter.check("todos.create", "alice").await.is_allowed());
    for _ in 0..5 {
        assert_eq!(limiter.check("not.a.rule", "alice").await, Decision::Allow);
    }
}

#[tokio::test]
async fn the_window_slides() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("slides");
    let limiter = instance(&url, &prefix, &[("*", RateLimit::new(2, Duration::from_millis(300)).unwrap())]).await;

    assert!(limiter.check("*", "alice").await.is_allowed());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(limiter.check("*", "alice").await.is_allowed());
    let Decision::Deny { retry_after } = limiter.check("*", "alice").await else { panic!("allowed a 3rd call") };
    // The first call leaves the window about 200 ms from now; the second about 100 ms later.
    assert!(retry_after <= Duration::from_millis(200), "{retry_after:?}");
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    assert!(limiter.check("*", "alice").await.is_allowed(), "the first call has left the window");
    assert!(!limiter.check("*", "alice").await.is_allowed(), "the second one has not");
}

#[tokio::test]
async fn a_flushed_script_is_loaded_again() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("flushed");
    let limiter = instance(&url, &prefix, &[("*", RateLimit::new(2, MINUTE).unwrap())]).await;
    assert!(limiter.check("*", "alice").await.is_allowed());

    // As after a Redis restart: the script cache is empty, EVALSHA answers NOSCRIPT.
    let mut conn = redis::Client::open(url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut conn).await.unwrap();
    assert!(limiter.check("*", "alice").await.is_allowed());
    assert!(!limiter.check("*", "alice").await.is_allowed(), "not a backend error, a real denial");
}

async fn unreachable(on_error: OnBackendError) -> RateLimiter {
    let backend = RedisBackend::new("redis://127.0.0.1:1").on_error(on_error).timeout(Duration::from_millis(300));
    let rules = [("*".to_owned(), RateLimit::new(1, MINUTE).unwrap())];
    RateLimiter::new(RateLimitBackend::Redis(backend), rules)
        .await
        .expect("an unreachable Redis is not a startup error")
}

#[tokio::test]
async fn an_unreachable_redis_fails_open() {
    let limiter = unreachable(OnBackendError::FailOpen).await;
    for _ in 0..3 {
        assert_eq!(limiter.check("*", "alice").await, Decision::Allow);
    }
}

#[tokio::test]
async fn an_unreachable_redis_fails_closed() {
    let limiter = unreachable(OnBackendError::FailClosed).await;
    for _ in 0..3 {
        assert_eq!(limiter.check("*", "alice").await, Decision::Unavailable { retry_after: Duration::from_secs(1) });
    }
    assert_eq!(limiter.check("not.a.rule", "alice").await, Decision::Allow, "unknown rules never reach Redis");
}

/// A TCP proxy to Redis that the test can cut (dropping every connection and refusing data on
/// new ones) and restore: a Redis outage and its end.
struct Proxy {
    url: String,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Proxy {
    async fn start(redis_url: &str) -> Self {
        let (scheme, rest) = redis_url.split_once("://").expect("a URL");
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        let (user_info, target) = match authority.rsplit_once('@') {
            Some((user_info, host)) => (format!("{user_info}@"), host.to_owned()),
            None => (String::new(), authority.to_owned()),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("{scheme}://{user_info}{}{path}", listener.local_addr().unwrap());
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = watch::channel(0);
        let (up_in_task, cut_in_task) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up_in_task.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees its connection closed
                }
                let (target, mut cut) = (target.clone(), cut_in_task.subscribe());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { url, up, cut }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn an_outage_is_bridged_by_the_policy_and_counting_resumes_after_it() {
    let Some(url) = redis_url() else { return };
    let proxy = Proxy::start(&url).await;
    let backend = RedisBackend::new(&proxy.url)
        .key_prefix(unique_prefix("outage"))
        .on_error(OnBackendError::FailClosed)
        .timeout(Duration::from_millis(300));
    let rules = [("*".to_owned(), RateLimit::new(3, MINUTE).unwrap())];
    let limiter = RateLimiter::new(RateLimitBackend::Redis(backend), rules).await.unwrap();
    assert!(limiter.check("*", "alice").await.is_allowed());

    proxy.cut();
    let closed = Decision::Unavailable { retry_after: Duration::from_secs(1) };
    assert_eq!(limiter.check("*", "alice").await, closed, "the outage is noticed");
    let started = Instant::now();
    for _ in 0..100 {
        assert_eq!(limiter.check("*", "alice").await, closed);
    }
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "during the outage, checks skip Redis: {:?}",
        started.elapsed()
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    while limiter.check("*", "alice").await == closed {
        assert!(Instant::now() < deadline, "Redis is back but checks still fail");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The first call and the one just allowed are counted: one left of three.
    assert!(limiter.check("*", "alice").await.is_allowed());
    assert!(
        matches!(limiter.check("*", "alice").await, Decision::Deny { retry_after } if retry_after > Duration::from_secs(1))
    );
}
