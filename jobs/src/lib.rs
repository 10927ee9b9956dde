//! The bootstrap-job store of `fluxstrap serve`.
//!
//! `serve` runs each bootstrap as a job: it records the job when it accepts the request, logs
//! every progress event in order (numbered, so an SSE client resumes with `Last-Event-ID`
//! without a gap or a duplicate), and records how the job ended. History outlives the process;
//! at start-up, jobs a killed process left queued or running are marked interrupted
//! ([`JobStore::interrupt_unfinished`]).
//!
//! # One trait, several stores
//! The server codes against [`JobStore`] only. Today's implementation, [`SqliteStore`], is an
//! embedded SQLite file, which suits one `serve` process. Several `serve` replicas behind one
//! URL will need a store they share (Postgres); keeping the trait small and free of SQLite
//! types lets that store be added beside this one without touching the server.
//!
//! The model (records, states, pages) builds without SQLite (`default-features = false`), so
//! the page reads the server's answers into the very same types.
//!
//! # No secrets
//! Tokens and private keys never reach the store: the caller strips them from the request
//! before building a [`NewJob`], and events and results it logs carry none. The store has no
//! field for them and does not look for them.

#![warn(missing_docs)]

mod error;
mod model;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use error::{Error, Result};
pub use model::{JobFilter, JobPage, JobRecord, JobState, NewJob, StateCounts, StoredEvent};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Where `fluxstrap serve` keeps its jobs.
///
/// Synchronous on purpose: the server calls it from a blocking context or holds it briefly, and
/// an embedded store answers in well under a millisecond. Every timestamp is given by the
/// caller (RFC 3339 UTC, one fixed format), so a store never reads a clock.
pub trait JobStore: Send + Sync + 'static {
    /// Records a newly accepted job, queued. Fails with [`Error::Duplicate`] if the id is taken.
    fn create(&self, job: &NewJob) -> Result<JobRecord>;

    /// The job with this id, if there is one.
    fn get(&self, id: &str) -> Result<Option<JobRecord>>;

    /// One page of the jobs that match the filter, newest first.
    fn list(&self, filter: &JobFilter) -> Result<JobPage>;

    /// Queued to running, started at `at`. Fails with [`Error::NotFound`], or with
    /// [`Error::InvalidTransition`] if the job is not queued.
    fn start(&self, id: &str, at: &str) -> Result<()>;

    /// Queued or running to `state` (succeeded, failed or interrupted), finished at `at`, with
    /// the failure message and the result. Fails with [`Error::NotAFinishedState`] for any
    /// other `state`, [`Error::NotFound`], or [`Error::InvalidTransition`] if the job has
    /// already finished.
    fn finish(
        &self,
        id: &str,
        state: JobState,
        at: &str,
        error: Option<&str>,
        result: Option<&serde_json::Value>,
    ) -> Result<()>;

    /// Logs an event of the job and returns its sequence number: one more than the job's last,
    /// 1 for its first, assigned atomically so concurrent writers never share or skip one.
    /// A finished job still takes events, so a closing summary may follow the state change.
    /// Fails with [`Error::NotFound`].
    fn append_event(&self, id: &str, at: &str, event: &serde_json::Value) -> Result<u64>;

    /// The job's events numbered above `after_seq`, in order (`0` for all). Fails with
    /// [`Error::NotFound`].
    fn events_after(&self, id: &str, after_seq: u64) -> Result<Vec<StoredEvent>>;

    /// Marks every queued or running job interrupted, finished at `at` with `reason` as its
    /// error, and returns their ids (oldest first). Meant for start-up, when no job can be
    /// running in this store.
    fn interrupt_unfinished(&self, at: &str, reason: &str) -> Result<Vec<String>>;

    /// How many jobs are in each state, zeros included.
    fn counts(&self) -> Result<StateCounts>;
}
