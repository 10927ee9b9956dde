//! Bitbucket Server naming rules (reference §3): project keys, repository names and the slugs
//! the server derives from them.

use crate::error::{Error, Result};
use crate::newtype::string_newtype;

/// A project key: starts with a letter, then ASCII letters, digits and `_`. Bitbucket matches
/// keys case-insensitively and shows them upper-case; personal projects are `~user`. The key
/// is kept as given.
#[derive(Debug, Clone, Eq)]
pub struct ProjectKey(String);
string_newtype!(ProjectKey);

impl ProjectKey {
    /// Accepts a project key (`PLAT`) or a personal project (`~user`), with Bitbucket's rule
    /// and wording.
    pub fn parse(value: &str) -> Result<Self> {
        if let Some(user) = value.strip_prefix('~') {
            let valid = !user.is_empty() && !user.chars().any(|c| c.is_whitespace() || c == '/');
            checked(
                valid,
                "personal project key",
                value,
                "it is ~ followed by a user name",
            )?;
            return Ok(Self(value.to_string()));
        }
        let mut chars = value.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        // Bitbucket's own wording (400, context "key").
        checked(
            valid,
            "project key",
            value,
            "Project keys must start with a letter and may only consist of ASCII letters, numbers and underscores (A-Z, a-z, 0-9, _)",
        )?;
        Ok(Self(value.to_string()))
    }

    /// Whether this is a user's personal project (`~user`), which has no project permissions.
    pub fn is_personal(&self) -> bool {
        self.0.starts_with('~')
    }
}

/// Keys compare case-insensitively, as Bitbucket looks them up.
impl PartialEq for ProjectKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

/// A repository name as the user types it: 1–128 characters, starting with a letter or digit,
/// then letters, digits, spaces, `-`, `_` and `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName(String);
string_newtype!(RepoName);

impl RepoName {
    /// Accepts a repository name (`--repository`) by Bitbucket's rule and wording.
    pub fn parse(value: &str) -> Result<Self> {
        let mut chars = value.chars();
        let valid = !value.is_empty()
            && value.chars().count() <= 128
            && chars.next().is_some_and(char::is_alphanumeric)
            && chars.all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
        checked(
            valid,
            "repository name",
            value,
            "Repository names are limited to 128 characters. They must start with a letter or number and may contain spaces, hyphens, underscores and periods",
        )?;
        Ok(Self(value.to_string()))
    }

    /// The slug Bitbucket Server derives: lower-case, accents folded, every other character
    /// that is not `[a-z0-9_.-]` replaced by `-` one for one (`a@b!-#c` → `a-b---c`).
    pub fn slug(&self) -> RepoSlug {
        let slug = self
            .0
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| fold_accent(c).unwrap_or(c))
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        RepoSlug(slug)
    }
}

/// Latin letters with diacritics folded to their base letter (the common ones; Bitbucket folds
/// `føøbar` to `foobar`).
fn fold_accent(c: char) -> Option<char> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => 'u',
        'ý' | 'ÿ' => 'y',
        'ś' | 'š' => 's',
        'ź' | 'ż' | 'ž' => 'z',
        'ł' => 'l',
        'ř' => 'r',
        'ť' => 't',
        'ď' => 'd',
        _ => return None,
    })
}

/// A repository slug as it appears in URLs, lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoSlug(String);
string_newtype!(RepoSlug);

impl RepoSlug {
    /// Accepts an existing slug (from an API answer or a URL).
    pub fn parse(value: &str) -> Result<Self> {
        let mut chars = value.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        checked(
            valid,
            "repository slug",
            value,
            "a slug starts with a letter or digit and holds only letters, digits, '-', '_' and '.'",
        )?;
        Ok(Self(value.to_ascii_lowercase()))
    }
}

/// Nothing when `valid`, else that `value` is not a valid `what`, for `reason` (in
/// Bitbucket's words where it has them).
fn checked(valid: bool, what: &'static str, value: &str, reason: &str) -> Result<()> {
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what,
            value: value.to_string(),
            reason: reason.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_keys_follow_bitbucket_rules() {
        for ok in ["PRJ", "prj", "A_1", "~vivek"] {
            assert!(ProjectKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1PRJ", "PR-J", "P R", "~"] {
            assert!(ProjectKey::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ProjectKey::parse("prj").unwrap(),
            ProjectKey::parse("PRJ").unwrap()
        );
        assert!(ProjectKey::parse("~VIVEK").unwrap().is_personal());
    }

    #[test]
    fn slugs_are_derived_like_bitbucket_server() {
        // Examples from the reference (§3).
        for (name, slug) in [
            ("foo bar", "foo-bar"),
            ("My repo", "my-repo"),
            ("føøbar", "foobar"),
            ("fleet-infra", "fleet-infra"),
            ("Fleet.Infra_2", "fleet.infra_2"),
        ] {
            assert_eq!(RepoName::parse(name).unwrap().slug().to_string(), slug);
        }
    }

    #[test]
    fn repository_names_use_the_server_message() {
        let err = RepoName::parse("-bad").unwrap_err().to_string();
        assert!(err.contains("must start with a letter or number"), "{err}");
        assert!(RepoName::parse(&"a".repeat(129)).is_err());
        assert!(RepoName::parse("a@b").is_err());
    }
}
