//! Bounded blocking work: CPU-heavy or blocking jobs (password hashing, compression, a
//! synchronous library) run on a few dedicated threads, at most one job per thread at a time.
//! Callers beyond that wait briefly for a thread, then get `OVERLOADED`.
//!
//! See [`BlockingPool`].

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use accord::{FrameworkCode, RpcError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::Metrics;

/// Why a job did not run to completion.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockingError {
    /// Every thread stayed busy (or the queue was full): retry after `retry_after`.
    #[error("the {pool} pool is busy; retry in {retry_after:?}")]
    Overloaded {
        /// The pool's name.
        pool: Arc<str>,
        /// An estimate of when a thread frees up (at least 1 ms).
        retry_after: Duration,
    },
    /// The job panicked (the panic message went to the log).
    #[error("a job on the {pool} pool panicked")]
    Panicked {
        /// The pool's name.
        pool: Arc<str>,
    },
}

impl From<BlockingError> for RpcError {
    /// `OVERLOADED` with `data.retryAfterMs`, or `INTERNAL` for a panic.
    fn from(error: BlockingError) -> Self {
        match error {
            BlockingError::Overloaded { retry_after, .. } => {
                let retry_ms = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX).max(1);
                RpcError::framework(FrameworkCode::Overloaded, "the server is busy; retry shortly")
                    .with_data_field("retryAfterMs", retry_ms)
            }
            BlockingError::Panicked { .. } => RpcError::internal(),
        }
    }
}

/// Settings of a [`BlockingPool`]: `BlockingPool::builder(name).threads(n).queue(n).max_wait(d)`.
#[derive(Clone)]
#[must_use]
pub struct BlockingPoolBuilder {
    name: String,
    threads: usize,
    queue: usize,
    max_wait: Duration,
    metrics: Option<Metrics>,
    on_idle: Option<Idle>,
}

/// A hook run on a pool thread once it has been idle for `after`.
#[derive(Clone)]
struct Idle {
    after: Duration,
    hook: Arc<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for BlockingPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPoolBuilder")
            .field("name", &self.name)
            .field("threads", &self.threads)
            .field("queue", &self.queue)
            .field("max_wait", &self.max_wait)
            .field("on_idle", &self.on_idle.as_ref().map(|idle| idle.after))
            .finish_non_exhaustive()
    }
}

impl BlockingPoolBuilder {
    /// The default [`max_wait`](Self::max_wait).
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(2);
    /// The default [`queue`](Self::queue).
    pub const DEFAULT_QUEUE: usize = 256;

    /// Jobs running at once (at least 1). Default: the number of CPUs.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Callers that may wait for a thread at once; more are refused at once. Default 256.
    pub fn queue(mut self, callers: usize) -> Self {
        self.queue = callers;
        self
    }

    /// The longest a caller waits for a thread before `OVERLOADED`. Default 2 s.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Exports `accord_blocking_busy{pool}` and `accord_blocking_waiting{pool}` (gauges) and
    /// `accord_blocking_rejected_total{pool}` in this registry (e.g. the server's
    /// [`ServerBuilder::metrics`](crate::ServerBuilder::metrics)).
    pub fn metrics(mut self, metrics: &Metrics) -> Self {
        self.metrics = Some(metrics.clone());
        self
    }

    /// Runs `hook` on each pool thread that has had no job for `after` (once per idle spell):
    /// where a job's thread-local scratch memory can be released, so that memory taken during
    /// a burst goes back once the burst is over. Idle threads stay idle: the pool hands work
    /// to the thread that finished last.
    pub fn on_idle(mut self, after: Duration, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_idle = Some(Idle { after, hook: Arc::new(hook) });
        self
    }

    /// Starts the threads (named `{name}-{i}`).
    pub fn build(self) -> std::io::Result<BlockingPool> {
        let name: Arc<str> = self.name.into();
        let gauges = self.metrics.map(|metrics| {
            let label = || [("pool", name.to_string())];
            Gauges {
                busy: metrics.gauge("accord_blocking_busy", &label()),
                waiting: metrics.gauge("accord_blocking_waiting", &label()),
                rejected: metrics.counter("accord_blocking_rejected_total", &label()),
            }
        });
        let shared = Arc::new(Shared {
            name,
            threads: self.threads,
            max_wait: self.max_wait,
            running: Arc::new(Semaphore::new(self.threads)),
            waiting: Arc::new(Semaphore::new(self.queue)),
            queue: self.queue,
            free: Mutex::new(Vec::with_capacity(self.threads)),
            average_job_us: AtomicU64::new(0),
            gauges,
        });
        for i in 0..self.threads {
            let (home, jobs) = mpsc::channel::<Job>();
            let (pool, idle) = (Arc::downgrade(&shared), self.on_idle.clone());
            // On an error the threads started so far end with `shared` (their senders go).
            std::thread::Builder::new()
                .name(format!("{}-{i}", shared.name))
                .spawn(move || work(&jobs, &pool, idle.as_ref()))?;
            shared.free_threads().push(home);
        }
        Ok(BlockingPool { shared })
    }
}

