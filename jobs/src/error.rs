//! The crate's one error type: each message names what went wrong and what to look at.

use std::path::PathBuf;

use crate::JobState;

/// What a [`JobStore`](crate::JobStore) operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database's parent directory could not be created.
    #[error("cannot create the directory {} for the job database: {source}", path.display())]
    CreateDir {
        /// The directory that could not be created.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened, configured or migrated.
    #[cfg(feature = "sqlite")]
    #[error("cannot open the job database {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// The database was written by a newer fluxstrap; migrating it down is not possible.
    #[error(
        "the job database {} has schema version {found}, newer than version {supported} that this \
         fluxstrap knows: run a fluxstrap at least as new as the one that wrote it, or point it at \
         another database file",
        path.display()
    )]
    Newer {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build can use.
        supported: i64,
    },
    /// No job has this id.
    #[error("no job with id {id:?}")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// A job with this id already exists.
    #[error("a job with id {id:?} already exists")]
    Duplicate {
        /// The id given.
        id: String,
    },
    /// The job's current state does not allow the requested change.
    #[error("job {id:?} is {from} and cannot become {to}")]
    InvalidTransition {
        /// The job.
        id: String,
        /// Its current state.
        from: JobState,
        /// The state asked for.
        to: JobState,
    },
    /// [`finish`](crate::JobStore::finish) was given a state that does not end a job.
    #[error(
        "job {id:?} cannot finish as {state}: a job finishes as succeeded, failed or interrupted"
    )]
    NotAFinishedState {
        /// The job.
        id: String,
        /// The state given.
        state: JobState,
    },
    /// A string that names no job state (in a query parameter or in the database).
    #[error(
        "unknown job state {state:?}: expected queued, running, succeeded, failed or interrupted"
    )]
    UnknownState {
        /// The string given.
        state: String,
    },
    /// Any other SQLite failure.
    #[cfg(feature = "sqlite")]
    #[error("job database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
