//! YAML as Flux writes it: parsing with yaml-rust2 into [`Value`], and a go-yaml v2 compatible
//! writer (see `reference/flux-bootstrap-spec.md` §5.4–5.6).

mod emit;
mod parse;
mod resolve;
mod scalar;
mod value;

pub use emit::{compare_keys, to_yaml, to_yaml_stream};
pub use parse::{
    Document, MAX_ALIAS_NODES, parse_documents, parse_documents_with_lines, resolve_plain,
};
pub use value::{Mapping, Value};

/// Builders for the yaml modules' unit tests.
#[cfg(test)]
mod testing {
    use super::Value;

    /// A mapping of the given entries.
    pub(super) fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// A string value.
    pub(super) fn s(text: &str) -> Value {
        Value::from(text)
    }
}
