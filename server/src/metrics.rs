//! `GET /metrics` in Prometheus' text format: jobs by state (read from the store at scrape
//! time, so every replica sharing a store reports the same), job and step durations, and relay
//! requests by relay and status.

use std::sync::Mutex;
use std::time::Duration;

use fluxstrap_core::bootstrap::Step;
use fluxstrap_jobs::{JobState, StateCounts};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabel {
    step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RelayLabel {
    relay: String,
    status: String,
}

/// Which relay answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    /// `/api/bitbucket/…` (REST).
    Rest,
    /// `/api/git/…` (upload-pack).
    Git,
}

impl Relay {
    fn as_str(self) -> &'static str {
        match self {
            Relay::Rest => "rest",
            Relay::Git => "git",
        }
    }
}

fn duration_buckets() -> Histogram {
    // 0.1 s … ~27 min.
    Histogram::new(exponential_buckets(0.1, 2.0, 15))
}

pub struct Metrics {
    registry: Mutex<Registry>,
    jobs: Family<StateLabel, Gauge>,
    job_seconds: Family<StateLabel, Histogram>,
    step_seconds: Family<StepLabel, Histogram>,
    relay_requests: Family<RelayLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fluxstrap");
        let jobs = Family::<StateLabel, Gauge>::default();
        let job_seconds =
            Family::<StateLabel, Histogram>::new_with_constructor(duration_buckets as fn() -> _);
        let step_seconds =
            Family::<StepLabel, Histogram>::new_with_constructor(duration_buckets as fn() -> _);
        let relay_requests = Family::<RelayLabel, Counter>::default();
        registry.register("jobs", "Bootstrap jobs by state", jobs.clone());
        registry.register(
            "job_duration_seconds",
            "How long finished bootstrap jobs ran, by final state",
            job_seconds.clone(),
        );
        registry.register(
            "step_duration_seconds",
            "How long each bootstrap step took",
            step_seconds.clone(),
        );
        registry.register(
            "relay_requests",
            "Requests through the Bitbucket relays, by relay and answer status",
            relay_requests.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            jobs,
            job_seconds,
            step_seconds,
            relay_requests,
        }
    }
}

impl Metrics {
    pub fn job_finished(&self, state: JobState, took: Duration) {
        self.job_seconds
            .get_or_create(&StateLabel {
                state: state.as_str().to_string(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn step_finished(&self, step: Step, took: Duration) {
        let step = serde_json::to_value(step)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.step_seconds
            .get_or_create(&StepLabel { step })
            .observe(took.as_secs_f64());
    }

    pub fn relayed(&self, relay: Relay, status: u16) {
        self.relay_requests
            .get_or_create(&RelayLabel {
                relay: relay.as_str().to_string(),
                status: status.to_string(),
            })
            .inc();
    }

    /// The text exposition, with the job gauges set from `counts`.
    pub fn render(&self, counts: &StateCounts) -> String {
        for state in JobState::ALL {
            self.jobs
                .get_or_create(&StateLabel {
                    state: state.as_str().to_string(),
                })
                .set(i64::try_from(counts.get(state)).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        let registry = self.registry.lock().expect("registry lock");
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_every_state_and_what_was_observed() {
        let metrics = Metrics::default();
        metrics.job_finished(JobState::Succeeded, Duration::from_secs(3));
        metrics.step_finished(Step::Sync, Duration::from_millis(500));
        metrics.relayed(Relay::Rest, 200);
        let counts = StateCounts(
            JobState::ALL
                .into_iter()
                .map(|s| (s, u64::from(s == JobState::Succeeded)))
                .collect(),
        );
        let text = metrics.render(&counts);
        assert!(
            text.contains("fluxstrap_jobs{state=\"succeeded\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("fluxstrap_jobs{state=\"queued\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("fluxstrap_job_duration_seconds_count{state=\"succeeded\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("fluxstrap_step_duration_seconds_sum{step=\"sync\"} 0.5"),
            "{text}"
        );
        assert!(
            text.contains("fluxstrap_relay_requests_total{relay=\"rest\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
