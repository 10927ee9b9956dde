//! Secrets are written with a plain create or update, never server-side apply, as flux does:
//! an update replaces `stringData` and keeps other keys already in `data` (spec §2.5).

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, PostParams};

use super::Cluster;
use crate::error::{Error, Result};

pub use fluxstrap_core::bootstrap::ports::{SecretAction, SecretWrite};

impl Cluster {
    /// Creates `namespace/name` with `string_data`, or sets `string_data` on the existing one.
    /// The values are secrets: they are never logged or put into an error message.
    pub async fn reconcile_secret(&self, secret: &SecretWrite) -> Result<SecretAction> {
        let SecretWrite {
            namespace,
            name,
            secret_type,
            string_data,
        } = secret;
        let string_data = string_data.clone();
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let params = PostParams {
            field_manager: Some(super::apply::FIELD_MANAGER.to_string()),
            ..Default::default()
        };
        let failed = |verb: &'static str| {
            let what = format!("Secret {namespace}/{name}");
            move |source| Error::Kube {
                action: format!("{verb} {what}"),
                source,
            }
        };
        let action = match api.get_opt(name).await.map_err(failed("reading"))? {
            None => {
                let secret = Secret {
                    metadata: ObjectMeta {
                        name: Some(name.to_string()),
                        namespace: Some(namespace.to_string()),
                        ..Default::default()
                    },
                    type_: secret_type.clone(),
                    string_data: Some(string_data),
                    ..Default::default()
                };
                api.create(&params, &secret)
                    .await
                    .map_err(failed("creating"))?;
                SecretAction::Created
            }
            Some(mut existing) => {
                existing.string_data = Some(string_data);
                api.replace(name, &params, &existing)
                    .await
                    .map_err(failed("updating"))?;
                SecretAction::Updated
            }
        };
        Ok(action)
    }
}
