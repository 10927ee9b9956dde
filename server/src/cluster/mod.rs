//! The cluster side of a bootstrap, with kube-rs: the bootstrap engine's cluster port. Staged
//! server-side apply as the real `flux` does it (field manager `flux`, definitions first, wait,
//! re-discover, then the rest), reads of any kind, plain create/update of Secrets, reconcile
//! requests. Every decision (order, stages, drift, health, what to wait for) comes from
//! `fluxstrap_core`; this module only performs the requests.

mod apply;
mod port;
mod secret;
mod wait;

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::error::{Error, Result};

pub use apply::AppliedObject;
pub use secret::{SecretAction, SecretWrite};
pub use wait::WaitSettings;

/// Where the cluster's connection settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigSource {
    /// `KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account.
    Infer,
    /// The pod's service account (`KUBERNETES_SERVICE_HOST`, the mounted token and CA).
    InCluster,
    /// A kubeconfig file, optionally with a context other than its current one.
    File {
        path: PathBuf,
        context: Option<String>,
    },
    /// The default kubeconfig (`KUBECONFIG`, `~/.kube/config`) with another context.
    Default { context: String },
}

fn kubeconfig_error(path: Option<&std::path::Path>, reason: &dyn std::fmt::Display) -> Error {
    Error::Kubeconfig {
        path: path.map(std::path::Path::to_path_buf),
        reason: reason.to_string(),
    }
}

/// Kinds resolved through discovery, by group-version-kind.
type ResourceCache = std::sync::Arc<
    std::sync::Mutex<
        std::collections::HashMap<
            kube::core::GroupVersionKind,
            (kube::discovery::ApiResource, kube::discovery::Scope),
        >,
    >,
>;

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    resources: ResourceCache,
}

impl Cluster {
    pub async fn connect(source: &KubeconfigSource) -> Result<Self> {
        let config = match source {
            KubeconfigSource::Infer => Config::infer()
                .await
                .map_err(|e| kubeconfig_error(None, &e))?,
            KubeconfigSource::InCluster => Config::incluster()
                .map_err(|e| kubeconfig_error(None, &format!("in-cluster: {e}")))?,
            KubeconfigSource::Default { context } => {
                let kubeconfig = Kubeconfig::read().map_err(|e| kubeconfig_error(None, &e))?;
                let options = KubeConfigOptions {
                    context: Some(context.clone()),
                    ..Default::default()
                };
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| kubeconfig_error(None, &e))?
            }
            KubeconfigSource::File { path, context } => {
                let kubeconfig =
                    Kubeconfig::read_from(path).map_err(|e| kubeconfig_error(Some(path), &e))?;
                let options = KubeConfigOptions {
                    context: context.clone(),
                    ..Default::default()
                };
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| kubeconfig_error(Some(path), &e))?
            }
        };
        let client = Client::try_from(config).map_err(|e| kubeconfig_error(None, &e))?;
        Ok(Self::from_client(client))
    }

    pub fn from_client(client: Client) -> Self {
        Self {
            client,
            resources: ResourceCache::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}
