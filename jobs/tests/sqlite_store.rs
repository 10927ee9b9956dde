//! `SqliteStore` against real database files in temporary directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;

use fluxstrap_jobs::{
    Error, JobFilter, JobState, JobStore, NewJob, SqliteStore, StateCounts, StoredEvent,
};
use serde_json::json;
use tempfile::TempDir;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A fresh store in its own directory; the directory lives as long as the returned guard.
fn fresh_store() -> (TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("jobs.db");
    let store = SqliteStore::open(&path).expect("open a new store");
    (dir, path, store)
}

/// The `n`-th second of one day, in the fixed RFC 3339 format the server writes.
fn at(n: u32) -> String {
    format!(
        "2025-03-01T{:02}:{:02}:{:02}.000Z",
        n / 3600,
        n / 60 % 60,
        n % 60
    )
}

fn job(id: &str, created: u32) -> NewJob {
    NewJob {
        id: id.to_owned(),
        created_at: at(created),
        started_by: "alice".to_owned(),
        server: "main".to_owned(),
        cluster: "prod".to_owned(),
        repository: "PLAT/fleet".to_owned(),
        branch: "main".to_owned(),
        path: "clusters/prod".to_owned(),
        namespace: "flux-system".to_owned(),
        dry_run: false,
        request: json!({ "cluster": "prod", "repository": "PLAT/fleet" }),
        rerun_of: None,
    }
}

fn ids(store: &SqliteStore, filter: &JobFilter) -> Vec<String> {
    let page = store.list(filter).expect("list");
    page.values.into_iter().map(|job| job.id).collect()
}

#[test]
fn a_created_job_reads_back_with_every_field() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    let new = NewJob {
        id: "j-Abc_123".to_owned(),
        created_at: at(10),
        started_by: "bob".to_owned(),
        server: "onprem".to_owned(),
        cluster: "staging".to_owned(),
        repository: "~bob/sandbox".to_owned(),
        branch: "flux".to_owned(),
        path: "clusters/staging".to_owned(),
        namespace: "gitops".to_owned(),
        dry_run: true,
        request: json!({ "components": ["source-controller"], "interval": "1m", "n": 3 }),
        rerun_of: Some("j-older".to_owned()),
    };
    let created = store.create(&new)?;
    assert_eq!(created.state, JobState::Queued);
    assert_eq!(
        (
            &created.started_at,
            &created.finished_at,
            &created.error,
            &created.result
        ),
        (&None, &None, &None, &None)
    );

    let read = store.get("j-Abc_123")?.ok_or("job missing")?;
    assert_eq!(read, created);
    assert_eq!(read.id, new.id);
    assert_eq!(read.created_at, new.created_at);
    assert_eq!(read.started_by, "bob");
    assert_eq!(read.server, "onprem");
    assert_eq!(read.cluster, "staging");
    assert_eq!(read.repository, "~bob/sandbox");
    assert_eq!(read.branch, "flux");
    assert_eq!(read.path, "clusters/staging");
    assert_eq!(read.namespace, "gitops");
    assert!(read.dry_run);
    assert_eq!(read.request, new.request);
    assert_eq!(read.rerun_of.as_deref(), Some("j-older"));
    Ok(())
}

#[test]
fn an_unknown_id_reads_as_none() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    store.create(&job("a", 1))?;
    assert_eq!(store.get("b")?, None);
    Ok(())
}

#[test]
fn a_taken_id_is_refused_as_duplicate_and_the_first_job_stays() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    store.create(&job("same", 1))?;
    let mut other = job("same", 2);
    other.cluster = "other".to_owned();

    let error = store.create(&other).err().ok_or("duplicate accepted")?;
    assert!(
        matches!(&error, Error::Duplicate { id } if id == "same"),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "a job with id \"same\" already exists");
    assert_eq!(store.get("same")?.ok_or("job missing")?.cluster, "prod");
    Ok(())
}

#[test]
fn json_values_come_back_as_written_even_bare_null_and_numbers() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    let mut new = job("j", 1);
    new.request = json!(null);
    store.create(&new)?;
    store.finish("j", JobState::Succeeded, &at(2), None, Some(&json!(42)))?;
    store.append_event("j", &at(2), &json!("text"))?;
    store.append_event("j", &at(2), &json!(null))?;

    let read = store.get("j")?.ok_or("job missing")?;
    assert_eq!(read.request, json!(null));
    assert_eq!(read.result, Some(json!(42)));
    let events: Vec<_> = store
        .events_after("j", 0)?
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events, [json!("text"), json!(null)]);
    Ok(())
}

