//! Where the cluster's configuration lives in git: the branch (`--branch`), the path in the
//! repository (`--path`), the URL the cluster clones and how often it fetches (`--interval`).

use std::fmt;

use super::Namespace;
use crate::duration::GoDuration;
use crate::error::{Error, Result};
use crate::newtype::{from_str_by_parse, string_newtype};

/// A git branch name, checked with `git check-ref-format --branch` rules.
///
/// flux does not validate `--branch` and fails much later (at clone or push); checking up front
/// means nothing is created in Bitbucket for a branch git will refuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BranchName(String);
string_newtype!(BranchName);

impl BranchName {
    /// `--branch`'s default.
    pub const DEFAULT: &'static str = "main";

    /// Checks `--branch` (a leading `refs/heads/` is dropped) and names the rule it breaks.
    pub fn parse(value: &str) -> Result<Self> {
        let fail = |reason: &str| {
            Err(Error::InvalidBranch {
                name: value.to_string(),
                reason: reason.to_string(),
            })
        };
        let name = value.strip_prefix("refs/heads/").unwrap_or(value);
        if name.is_empty() {
            return fail("a branch name must not be empty");
        }
        if name.starts_with('-') {
            return fail("a branch name must not start with '-'");
        }
        if name == "@" {
            return fail("'@' is not a valid branch name");
        }
        if name == "HEAD" {
            return fail("'HEAD' is not a valid branch name");
        }
        if let Some(c) = name
            .chars()
            .find(|c| c.is_ascii_control() || " ~^:?*[\\".contains(*c))
        {
            return fail(&format!(
                "a branch name must not contain {}",
                describe_char(c)
            ));
        }
        if name.contains("..") {
            return fail("a branch name must not contain '..'");
        }
        if name.contains("@{") {
            return fail("a branch name must not contain '@{'");
        }
        if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
            return fail("a branch name must not start or end with '/' or contain '//'");
        }
        if name.ends_with('.') {
            return fail("a branch name must not end with '.'");
        }
        for component in name.split('/') {
            if component.starts_with('.') {
                return fail("no part of a branch name may start with '.'");
            }
            if component.ends_with(".lock") {
                return fail("no part of a branch name may end with '.lock'");
            }
        }
        Ok(Self(name.to_string()))
    }
}

impl Default for BranchName {
    fn default() -> Self {
        Self(Self::DEFAULT.to_string())
    }
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        c if c.is_ascii_control() => format!("the control character {:#04x}", c as u32),
        c => format!("'{c}'"),
    }
}

/// The repository path of a cluster (`--path`), normalised as flux's `safeRelativePath` does
/// (spec §1.6): surrounding white space trimmed, `..` flattened so it cannot leave the
/// repository, leading `/` dropped, then prefixed with `./`. `"."` becomes `./`.
///
/// An unset path is represented by `Option<RelativePath>::None` by callers: flux keeps `""` then,
/// which changes the deploy-key label (spec §2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelativePath(String);
string_newtype!(RelativePath);

impl RelativePath {
    /// Normalises `--path`; control characters are refused.
    pub fn parse(value: &str) -> Result<Self> {
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            // flux accepts these, but git, YAML and Bitbucket labels do not survive them.
            return Err(Error::InvalidPath {
                path: value.to_string(),
                reason: format!("must not contain {}", describe_char(c)),
            });
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in value.trim().split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        Ok(Self(format!("./{}", parts.join("/"))))
    }

    /// The path without the `./` prefix (`clusters/my-cluster`, or `""` for the root), as git
    /// paths are joined (`path.Join` cleans the prefix).
    pub fn repo_relative(&self) -> &str {
        repo_dir(&self.0)
    }

    /// The path of a file of the `namespace` directory inside the repository, e.g.
    /// `clusters/my-cluster/flux-system/gotk-sync.yaml`.
    pub fn file_in(&self, namespace: &Namespace, file: &str) -> String {
        file_in_dir(self.repo_relative(), namespace.as_str(), file)
    }
}

/// The one place flux's path forms are made. A target path (`./clusters/x`, `clusters/x/`,
/// `./` or `""`) as a repository directory: `clusters/x`, or `""` for the root.
pub fn repo_dir(target_path: &str) -> &str {
    target_path.trim_start_matches("./").trim_end_matches('/')
}

/// A target path as a Kustomization's `spec.path`: `./clusters/x`, or `./` for the root
/// (flux's `"./" + strings.TrimPrefix(targetPath, "./")`).
pub fn spec_path(target_path: &str) -> String {
    format!("./{}", target_path.trim_start_matches("./"))
}

/// `file` of the `namespace` directory below repository directory `dir`.
pub fn file_in_dir(dir: &str, namespace: &str, file: &str) -> String {
    if dir.is_empty() {
        format!("{namespace}/{file}")
    } else {
        format!("{dir}/{namespace}/{file}")
    }
}

/// `GitRepository.spec.interval` (`--interval`, default `1m0s`), a positive Go duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval(GoDuration);

impl Interval {
    /// `--interval`'s default.
    pub const DEFAULT: &'static str = "1m0s";

    /// Reads `--interval` as a Go duration; it must be positive.
    pub fn parse(value: &str) -> Result<Self> {
        let invalid = |reason: String| Error::invalid_flag(value, "--interval", reason);
        let duration = GoDuration::parse(value).map_err(|e| invalid(e.0))?;
        // flux accepts zero and negative intervals; source-controller then rejects the object.
        if duration.as_nanos() <= 0 {
            return Err(invalid(
                "the interval must be greater than zero".to_string(),
            ));
        }
        Ok(Self(duration))
    }

