//! CPU-heavy work — reading uploaded spreadsheets, hashing and checking
//! account secrets — on threads of its own, never on an async worker and
//! never on the blocking threads the database queries run on. At most one
//! job per core runs at a time; a job that cannot start within
//! [`QUEUE_WAIT`] gets 503, so a flood of uploads or wrong secrets queues
//! here instead of starving reads.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// How long a job waits for a free thread before the request gets 503.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// A set of threads for one kind of heavy work.
pub struct Pool {
    slots: LazyLock<Arc<Semaphore>>,
}

fn one_per_core() -> Arc<Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores.max(1)))
}

/// Reading uploaded spreadsheets.
pub static UPLOADS: Pool = Pool {
    slots: LazyLock::new(one_per_core),
};

/// Hashing and checking account secrets (argon2id, ~19 MiB and tens of
/// milliseconds each), apart from uploads so neither starves the other,
/// and on half the cores, so a flood of wrong secrets leaves the others to
/// the requests that read and write.
pub static SECRETS: Pool = Pool {
    slots: LazyLock::new(half_the_cores),
};

fn half_the_cores() -> Arc<Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new((cores / 2).max(1)))
}

/// A job that panicked: the input made a library fail (the caller says
/// what that means for its request).
#[derive(Debug)]
pub struct Panicked;

impl Pool {
    /// Runs `job` on a thread of this pool and waits for it without
    /// blocking the caller's thread.
    pub async fn run<T, F>(
        &self,
        what: &'static str,
        job: F,
    ) -> Result<Result<T, Panicked>, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Unavailable(format!("the service is busy {what}; retry")))?
            .map_err(ApiError::internal)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("alliance-heavy".into())
            .spawn(move || {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                drop(slot);
                let _ = tx.send(outcome.map_err(|_| Panicked));
            })
            .map_err(ApiError::internal)?;
        rx.await.map_err(ApiError::internal)
    }
}