#[test]
fn list_filters_by_cluster_repository_and_state() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    let specs = [
        ("p1", "prod", "PLAT/fleet"),
        ("p2", "prod", "~alice/lab"),
        ("s1", "staging", "PLAT/fleet"),
        ("s2", "staging", "~alice/lab"),
    ];
    for (n, (id, cluster, repository)) in (1..).zip(specs) {
        let mut new = job(id, n);
        new.cluster = cluster.to_owned();
        new.repository = repository.to_owned();
        store.create(&new)?;
    }
    store.start("p1", &at(10))?;
    store.start("s2", &at(10))?;

    let by = |cluster: Option<&str>, repository: Option<&str>, state: Option<JobState>| {
        let filter = JobFilter {
            cluster: cluster.map(str::to_owned),
            repository: repository.map(str::to_owned),
            state,
            ..JobFilter::default()
        };
        ids(&store, &filter)
    };
    assert_eq!(by(None, None, None), ["s2", "s1", "p2", "p1"]);
    assert_eq!(by(Some("prod"), None, None), ["p2", "p1"]);
    assert_eq!(by(None, Some("PLAT/fleet"), None), ["s1", "p1"]);
    assert_eq!(by(None, None, Some(JobState::Running)), ["s2", "p1"]);
    assert_eq!(by(Some("staging"), Some("~alice/lab"), None), ["s2"]);
    assert_eq!(
        by(Some("prod"), Some("~alice/lab"), Some(JobState::Queued)),
        ["p2"]
    );
    assert!(by(Some("dev"), None, None).is_empty());
    assert!(by(None, None, Some(JobState::Failed)).is_empty());
    Ok(())
}

#[test]
fn list_is_newest_first_and_breaks_ties_by_id_descending() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    // Created out of order, two sharing one timestamp.
    store.create(&job("middle", 20))?;
    store.create(&job("oldest", 10))?;
    store.create(&job("tie-a", 30))?;
    store.create(&job("tie-b", 30))?;
    assert_eq!(
        ids(&store, &JobFilter::default()),
        ["tie-b", "tie-a", "middle", "oldest"]
    );
    Ok(())
}

#[test]
fn list_pages_through_thirty_jobs() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    for n in 0..30 {
        store.create(&job(&format!("job-{n:02}"), n))?;
    }
    let newest_first: Vec<String> = (0..30).rev().map(|n| format!("job-{n:02}")).collect();

    let first = store.list(&JobFilter::default())?;
    assert_eq!((first.size, first.start, first.limit), (25, 0, 25));
    assert!(!first.is_last_page);
    assert_eq!(first.next_page_start, Some(25));
    let second = store.list(&JobFilter {
        start: 25,
        ..JobFilter::default()
    })?;
    assert_eq!((second.size, second.start, second.limit), (5, 25, 25));
    assert!(second.is_last_page);
    assert_eq!(second.next_page_start, None);

    let walked: Vec<String> = first
        .values
        .into_iter()
        .chain(second.values)
        .map(|job| job.id)
        .collect();
    assert_eq!(walked, newest_first);

    // A page that ends exactly at the last job is the last page.
    let exact = store.list(&JobFilter {
        start: 20,
        limit: 10,
        ..JobFilter::default()
    })?;
    assert_eq!(exact.size, 10);
    assert!(exact.is_last_page);
    assert_eq!(exact.next_page_start, None);

    let past_the_end = store.list(&JobFilter {
        start: 40,
        ..JobFilter::default()
    })?;
    assert_eq!(past_the_end.size, 0);
    assert!(past_the_end.values.is_empty());
    assert!(past_the_end.is_last_page);
    Ok(())
}

#[test]
fn list_brings_the_limit_within_one_to_the_maximum() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    store.create(&job("a", 1))?;
    store.create(&job("b", 2))?;

    let zero = store.list(&JobFilter {
        limit: 0,
        ..JobFilter::default()
    })?;
    assert_eq!(
        (zero.limit, zero.size, zero.next_page_start),
        (1, 1, Some(1))
    );
    let huge = store.list(&JobFilter {
        limit: u64::MAX,
        start: u64::MAX,
        ..JobFilter::default()
    })?;
    assert_eq!(huge.limit, JobFilter::MAX_LIMIT);
    assert!(huge.values.is_empty() && huge.is_last_page);
    Ok(())
}

