//! Stopping: on SIGTERM or SIGINT the server stops accepting and answers
//! what it accepted, and whatever waits on its own (a change-feed
//! long-poll) is told at once instead of holding the shutdown up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Whether the process is stopping, shared by every worker.
#[derive(Clone, Default)]
pub struct Shutdown {
    stopping: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Shutdown {
    /// Marks the process as stopping and wakes every waiter.
    pub fn begin(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Resolves once the process is stopping.
    pub async fn stopping(&self) {
        let notified = self.notify.notified();
        if self.is_stopping() {
            return;
        }
        notified.await;
    }
}

/// Waits for SIGTERM or SIGINT.
pub async fn signalled() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
