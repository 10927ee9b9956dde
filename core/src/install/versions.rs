//! How flux's install templates changed between releases, as data: each row says from which
//! version on a template behaviour applies (learnt from the real files each release wrote).

use super::FluxVersion;

/// Template behaviours that differ between Flux releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateRules {
    /// The LabelTransformer also labels Deployment pod templates (v2.7.0+).
    pub pod_template_labels: bool,
    /// How `--events-addr` names notification-controller's namespace.
    pub events_namespace: EventsNamespace,
}

/// The namespace part of the events address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsNamespace {
    /// The install namespace, written literally (up to v2.6).
    Literal,
    /// `$(RUNTIME_NAMESPACE)`, resolved by the pod (v2.7.0+).
    RuntimeVariable,
}

const LEGACY: TemplateRules = TemplateRules {
    pod_template_labels: false,
    events_namespace: EventsNamespace::Literal,
};

/// Rows in ascending version order; a version uses the last row at or below it.
const TABLE: [(FluxVersion, TemplateRules); 1] = [(
    FluxVersion::new(2, 7, 0),
    TemplateRules {
        pod_template_labels: true,
        events_namespace: EventsNamespace::RuntimeVariable,
    },
)];

/// The template rules of `version`.
pub fn rules_for(version: &FluxVersion) -> TemplateRules {
    TABLE
        .iter()
        .rev()
        .find(|(since, _)| since <= version)
        .map_or(LEGACY, |(_, rules)| *rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_pick_their_row() {
        assert_eq!(rules_for(&FluxVersion::new(2, 6, 4)), LEGACY);
        assert_eq!(rules_for(&FluxVersion::new(2, 1, 2)), LEGACY);
        assert!(rules_for(&FluxVersion::new(2, 7, 0)).pod_template_labels);
        assert_eq!(
            rules_for(&FluxVersion::new(2, 9, 4)).events_namespace,
            EventsNamespace::RuntimeVariable
        );
    }
}