/// A fixed set of threads for blocking or CPU-bound jobs, with a bounded wait for them.
/// Cheap to clone (one `Arc`); the threads end when the last clone is dropped and their current
/// job returns.
///
/// Why not `tokio::task::spawn_blocking`: it starts up to 512 threads and runs every job at once,
/// so a burst of memory-hungry jobs costs its size times the burst. The shop measured it: 128
/// concurrent logins (Argon2, 19 MiB each) took 3.2 GiB, and 3.1 GiB stayed after the burst,
/// because glibc gives threads their own arenas and keeps what they freed. A [`BlockingPool`]
/// bounds both: `threads` jobs run at once, on threads that live as long as the pool, so a job
/// can also keep its scratch memory in a `thread_local!` and reuse it (no allocation per job,
/// memory bounded by `threads` × scratch size; see the example), and give it back once the
/// burst is over ([`BlockingPoolBuilder::on_idle`]).
///
/// Admission, in order:
/// 1. a free thread runs the job at once;
/// 2. otherwise, if fewer than `queue` callers are waiting, the caller waits up to `max_wait`
///    for a thread (first come, first served);
/// 3. otherwise, or when the wait runs out: [`BlockingError::Overloaded`], which becomes
///    `OVERLOADED` with `data.retryAfterMs` (an estimate of when a thread frees up).
///
/// A job whose caller went away (a timed-out or cancelled call) before a thread picked it up is
/// skipped. A job already running cannot be stopped; it keeps its thread until it returns, so
/// the bound holds for abandoned work too. A panicking job answers [`BlockingError::Panicked`]
/// (`INTERNAL`) and its thread carries on. The threads are detached: a process exiting never
/// waits for them.
///
/// ```
/// use std::cell::RefCell;
/// use std::time::Duration;
/// use accord_server::BlockingPool;
///
/// thread_local! {
///     // Scratch memory, allocated once per pool thread and reused by every job on it.
///     static SCRATCH: RefCell<Vec<u8>> = RefCell::new(Vec::new());
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = BlockingPool::builder("checksums")
///     .threads(2)
///     .queue(64)
///     .max_wait(Duration::from_secs(1))
///     .on_idle(Duration::from_secs(5), || drop(SCRATCH.take())) // freed between bursts
///     .build()?;
/// let data = vec![7u8; 1 << 20];
/// let sum = pool
///     .run(move || {
///         SCRATCH.with_borrow_mut(|scratch| {
///             scratch.clear();
///             scratch.extend(data.iter().map(|b| b.wrapping_mul(3)));
///             scratch.iter().map(|&b| u64::from(b)).sum::<u64>()
///         })
///     })
///     .await?; // BlockingError converts into accord::RpcError (OVERLOADED, INTERNAL)
/// assert_eq!(sum, 21 << 20);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BlockingPool {
    shared: Arc<Shared>,
}

struct Shared {
    name: Arc<str>,
    threads: usize,
    max_wait: Duration,
    /// One permit per thread: held from admission until the job returns.
    running: Arc<Semaphore>,
    /// One permit per caller allowed to wait.
    waiting: Arc<Semaphore>,
    queue: usize,
    /// The idle threads' inboxes; the last one pushed is used first. A thread is pushed back
    /// before its permit is released, so a caller holding a permit always finds one here.
    free: Mutex<Vec<mpsc::Sender<Job>>>,
    /// Moving average of job run time, for `retry_after` (0: nothing measured yet).
    average_job_us: AtomicU64,
    gauges: Option<Gauges>,
}

struct Gauges {
    busy: metrics::Gauge,
    waiting: metrics::Gauge,
    rejected: metrics::Counter,
}

/// Work for one thread: what to run, the thread's own inbox (to hand back to the free list)
/// and the permit (released after that).
struct Job {
    run: Run,
    home: mpsc::Sender<Job>,
    permit: OwnedSemaphorePermit,
}

