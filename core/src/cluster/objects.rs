//! Turning YAML documents into the API objects to apply, as flux's `ssautil.ReadObjects` does:
//! `List` objects are unrolled, kustomize's own `Kustomization` config objects are dropped, and
//! empty documents are skipped.

use serde_json::{Map, Number, Value as Json};

use super::fields::str_at;
use crate::yaml::Value;

/// Converts one document of the YAML model to JSON. Non-finite floats, which JSON cannot hold,
/// become `null`, as Go's encoder would refuse them anyway.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::Float(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(mapping) => Json::Object(
            mapping
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// kustomize's own `Kustomization` (its config, not an API object).
fn is_kustomize_config(object: &Json) -> bool {
    str_at(object, "/kind") == "Kustomization"
        && str_at(object, "/apiVersion").starts_with("kustomize.config.k8s.io/")
}

fn push_object(object: Json, out: &mut Vec<Json>) {
    if object.is_null() || object.as_object().is_some_and(Map::is_empty) {
        return;
    }
    // `List`, or any `…List`.
    let is_list = str_at(&object, "/kind").ends_with("List")
        && object.get("items").is_some_and(Json::is_array);
    if is_list {
        if let Some(Json::Array(items)) = object.get("items") {
            for item in items {
                push_object(item.clone(), out);
            }
        }
        return;
    }
    if !is_kustomize_config(&object) {
        out.push(object);
    }
}

/// The objects to apply from parsed YAML documents.
pub fn objects_from_documents(documents: &[Value]) -> Vec<Json> {
    let mut out = Vec::with_capacity(documents.len());
    for document in documents {
        push_object(to_json(document), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Mapping;

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Mapping>(),
        )
    }

    #[test]
    fn converts_every_scalar_kind() {
        let doc = map(&[
            ("s", Value::from("x")),
            ("i", Value::Int(-3)),
            ("f", Value::Float(0.5)),
            ("nan", Value::Float(f64::NAN)),
            ("b", Value::Bool(true)),
            ("n", Value::Null),
            ("seq", Value::Seq(vec![Value::Int(1)])),
        ]);
        assert_eq!(
            to_json(&doc),
            serde_json::json!({ "s": "x", "i": -3, "f": 0.5, "nan": null, "b": true, "n": null, "seq": [1] })
        );
    }

    #[test]
    fn unrolls_lists_and_drops_kustomize_config() {
        let namespace = map(&[
            ("apiVersion", Value::from("v1")),
            ("kind", Value::from("Namespace")),
            ("metadata", map(&[("name", Value::from("a"))])),
        ]);
        let list = map(&[
            ("apiVersion", Value::from("v1")),
            ("kind", Value::from("List")),
            (
                "items",
                Value::Seq(vec![namespace.clone(), namespace.clone()]),
            ),
        ]);
        let config = map(&[
            ("apiVersion", Value::from("kustomize.config.k8s.io/v1beta1")),
            ("kind", Value::from("Kustomization")),
        ]);
        let flux_kustomization = map(&[
            ("apiVersion", Value::from("kustomize.toolkit.fluxcd.io/v1")),
            ("kind", Value::from("Kustomization")),
            ("metadata", map(&[("name", Value::from("flux-system"))])),
        ]);
        let objects = objects_from_documents(&[list, config, Value::Null, flux_kustomization]);
        let kinds: Vec<&str> = objects
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["Namespace", "Namespace", "Kustomization"]);
        assert_eq!(objects[2]["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
    }
}