#[test]
fn events_are_numbered_from_one_per_job_and_resume_after_any_seq() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    store.create(&job("a", 1))?;
    store.create(&job("b", 2))?;
    let mut seqs = Vec::new();
    for n in 0..10 {
        seqs.push(store.append_event("a", &at(n), &json!({ "step": n }))?);
        if n % 3 == 0 {
            store.append_event("b", &at(n), &json!({ "other": n }))?;
        }
    }
    assert_eq!(seqs, (1..=10).collect::<Vec<u64>>());

    let all = store.events_after("a", 0)?;
    assert_eq!(all.len(), 10);
    assert_eq!(
        all[3],
        StoredEvent {
            seq: 4,
            at: at(3),
            event: json!({ "step": 3 })
        }
    );
    for k in 0..=10 {
        let rest: Vec<u64> = store.events_after("a", k)?.iter().map(|e| e.seq).collect();
        assert_eq!(rest, (k + 1..=10).collect::<Vec<u64>>(), "after {k}");
    }
    assert!(store.events_after("a", u64::MAX)?.is_empty());
    let b: Vec<u64> = store.events_after("b", 0)?.iter().map(|e| e.seq).collect();
    assert_eq!(b, [1, 2, 3, 4]);
    Ok(())
}

#[test]
fn events_of_an_unknown_job_are_refused_as_not_found() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    let append = store.append_event("ghost", &at(1), &json!({})).err();
    assert!(matches!(append, Some(Error::NotFound { id }) if id == "ghost"));
    let read = store.events_after("ghost", 0).err();
    assert!(matches!(read, Some(Error::NotFound { id }) if id == "ghost"));
    Ok(())
}

/// Every thread's seqs rise, and together they are exactly 1..=total.
fn assert_consecutive(per_thread: Vec<Vec<u64>>, total: u64) {
    for seqs in &per_thread {
        assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{seqs:?}");
    }
    let mut all: Vec<u64> = per_thread.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (1..=total).collect::<Vec<u64>>());
}

