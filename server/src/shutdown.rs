//! Waiting for the signals that mean "shut down": SIGINT (Ctrl-C) and, on Unix, SIGTERM (what
//! orchestrators send before killing a process).

/// Listens for SIGINT and SIGTERM from the moment it is called (not from the first poll: a
/// signal that arrives between this call and the first `.await` is not lost), and resolves on the
/// first one. If a signal cannot be listened for, that one is ignored (and logged) rather than
/// resolving at once.
pub(crate) fn signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &'static str| match signal(kind) {
            Ok(signal) => Some(signal),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for {name}");
                None
            }
        };
        let mut interrupt = listen(SignalKind::interrupt(), "SIGINT");
        let mut terminate = listen(SignalKind::terminate(), "SIGTERM");
        async move {
            tokio::select! {
                () = next(interrupt.as_mut()) => {}
                () = next(terminate.as_mut()) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves once `draining` turns true; never, if its sender is gone (a dropped handle does not
/// stop a server).
pub(crate) async fn draining(draining: &mut tokio::sync::watch::Receiver<bool>) {
    if draining.wait_for(|draining| *draining).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The next delivery of `signal`; never, without one.
#[cfg(unix)]
async fn next(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
