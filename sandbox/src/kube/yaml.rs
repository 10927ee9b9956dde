//! YAML request bodies and manifests as JSON values, read with `yaml-rust2` (YAML 1.2 core
//! schema) and converted here: the emulator's own reader, not `core`'s, so that a bug in one is
//! not hidden by the same bug in the other.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// The non-empty documents of a YAML stream, as JSON. Errors carry the line and column.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let documents = YamlLoader::load_from_str(text).map_err(|e| {
        format!(
            "line {}, column {}: {}",
            e.marker().line(),
            e.marker().col() + 1,
            e.info()
        )
    })?;
    documents
        .iter()
        .map(to_json)
        .filter(|document| !matches!(document, Ok(Value::Null)))
        .collect()
}

/// One YAML node as JSON. Non-finite floats, which JSON cannot hold, become `null`; scalar keys
/// become strings as written (`1.5`, `true`), other keys are refused as the API server does.
fn to_json(node: &Yaml) -> Result<Value, String> {
    Ok(match node {
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::Real(text) => match node.as_f64() {
            Some(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            None => Value::String(text.clone()),
        },
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Hash(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                map.insert(key_text(key)?, to_json(value)?);
            }
            Value::Object(map)
        }
    })
}

fn key_text(key: &Yaml) -> Result<String, String> {
    match key {
        Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        Yaml::Null => Ok("null".to_string()),
        _ => Err("error converting YAML to JSON: yaml: invalid map key".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn documents_become_json_and_empty_ones_are_skipped() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n---\n\
                    # only a comment\n---\n- 1\n- 1.5\n- true\n- ~\n- '007'\n- .inf\n";
        assert_eq!(
            parse_documents(text).unwrap(),
            [
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}),
                json!([1, 1.5, true, null, "007", null]),
            ]
        );
    }

    #[test]
    fn scalars_follow_the_yaml_1_2_core_schema() {
        // Core schema: `yes`/`on` are strings (YAML 1.1 made them booleans), hex is an integer.
        let document = &parse_documents("a: yes\nb: on\nc: 0x10\nd: 1e3\ne: \"1\"\n").unwrap()[0];
        assert_eq!(
            document,
            &json!({"a": "yes", "b": "on", "c": 16, "d": 1000.0, "e": "1"})
        );
    }

    #[test]
    fn anchors_are_copied_and_scalar_keys_become_strings() {
        let document = &parse_documents("base: &b {x: 1}\ncopy: *b\n1.5: f\ntrue: t\n").unwrap()[0];
        assert_eq!(
            document,
            &json!({"base": {"x": 1}, "copy": {"x": 1}, "1.5": "f", "true": "t"})
        );
        assert!(
            parse_documents("? [a]\n: b\n")
                .unwrap_err()
                .contains("invalid map key")
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        // The flow sequence opened on line 2 is still open where the text ends: line 3, column 1.
        let error = parse_documents("a: 1\nb: [x\n").unwrap_err();
        assert!(error.starts_with("line 3, column 1: "), "{error}");
        assert!(error.contains("flow sequence"), "{error}");
    }
}
