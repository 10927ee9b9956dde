//! What the API server refuses after defaulting: object names (RFC 1123 labels for
//! namespaces, subdomains for the rest, path segments for RBAC), a CRD's name against its
//! group and plural, and a Deployment's immutable selector — with the server's messages.

use serde_json::{Value, json};

use super::super::status::ApiError;
use super::super::types::ResourceType;
use super::{name_of, text_at};

/// Why `name` is not a valid object name: an RFC 1123 label for namespaces, an RFC 1123
/// subdomain for everything else (the API server's messages).
fn name_problem(name: &str, label: bool) -> Option<String> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    };
    if label {
        if name.len() > 63 {
            return Some("must be no more than 63 characters".into());
        }
        if !part_ok(name) {
            return Some(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters \
                 or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  \
                 or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
                    .into(),
            );
        }
        return None;
    }
    if name.len() > 253 {
        return Some("must be no more than 253 characters".into());
    }
    if !name.split('.').all(part_ok) {
        return Some(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
             '-' or '.', and must start and end with an alphanumeric character (e.g. \
             'example.com', regex used for validation is \
             '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                .into(),
        );
    }
    None
}

/// A LabelSelector as Go's `%#v` prints it in the API server's immutability message.
fn go_label_selector(selector: &Value) -> String {
    let labels: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            let mut pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{:?}:{:?}", k, v.as_str().unwrap_or("")))
                .collect();
            pairs.sort();
            pairs
        })
        .unwrap_or_default();
    let match_labels = if labels.is_empty() {
        "map[string]string(nil)".to_string()
    } else {
        format!("map[string]string{{{}}}", labels.join(", "))
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{match_labels}, \
         MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}"
    )
}

/// Checks a write's result; `old` is the stored object a change starts from.
pub(super) fn validate(
    resource: &ResourceType,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let name = name_of(object).unwrap_or("");
    let kind_and_group = if resource.group.is_empty() {
        resource.kind.clone()
    } else {
        format!("{}.{}", resource.kind, resource.group)
    };
    let mut details = json!({"name": name, "kind": resource.kind});
    if !resource.group.is_empty() {
        details["group"] = json!(resource.group);
    }
    let invalid = |field: &str, message: String| {
        ApiError::invalid(&kind_and_group, name, field, &message, details.clone())
    };
    // RBAC names are only path segments (`system:controller:x` is fine).
    let rbac = resource.group == "rbac.authorization.k8s.io";
    if rbac && (name.contains('/') || name.contains('%') || name == "." || name == "..") {
        return Err(invalid(
            "metadata.name",
            format!("Invalid value: \"{name}\": may not contain '/' or '%'"),
        ));
    }
    if let Some(problem) = (!rbac)
        .then(|| name_problem(name, resource.kind == "Namespace"))
        .flatten()
    {
        return Err(invalid(
            "metadata.name",
            format!("Invalid value: \"{name}\": {problem}"),
        ));
    }
    if resource.group == "apiextensions.k8s.io" && resource.kind == "CustomResourceDefinition" {
        let plural = text_at(object, "/spec/names/plural");
        let group = text_at(object, "/spec/group");
        if name != format!("{plural}.{group}") {
            return Err(invalid(
                "metadata.name",
                format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
            ));
        }
    }
    // A Deployment's selector cannot change: flux deletes and re-creates on this error
    // when forced.
    if resource.group == "apps"
        && resource.kind == "Deployment"
        && let Some(old) = old
    {
        let selector = object.pointer("/spec/selector");
        if old.pointer("/spec/selector") != selector {
            return Err(invalid(
                "spec.selector",
                format!(
                    "Invalid value: {}: field is immutable",
                    go_label_selector(selector.unwrap_or(&Value::Null))
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{apply, config_map, options, setup};

    #[test]
    fn invalid_names_and_selector_changes_are_refused_as_the_api_server_does() {
        let (mut store, cm) = setup();
        let body = config_map("x", "Bad_Name", serde_json::Value::Null);
        let error = store.create(&cm, "x", body, &options("t")).unwrap_err();
        assert_eq!(error.code, 422);
        assert!(error.message.starts_with(
            "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a \
             lowercase RFC 1123 subdomain"
        ));
        let deployments = store.find_type("apps", "v1", "deployments").unwrap();
        let deployment = |app: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "d", "namespace": "x"},
                   "spec": {"selector": {"matchLabels": {"app": app}}}})
        };
        apply(&mut store, &deployments, "x", "d", &deployment("a")).unwrap();
        let error = apply(&mut store, &deployments, "x", "d", &deployment("b")).unwrap_err();
        assert_eq!(
            error.message,
            "Deployment.apps \"d\" is invalid: spec.selector: Invalid value: \
             v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"b\"}, \
             MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        );
    }
}
