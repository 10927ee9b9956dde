//! A dry run's result as data: each file with its change and diff against the branch, each
//! Bitbucket write, each object and what applying it would do, the deploy key. The CLI prints
//! it, the server returns it as JSON, the page shows it.

use serde::{Deserialize, Serialize};

use super::event::{FileChange, Step, Subject};

/// One file of the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedFile {
    /// Which commit writes it.
    pub subject: Subject,
    /// Path in the repository.
    pub path: String,
    /// What it would become.
    pub change: FileChange,
    /// The content the branch would hold.
    pub content: String,
    /// A unified diff from the branch's content (empty when unchanged or kept).
    pub diff: String,
}

/// One Bitbucket write that would be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedWrite {
    /// The step that makes it.
    pub step: Step,
    /// `POST`, `PUT`, `DELETE`.
    pub method: String,
    /// The REST path.
    pub path: String,
    /// What it does, in words.
    pub what: String,
}

/// One cluster object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedObject {
    /// The step that applies it.
    pub step: Step,
    /// `Kind/name` or `Kind/namespace/name`.
    pub object: String,
    /// `created`, `configured` or `unchanged`.
    pub action: String,
}

/// Everything a bootstrap would change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The files, in commit order.
    pub files: Vec<PlannedFile>,
    /// The Bitbucket writes, in order.
    pub bitbucket: Vec<PlannedWrite>,
    /// The cluster objects, in apply order.
    pub objects: Vec<PlannedObject>,
    /// The deploy key's label, when one would be registered.
    pub deploy_key: Option<String>,
}

impl Plan {
    /// Whether the bootstrap would change nothing at all.
    pub fn is_empty(&self) -> bool {
        self.files
            .iter()
            .all(|f| matches!(f.change, FileChange::Unchanged | FileChange::Keep))
            && self.bitbucket.is_empty()
            && self.objects.iter().all(|o| o.action == "unchanged")
            && self.deploy_key.is_none()
    }
}

/// A unified diff of `old` to `new` for `path` (`a/path`, `b/path` headers, 3 lines of context),
/// empty when they are equal.
pub fn unified_diff(path: &str, old: Option<&str>, new: &str) -> String {
    let old_text = old.unwrap_or("");
    if old == Some(new) {
        return String::new();
    }
    let diff = similar::TextDiff::from_lines(old_text, new);
    let old_name = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_string()
    };
    diff.unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_are_unified_with_git_style_headers() {
        let diff = unified_diff("a.yaml", Some("x: 1\ny: 2\n"), "x: 1\ny: 3\n");
        assert_eq!(
            diff,
            "--- a/a.yaml\n+++ b/a.yaml\n@@ -1,2 +1,2 @@\n x: 1\n-y: 2\n+y: 3\n"
        );
        let new = unified_diff("b.yaml", None, "z: 1\n");
        assert!(new.starts_with("--- /dev/null\n+++ b/b.yaml\n"), "{new}");
        assert!(new.ends_with("+z: 1\n"), "{new}");
        assert_eq!(unified_diff("c.yaml", Some("same\n"), "same\n"), "");
    }
}