/// Runs the job; returns how to deliver its outcome, which the thread does only once it is
/// free again (so a caller that got its answer finds the pool as the job left it).
type Run = Box<dyn FnOnce() -> Box<dyn FnOnce() + Send> + Send>;

impl BlockingPool {
    /// A pool named `name` (thread names, logs, metrics) with the defaults: one thread per CPU,
    /// 256 waiting callers, 2 s wait.
    pub fn builder(name: impl Into<String>) -> BlockingPoolBuilder {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        BlockingPoolBuilder {
            name: name.into(),
            threads,
            queue: BlockingPoolBuilder::DEFAULT_QUEUE,
            max_wait: BlockingPoolBuilder::DEFAULT_MAX_WAIT,
            metrics: None,
            on_idle: None,
        }
    }

    /// Runs `job` on one of the pool's threads and returns its result, or says why it did not
    /// run (see [`BlockingPool`] for admission). Dropping the future before a thread picked the
    /// job up cancels it.
    pub async fn run<F, T>(&self, job: F) -> Result<T, BlockingError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.admit().await?;
        let (answer, answered) = oneshot::channel();
        let shared = self.shared.clone();
        let run: Run = Box::new(move || {
            if answer.is_closed() {
                return Box::new(|| {}); // the caller went away while the job was handed over
            }
            let started = Instant::now();
            let result = std::panic::catch_unwind(AssertUnwindSafe(job));
            shared.ran_for(started.elapsed());
            match result {
                Ok(value) => Box::new(move || {
                    let _ = answer.send(value);
                }),
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(pool = %shared.name, panic = %message, "a blocking job panicked");
                    Box::new(|| {}) // dropping `answer` tells the caller
                }
            }
        });
        let panicked = || BlockingError::Panicked { pool: self.shared.name.clone() };
        // A permit guarantees a free thread (see `Shared::free`); its thread never ends while
        // the pool lives (jobs run under `catch_unwind`).
        let Some(home) = self.shared.free_threads().pop() else {
            tracing::error!(pool = %self.shared.name, "no free thread despite a permit");
            return Err(panicked());
        };
        home.clone().send(Job { run, home, permit }).map_err(|_| panicked())?;
        self.shared.gauge_update();
        answered.await.map_err(|_| panicked())
    }

    /// A thread's permit: at once, or after waiting in the queue.
    async fn admit(&self) -> Result<OwnedSemaphorePermit, BlockingError> {
        let shared = &self.shared;
        if let Ok(permit) = shared.running.clone().try_acquire_owned() {
            shared.gauge_update();
            return Ok(permit);
        }
        let Ok(ticket) = shared.waiting.clone().try_acquire_owned() else {
            return Err(shared.overloaded());
        };
        shared.gauge_update();
        let permit = tokio::time::timeout(shared.max_wait, shared.running.clone().acquire_owned()).await;
        drop(ticket);
        shared.gauge_update();
        match permit {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out (the semaphore is never closed).
            _ => Err(shared.overloaded()),
        }
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// How many jobs may run at once.
    pub fn threads(&self) -> usize {
        self.shared.threads
    }

    /// Jobs admitted and not finished yet (running, or handed to a thread).
    pub fn busy(&self) -> usize {
        self.shared.busy()
    }

    /// Callers waiting for a thread.
    pub fn waiting(&self) -> usize {
        self.shared.queue - self.shared.waiting.available_permits()
    }
}

impl Shared {
    fn free_threads(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::Sender<Job>>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn busy(&self) -> usize {
        self.threads - self.running.available_permits()
    }

    fn overloaded(&self) -> BlockingError {
        if let Some(gauges) = &self.gauges {
            gauges.rejected.increment(1);
        }
        // The time for the queue ahead to drain, one job per thread at a time.
        let average = Duration::from_micros(self.average_job_us.load(Ordering::Relaxed));
        let waiting = self.queue - self.waiting.available_permits();
        let rounds = u32::try_from(waiting / self.threads + 1).unwrap_or(u32::MAX);
        let estimate = if average.is_zero() { self.max_wait } else { average.saturating_mul(rounds) };
        BlockingError::Overloaded {
            pool: self.name.clone(),
            retry_after: estimate.clamp(Duration::from_millis(1), Duration::from_secs(60)),
        }
    }

    /// Folds one job's run time into the average (weight 1/8).
    fn ran_for(&self, elapsed: Duration) {
        let sample = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let _ = self.average_job_us.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |average| {
            Some(if average == 0 { sample.max(1) } else { (average * 7 + sample) / 8 })
        });
    }

