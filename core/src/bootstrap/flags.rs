//! The flags of `flux bootstrap bitbucket-server` v2.9.4 (spec §1.2, §1.3), as one table: name,
//! shorthand, kind, flux's default and who may set it. Everything that takes bootstrap flags
//! reads them through this table — the CLI's arguments (parsed as pflag does, with pflag's
//! messages), the server's JSON job bodies and the page's form — so a flag, its default and its
//! error exist once.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, Result};

/// How a flag's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// A string.
    Text,
    /// A boolean: bare `--flag` means `true`, `--flag=false` turns it off.
    Bool,
    /// pflag's string slice: comma-separated, repeated flags append.
    List,
    /// A Go duration (`1m0s`, `90s`).
    Duration,
}

/// Who may set a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone: the CLI's user, the page's user through the server.
    Anyone,
    /// Only whoever runs the process: flags naming local files, the cluster connection or the
    /// Bitbucket host. A server job takes these from its configuration, never from the caller.
    Operator,
}

/// One flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagSpec {
    /// The long name, without `--`.
    pub name: &'static str,
    /// The one-letter shorthand (`-u`), if any.
    pub short: Option<char>,
    /// How the value is read.
    pub kind: FlagKind,
    /// flux's default, as text (lists comma-separated).
    pub default: &'static str,
    /// Who may set it.
    pub audience: Audience,
    /// The value is a secret: never printed, logged or stored.
    pub secret: bool,
    /// Left out of `--help`, as flux hides it.
    pub hidden: bool,
    /// What it does, for `--help`.
    pub usage: &'static str,
}

const fn flag(
    name: &'static str,
    kind: FlagKind,
    default: &'static str,
    usage: &'static str,
) -> FlagSpec {
    FlagSpec {
        name,
        short: None,
        kind,
        default,
        audience: Audience::Anyone,
        secret: false,
        hidden: false,
        usage,
    }
}

const fn short(spec: FlagSpec, c: char) -> FlagSpec {
    FlagSpec {
        short: Some(c),
        ..spec
    }
}

const fn operator(spec: FlagSpec) -> FlagSpec {
    FlagSpec {
        audience: Audience::Operator,
        ..spec
    }
}

const fn secret(spec: FlagSpec) -> FlagSpec {
    FlagSpec {
        secret: true,
        ..spec
    }
}

const fn hidden(spec: FlagSpec) -> FlagSpec {
    FlagSpec {
        hidden: true,
        ..spec
    }
}

use FlagKind::{Bool, Duration, List, Text};

/// The Flux release bootstrapped when `--version` is not given (flux's default is its own).
pub const DEFAULT_VERSION: &str = "v2.9.4";

