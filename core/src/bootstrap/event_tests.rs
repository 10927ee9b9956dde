//! Tests of [`super`].

use super::*;

#[test]
fn lines_are_fluxs() {
    // spec §2.10, the reference transcript.
    let url = "https://bitbucket.example.com/scm/PRJ/fleet-infra.git".to_string();
    let lines = [
        (
            Event::Connecting {
                domain: "bitbucket.example.com".into(),
            },
            "► connecting to bitbucket.example.com",
        ),
        (
            Event::RepositoryCreated {
                url: "https://bitbucket.example.com/my-project/fleet-infra".into(),
            },
            "✔ repository \"https://bitbucket.example.com/my-project/fleet-infra\" created",
        ),
        (
            Event::Cloning {
                branch: "main".into(),
                url: url.clone(),
            },
            "► cloning branch \"main\" from Git repository \"https://bitbucket.example.com/scm/PRJ/fleet-infra.git\"",
        ),
        (Event::Cloned, "✔ cloned repository"),
        (
            Event::Generating {
                subject: Subject::Components,
            },
            "► generating component manifests",
        ),
        (
            Event::Committed {
                subject: Subject::Components,
                branch: "main".into(),
                commit: "abc".into(),
            },
            "✔ committed component manifests to \"main\" (\"abc\")",
        ),
        (
            Event::Pushing {
                subject: Subject::Sync,
                url,
            },
            "► pushing sync manifests to \"https://bitbucket.example.com/scm/PRJ/fleet-infra.git\"",
        ),
        (
            Event::InstallingComponents {
                namespace: "flux-system".into(),
            },
            "► installing components in \"flux-system\" namespace",
        ),
        (
            Event::DeterminingSecret {
                namespace: "flux-system".into(),
                name: "flux-system".into(),
            },
            "► determining if source secret \"flux-system/flux-system\" exists",
        ),
        (
            Event::PublicKey {
                key: "ecdsa-sha2-nistp384 AAAA\n".into(),
            },
            "✔ public key: ecdsa-sha2-nistp384 AAAA",
        ),
        (
            Event::DeployKeyConfigured {
                label: "flux-system-main-flux-system-./clusters/my-cluster".into(),
                url: "https://bitbucket.example.com/my-project/fleet-infra".into(),
            },
            "✔ configured deploy key \"flux-system-main-flux-system-./clusters/my-cluster\" for \"https://bitbucket.example.com/my-project/fleet-infra\"",
        ),
        (
            Event::WaitingFor {
                kind: "GitRepository".into(),
                namespace: "flux-system".into(),
                name: "flux-system".into(),
            },
            "◎ waiting for GitRepository \"flux-system/flux-system\" to be reconciled",
        ),
        (
            Event::Reconciled {
                kind: "Kustomization".into(),
            },
            "✔ Kustomization reconciled successfully",
        ),
        (
            Event::Component {
                name: "helm-controller".into(),
                state: ComponentState::Ready,
            },
            "✔ helm-controller: deployment ready",
        ),
        (
            Event::Component {
                name: "x".into(),
                state: ComponentState::NotFound,
            },
            "✗ x: deployment not found",
        ),
        (
            Event::CloneFailed {
                reason: "timeout".into(),
            },
            "⚠️  clone failure: timeout",
        ),
        (Event::ComponentsHealthy, "✔ all components are healthy"),
    ];
    for (event, line) in lines {
        assert_eq!(event.to_string(), line);
    }
}

#[test]
fn events_are_data_with_stable_names() {
    let event = Event::Committed {
        subject: Subject::Sync,
        branch: "main".into(),
        commit: "abc".into(),
    };
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"event": "committed", "subject": "sync", "branch": "main", "commit": "abc"})
    );
    assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    assert_eq!(event.step(), Step::Sync);
    let ready = Event::ReleaseReady {
        version: "v2.9.4".into(),
        origin: ReleaseOrigin::Cache,
    };
    let json = serde_json::to_value(&ready).unwrap();
    assert_eq!(json["from"], "cache");
    assert_eq!(serde_json::from_value::<Event>(json).unwrap(), ready);
}
