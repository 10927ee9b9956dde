//! The SQLite schema, as a list of migration steps numbered by `PRAGMA user_version`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::{Error, Result};

/// Step `n` (from 1) brings a database from version `n - 1` to `n`. Steps are only ever
/// appended: a released step is never edited, since databases out there have run it.
const MIGRATIONS: &[&str] = &[
    // 1: jobs with a column per filterable field, JSON as text; events keyed by (job, seq).
    "CREATE TABLE jobs (
        id          TEXT PRIMARY KEY NOT NULL,
        created_at  TEXT NOT NULL,
        started_by  TEXT NOT NULL,
        server      TEXT NOT NULL,
        cluster     TEXT NOT NULL,
        repository  TEXT NOT NULL,
        branch      TEXT NOT NULL,
        path        TEXT NOT NULL,
        namespace   TEXT NOT NULL,
        dry_run     INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
        request     TEXT NOT NULL,
        rerun_of    TEXT,
        state       TEXT NOT NULL
                    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')),
        started_at  TEXT,
        finished_at TEXT,
        error       TEXT,
        result      TEXT
    ) STRICT;
    CREATE INDEX jobs_by_created ON jobs (created_at DESC, id DESC);
    CREATE INDEX jobs_by_cluster ON jobs (cluster, created_at DESC, id DESC);
    CREATE INDEX jobs_by_repository ON jobs (repository, created_at DESC, id DESC);
    CREATE INDEX jobs_by_state ON jobs (state, created_at DESC, id DESC);
    CREATE TABLE events (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        seq    INTEGER NOT NULL CHECK (seq > 0),
        at     TEXT NOT NULL,
        event  TEXT NOT NULL,
        PRIMARY KEY (job_id, seq)
    ) STRICT, WITHOUT ROWID;",
];

/// The schema version this build writes and reads.
fn supported_version() -> i64 {
    // A handful of steps: the count always fits.
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Applies the steps the database has not run yet, each in its own transaction together with
/// its version bump, so a crash leaves the database at a whole version. Refuses a database
/// from a newer build rather than guess at a schema it does not know.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let open_error = |source| Error::Open {
        path: path.to_owned(),
        source,
    };
    loop {
        // IMMEDIATE takes the write lock before reading the version, so two processes opening
        // one new file cannot both run the same step.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(open_error)?;
        let found: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(open_error)?;
        if found == supported_version() {
            return Ok(());
        }
        // A version this build has no step for (above the last one; below zero only if
        // something else wrote the file) is left alone.
        let Some(step) = usize::try_from(found).ok().and_then(|n| MIGRATIONS.get(n)) else {
            return Err(Error::Newer {
                path: path.to_owned(),
                found,
                supported: supported_version(),
            });
        };
        tx.execute_batch(step).map_err(open_error)?;
        tx.pragma_update(None, "user_version", found + 1)
            .map_err(open_error)?;
        tx.commit().map_err(open_error)?;
    }
}