/// Every flag, in `--help` order: the subcommand's own, `flux bootstrap`'s, the root's, then
/// fluxstrap's additions.
#[rustfmt::skip]
pub const FLAGS: &[FlagSpec] = &[
    flag("owner", Text, "", "Bitbucket Server project name, or the user with --personal"),
    flag("repository", Text, "", "Bitbucket Server repository name"),
    flag("group", List, "", "groups given access to the repository, name or name:pull|push|admin (comma-separated)"),
    flag("personal", Bool, "false", "the owner is a Bitbucket Server user, not a project"),
    short(flag("username", Text, "git", "the user the token belongs to, for git over HTTPS"), 'u'),
    flag("private", Bool, "true", "create the repository as private"),
    flag("interval", Duration, "1m0s", "how often Flux fetches the repository"),
    operator(flag("hostname", Text, "", "Bitbucket Server host[:port] (fluxstrap also takes https://host/context-path)")),
    flag("path", Text, "", "the cluster's directory in the repository"),
    flag("read-write-key", Bool, "false", "give the deploy key write access"),
    flag("reconcile", Bool, "false", "also reconcile the options of an existing repository"),
    short(flag("version", Text, DEFAULT_VERSION, "Flux version, or latest"), 'v'),
    flag("components", List, "source-controller,kustomize-controller,helm-controller,notification-controller", "Flux components to install"),
    flag("components-extra", List, "", "more components: image-reflector-controller, image-automation-controller, source-watcher"),
    flag("registry", Text, "ghcr.io/fluxcd", "container registry of the Flux images"),
    secret(flag("registry-creds", Text, "", "user:password for the registry, with --image-pull-secret")),
    flag("image-pull-secret", Text, "", "name of the Secret the controllers pull their images with"),
    flag("branch", Text, "main", "git branch"),
    flag("recurse-submodules", Bool, "false", "also fetch the repository's submodules"),
    flag("sparse-checkout", List, "", "directories Flux checks out (all when empty)"),
    hidden(operator(flag("manifests", Text, "", "a Flux release's manifests: a directory or manifests.tar.gz"))),
    flag("watch-all-namespaces", Bool, "true", "the controllers watch every namespace"),
    flag("network-policy", Bool, "true", "deny other namespaces access to the controllers"),
    flag("token-auth", Bool, "false", "Flux syncs over HTTPS with the token instead of an SSH deploy key"),
    flag("log-level", Text, "info", "controllers' log level: debug, info or error"),
    flag("cluster-domain", Text, "cluster.local", "the cluster's internal domain"),
    flag("toleration-keys", List, "", "taint keys the controllers tolerate"),
    flag("secret-name", Text, "flux-system", "name of the Secret holding the sync credentials"),
    flag("ssh-key-algorithm", Text, "ecdsa", "deploy key algorithm: rsa, ecdsa or ed25519"),
    flag("ssh-rsa-bits", Text, "2048", "RSA key size"),
    flag("ssh-hostkey-algos", List, "", "host key algorithms for SSH connections"),
    flag("ssh-ecdsa-curve", Text, "p384", "ECDSA curve: p256, p384 or p521"),
    operator(flag("ssh-hostname", Text, "", "SSH host[:port], when it differs from the HTTPS host")),
    operator(flag("ca-file", Text, "", "PEM CA bundle to trust for Bitbucket")),
    operator(flag("private-key-file", Text, "", "an unencrypted private key to use instead of a generated one")),
    flag("author-name", Text, "Flux", "commit author name"),
    flag("author-email", Text, "", "commit author email"),
    operator(flag("gpg-key-ring", Text, "", "armored OpenPGP key ring to sign commits with")),
    secret(flag("gpg-passphrase", Text, "", "passphrase of the OpenPGP key")),
    flag("gpg-key-id", Text, "", "which OpenPGP key of the ring signs"),
    operator(flag("ssh-signing-key-file", Text, "", "SSH private key to sign commits with")),
    secret(flag("ssh-signing-password", Text, "", "passphrase of the SSH signing key")),
    hidden(secret(flag("ssh-signing-passphrase", Text, "", "alias of --ssh-signing-password"))),
    flag("ssh-signing-reuse-private-key", Bool, "false", "sign commits with --private-key-file"),
    flag("commit-message-appendix", Text, "", "text appended to commit messages, e.g. '[ci skip]'"),
    flag("force", Bool, "false", "take over a Flux installed by another tool"),
    flag("timeout", Duration, "5m0s", "how long the whole bootstrap may take"),
    short(flag("namespace", Text, "flux-system", "the namespace Flux is installed in"), 'n'),
    operator(flag("kubeconfig", Text, "", "the kubeconfig file (default: KUBECONFIG, ~/.kube/config)")),
    operator(flag("context", Text, "", "the kubeconfig context to use")),
    flag("dry-run", Bool, "false", "print every file, Bitbucket write and cluster change, and change nothing"),
];

/// The flag named `name` (long name).
pub fn spec(name: &str) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|f| f.name == name)
}

fn spec_short(c: char) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// pflag's name of a flag in messages: `--owner`, or `-u, --username` for one with a shorthand.
pub fn display_name(spec: &FlagSpec) -> String {
    match spec.short {
        Some(c) => format!("-{c}, --{}", spec.name),
        None => format!("--{}", spec.name),
    }
}

/// pflag's string slices: comma-separated values, none for an empty string.
fn split_list(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(',').map(str::to_string).collect()
    }
}

/// A flag's value as given.
#[derive(Clone, PartialEq, Eq)]
pub enum FlagValue {
    /// Text, booleans and durations, kept as typed.
    Text(String),
    /// A slice.
    List(Vec<String>),
}

/// The bootstrap flags as given; every flag holds flux's default until set. Values stay text
/// until [`BootstrapFlags::validate`](super::options) reads them, so a bad value is reported in
/// flux's order and words.
#[derive(Clone, PartialEq, Eq)]
pub struct BootstrapFlags {
    values: BTreeMap<&'static str, FlagValue>,
}

impl fmt::Debug for BootstrapFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in &self.values {
            let secret = spec(name).is_some_and(|s| s.secret);
            match value {
                _ if secret => map.entry(name, &"***"),
                FlagValue::Text(text) => map.entry(name, text),
                FlagValue::List(list) => map.entry(name, list),
            };
        }
        map.finish()
    }
}

impl Default for BootstrapFlags {
    fn default() -> Self {
        let values = FLAGS
            .iter()
            .map(|spec| {
                let value = match spec.kind {
                    FlagKind::List => FlagValue::List(split_list(spec.default)),
                    _ => FlagValue::Text(spec.default.to_string()),
                };
                (spec.name, value)
            })
            .collect();
        Self { values }
    }
}

