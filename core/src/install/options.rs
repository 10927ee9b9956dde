//! The options of `flux install` / `flux bootstrap` that shape `gotk-components.yaml`.

use std::fmt;

use crate::error::{Error, Result};
use crate::options::{Component, Components, LogLevel, Namespace};

/// A Flux release version, `vMAJOR.MINOR.PATCH` (flux insists on the `v`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FluxVersion {
    major: u32,
    minor: u32,
    patch: u32,
}

impl FluxVersion {
    /// Reads `--version`: `vMAJOR.MINOR.PATCH`, with flux's messages.
    pub fn parse(value: &str) -> Result<Self> {
        let Some(numbers) = value.strip_prefix('v') else {
            return Err(Error::InvalidVersion(format!(
                "targeted version '{value}' must be prefixed with 'v'"
            )));
        };
        let parts: Vec<&str> = numbers.split('.').collect();
        let parse = |s: &str| s.parse::<u32>().ok();
        match parts.as_slice() {
            [major, minor, patch] => match (parse(major), parse(minor), parse(patch)) {
                (Some(major), Some(minor), Some(patch)) => Ok(Self {
                    major,
                    minor,
                    patch,
                }),
                _ => Err(Error::InvalidVersion(format!(
                    "targeted version '{value}' is not a release version (vMAJOR.MINOR.PATCH)"
                ))),
            },
            _ => Err(Error::InvalidVersion(format!(
                "targeted version '{value}' is not a release version (vMAJOR.MINOR.PATCH)"
            ))),
        }
    }

    /// The version `vMAJOR.MINOR.PATCH`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for FluxVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Which namespaces the controllers watch (`--watch-all-namespaces`, default all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WatchScope {
    /// The controllers watch every namespace (`--watch-all-namespaces=true`).
    #[default]
    AllNamespaces,
    /// The controllers watch only their own namespace (`--watch-all-namespaces=false`).
    OwnNamespace,
}

impl WatchScope {
    fn flag_value(self) -> bool {
        self == WatchScope::AllNamespaces
    }
}

/// Whether the three NetworkPolicies are installed (`--network-policy`, default yes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkPolicy {
    /// The NetworkPolicies of `policies.yaml` are installed.
    #[default]
    Enabled,
    /// They are left out (`--network-policy=false`).
    Disabled,
}

/// Everything that shapes `gotk-components.yaml`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallOptions {
    /// The Flux release (`--version`).
    pub version: FluxVersion,
    /// Where the controllers run (`-n/--namespace`).
    pub namespace: Namespace,
    /// The controllers to install, in order (`--components`, `--components-extra`).
    pub components: Components,
    /// Image registry prefix (`ghcr.io/fluxcd`); empty keeps the upstream `fluxcd/<c>` images.
    pub registry: String,
    /// The Secret the controllers' pods pull their images with (`--image-pull-secret`).
    pub image_pull_secret: Option<String>,
    /// Taint keys the controllers' pods tolerate (`--toleration-keys`).
    pub toleration_keys: Vec<String>,
    /// Which namespaces the controllers watch (`--watch-all-namespaces`).
    pub watch: WatchScope,
    /// The controllers' log level (`--log-level`).
    pub log_level: LogLevel,
    /// May be empty, as with flux.
    pub cluster_domain: String,
    /// Whether the NetworkPolicies are installed (`--network-policy`).
    pub network_policy: NetworkPolicy,
}

impl InstallOptions {
    /// `--registry`'s default.
    pub const DEFAULT_REGISTRY: &'static str = "ghcr.io/fluxcd";
    /// `--cluster-domain`'s default.
    pub const DEFAULT_CLUSTER_DOMAIN: &'static str = "cluster.local";

    /// flux's defaults for `version`.
    pub fn new(version: FluxVersion) -> Self {
        Self {
            version,
            namespace: Namespace::default(),
            components: Components::default(),
            registry: Self::DEFAULT_REGISTRY.to_string(),
            image_pull_secret: None,
            toleration_keys: Vec::new(),
            watch: WatchScope::default(),
            log_level: LogLevel::default(),
            cluster_domain: Self::DEFAULT_CLUSTER_DOMAIN.to_string(),
            network_policy: NetworkPolicy::default(),
        }
    }

    pub(crate) fn watch_all_namespaces(&self) -> bool {
        self.watch.flag_value()
    }

    pub(crate) fn has(&self, component: Component) -> bool {
        self.components.contains(component)
    }
}
