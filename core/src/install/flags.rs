//! `flux install` flags as text, turned into [`InstallOptions`] with flux's defaults and
//! messages. The CLI, the web form and the tests all go through this, so the same input gives
//! the same error everywhere.

use crate::error::{Error, Result};
use crate::options::{Components, LogLevel, Namespace};

use super::{FluxVersion, InstallOptions, NetworkPolicy, WatchScope};

/// The install flags as given; every field holds flux's default until set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallFlags {
    /// `--version`: the targeted Flux release, e.g. `v2.9.4`.
    pub version: String,
    /// `-n/--namespace` (default `flux-system`).
    pub namespace: String,
    /// `--components`: the controllers to install (default the four standard ones).
    pub components: Vec<String>,
    /// `--components-extra`: the optional controllers to add.
    pub components_extra: Vec<String>,
    /// `--registry` (default `ghcr.io/fluxcd`).
    pub registry: String,
    /// `--image-pull-secret`; empty for none.
    pub image_pull_secret: String,
    /// `--toleration-keys`: taint keys the controllers' pods tolerate.
    pub toleration_keys: Vec<String>,
    /// `--watch-all-namespaces` (default `true`).
    pub watch_all_namespaces: String,
    /// `--network-policy` (default `true`).
    pub network_policy: String,
    /// `--log-level` (default `info`).
    pub log_level: String,
    /// `--cluster-domain` (default `cluster.local`).
    pub cluster_domain: String,
}

impl InstallFlags {
    /// flux's defaults, with `version` as the targeted release.
    pub fn defaults(version: &str) -> Self {
        Self {
            version: version.to_string(),
            namespace: Namespace::DEFAULT.to_string(),
            components: Components::default()
                .as_slice()
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
            components_extra: Vec::new(),
            registry: InstallOptions::DEFAULT_REGISTRY.to_string(),
            image_pull_secret: String::new(),
            toleration_keys: Vec::new(),
            watch_all_namespaces: "true".to_string(),
            network_policy: "true".to_string(),
            log_level: LogLevel::default().as_str().to_string(),
            cluster_domain: InstallOptions::DEFAULT_CLUSTER_DOMAIN.to_string(),
        }
    }

    /// Applies `--flag=value`, `--flag value` and bare boolean `--flag` arguments, as pflag
    /// reads them. Slices are comma-separated; giving a slice flag again appends.
    pub fn apply_args<S: AsRef<str>>(&mut self, args: &[S]) -> Result<()> {
        let mut given_slices: Vec<&'static str> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_ref();
            let Some(body) = arg.strip_prefix("--") else {
                return Err(Error::UnknownFlag(arg.to_string()));
            };
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (body, None),
            };
            let is_bool = matches!(name, "watch-all-namespaces" | "network-policy");
            let value = match inline {
                Some(value) => value,
                None if is_bool => "true".to_string(),
                None => {
                    i += 1;
                    args.get(i)
                        .map(|v| v.as_ref().to_string())
                        .ok_or_else(|| Error::FlagNeedsArgument(name.to_string()))?
                }
            };
            let mut slice = |field: &'static str, target: &mut Vec<String>| {
                if !given_slices.contains(&field) {
                    target.clear();
                    given_slices.push(field);
                }
                target.extend(split_csv(&value));
            };
            match name {
                "version" => self.version = value,
                "namespace" => self.namespace = value,
                "components" => slice("components", &mut self.components),
                "components-extra" => slice("components-extra", &mut self.components_extra),
                "registry" => self.registry = value,
                "image-pull-secret" => self.image_pull_secret = value,
                "toleration-keys" => slice("toleration-keys", &mut self.toleration_keys),
                "watch-all-namespaces" => self.watch_all_namespaces = value,
                "network-policy" => self.network_policy = value,
                "log-level" => self.log_level = value,
                "cluster-domain" => self.cluster_domain = value,
                other => return Err(Error::UnknownFlag(format!("--{other}"))),
            }
            i += 1;
        }
        Ok(())
    }

    /// Validates in flux's order: typed flag values, the namespace, then components.
    pub fn to_options(&self) -> Result<InstallOptions> {
        let watch = if parse_bool(&self.watch_all_namespaces, "--watch-all-namespaces")? {
            WatchScope::AllNamespaces
        } else {
            WatchScope::OwnNamespace
        };
        let network_policy = if parse_bool(&self.network_policy, "--network-policy")? {
            NetworkPolicy::Enabled
        } else {
            NetworkPolicy::Disabled
        };
        let log_level = LogLevel::parse(&self.log_level)?;
        let namespace = Namespace::parse(&self.namespace)?;
        let components = Components::from_flags(&self.components, &self.components_extra)?;
        let version = FluxVersion::parse(&self.version)?;
        Ok(InstallOptions {
            version,
            namespace,
            components,
            registry: self.registry.clone(),
            image_pull_secret: (!self.image_pull_secret.is_empty())
                .then(|| self.image_pull_secret.clone()),
            toleration_keys: self.toleration_keys.clone(),
            watch,
            log_level,
            cluster_domain: self.cluster_domain.clone(),
            network_policy,
        })
    }
}

/// pflag's string slices: comma-separated values, none for an empty string.
pub fn split_csv(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(',').map(str::to_string).collect()
    }
}

/// Go's `strconv.ParseBool`, with pflag's error text.
pub fn parse_bool(value: &str, flag: &str) -> Result<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(Error::invalid_flag(
            value,
            flag,
            format!("strconv.ParseBool: parsing \"{value}\": invalid syntax"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_refusals;

    fn options(args: &[&str]) -> Result<InstallOptions> {
        let mut flags = InstallFlags::defaults("v2.9.4");
        flags.apply_args(args)?;
        flags.to_options()
    }

    #[test]
    fn defaults_are_flux_defaults() {
        let o = options(&[]).unwrap();
        assert_eq!(o.namespace.as_str(), "flux-system");
        assert_eq!(
            o.components.joined(),
            "source-controller,kustomize-controller,helm-controller,notification-controller"
        );
        assert_eq!(o.registry, "ghcr.io/fluxcd");
        assert_eq!(o.cluster_domain, "cluster.local");
        assert_eq!(o.watch, WatchScope::AllNamespaces);
        assert_eq!(o.network_policy, NetworkPolicy::Enabled);
    }

    #[test]
    fn flag_forms_are_read_like_pflag() {
        let o = options(&[
            "--network-policy=false",
            "--watch-all-namespaces",
            "--registry=",
            "--toleration-keys",
            "a,b",
            "--toleration-keys=c",
            "--namespace",
            "gitops",
        ])
        .unwrap();
        assert_eq!(o.network_policy, NetworkPolicy::Disabled);
        assert_eq!(o.watch, WatchScope::AllNamespaces);
        assert_eq!(o.registry, "");
        assert_eq!(o.toleration_keys, ["a", "b", "c"]);
        assert_eq!(o.namespace.as_str(), "gitops");
    }

    #[test]
    fn errors_use_flux_wording() {
        assert_refusals(
            |arg| options(&[arg]),
            &[
                (
                    "--network-policy=maybe",
                    "invalid argument \"maybe\" for \"--network-policy\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax",
                ),
                ("--nope=1", "unknown flag: --nope"),
                ("--namespace", "flag needs an argument: --namespace"),
                (
                    "--namespace=Bad",
                    "namespace must be a valid DNS label: \"Bad\"",
                ),
                (
                    "--components=source-controller",
                    "component kustomize-controller is required",
                ),
                (
                    "--version=2.9.4",
                    "targeted version '2.9.4' must be prefixed with 'v'",
                ),
            ],
        );
    }
}