    fn gauge_update(&self) {
        if let Some(gauges) = &self.gauges {
            gauges.busy.set(self.busy() as f64);
            gauges.waiting.set((self.queue - self.waiting.available_permits()) as f64);
        }
    }
}

/// A pool thread: runs the jobs sent to its inbox until the pool is gone, and the idle hook
/// once after each spell of `idle.after` without a job.
fn work(jobs: &mpsc::Receiver<Job>, pool: &Weak<Shared>, idle: Option<&Idle>) {
    let mut idle_since_hook = true; // nothing to release before the first job
    loop {
        let next = match idle {
            Some(idle) if !idle_since_hook => jobs.recv_timeout(idle.after),
            _ => jobs.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok(Job { run, home, permit }) => {
                let deliver = run();
                idle_since_hook = false;
                // Back on the free list first, then the permit (see `Shared::free`), then the
                // answer.
                let Some(shared) = pool.upgrade() else { return deliver() };
                shared.free_threads().push(home);
                drop(permit);
                shared.gauge_update();
                deliver();
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some(idle) = idle
                    && std::panic::catch_unwind(AssertUnwindSafe(|| (idle.hook)())).is_err()
                {
                    tracing::error!("a blocking pool's idle hook panicked");
                }
                idle_since_hook = true;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("name", &self.shared.name)
            .field("threads", &self.shared.threads)
            .field("queue", &self.shared.queue)
            .field("max_wait", &self.shared.max_wait)
            .field("busy", &self.busy())
            .field("waiting", &self.waiting())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::task::JoinHandle;

    use super::*;

    fn pool(threads: usize, queue: usize, max_wait_ms: u64) -> BlockingPool {
        BlockingPool::builder("test")
            .threads(threads)
            .queue(queue)
            .max_wait(Duration::from_millis(max_wait_ms))
            .build()
            .unwrap()
    }

    /// A job that holds its thread until told to finish.
    fn gate() -> (Arc<std::sync::Barrier>, impl FnOnce() -> u32 + Send + 'static) {
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let held = barrier.clone();
        (barrier, move || {
            held.wait();
            7
        })
    }

    /// Starts a job that holds its thread until `release.wait()`; returns once it runs.
    async fn occupy(pool: &BlockingPool) -> (Arc<std::sync::Barrier>, JoinHandle<Result<u32, BlockingError>>) {
        let (release, job) = gate();
        let busy = pool.busy();
        let running = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(job).await }
        });
        while pool.busy() == busy {
            tokio::task::yield_now().await;
        }
        (release, running)
    }

    /// Starts `job`; returns once its caller waits for a thread.
    async fn enqueue<T: Send + 'static>(
        pool: &BlockingPool,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<Result<T, BlockingError>> {
        let waiting = pool.waiting();
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(job).await }
        });
        while pool.waiting() == waiting {
            tokio::task::yield_now().await;
        }
        queued
    }

    #[tokio::test]
    async fn jobs_run_off_the_async_threads_and_return_their_value() {
        let pool = pool(2, 4, 1000);
        let caller = std::thread::current().id();
        let (name, other_thread) = pool
            .run(move || (std::thread::current().name().map(str::to_owned), std::thread::current().id() != caller))
            .await
            .unwrap();
        assert!(other_thread);
        assert!(name.is_some_and(|n| n.starts_with("test-")), "threads are named after the pool");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_threads_jobs_run_at_once() {
        let pool = pool(3, 100, 10_000);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..24).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            pool.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        let results = futures_util::future::join_all(jobs).await;
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_caller_waits_up_to_max_wait_then_is_overloaded() {
        let pool = pool(1, 8, 100);
        let (release, busy) = occupy(&pool).await;
        let started = Instant::now();
        let refused = pool.run(|| 1).await.unwrap_err();
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(2), "{waited:?}");
        let BlockingError::Overloaded { retry_after, .. } = &refused else { panic!("{refused:?}") };
        assert!(*retry_after >= Duration::from_millis(1));
        let rpc = RpcError::from(refused);
        assert_eq!(rpc.framework_code(), Some(FrameworkCode::Overloaded));
        assert!(
            rpc.data.as_ref().and_then(|d| d.get("retryAfterMs")).and_then(|v| v.as_u64()).is_some_and(|ms| ms >= 1)
        );
        release.wait();
        assert_eq!(busy.await.unwrap().unwrap(), 7);
        assert_eq!(pool.run(|| 2).await.unwrap(), 2, "free again");
    }

    #[tokio::test]
    async fn a_waiting_caller_gets_the_thread_when_it_frees_up() {
        let pool = pool(1, 8, 5_000);
        let (release, first) = occupy(&pool).await;
        let second = enqueue(&pool, || 8).await;
        release.wait();
        assert_eq!(first.await.unwrap().unwrap(), 7);
        assert_eq!(second.await.unwrap().unwrap(), 8);
        assert_eq!((pool.busy(), pool.waiting()), (0, 0));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let pool = pool(1, 1, 10_000);
        let (release, first) = occupy(&pool).await;
        let queued = enqueue(&pool, || 8).await;
        let started = Instant::now();
        assert!(matches!(pool.run(|| 9).await, Err(BlockingError::Overloaded { .. })));
        assert!(started.elapsed() < Duration::from_secs(1), "no wait when the queue is full");
        release.wait();
        assert_eq!(first.await.unwrap().unwrap(), 7);
        assert_eq!(queued.await.unwrap().unwrap(), 8);
    }

    #[tokio::test]
    async fn a_panicking_job_answers_an_error_and_the_thread_carries_on() {
        let pool = pool(1, 1, 1000);
        let error = pool.run(|| -> u32 { panic!("boom") }).await.unwrap_err();
        assert!(matches!(error, BlockingError::Panicked { .. }));
        assert_eq!(RpcError::from(error).framework_code(), Some(FrameworkCode::Internal));
        assert_eq!(pool.run(|| 3).await.unwrap(), 3);
        assert_eq!(pool.busy(), 0, "the panicked job gave its thread back");
    }

    #[tokio::test]
    async fn a_caller_that_leaves_while_waiting_runs_nothing() {
        let pool = pool(1, 4, 10_000);
        let (release, first) = occupy(&pool).await;
        let ran = Arc::new(AtomicUsize::new(0));
        let abandoned = enqueue(&pool, {
            let ran = ran.clone();
            move || ran.fetch_add(1, Ordering::SeqCst)
        })
        .await;
        abandoned.abort();
        let _ = abandoned.await;
        release.wait();
        first.await.unwrap().unwrap();
        assert_eq!(pool.run(|| 5).await.unwrap(), 5);
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn one_job_at_a_time_keeps_to_one_thread_and_the_idle_hook_runs_there_once() {
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let pool = BlockingPool::builder("idle")
            .threads(3)
            .on_idle(Duration::from_millis(50), {
                let hooks = hooks.clone();
                move || hooks.lock().unwrap().push(std::thread::current().id())
            })
            .build()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(hooks.lock().unwrap().is_empty(), "threads that never worked have nothing to release");
        let mut threads = std::collections::HashSet::new();
        for _ in 0..5 {
            threads.insert(pool.run(|| std::thread::current().id()).await.unwrap());
        }
        assert_eq!(threads.len(), 1, "the thread that finished last takes the next job");
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(*hooks.lock().unwrap(), threads.into_iter().collect::<Vec<_>>(), "once, on that thread");
    }

    #[tokio::test]
    async fn the_threads_end_with_the_pool() {
        struct Exit(Arc<AtomicUsize>);
        impl Drop for Exit {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        thread_local! {
            static EXIT: std::cell::RefCell<Option<Exit>> = const { std::cell::RefCell::new(None) };
        }
        let exited = Arc::new(AtomicUsize::new(0));
        let pool = pool(2, 2, 1000);
        let (a, b) = (pool.clone(), pool.clone());
        let mark = |exited: Arc<AtomicUsize>| move || EXIT.set(Some(Exit(exited)));
        let (first, second) = tokio::join!(a.run(mark(exited.clone())), b.run(mark(exited.clone())));
        first.unwrap();
        second.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(exited.load(Ordering::SeqCst), 0, "the threads live as long as the pool");
        drop((pool, a, b));
        let deadline = Instant::now() + Duration::from_secs(5);
        while exited.load(Ordering::SeqCst) < 1 {
            assert!(Instant::now() < deadline, "no pool thread ended");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn metrics_show_the_pool() {
        let metrics = Metrics::new();
        let pool = BlockingPool::builder("hashing").threads(1).queue(0).metrics(&metrics).build().unwrap();
        let (release, first) = occupy(&pool).await;
        assert!(pool.run(|| 1).await.is_err(), "no queue: refused at once");
        release.wait();
        first.await.unwrap().unwrap();
        let text = metrics.render();
        assert!(text.contains("accord_blocking_rejected_total{pool=\"hashing\"} 1"), "{text}");
        assert!(text.contains("accord_blocking_busy{pool=\"hashing\"}"), "{text}");
    }
}