    /// The interval as a duration.
    pub fn duration(self) -> GoDuration {
        self.0
    }
}

impl Default for Interval {
    fn default() -> Self {
        Self(GoDuration::from_secs(60))
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

from_str_by_parse!(Interval);

/// The URL the cluster's GitRepository clones: `ssh://` (deploy key) or `https://` (token).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GitUrl(String);
string_newtype!(GitUrl);

impl GitUrl {
    /// Checks the URL the cluster clones: `ssh://`, `https://` or `http://`, with a host and a
    /// repository path.
    pub fn parse(value: &str) -> Result<Self> {
        let fail = |reason: &str| {
            Err(Error::InvalidUrl {
                url: value.to_string(),
                reason: reason.to_string(),
            })
        };
        let Some((scheme, rest)) = value.split_once("://") else {
            return fail(
                "it needs a scheme: ssh://git@host:7999/KEY/repo or https://host/scm/KEY/repo.git",
            );
        };
        if !matches!(scheme, "ssh" | "https" | "http") {
            return fail("the scheme must be ssh, https or http");
        }
        let host = rest.split('/').next().unwrap_or_default();
        let host = host.rsplit('@').next().unwrap_or_default();
        if host.is_empty() || rest.split('/').nth(1).is_none_or(str::is_empty) {
            return fail("it needs a host and a repository path");
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return fail("it must not contain white space");
        }
        Ok(Self(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_reasons, assert_refusals};

    #[test]
    fn branch_accepts_usual_names() {
        for ok in ["main", "develop", "feature/x-1", "release-2.0", "a.b"] {
            assert_eq!(BranchName::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(
            BranchName::parse("refs/heads/main").unwrap().as_str(),
            "main"
        );
    }

    #[test]
    fn branch_rejects_what_git_rejects() {
        let cases = [
            ("", "must not be empty"),
            ("-x", "must not start with '-'"),
            ("a b", "must not contain a space"),
            ("a..b", "must not contain '..'"),
            ("a~1", "must not contain '~'"),
            ("a:b", "must not contain ':'"),
            ("a@{1}", "must not contain '@{'"),
            ("a/", "must not start or end with '/'"),
            ("a//b", "contain '//'"),
            ("a.", "must not end with '.'"),
            ("x/.hidden", "may start with '.'"),
            ("x.lock", "may end with '.lock'"),
            ("@", "not a valid branch name"),
            ("a\tb", "control character 0x09"),
        ];
        for (bad, reason) in cases {
            let message = BranchName::parse(bad).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("invalid branch name \"{bad}\": "))
                    && message.contains(reason),
                "{bad:?}: {message}"
            );
        }
    }

    #[test]
    fn path_is_normalised_like_flux() {
        // Examples from spec §1.6.
        let cases = [
            ("clusters/my-cluster", "./clusters/my-cluster"),
            ("/a/../b/", "./b"),
            (".", "./"),
            ("", "./"),
            ("  clusters/prod  ", "./clusters/prod"),
            ("./clusters//prod/.", "./clusters/prod"),
            ("../../etc", "./etc"),
            ("a/b/../../..", "./"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                RelativePath::parse(input).unwrap().as_str(),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn path_rejects_control_characters() {
        let err = RelativePath::parse("a\nb").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid path \"a\nb\": must not contain the control character 0x0a"
        );
    }

    #[test]
    fn path_files_are_joined_like_path_join() {
        let ns = Namespace::default();
        let path = RelativePath::parse("clusters/my-cluster").unwrap();
        assert_eq!(
            path.file_in(&ns, "gotk-sync.yaml"),
            "clusters/my-cluster/flux-system/gotk-sync.yaml"
        );
        let root = RelativePath::parse(".").unwrap();
        assert_eq!(
            root.file_in(&ns, "kustomization.yaml"),
            "flux-system/kustomization.yaml"
        );
    }

    #[test]
    fn interval_round_trips_go_format() {
        assert_eq!(Interval::parse("1m").unwrap().to_string(), "1m0s");
        assert_eq!(Interval::parse("90s").unwrap().to_string(), "1m30s");
        assert_eq!(Interval::default().to_string(), Interval::DEFAULT);
    }

    #[test]
    fn interval_errors_name_the_flag() {
        assert_refusals(
            Interval::parse,
            &[
                (
                    "5",
                    "invalid argument \"5\" for \"--interval\" flag: time: missing unit in duration \"5\"",
                ),
                (
                    "0s",
                    "invalid argument \"0s\" for \"--interval\" flag: the interval must be greater than zero",
                ),
            ],
        );
    }

    #[test]
    fn git_urls_need_scheme_host_and_path() {
        for ok in [
            "ssh://git@bitbucket.example.com:7999/PRJ/fleet-infra",
            "https://bitbucket.example.com/scm/PRJ/fleet-infra.git",
        ] {
            assert_eq!(GitUrl::parse(ok).unwrap().as_str(), ok);
        }
        assert_reasons(
            GitUrl::parse,
            &[
                ("bitbucket.example.com/PRJ/x", "needs a scheme"),
                ("ftp://host/x", "must be ssh, https or http"),
                ("ssh://git@/x", "needs a host"),
                ("https://host", "repository path"),
                ("https://host/a b", "white space"),
            ],
        );
    }
}
