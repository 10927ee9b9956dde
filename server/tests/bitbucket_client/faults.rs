//! A failure at each step, followed by a good re-run.

use std::collections::BTreeMap;

use fluxstrap_core::bitbucket::{GroupGrant, ProjectKey, RETRY_DELAYS_MS, RepoName};
use fluxstrap_sandbox::bitbucket::{Fault, FaultAction};

use super::common::sandbox;

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_at_each_step_is_followed_by_a_good_rerun() {
    let s = sandbox("faults").await;
    let key = ProjectKey::parse("PLAT").unwrap();
    let grant = GroupGrant::parse("devs:push").unwrap();
    let label = "flux-system-main-flux-system";
    // The writes of a full run, each failing once on its first attempt.
    let steps: BTreeMap<&str, (&str, &str)> = BTreeMap::from([
        ("1 create", ("POST", "/projects/PLAT/repos")),
        ("2 grant", ("PUT", "/permissions/groups")),
        ("3 key", ("POST", "/ssh")),
    ]);
    let mut name = String::from("fleet");
    for (i, (step, (method, path))) in steps.iter().enumerate() {
        // A fresh repository per step, so the run reaches the failing write.
        name = format!("fleet{i}");
        // PUTs are retried (idempotent), so their fault must outlast the retries; POSTs are not.
        let attempts = if *method == "PUT" {
            1 + RETRY_DELAYS_MS.len()
        } else {
            1
        };
        for nth in 1..=attempts {
            s.bitbucket
                .inject(Fault {
                    method: Some(method.to_string()),
                    path_contains: path.to_string(),
                    nth,
                    action: FaultAction::ServerError,
                })
                .await;
        }
        let err = match s.full_run(&key, &name, &grant, label).await {
            Ok(outcome) => panic!("{step}: the injected failure did not happen ({outcome:?})"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains("500"), "{step}: {err}");
        // Reads retried through a 500 on the way, too: a GET fault is absorbed.
        s.bitbucket
            .inject(Fault {
                method: Some("GET".into()),
                path_contains: format!("/repos/{}", RepoName::parse(&name).unwrap().slug()),
                nth: 1,
                action: FaultAction::ServerError,
            })
            .await;
        s.full_run(&key, &name, &grant, label).await.unwrap();
    }
    // Everything is in place now: a last run writes nothing.
    let before = s.logged().await;
    s.full_run(&key, &name, &grant, label).await.unwrap();
    let writes = s.writes_since(before).await;
    assert!(writes.is_empty(), "{writes:?}");
    s.bitbucket.stop().await;
}