/// How `FLUX_SYSTEM_NAMESPACE` was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceEnvironment {
    /// Not set: the namespace default is `flux-system`.
    Unset,
    /// A valid label: the namespace default.
    Used(String),
    /// Not a DNS label: ignored, and flux warns ` ignoring invalid FLUX_SYSTEM_NAMESPACE: "<v>"`.
    Ignored(String),
}

impl BootstrapFlags {
    /// flux's defaults, with `FLUX_SYSTEM_NAMESPACE` (given by the edge that reads the
    /// environment) as the namespace default when it is a valid DNS label.
    pub fn with_namespace_environment(value: Option<&str>) -> (Self, NamespaceEnvironment) {
        let mut flags = Self::default();
        let taken = match value.filter(|v| !v.is_empty()) {
            None => NamespaceEnvironment::Unset,
            Some(v) if crate::options::is_dns1123_label(v) => {
                flags
                    .values
                    .insert("namespace", FlagValue::Text(v.to_string()));
                NamespaceEnvironment::Used(v.to_string())
            }
            Some(v) => NamespaceEnvironment::Ignored(v.to_string()),
        };
        (flags, taken)
    }

    /// Parses command-line arguments as pflag does: `--flag=value`, `--flag value`, `-u value`,
    /// `-uvalue`, bare booleans, repeated slices appending, `--` ending the flags. A positional
    /// argument is refused (the subcommand takes none).
    pub fn parse_args<S: AsRef<str>>(&mut self, args: &[S]) -> Result<()> {
        let mut given_lists: Vec<&'static str> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_ref();
            i += 1;
            if arg == "--" {
                if let Some(extra) = args.get(i) {
                    return Err(Error::UnexpectedArgument(extra.as_ref().to_string()));
                }
                break;
            }
            let (spec, inline) = if let Some(body) = arg.strip_prefix("--") {
                let (name, inline) = match body.split_once('=') {
                    Some((name, value)) => (name, Some(value.to_string())),
                    None => (body, None),
                };
                let spec = spec(name).ok_or_else(|| Error::UnknownFlag(format!("--{name}")))?;
                (spec, inline)
            } else if let Some(body) = arg.strip_prefix('-').filter(|b| !b.is_empty()) {
                let c = body.chars().next().unwrap_or_default();
                let spec = spec_short(c).ok_or_else(|| Error::UnknownShorthand {
                    shorthand: c,
                    argument: arg.to_string(),
                })?;
                let rest = &body[c.len_utf8()..];
                let inline = match rest.strip_prefix('=') {
                    Some(value) => Some(value.to_string()),
                    None if rest.is_empty() => None,
                    None => Some(rest.to_string()),
                };
                (spec, inline)
            } else {
                return Err(Error::UnexpectedArgument(arg.to_string()));
            };
            let value = match inline {
                Some(value) => value,
                None if spec.kind == FlagKind::Bool => "true".to_string(),
                None => {
                    let value = args.get(i).map(|v| v.as_ref().to_string()).ok_or_else(|| {
                        Error::FlagNeedsValue(match arg.strip_prefix("--") {
                            Some(_) => format!("--{}", spec.name),
                            None => format!("'{}' in {arg}", spec.short.unwrap_or_default()),
                        })
                    })?;
                    i += 1;
                    value
                }
            };
            self.set_value(spec, &value, &mut given_lists)?;
        }
        Ok(())
    }

    fn set_value(
        &mut self,
        spec: &'static FlagSpec,
        value: &str,
        given_lists: &mut Vec<&'static str>,
    ) -> Result<()> {
        match spec.kind {
            FlagKind::List => {
                let entry = self
                    .values
                    .entry(spec.name)
                    .or_insert_with(|| FlagValue::List(Vec::new()));
                if !given_lists.contains(&spec.name) {
                    *entry = FlagValue::List(Vec::new());
                    given_lists.push(spec.name);
                }
                if let FlagValue::List(list) = entry {
                    list.extend(split_list(value));
                }
            }
            FlagKind::Bool => {
                // pflag checks booleans as they are set.
                parse_bool(value, spec)?;
                self.values
                    .insert(spec.name, FlagValue::Text(value.to_string()));
            }
            FlagKind::Text | FlagKind::Duration => {
                self.values
                    .insert(spec.name, FlagValue::Text(value.to_string()));
            }
        }
        Ok(())
    }

    /// Sets flags from a JSON object keyed by flag name, as a server job body carries them:
    /// strings, booleans, numbers and lists as the CLI takes them. Only flags of `audience`
    /// (or wider) are accepted; an operator flag from a caller is refused, naming it.
    pub fn apply_json(
        &mut self,
        object: &serde_json::Map<String, serde_json::Value>,
        audience: Audience,
    ) -> Result<()> {
        let mut given_lists = Vec::new();
        for (name, value) in object {
            let spec = spec(name).ok_or_else(|| Error::UnknownFlag(format!("--{name}")))?;
            if audience == Audience::Anyone && spec.audience == Audience::Operator {
                return Err(Error::FlagNotAllowed(spec.name.to_string()));
            }
            let texts: Vec<String> = match value {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Bool(b) => vec![b.to_string()],
                serde_json::Value::Number(n) => vec![n.to_string()],
                serde_json::Value::Array(items) if spec.kind == FlagKind::List => items
                    .iter()
                    .map(|item| match item {
                        serde_json::Value::String(s) => Ok(s.clone()),
                        other => Err(Error::InvalidFlag {
                            value: other.to_string(),
                            flag: display_name(spec),
                            reason: "list items must be strings".to_string(),
                        }),
                    })
                    .collect::<Result<_>>()?,
                serde_json::Value::Null => continue,
                other => {
                    return Err(Error::InvalidFlag {
                        value: other.to_string(),
                        flag: display_name(spec),
                        reason: match spec.kind {
                            FlagKind::List => "give a string or a list of strings".to_string(),
                            _ => "give a string, a number or a boolean".to_string(),
                        },
                    });
                }
            };
            if spec.kind == FlagKind::List && texts.is_empty() {
                self.values.insert(spec.name, FlagValue::List(Vec::new()));
                given_lists.push(spec.name);
            }
            for text in texts {
                self.set_value(spec, &text, &mut given_lists)?;
            }
        }
        Ok(())
    }

    /// A text, boolean or duration flag's value as given.
    pub fn text(&self, name: &str) -> &str {
        match self.values.get(name) {
            Some(FlagValue::Text(text)) => text,
            _ => "",
        }
    }

    /// A slice flag's values.
    pub fn list(&self, name: &str) -> &[String] {
        match self.values.get(name) {
            Some(FlagValue::List(list)) => list,
            _ => &[],
        }
    }

    /// A boolean flag's value (pflag already checked it, so this cannot fail for parsed input).
    pub fn bool(&self, name: &str) -> Result<bool> {
        let spec = spec(name).ok_or_else(|| Error::UnknownFlag(format!("--{name}")))?;
        parse_bool(self.text(name), spec)
    }

    /// Whether the flag differs from its default.
    pub fn is_set(&self, name: &str) -> bool {
        match spec(name) {
            Some(spec) => self.values.get(name) != Self::default().values.get(spec.name),
            None => false,
        }
    }

    /// The flags that differ from flux's defaults, as `--name=value` arguments in table order
    /// (secret values as `***`): the equivalent command line, for "copy as flux command" and
    /// for logs.
    pub fn to_args(&self) -> Vec<String> {
        FLAGS
            .iter()
            .filter(|spec| self.is_set(spec.name))
            .map(|spec| {
                let value = match &self.values[spec.name] {
                    _ if spec.secret => "***".to_string(),
                    FlagValue::Text(text) => text.clone(),
                    FlagValue::List(list) => list.join(","),
                };
                match spec.kind {
                    FlagKind::Bool if value == "true" => format!("--{}", spec.name),
                    _ => format!("--{}={}", spec.name, shell_quote(&value)),
                }
            })
            .collect()
    }
}

