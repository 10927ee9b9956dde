//! The form's values checked by `core` exactly as the server checks a job body: flags applied
//! as JSON from anyone, the operator's host added, flux's checks in flux's order. The first
//! error is attributed to the field it names, so the page shows it there.

use fluxstrap_core::Error;
use fluxstrap_core::bootstrap::{
    Audience, BootstrapFlags, BootstrapOptions, FLAGS, FlagKind, FlagSpec,
};
use serde_json::{Map, Value};

/// Whether the form offers `spec`: every flag a user may set, but `--dry-run` (the Plan
/// button is the dry run).
pub fn offered(spec: &FlagSpec) -> bool {
    !spec.hidden && spec.audience == Audience::Anyone && spec.name != "dry-run"
}

/// A comma list's items, trimmed, empty ones dropped.
pub fn list_items(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form's values that differ from flux's defaults, as a job body's `flags`.
pub fn body_flags(values: &[(&'static FlagSpec, String)]) -> Map<String, Value> {
    let mut map = Map::new();
    for (spec, value) in values {
        let json = match spec.kind {
            FlagKind::List => {
                let items = list_items(value);
                if items == list_items(spec.default) {
                    continue;
                }
                Value::Array(items.into_iter().map(Value::String).collect())
            }
            FlagKind::Bool => {
                if value == spec.default {
                    continue;
                }
                Value::Bool(value == "true")
            }
            FlagKind::Text | FlagKind::Duration => {
                if value == spec.default {
                    continue;
                }
                Value::String(value.clone())
            }
        };
        map.insert(spec.name.to_string(), json);
    }
    map
}

/// What is wrong, and with which field.
#[derive(Clone, PartialEq, Debug)]
pub struct Problem {
    pub field: Option<&'static str>,
    pub message: String,
}

/// The options a job with these flags would run with.
#[derive(Clone, PartialEq, Debug)]
pub struct Checked {
    pub options: BootstrapOptions,
}

/// The flux arguments equivalent to `flags` (secrets as `***`), whatever their validity.
pub fn args(flags: &Map<String, Value>) -> Option<Vec<String>> {
    let mut parsed = BootstrapFlags::default();
    parsed.apply_json(flags, Audience::Anyone).ok()?;
    Some(parsed.to_args())
}

/// Checks `flags` as `serve` does for a job on the server at `hostname` (`ssh_hostname` its SSH
/// server).
pub fn check(
    flags: &Map<String, Value>,
    hostname: &str,
    ssh_hostname: Option<&str>,
) -> Result<Checked, Problem> {
    let problem = |error: Error| Problem {
        field: field_of(&error, flags),
        message: error.to_string(),
    };
    let mut parsed = BootstrapFlags::default();
    parsed
        .apply_json(flags, Audience::Anyone)
        .map_err(problem)?;
    let mut operator = vec![format!("--hostname={hostname}")];
    if let Some(ssh) = ssh_hostname {
        operator.push(format!("--ssh-hostname={ssh}"));
    }
    parsed.parse_args(&operator).map_err(problem)?;
    parsed.check_values().map_err(problem)?;
    let options = parsed.validate().map_err(problem)?;
    Ok(Checked { options })
}

fn flag_named(name: &str) -> Option<&'static str> {
    FLAGS.iter().find(|s| s.name == name).map(|s| s.name)
}

/// The field an error is about: by its kind, else the `--flag` its message names.
fn field_of(error: &Error, flags: &Map<String, Value>) -> Option<&'static str> {
    let named = match error {
        Error::InvalidFlag { flag, .. } => flag.rsplit("--").next().and_then(flag_named),
        Error::InvalidNamespace(_) => Some("namespace"),
        Error::InvalidBranch { .. } => Some("branch"),
        Error::InvalidPath { .. } => Some("path"),
        Error::ComponentRequired(name) | Error::ComponentNotAvailable(name) => {
            let extra = flags
                .get("components-extra")
                .is_some_and(|v| v.to_string().contains(name.as_str()));
            Some(if extra {
                "components-extra"
            } else {
                "components"
            })
        }
        Error::MissingOwner => Some("owner"),
        Error::MissingRepository | Error::RepositoryWithSlash(_) => Some("repository"),
        Error::RegistryCredsNeedPullSecret => Some("image-pull-secret"),
        Error::RegistryCredsFormat => Some("registry-creds"),
        Error::InvalidGroup(_) => Some("group"),
        Error::InvalidVersion(_) => Some("version"),
        Error::FlagNotAllowed(name) => flag_named(name),
        Error::InvalidName { what, .. } if what.contains("repository") => Some("repository"),
        _ => None,
    };
    named.or_else(|| mentioned(&error.to_string()))
}

/// The longest flag whose `--name` the message mentions.
fn mentioned(message: &str) -> Option<&'static str> {
    let mut flags: Vec<&FlagSpec> = FLAGS.iter().collect();
    flags.sort_by_key(|s| std::cmp::Reverse(s.name.len()));
    flags.into_iter().map(|s| s.name).find(|name| {
        message
            .match_indices(&format!("--{name}"))
            .any(|(at, found)| {
                !message[at + found.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flags(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn defaults_are_left_out_of_the_body() {
        let values: Vec<(&'static FlagSpec, String)> = FLAGS
            .iter()
            .filter(|s| offered(s))
            .map(|s| (s, s.default.to_string()))
            .collect();
        assert!(body_flags(&values).is_empty());
    }

    #[test]
    fn errors_are_attributed_to_their_field() {
        let check =
            |value: Map<String, Value>| check(&value, "https://bitbucket.example.com", None);
        let ok = flags(json!({"owner": "Platform", "repository": "fleet"}));
        assert!(check(ok.clone()).is_ok());
        assert_eq!(
            args(&ok).unwrap(),
            ["--owner=Platform", "--repository=fleet"]
        );
        let cases = [
            (json!({"repository": "fleet"}), "owner"),
            (json!({"owner": "P"}), "repository"),
            (
                json!({"owner": "P", "repository": "r", "interval": "5"}),
                "interval",
            ),
            (
                json!({"owner": "P", "repository": "r", "namespace": "Bad_NS"}),
                "namespace",
            ),
            (
                json!({"owner": "P", "repository": "r", "components-extra": ["nope"]}),
                "components-extra",
            ),
            (
                json!({"owner": "P", "repository": "r", "ssh-rsa-bits": "x"}),
                "ssh-rsa-bits",
            ),
            (
                json!({"owner": "P", "repository": "r", "registry-creds": "a:b"}),
                "image-pull-secret",
            ),
        ];
        for (value, field) in cases {
            let problem = check(flags(value.clone())).unwrap_err();
            assert_eq!(problem.field, Some(field), "{value}: {}", problem.message);
        }
    }

    #[test]
    fn messages_name_the_longest_flag() {
        assert_eq!(
            mentioned("bad --ssh-signing-password"),
            Some("ssh-signing-password")
        );
        assert_eq!(mentioned("bad --path value"), Some("path"));
        assert_eq!(mentioned("nothing"), None);
    }
}