#[test]
fn two_threads_appending_to_one_job_get_distinct_consecutive_seqs() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    store.create(&job("busy", 1))?;
    let store = Arc::new(store);
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                (0..100)
                    .map(|n| {
                        let event = json!({ "writer": writer, "n": n });
                        store.append_event("busy", &at(n), &event).expect("append")
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let per_thread = writers
        .into_iter()
        .map(|writer| writer.join().expect("writer thread"))
        .collect();
    assert_consecutive(per_thread, 200);
    let stored: Vec<u64> = store
        .events_after("busy", 0)?
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(stored, (1..=200).collect::<Vec<u64>>());
    Ok(())
}

#[test]
fn two_stores_on_one_file_append_without_clashing_as_two_processes_would() -> TestResult {
    let (_dir, path, first) = fresh_store();
    first.create(&job("shared", 1))?;
    let second = SqliteStore::open(&path)?;
    let writers: Vec<_> = [first, second]
        .into_iter()
        .map(|store| {
            thread::spawn(move || {
                (0..50)
                    .map(|n| {
                        store
                            .append_event("shared", &at(n), &json!(n))
                            .expect("append")
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let per_thread = writers
        .into_iter()
        .map(|writer| writer.join().expect("writer thread"))
        .collect();
    assert_consecutive(per_thread, 100);
    Ok(())
}

#[test]
fn a_job_starts_then_finishes_with_its_times_error_and_result() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    store.create(&job("ok", 1))?;
    store.create(&job("bad", 2))?;

    store.start("ok", &at(5))?;
    let running = store.get("ok")?.ok_or("job missing")?;
    assert_eq!(running.state, JobState::Running);
    assert_eq!(running.started_at, Some(at(5)));
    assert_eq!(running.finished_at, None);

    let result = json!({ "commits": ["abc123"], "url": "https://bitbucket.example/x" });
    store.finish("ok", JobState::Succeeded, &at(9), None, Some(&result))?;
    let done = store.get("ok")?.ok_or("job missing")?;
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(
        (done.started_at, done.finished_at, done.error, done.result),
        (Some(at(5)), Some(at(9)), None, Some(result))
    );

    // A job can fail before it ever runs (e.g. its repository vanished while it queued).
    store.finish(
        "bad",
        JobState::Failed,
        &at(3),
        Some("repository not found"),
        None,
    )?;
    let failed = store.get("bad")?.ok_or("job missing")?;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.started_at, None);
    assert_eq!(failed.finished_at, Some(at(3)));
    assert_eq!(failed.error.as_deref(), Some("repository not found"));
    Ok(())
}

#[test]
fn starting_a_job_that_is_not_queued_is_refused() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    store.create(&job("j", 1))?;
    store.start("j", &at(2))?;

    let again = store
        .start("j", &at(3))
        .err()
        .ok_or("second start accepted")?;
    assert!(
        matches!(
            &again,
            Error::InvalidTransition { id, from: JobState::Running, to: JobState::Running }
                if id == "j"
        ),
        "{again:?}"
    );
    assert_eq!(
        again.to_string(),
        "job \"j\" is running and cannot become running"
    );
    assert_eq!(
        store.get("j")?.ok_or("job missing")?.started_at,
        Some(at(2))
    );

    store.finish("j", JobState::Failed, &at(4), Some("boom"), None)?;
    let after_finish = store.start("j", &at(5)).err();
    assert!(matches!(
        after_finish,
        Some(Error::InvalidTransition {
            from: JobState::Failed,
            ..
        })
    ));
    Ok(())
}

#[test]
fn finishing_as_queued_or_running_is_refused_and_changes_nothing() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    let created = store.create(&job("j", 1))?;
    for state in [JobState::Queued, JobState::Running] {
        let error = store.finish("j", state, &at(2), None, None).err();
        assert!(
            matches!(&error, Some(Error::NotAFinishedState { id, state: s }) if id == "j" && *s == state),
            "{error:?}"
        );
    }
    assert_eq!(store.get("j")?, Some(created));
    Ok(())
}

#[test]
fn finishing_a_finished_job_is_refused_and_keeps_the_first_outcome() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    store.create(&job("j", 1))?;
    store.start("j", &at(2))?;
    store.finish(
        "j",
        JobState::Succeeded,
        &at(3),
        None,
        Some(&json!({ "ok": true })),
    )?;

    for state in [JobState::Failed, JobState::Interrupted, JobState::Succeeded] {
        let error = store.finish("j", state, &at(4), Some("late"), None).err();
        assert!(
            matches!(
                &error,
                Some(Error::InvalidTransition { from: JobState::Succeeded, to, .. }) if *to == state
            ),
            "{error:?}"
        );
    }
    let job = store.get("j")?.ok_or("job missing")?;
    assert_eq!(
        (job.state, job.finished_at, job.error, job.result),
        (
            JobState::Succeeded,
            Some(at(3)),
            None,
            Some(json!({ "ok": true }))
        )
    );
    Ok(())
}

#[test]
fn transitions_of_an_unknown_job_are_refused_as_not_found() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    let start = store.start("ghost", &at(1)).err();
    assert!(matches!(start, Some(Error::NotFound { id }) if id == "ghost"));
    let finish = store
        .finish("ghost", JobState::Failed, &at(1), None, None)
        .err();
    assert!(matches!(finish, Some(Error::NotFound { id }) if id == "ghost"));
    Ok(())
}

#[test]
fn reopening_the_file_keeps_jobs_states_and_events() -> TestResult {
    let (_dir, path, store) = fresh_store();
    store.create(&job("done", 1))?;
    store.create(&job("live", 2))?;
    store.start("done", &at(3))?;
    store.append_event("done", &at(4), &json!({ "phase": "push" }))?;
    store.append_event("done", &at(5), &json!({ "phase": "reconcile" }))?;
    store.finish(
        "done",
        JobState::Succeeded,
        &at(6),
        None,
        Some(&json!({ "c": 1 })),
    )?;
    let before = (
        store.get("done")?,
        store.get("live")?,
        store.events_after("done", 0)?,
    );
    drop(store);

    let reopened = SqliteStore::open(&path)?;
    let after = (
        reopened.get("done")?,
        reopened.get("live")?,
        reopened.events_after("done", 0)?,
    );
    assert_eq!(after, before);
    assert_eq!(after.2.len(), 2);
    // Numbering goes on where it stopped.
    assert_eq!(reopened.append_event("done", &at(7), &json!({}))?, 3);
    Ok(())
}

#[test]
fn interrupt_unfinished_marks_only_queued_and_running_jobs() -> TestResult {
    let (_dir, path, store) = fresh_store();
    for (n, id) in (1..).zip(["queued", "running", "succeeded", "failed", "interrupted"]) {
        store.create(&job(id, n))?;
    }
    store.start("running", &at(10))?;
    store.finish("succeeded", JobState::Succeeded, &at(11), None, None)?;
    store.finish("failed", JobState::Failed, &at(11), Some("boom"), None)?;
    store.finish(
        "interrupted",
        JobState::Interrupted,
        &at(11),
        Some("earlier"),
        None,
    )?;
    drop(store);

    // As at start-up after a killed process.
    let store = SqliteStore::open(&path)?;
    let reason = "fluxstrap serve stopped while the job was unfinished";
    assert_eq!(
        store.interrupt_unfinished(&at(20), reason)?,
        ["queued", "running"]
    );

    for id in ["queued", "running"] {
        let job = store.get(id)?.ok_or("job missing")?;
        assert_eq!(job.state, JobState::Interrupted, "{id}");
        assert_eq!(job.finished_at, Some(at(20)), "{id}");
        assert_eq!(job.error.as_deref(), Some(reason), "{id}");
    }
    let failed = store.get("failed")?.ok_or("job missing")?;
    assert_eq!(
        (failed.error.as_deref(), failed.finished_at),
        (Some("boom"), Some(at(11)))
    );
    let earlier = store.get("interrupted")?.ok_or("job missing")?;
    assert_eq!(earlier.error.as_deref(), Some("earlier"));
    assert_eq!(
        store.get("succeeded")?.ok_or("job missing")?.state,
        JobState::Succeeded
    );

    assert!(store.interrupt_unfinished(&at(30), reason)?.is_empty());
    Ok(())
}

#[test]
fn counts_list_every_state_with_zeros() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    let zeros: BTreeMap<JobState, u64> = JobState::ALL.into_iter().map(|s| (s, 0)).collect();
    assert_eq!(store.counts()?, StateCounts(zeros));

    for n in 0..4 {
        store.create(&job(&format!("j{n}"), n))?;
    }
    store.start("j0", &at(10))?;
    store.start("j1", &at(10))?;
    store.finish("j1", JobState::Failed, &at(11), Some("boom"), None)?;
    let counts = store.counts()?;
    assert_eq!(counts.0.len(), 5);
    let by_state: Vec<(JobState, u64)> = counts.0.into_iter().collect();
    assert_eq!(
        by_state,
        [
            (JobState::Queued, 2),
            (JobState::Running, 1),
            (JobState::Succeeded, 0),
            (JobState::Failed, 1),
            (JobState::Interrupted, 0),
        ]
    );
    Ok(())
}