/// Quotes a value for a POSIX shell when it needs it.
fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:,@=+%".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Go's `strconv.ParseBool`, with pflag's error text naming `spec`.
pub fn parse_bool(value: &str, spec: &FlagSpec) -> Result<bool> {
    crate::install::parse_bool(value, &display_name(spec))
}

/// `--help` for the flags: one line each, `--name type   usage (default …)`, hidden flags left
/// out, as pflag lays them out.
pub fn help() -> String {
    let rows: Vec<(String, String)> = FLAGS
        .iter()
        .filter(|spec| !spec.hidden)
        .map(|spec| {
            let kind = match spec.kind {
                FlagKind::Text => " string",
                FlagKind::Bool => "",
                FlagKind::List => " strings",
                FlagKind::Duration => " duration",
            };
            let left = match spec.short {
                Some(c) => format!("  -{c}, --{}{kind}", spec.name),
                None => format!("      --{}{kind}", spec.name),
            };
            let default = match (spec.kind, spec.default) {
                (_, "") | (FlagKind::Bool, "false") => String::new(),
                (FlagKind::List, list) => format!(" (default [{list}])"),
                (FlagKind::Text, text) => format!(" (default \"{text}\")"),
                (_, other) => format!(" (default {other})"),
            };
            (left, format!("{}{default}", spec.usage))
        })
        .collect();
    let width = rows.iter().map(|(left, _)| left.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(left, right)| format!("{left:width$}   {right}\n"))
        .collect()
}

#[cfg(test)]
#[path = "flags_tests.rs"]
mod tests;
