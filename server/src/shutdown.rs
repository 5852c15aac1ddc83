//! Waiting for the signals that mean "shut down": SIGINT (Ctrl-C) and, on Unix, SIGTERM (what
//! orchestrators send before killing a process).

/// Resolves on the first SIGINT or SIGTERM. If a signal cannot be listened for, that one is
/// ignored (and logged) rather than resolving at once.
pub(crate) async fn signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Resolves once `draining` turns true; never, if its sender is gone (a dropped handle does not
/// stop a server).
pub(crate) async fn draining(draining: &mut tokio::sync::watch::Receiver<bool>) {
    if draining.wait_for(|draining| *draining).await.is_err() {
        std::future::pending::<()>().await;
    }
}
