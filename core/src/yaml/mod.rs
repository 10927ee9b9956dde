//! YAML as Flux writes it: parsing with yaml-rust2 into [`Value`], and a go-yaml v2 compatible
//! writer (see `reference/flux-bootstrap-spec.md` §5.4–5.6).

mod value;

pub use value::{Mapping, Value};
