//! Which Flux controllers run (`--components`, `--components-extra`) and how much they log
//! (`--log-level`).

use std::fmt;

use super::Choices;
use crate::error::{Error, Result};

/// A Flux controller that can be installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    /// Fetches sources: git repositories, Helm repositories, buckets, OCI artifacts.
    SourceController,
    /// Applies Kustomizations.
    KustomizeController,
    /// Installs and upgrades HelmReleases.
    HelmController,
    /// Sends and receives events: alerts, providers and webhook receivers.
    NotificationController,
    /// Scans image repositories for tags (optional).
    ImageReflectorController,
    /// Commits image updates to git (optional).
    ImageAutomationController,
    /// Produces artifacts from other sources (optional, Flux v2.7+).
    SourceWatcher,
}

impl Component {
    /// Every component, in flux's order.
    pub const ALL: [Component; 7] = [
        Component::SourceController,
        Component::KustomizeController,
        Component::HelmController,
        Component::NotificationController,
        Component::ImageReflectorController,
        Component::ImageAutomationController,
        Component::SourceWatcher,
    ];

    /// `--components` default.
    pub const DEFAULTS: [Component; 4] = [
        Component::SourceController,
        Component::KustomizeController,
        Component::HelmController,
        Component::NotificationController,
    ];

    /// What `--components-extra` may add.
    pub const EXTRAS: [Component; 3] = [
        Component::ImageReflectorController,
        Component::ImageAutomationController,
        Component::SourceWatcher,
    ];

    /// The controller's name, as in `--components` and its Deployment's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::SourceController => "source-controller",
            Component::KustomizeController => "kustomize-controller",
            Component::HelmController => "helm-controller",
            Component::NotificationController => "notification-controller",
            Component::ImageReflectorController => "image-reflector-controller",
            Component::ImageAutomationController => "image-automation-controller",
            Component::SourceWatcher => "source-watcher",
        }
    }

    /// Reads a controller name; an unknown one fails with flux's message.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| Error::ComponentNotAvailable(name.to_string()))
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The components to install, in the order given (`--components` then `--components-extra`);
/// the order shows in the header and in the document order of `gotk-components.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components(Vec<Component>);

impl Components {
    /// Validates like flux's `bootstrapValidate`: required components first, then availability.
    pub fn from_flags(components: &[String], extra: &[String]) -> Result<Self> {
        let names: Vec<&str> = components.iter().chain(extra).map(String::as_str).collect();
        for required in [Component::SourceController, Component::KustomizeController] {
            if !names.contains(&required.as_str()) {
                return Err(Error::ComponentRequired(required.as_str().to_string()));
            }
        }
        let mut parsed = Vec::with_capacity(names.len());
        for name in names {
            let component = Component::parse(name)?;
            // flux passes duplicates on and kustomize fails on the duplicate resource; keeping
            // the first is what the user meant.
            if !parsed.contains(&component) {
                parsed.push(component);
            }
        }
        Ok(Self(parsed))
    }

    /// The components in install order.
    pub fn as_slice(&self) -> &[Component] {
        &self.0
    }

    /// Whether `component` is installed.
    pub fn contains(&self, component: Component) -> bool {
        self.0.contains(&component)
    }

    /// `source-controller,kustomize-controller,…` as in the `# Components:` header.
    pub fn joined(&self) -> String {
        self.0
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Default for Components {
    fn default() -> Self {
        Self(Component::DEFAULTS.to_vec())
    }
}

/// Controller log level (`--log-level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogLevel {
    /// `debug`.
    Debug,
    /// `info`, the default.
    #[default]
    Info,
    /// `error`.
    Error,
}

impl LogLevel {
    /// The level's flag value.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Error => "error",
        }
    }

    /// Reads `--log-level` with flux's messages.
    pub fn parse(value: &str) -> Result<Self> {
        let words = [Self::Debug, Self::Info, Self::Error].map(|level| (level.as_str(), level));
        Choices::new("--log-level", "log level", &words).parse(value)
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_refusals;

    #[test]
    fn components_validate_in_flux_order() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Components::from_flags(&s(&["kustomize-controller"]), &[])
                .unwrap_err()
                .to_string(),
            "component source-controller is required"
        );
        assert_eq!(
            Components::from_flags(&s(&["source-controller"]), &[])
                .unwrap_err()
                .to_string(),
            "component kustomize-controller is required"
        );
        assert_eq!(
            Components::from_flags(
                &s(&["source-controller", "kustomize-controller"]),
                &s(&["nope"])
            )
            .unwrap_err()
            .to_string(),
            "component nope is not available"
        );
        let ok = Components::from_flags(
            &s(&[
                "helm-controller",
                "kustomize-controller",
                "source-controller",
            ]),
            &s(&["source-watcher"]),
        )
        .unwrap();
        assert_eq!(
            ok.joined(),
            "helm-controller,kustomize-controller,source-controller,source-watcher"
        );
        assert_eq!(
            Components::default().joined(),
            "source-controller,kustomize-controller,helm-controller,notification-controller"
        );
    }

    #[test]
    fn log_level_messages_match_flux() {
        assert_eq!(LogLevel::parse("debug").unwrap(), LogLevel::Debug);
        assert_refusals(
            LogLevel::parse,
            &[
                (
                    "",
                    "invalid argument \"\" for \"--log-level\" flag: no log level given, must be one of: debug, info, error",
                ),
                (
                    "warn",
                    "invalid argument \"warn\" for \"--log-level\" flag: unsupported log level 'warn', must be one of: debug, info, error",
                ),
            ],
        );
    }
}
