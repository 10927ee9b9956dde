//! The server's defaults for the types Flux installs: a Secret's `stringData` folded into
//! `data` and its `type`, a Namespace's name label, finalizer and phase, a Service's type,
//! cluster IP, session affinity and port protocols, a Deployment's replicas and container port
//! protocols.

use base64::Engine as _;
use serde_json::{Value, json};

use super::super::types::ResourceType;
use super::{Store, name_of};

impl Store {
    /// The server's defaults for the types Flux installs.
    pub(super) fn apply_defaults(
        &mut self,
        resource: &ResourceType,
        object: &mut Value,
        old: Option<&Value>,
    ) {
        let name = name_of(object).unwrap_or("").to_string();
        match (resource.group.as_str(), resource.kind.as_str()) {
            ("", "Secret") => {
                if let Some(string_data) = object
                    .as_object_mut()
                    .and_then(|m| m.remove("stringData"))
                    .and_then(|v| v.as_object().cloned())
                {
                    for (key, value) in string_data {
                        let encoded = base64::engine::general_purpose::STANDARD
                            .encode(value.as_str().unwrap_or_default());
                        object["data"][key] = json!(encoded);
                    }
                }
                if object.get("type").is_none() {
                    object["type"] = json!("Opaque");
                }
            }
            ("", "Namespace") => {
                object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
                if object.pointer("/spec/finalizers").is_none() {
                    object["spec"]["finalizers"] = json!(["kubernetes"]);
                }
                if object.pointer("/status/phase").is_none() {
                    object["status"] = json!({"phase": "Active"});
                }
            }
            ("", "Service") => {
                let spec = &mut object["spec"];
                if spec.get("type").is_none() {
                    spec["type"] = json!("ClusterIP");
                }
                if spec.get("clusterIP").is_none() {
                    let ip = old
                        .and_then(|o| o.pointer("/spec/clusterIP"))
                        .cloned()
                        .unwrap_or_else(|| {
                            self.cluster_ips += 1;
                            json!(format!(
                                "10.96.{}.{}",
                                self.cluster_ips / 250,
                                self.cluster_ips % 250
                            ))
                        });
                    spec["clusterIPs"] = json!([ip.clone()]);
                    spec["clusterIP"] = ip;
                }
                if spec.get("sessionAffinity").is_none() {
                    spec["sessionAffinity"] = json!("None");
                }
                if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                    for port in ports {
                        if port.get("protocol").is_none() {
                            port["protocol"] = json!("TCP");
                        }
                        if port.get("targetPort").is_none() {
                            port["targetPort"] = port.get("port").cloned().unwrap_or(Value::Null);
                        }
                    }
                }
            }
            ("apps", "Deployment") => {
                if object.pointer("/spec/replicas").is_none() {
                    object["spec"]["replicas"] = json!(1);
                }
                if let Some(containers) = object
                    .pointer_mut("/spec/template/spec/containers")
                    .and_then(Value::as_array_mut)
                {
                    for container in containers {
                        if let Some(ports) =
                            container.get_mut("ports").and_then(Value::as_array_mut)
                        {
                            for port in ports {
                                if port.get("protocol").is_none() {
                                    port["protocol"] = json!("TCP");
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_namespaces_exist_from_the_start() {
        let store = Store::with_system_namespaces();
        let namespaces = store.find_type("", "v1", "namespaces").unwrap();
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let namespace = store.get(&namespaces, "", name).unwrap();
            assert_eq!(namespace["status"]["phase"], "Active");
            assert_eq!(
                namespace["metadata"]["labels"]["kubernetes.io/metadata.name"],
                name
            );
        }
    }
}
