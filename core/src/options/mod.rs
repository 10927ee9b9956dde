//! Validated option types shared by the web form, the CLI and the server.
//!
//! Each type can only hold a value flux would accept (or, where flux accepts something that
//! breaks later, a value that works), and its error text is flux's own where flux has one
//! (spec §1.5), so the form, the CLI and the API say the same thing about the same input.

mod choices;
mod controllers;
mod git;

pub(crate) use choices::Choices;

pub use controllers::{Component, Components, LogLevel};
pub use git::{BranchName, GitUrl, Interval, RelativePath, file_in_dir, repo_dir, spec_path};

use crate::error::{Error, Result};
use crate::newtype::string_newtype;

/// A Kubernetes namespace: an RFC 1123 DNS label (`-n/--namespace`, default `flux-system`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace(String);
string_newtype!(Namespace);

impl Namespace {
    /// `--namespace`'s default.
    pub const DEFAULT: &'static str = "flux-system";

    /// Checks `--namespace` with flux's message.
    pub fn parse(value: &str) -> Result<Self> {
        if is_dns1123_label(value) {
            Ok(Self(value.to_string()))
        } else {
            Err(Error::InvalidNamespace(value.to_string()))
        }
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Self(Self::DEFAULT.to_string())
    }
}

/// RFC 1123 label: 1–63 of `[a-z0-9-]`, starting and ending with an alphanumeric.
pub fn is_dns1123_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && alnum(&bytes[0])
        && alnum(&bytes[bytes.len() - 1])
}

/// Checks that `name` (given with `flag`) is a Kubernetes object name: a DNS-1123 subdomain of
/// at most 253 characters, so a Secret by that name can be created (flux finds out at apply).
pub fn check_object_name(name: &str, flag: &str) -> Result<()> {
    let labels_ok = name.split('.').all(is_dns1123_label);
    if !name.is_empty() && name.len() <= 253 && labels_ok {
        Ok(())
    } else {
        Err(Error::invalid_flag(
            name,
            flag,
            "must be a lower-case DNS name (letters, digits, '-' and '.'), as Kubernetes object names are",
        ))
    }
}

/// The label of the deploy key fluxstrap registers, as flux names it (spec §2.5): the non-empty
/// parts of namespace, branch, secret name and path joined with `-`, e.g.
/// `flux-system-main-flux-system-./clusters/my-cluster`.
pub fn deploy_key_label(
    namespace: &Namespace,
    branch: &BranchName,
    secret_name: &str,
    path: Option<&RelativePath>,
) -> String {
    [
        namespace.as_str(),
        branch.as_str(),
        secret_name,
        path.map_or("", RelativePath::as_str),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_accepts_dns_labels() {
        for ok in ["flux-system", "a", "gitops", "x1-y2", &"a".repeat(63)] {
            assert_eq!(Namespace::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn namespace_rejects_with_flux_message() {
        for bad in ["", "Flux", "-a", "a-", "a_b", "a.b", &"a".repeat(64), "ä"] {
            assert_eq!(
                Namespace::parse(bad).unwrap_err().to_string(),
                format!("namespace must be a valid DNS label: \"{bad}\"")
            );
        }
    }

    #[test]
    fn deploy_key_label_matches_flux_examples() {
        let ns = Namespace::default();
        let branch = BranchName::default();
        let path = RelativePath::parse("clusters/my-cluster").unwrap();
        assert_eq!(
            deploy_key_label(&ns, &branch, "flux-system", Some(&path)),
            "flux-system-main-flux-system-./clusters/my-cluster"
        );
        let root = RelativePath::parse(".").unwrap();
        assert_eq!(
            deploy_key_label(&ns, &branch, "flux-system", Some(&root)),
            "flux-system-main-flux-system-./"
        );
        assert_eq!(
            deploy_key_label(&ns, &branch, "flux-system", None),
            "flux-system-main-flux-system"
        );
    }
}