fn user_version(path: &Path) -> rusqlite::Result<i64> {
    rusqlite::Connection::open(path)?.pragma_query_value(None, "user_version", |row| row.get(0))
}

#[test]
fn open_creates_missing_directories_and_a_wal_database_at_the_current_version() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state/fluxstrap/jobs.db");
    let store = SqliteStore::open(&path)?;
    store.create(&job("j", 1))?;
    assert!(path.is_file());
    assert_eq!(user_version(&path)?, 1);
    let mode: String =
        rusqlite::Connection::open(&path)?
            .pragma_query_value(None, "journal_mode", |row| row.get(0))?;
    assert_eq!(mode, "wal");
    Ok(())
}

#[test]
fn a_database_from_a_newer_fluxstrap_is_refused_naming_its_path() -> TestResult {
    let (_dir, path, store) = fresh_store();
    store.create(&job("j", 1))?;
    drop(store);
    rusqlite::Connection::open(&path)?.pragma_update(None, "user_version", 7)?;

    let error = SqliteStore::open(&path)
        .err()
        .ok_or("newer database accepted")?;
    assert!(
        matches!(&error, Error::Newer { path: p, found: 7, supported: 1 } if *p == path),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("schema version 7"), "{message}");
    // Refused, not touched.
    assert_eq!(user_version(&path)?, 7);
    Ok(())
}

#[test]
fn a_file_that_is_not_a_database_is_refused_naming_its_path() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("jobs.db");
    std::fs::write(
        &path,
        "not sqlite, just some text that is long enough to be a header......",
    )?;

    let error = SqliteStore::open(&path).err().ok_or("text file accepted")?;
    assert!(
        matches!(&error, Error::Open { path: p, .. } if *p == path),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot open the job database {}: ",
            path.display()
        )),
        "{message}"
    );
    Ok(())
}

#[test]
fn a_job_record_serializes_in_camel_case() -> TestResult {
    let (_dir, _path, store) = fresh_store();
    let mut new = job("j", 1);
    new.rerun_of = Some("i".to_owned());
    let record = store.create(&new)?;
    let json = serde_json::to_value(&record)?;
    assert_eq!(
        json,
        json!({
            "id": "j", "createdAt": at(1), "startedBy": "alice", "server": "main",
            "cluster": "prod", "repository": "PLAT/fleet", "branch": "main",
            "path": "clusters/prod", "namespace": "flux-system", "dryRun": false,
            "request": { "cluster": "prod", "repository": "PLAT/fleet" }, "rerunOf": "i",
            "state": "queued", "startedAt": null, "finishedAt": null, "error": null,
            "result": null
        })
    );
    Ok(())
}
