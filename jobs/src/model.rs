//! The values a job store keeps and hands back. Times are RFC 3339 UTC strings chosen by the
//! caller, so the store never reads a clock and tests decide every timestamp.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Where a job is in its life. Serialized as the lowercase word [`as_str`](Self::as_str) gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Accepted, not yet picked up.
    Queued,
    /// Being carried out.
    Running,
    /// Ended without error.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Was queued or running when its process stopped; it will not go on.
    Interrupted,
}

impl JobState {
    /// Every state, in life order (the order [`StateCounts`] lists them in).
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Interrupted,
    ];

    /// The lowercase word for the state, as stored and as serialized.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }

    /// Whether the job has ended (succeeded, failed or interrupted) and will change no more.
    pub const fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Interrupted)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| Error::UnknownState {
                state: s.to_owned(),
            })
    }
}

/// What the server records when it accepts a job. The caller has already removed tokens and
/// private keys from `request`: the store never sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Chosen by the caller: random and URL-safe.
    pub id: String,
    /// RFC 3339 UTC, in one fixed format for every job (e.g. `2025-01-31T12:00:00.000Z`), so
    /// that text order is time order.
    pub created_at: String,
    /// The Bitbucket user slug of whoever started the job.
    pub started_by: String,
    /// The configured Bitbucket server's name.
    pub server: String,
    /// The configured cluster's name.
    pub cluster: String,
    /// `PROJECT/slug` or `~user/slug`.
    pub repository: String,
    /// The branch flux is bootstrapped on.
    pub branch: String,
    /// The path in the repository.
    pub path: String,
    /// The namespace flux is installed in.
    pub namespace: String,
    /// Whether the job only plans.
    pub dry_run: bool,
    /// The request body as accepted, secrets already removed.
    pub request: serde_json::Value,
    /// The job this one re-runs, if any.
    pub rerun_of: Option<String>,
}

/// A job as stored: what it was started with, where it is, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    /// See [`NewJob::id`].
    pub id: String,
    /// See [`NewJob::created_at`].
    pub created_at: String,
    /// See [`NewJob::started_by`].
    pub started_by: String,
    /// See [`NewJob::server`].
    pub server: String,
    /// See [`NewJob::cluster`].
    pub cluster: String,
    /// See [`NewJob::repository`].
    pub repository: String,
    /// See [`NewJob::branch`].
    pub branch: String,
    /// See [`NewJob::path`].
    pub path: String,
    /// See [`NewJob::namespace`].
    pub namespace: String,
    /// See [`NewJob::dry_run`].
    pub dry_run: bool,
    /// See [`NewJob::request`].
    pub request: serde_json::Value,
    /// See [`NewJob::rerun_of`].
    pub rerun_of: Option<String>,
    /// Where the job is now.
    pub state: JobState,
    /// When it went from queued to running.
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
    /// The failure message, when failed or interrupted.
    pub error: Option<String>,
    /// What the job produced (commits, URLs, plan…): opaque to the store.
    pub result: Option<serde_json::Value>,
}

impl JobRecord {
    /// The record of a job just accepted: queued, nothing happened yet.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))] // only stores build records
    pub(crate) fn queued(job: &NewJob) -> Self {
        Self {
            id: job.id.clone(),
            created_at: job.created_at.clone(),
            started_by: job.started_by.clone(),
            server: job.server.clone(),
            cluster: job.cluster.clone(),
            repository: job.repository.clone(),
            branch: job.branch.clone(),
            path: job.path.clone(),
            namespace: job.namespace.clone(),
            dry_run: job.dry_run,
            request: job.request.clone(),
            rerun_of: job.rerun_of.clone(),
            state: JobState::Queued,
            started_at: None,
            finished_at: None,
            error: None,
            result: None,
        }
    }
}

/// One progress event of a job, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    /// 1 for a job's first event, then one more for each: an SSE client that saw `seq` resumes
    /// (Last-Event-ID) with exactly the events after it.
    pub seq: u64,
    /// When the event happened, RFC 3339 UTC.
    pub at: String,
    /// The event itself: opaque to the store.
    pub event: serde_json::Value,
}

/// Which jobs [`list`](crate::JobStore::list) returns, and which page of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs for this cluster.
    pub cluster: Option<String>,
    /// Only jobs for this repository (`PROJECT/slug` or `~user/slug`).
    pub repository: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// How many matching jobs to skip (newest first).
    pub start: u64,
    /// How many jobs a page holds at most: from 1 to [`JobFilter::MAX_LIMIT`]; a value outside
    /// is brought inside, and the page reports the limit applied.
    pub limit: u64,
}

impl JobFilter {
    /// The page size when none is asked for.
    pub const DEFAULT_LIMIT: u64 = 25;
    /// The largest page, so one request cannot make the store read the whole history.
    pub const MAX_LIMIT: u64 = 1000;
}

impl Default for JobFilter {
    fn default() -> Self {
        Self {
            cluster: None,
            repository: None,
            state: None,
            start: 0,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// One page of jobs, newest first (by `created_at`, then by `id`, both descending), paged as
/// Bitbucket pages its REST answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobPage {
    /// The jobs on this page.
    pub values: Vec<JobRecord>,
    /// How many jobs are on this page.
    pub size: u64,
    /// The filter's `start`.
    pub start: u64,
    /// The page size applied.
    pub limit: u64,
    /// Whether no job matches after this page.
    pub is_last_page: bool,
    /// The `start` of the next page, unless this is the last.
    pub next_page_start: Option<u64>,
}

/// How many jobs are in each state. Every state is present, with 0 where no job is, so each
/// Prometheus gauge is reported even when it is zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateCounts(pub BTreeMap<JobState, u64>);

impl StateCounts {
    /// The count for one state.
    pub fn get(&self, state: JobState) -> u64 {
        self.0.get(&state).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_words_round_trip_through_from_str_and_serde() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>().ok(), Some(state));
            let json = serde_json::to_value(state).ok();
            assert_eq!(json, Some(serde_json::json!(state.as_str())));
        }
    }

    #[test]
    fn an_unknown_state_word_is_refused_with_the_word() {
        let error = "Running".parse::<JobState>().err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "unknown job state \"Running\": expected queued, running, succeeded, failed or \
                 interrupted"
            )
        );
    }

    #[test]
    fn only_succeeded_failed_and_interrupted_are_finished() {
        let finished: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|state| state.is_finished())
            .collect();
        assert_eq!(
            finished,
            [JobState::Succeeded, JobState::Failed, JobState::Interrupted]
        );
    }

    #[test]
    fn the_default_filter_takes_the_first_25_of_everything() {
        let filter = JobFilter::default();
        assert_eq!((filter.start, filter.limit), (0, 25));
        assert_eq!(
            (filter.cluster, filter.repository, filter.state),
            (None, None, None)
        );
    }

    #[test]
    fn a_page_serializes_in_camel_case() {
        let page = JobPage {
            values: Vec::new(),
            size: 0,
            start: 0,
            limit: 25,
            is_last_page: true,
            next_page_start: None,
        };
        let json = serde_json::to_value(&page).ok();
        assert_eq!(
            json,
            Some(serde_json::json!({
                "values": [], "size": 0, "start": 0, "limit": 25,
                "isLastPage": true, "nextPageStart": null
            }))
        );
    }
}
