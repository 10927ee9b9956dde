//! Label and field selectors, as `labelSelector` and `fieldSelector` query parameters spell them.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed selector; empty selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// Splits on commas outside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(text[start..].trim());
    terms.into_iter().filter(|t| !t.is_empty()).collect()
}

fn set_values(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl Selector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in split_terms(text) {
            let requirement = if let Some(key) = term.strip_prefix('!') {
                Requirement::DoesNotExist(key.trim().to_string())
            } else if let Some((key, value)) = term.split_once("!=") {
                Requirement::NotEquals(key.trim().to_string(), value.trim().to_string())
            } else if let Some((key, value)) = term.split_once("==") {
                Requirement::Equals(key.trim().to_string(), value.trim().to_string())
            } else if let Some((key, value)) = term.split_once('=') {
                Requirement::Equals(key.trim().to_string(), value.trim().to_string())
            } else if let Some((key, values)) = term.split_once(" notin ") {
                Requirement::NotIn(
                    key.trim().to_string(),
                    set_values(values)
                        .ok_or_else(|| format!("unable to parse requirement: {term}"))?,
                )
            } else if let Some((key, values)) = term.split_once(" in ") {
                Requirement::In(
                    key.trim().to_string(),
                    set_values(values)
                        .ok_or_else(|| format!("unable to parse requirement: {term}"))?,
                )
            } else if term.contains(' ') || term.contains('(') {
                return Err(format!("unable to parse requirement: {term}"));
            } else {
                Requirement::Exists(term.to_string())
            };
            requirements.push(requirement);
        }
        Ok(Self { requirements })
    }

    /// Whether `lookup` (label or field values by key) satisfies every requirement.
    pub fn matches(&self, lookup: impl Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => lookup(k).as_deref() == Some(v.as_str()),
            Requirement::NotEquals(k, v) => lookup(k).as_deref() != Some(v.as_str()),
            Requirement::In(k, vs) => lookup(k).is_some_and(|x| vs.contains(&x)),
            Requirement::NotIn(k, vs) => !lookup(k).is_some_and(|x| vs.contains(&x)),
            Requirement::Exists(k) => lookup(k).is_some(),
            Requirement::DoesNotExist(k) => lookup(k).is_none(),
        })
    }

    pub fn matches_labels(&self, object: &Value) -> bool {
        self.matches(|key| {
            object
                .pointer("/metadata/labels")
                .and_then(|labels| labels.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    }

    /// Field selectors: `metadata.name` and `metadata.namespace`, as every type supports.
    pub fn matches_fields(&self, object: &Value) -> bool {
        self.matches(|key| match key {
            "metadata.name" | "metadata.namespace" => Some(
                object
                    .pointer(&format!("/{}", key.replace('.', "/")))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_based_requirements_work() {
        let object = json!({"metadata": {"labels": {"a": "x", "b": "y"}}});
        let matches = |s: &str| Selector::parse(s).unwrap().matches_labels(&object);
        assert!(matches("a=x"));
        assert!(matches("a in (x,z),b"));
        assert!(!matches("a notin (x)"));
        assert!(matches("!c"));
        assert!(!matches("!a"));
        assert!(matches("b!=z"));
        assert!(matches(""));
    }

    #[test]
    fn field_selectors_read_name_and_namespace() {
        let object = json!({"metadata": {"name": "n", "namespace": "ns"}});
        assert!(
            Selector::parse("metadata.name=n")
                .unwrap()
                .matches_fields(&object)
        );
        assert!(
            !Selector::parse("metadata.namespace!=ns")
                .unwrap()
                .matches_fields(&object)
        );
    }
}
