//! Typed progress of the cluster steps, printed in flux's wording.

use std::fmt;

use fluxstrap_core::cluster::ApplyAction;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterEvent {
    /// One object applied (or found unchanged): `Namespace/flux-system created`.
    Applied { object: String, action: ApplyAction },
    /// Waiting for the cluster definitions of stage one.
    WaitingForDefinitions { count: usize },
    /// `◎ waiting for GitRepository "ns/name" to be reconciled`
    WaitingForSync {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    /// `✔ GitRepository reconciled successfully`
    Synced { kind: &'static str },
    /// `► confirming components are healthy`
    ConfirmingComponents,
    /// `✔ source-controller: deployment ready` (or `✗ … not ready`/`not found`)
    Component {
        name: String,
        ready: bool,
        found: bool,
    },
    /// `✔ reconciled source secret`-like lines for Secrets.
    SecretReconciled { namespace: String, name: String },
    /// `✔ all components are healthy`
    ComponentsHealthy,
    /// `► installing components in "<ns>" namespace`
    InstallingComponents { namespace: String },
    /// `✔ installed components`
    ComponentsInstalled,
    /// `✔ reconciled components`
    ComponentsReconciled,
    /// `► applying sync manifests`
    ApplyingSync,
    /// `✔ reconciled sync configuration`
    SyncReconciled,
}

impl fmt::Display for ClusterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterEvent::Applied { object, action } => {
                write!(f, "✔ {object} {}", action.as_str())
            }
            ClusterEvent::WaitingForDefinitions { count } => {
                write!(
                    f,
                    "◎ waiting for {count} cluster definitions to be established"
                )
            }
            ClusterEvent::WaitingForSync {
                kind,
                namespace,
                name,
            } => write!(
                f,
                "◎ waiting for {kind} \"{namespace}/{name}\" to be reconciled"
            ),
            ClusterEvent::Synced { kind } => write!(f, "✔ {kind} reconciled successfully"),
            ClusterEvent::ConfirmingComponents => {
                f.write_str("► confirming components are healthy")
            }
            ClusterEvent::Component { name, ready, found } => match (found, ready) {
                (false, _) => write!(f, "✗ {name}: deployment not found"),
                (true, false) => write!(f, "✗ {name}: deployment not ready"),
                (true, true) => write!(f, "✔ {name}: deployment ready"),
            },
            ClusterEvent::InstallingComponents { namespace } => {
                write!(f, "► installing components in \"{namespace}\" namespace")
            }
            ClusterEvent::ComponentsInstalled => f.write_str("✔ installed components"),
            ClusterEvent::ComponentsHealthy => f.write_str("✔ all components are healthy"),
            ClusterEvent::ComponentsReconciled => f.write_str("✔ reconciled components"),
            ClusterEvent::ApplyingSync => f.write_str("► applying sync manifests"),
            ClusterEvent::SyncReconciled => f.write_str("✔ reconciled sync configuration"),
            ClusterEvent::SecretReconciled { namespace, name } => {
                write!(f, "✔ reconciled secret \"{namespace}/{name}\"")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_match_flux_wording() {
        // Wording from spec §2.8.
        assert_eq!(
            ClusterEvent::WaitingForSync {
                kind: "GitRepository",
                namespace: "flux-system".into(),
                name: "flux-system".into()
            }
            .to_string(),
            "◎ waiting for GitRepository \"flux-system/flux-system\" to be reconciled"
        );
        assert_eq!(
            ClusterEvent::Synced {
                kind: "Kustomization"
            }
            .to_string(),
            "✔ Kustomization reconciled successfully"
        );
        assert_eq!(
            ClusterEvent::Component {
                name: "helm-controller".into(),
                ready: true,
                found: true
            }
            .to_string(),
            "✔ helm-controller: deployment ready"
        );
        assert_eq!(
            ClusterEvent::Component {
                name: "x".into(),
                ready: false,
                found: false
            }
            .to_string(),
            "✗ x: deployment not found"
        );
    }
}
