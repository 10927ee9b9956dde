//! [`JobStore`] on an embedded SQLite file: one `serve` process, history kept across restarts.

mod schema;

use std::fs;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{
    Connection, OptionalExtension, Row, ToSql, TransactionBehavior, named_params, params_from_iter,
};
use serde::Serialize;

use crate::{
    Error, JobFilter, JobPage, JobRecord, JobState, JobStore, NewJob, Result, StateCounts,
    StoredEvent,
};

/// How long a write waits for another connection's (another process on the same file) before
/// giving up: far longer than any of this store's sub-millisecond transactions.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The `jobs` columns [`job_from_row`] reads, in one place for every query.
const JOB_COLUMNS: &str = "id, created_at, started_by, server, cluster, repository, branch, \
     path, namespace, dry_run, request, rerun_of, state, started_at, finished_at, error, result";

/// The states a job can still leave, as SQL.
const UNFINISHED: &str = "state IN ('queued', 'running')";

/// The job store of one `serve` process, in a SQLite file.
pub struct SqliteStore {
    // One connection: SQLite serialises writers anyway, and every call is brief.
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it and its parent directories if missing, and
    /// brings its schema up to date. Refuses ([`Error::Newer`]) a database written by a newer
    /// fluxstrap.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let open_error = |source| Error::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // WAL: an SSE reader never waits for the job writing its events, nor the writer for it.
        conn.pragma_update_and_check(None, "journal_mode", "wal", |_| Ok(()))
            .map_err(open_error)?;
        // With WAL, NORMAL syncs at checkpoints instead of at every commit: a killed process
        // loses nothing, a power cut at most the last events, and twenty jobs appending events
        // no longer queue behind one fsync each.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        // Off by default in SQLite, per connection: events must belong to a job.
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_error)?;
        schema::migrate(&mut conn, path)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held rolled its transaction back as the transaction was
        // dropped, so the connection is sound and the store keeps working.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl JobStore for SqliteStore {
    fn create(&self, job: &NewJob) -> Result<JobRecord> {
        let inserted = self.conn().execute(
            "INSERT INTO jobs (id, created_at, started_by, server, cluster, repository, branch,
                 path, namespace, dry_run, request, rerun_of, state)
             VALUES (:id, :created_at, :started_by, :server, :cluster, :repository, :branch,
                 :path, :namespace, :dry_run, :request, :rerun_of, :state)",
            named_params! {
                ":id": job.id,
                ":created_at": job.created_at,
                ":started_by": job.started_by,
                ":server": job.server,
                ":cluster": job.cluster,
                ":repository": job.repository,
                ":branch": job.branch,
                ":path": job.path,
                ":namespace": job.namespace,
                ":dry_run": job.dry_run,
                ":request": Json(&job.request),
                ":rerun_of": job.rerun_of,
                ":state": JobState::Queued,
            },
        );
        match inserted {
            Ok(_) => Ok(JobRecord::queued(job)),
            Err(error) if is_primary_key_clash(&error) => {
                Err(Error::Duplicate { id: job.id.clone() })
            }
            Err(error) => Err(error.into()),
        }
    }

    fn get(&self, id: &str) -> Result<Option<JobRecord>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
        Ok(self.conn().query_row(&sql, [id], job_from_row).optional()?)
    }

    fn list(&self, filter: &JobFilter) -> Result<JobPage> {
        let limit = filter.limit.clamp(1, JobFilter::MAX_LIMIT);
        let mut conditions = Vec::new();
        let mut values: Vec<&dyn ToSql> = Vec::new();
        if let Some(cluster) = &filter.cluster {
            conditions.push("cluster = ?");
            values.push(cluster);
        }
        if let Some(repository) = &filter.repository {
            conditions.push("repository = ?");
            values.push(repository);
        }
        if let Some(state) = &filter.state {
            conditions.push("state = ?");
            values.push(state);
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        // One row more than the page holds tells whether another page follows, without a COUNT.
        let fetch = limit + 1;
        let offset = sql_int(filter.start);
        values.push(&fetch);
        values.push(&offset);
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs {where_clause}
             ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        );
        let conn = self.conn();
        let mut statement = conn.prepare(&sql)?;
        let mut jobs = statement
            .query_map(params_from_iter(values), job_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let is_last_page = jobs.len() as u64 <= limit;
        // `limit` is at most `MAX_LIMIT`: it fits any usize.
        jobs.truncate(limit as usize);
        let size = jobs.len() as u64;
        Ok(JobPage {
            values: jobs,
            size,
            start: filter.start,
            limit,
            is_last_page,
            next_page_start: (!is_last_page).then(|| filter.start.saturating_add(size)),
        })
    }

    fn start(&self, id: &str, at: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let from = current_state(&tx, id)?;
        if from != JobState::Queued {
            return Err(Error::InvalidTransition {
                id: id.to_owned(),
                from,
                to: JobState::Running,
            });
        }
        tx.execute(
            "UPDATE jobs SET state = :state, started_at = :at WHERE id = :id",
            named_params! { ":state": JobState::Running, ":at": at, ":id": id },
        )?;
        tx.commit()?;
        Ok(())
    }

    fn finish(
        &self,
        id: &str,
        state: JobState,
        at: &str,
        error: Option<&str>,
        result: Option<&serde_json::Value>,
    ) -> Result<()> {
        if !state.is_finished() {
            return Err(Error::NotAFinishedState {
                id: id.to_owned(),
                state,
            });
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let from = current_state(&tx, id)?;
        if from.is_finished() {
            return Err(Error::InvalidTransition {
                id: id.to_owned(),
                from,
                to: state,
            });
        }
        tx.execute(
            "UPDATE jobs SET state = :state, finished_at = :at, error = :error, result = :result
             WHERE id = :id",
            named_params! {
                ":state": state,
                ":at": at,
                ":error": error,
                ":result": result.map(Json),
                ":id": id,
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    fn append_event(&self, id: &str, at: &str, event: &serde_json::Value) -> Result<u64> {
        let mut conn = self.conn();
        // IMMEDIATE: the write lock is taken before the last seq is read, so a writer on
        // another connection cannot read the same one.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<u64> = tx
            .query_row(
                "SELECT (SELECT MAX(seq) FROM events WHERE job_id = :id) FROM jobs WHERE id = :id",
                named_params! { ":id": id },
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound { id: id.to_owned() })?;
        let seq = last.unwrap_or(0) + 1;
        tx.execute(
            "INSERT INTO events (job_id, seq, at, event) VALUES (:id, :seq, :at, :event)",
            named_params! { ":id": id, ":seq": seq, ":at": at, ":event": Json(event) },
        )?;
        tx.commit()?;
        Ok(seq)
    }

    fn events_after(&self, id: &str, after_seq: u64) -> Result<Vec<StoredEvent>> {
        let mut conn = self.conn();
        // One read transaction: the job's existence and its events are of one moment.
        let tx = conn.transaction()?;
        current_state(&tx, id)?;
        let mut statement = tx.prepare(
            "SELECT seq, at, event FROM events WHERE job_id = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let events = statement
            .query_map((id, sql_int(after_seq)), |row| {
                Ok(StoredEvent {
                    seq: row.get("seq")?,
                    at: row.get("at")?,
                    event: row.get::<_, Json<_>>("event")?.0,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(events)
    }

    fn interrupt_unfinished(&self, at: &str, reason: &str) -> Result<Vec<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids = tx
            .prepare(&format!(
                "SELECT id FROM jobs WHERE {UNFINISHED} ORDER BY created_at, id"
            ))?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        tx.execute(
            &format!(
                "UPDATE jobs SET state = :state, finished_at = :at, error = :reason
                 WHERE {UNFINISHED}"
            ),
            named_params! { ":state": JobState::Interrupted, ":at": at, ":reason": reason },
        )?;
        tx.commit()?;
        Ok(ids)
    }

    fn counts(&self) -> Result<StateCounts> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
        let mut counts = StateCounts(JobState::ALL.into_iter().map(|s| (s, 0)).collect());
        for row in statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))? {
            let (state, count): (JobState, u64) = row?;
            counts.0.insert(state, count);
        }
        Ok(counts)
    }
}

/// The job's state, or [`Error::NotFound`].
fn current_state(conn: &Connection, id: &str) -> Result<JobState> {
    conn.query_row("SELECT state FROM jobs WHERE id = ?1", [id], |row| {
        row.get(0)
    })
    .optional()?
    .ok_or_else(|| Error::NotFound { id: id.to_owned() })
}

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<JobRecord> {
    Ok(JobRecord {
        id: row.get("id")?,
        created_at: row.get("created_at")?,
        started_by: row.get("started_by")?,
        server: row.get("server")?,
        cluster: row.get("cluster")?,
        repository: row.get("repository")?,
        branch: row.get("branch")?,
        path: row.get("path")?,
        namespace: row.get("namespace")?,
        dry_run: row.get("dry_run")?,
        request: row.get::<_, Json<_>>("request")?.0,
        rerun_of: row.get("rerun_of")?,
        state: row.get("state")?,
        started_at: row.get("started_at")?,
        finished_at: row.get("finished_at")?,
        error: row.get("error")?,
        result: row.get::<_, Option<Json<_>>>("result")?.map(|json| json.0),
    })
}

fn is_primary_key_clash(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// A paging number as SQLite's signed integer: past `i64::MAX` no row exists anyway.
fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A JSON value kept as text. rusqlite's own JSON binding stores bare numbers as integers and
/// `null` as NULL, which a TEXT column of a STRICT table refuses or a reader mistakes for "no
/// value"; text keeps every value as written.
struct Json<T>(T);

impl<T: Serialize> ToSql for Json<T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        serde_json::to_string(&self.0)
            .map(ToSqlOutput::from)
            .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
    }
}

impl FromSql for Json<serde_json::Value> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?)
            .map(Json)
            .map_err(|error| FromSqlError::Other(Box::new(error)))
    }
}

impl ToSql for JobState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for JobState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|error: Error| FromSqlError::Other(Box::new(error)))
    }
}
