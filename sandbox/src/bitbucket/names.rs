//! Bitbucket Server's naming rules (reference §3), written from the reference rather than shared
//! with `core`, so that the emulator stays an independent witness of the client's slug logic.
//!
//! - A repository name is at most 128 characters, starts with a letter or digit and otherwise
//!   holds letters, digits, spaces, hyphens, underscores and periods.
//! - Its slug is derived from it: lower-case, diacritics folded (`føøbar` → `foobar`), and each
//!   character outside `[a-z0-9_.-]` replaced by `-` on its own (`a@b!-#c` → `a-b---c`). A slug
//!   must start with a letter or digit.
//! - A user's slug is the lower-cased name with `@` as `_`.

use icu_normalizer::DecomposingNormalizerBorrowed;
use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;

/// The most characters a repository name (and its slug) may have.
const MAX_LENGTH: usize = 128;

/// One rule a requested repository name breaks: the request field it is reported against
/// (`name` or `slug`) and the server's words, as in the recorded 400 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameProblem {
    pub context: &'static str,
    pub message: &'static str,
}

const NAME_PROBLEM: NameProblem = NameProblem {
    context: "name",
    message: "Repository names are limited to 128 characters. They must start with a letter or \
              number and may contain spaces, hyphens, underscores and periods",
};

const SLUG_PROBLEM: NameProblem = NameProblem {
    context: "slug",
    message: "Please enter a non-empty value less than 128 characters",
};

/// The slug of a requested repository name, or every rule the name and its slug break (the
/// name's first, as Bitbucket lists them).
pub(crate) fn repository_slug(name: &str) -> Result<String, Vec<NameProblem>> {
    let slug = slug_of(name);
    let mut problems = Vec::new();
    if !valid_repository_name(name) {
        problems.push(NAME_PROBLEM);
    }
    if !valid_slug(&slug) {
        problems.push(SLUG_PROBLEM);
    }
    if problems.is_empty() {
        Ok(slug)
    } else {
        Err(problems)
    }
}

fn valid_repository_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.chars().count() <= MAX_LENGTH
        && chars.next().is_some_and(char::is_alphanumeric)
        && chars.all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
}

fn valid_slug(slug: &str) -> bool {
    slug.chars().count() <= MAX_LENGTH
        && slug
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// The slug Bitbucket derives from a repository name (see the module comment).
fn slug_of(name: &str) -> String {
    let categories = CodePointMapData::<GeneralCategory>::new();
    let lower = name.to_lowercase();
    DecomposingNormalizerBorrowed::new_nfd()
        .normalize(&lower)
        .chars()
        // NFD splits `é` into `e` and a combining accent; the accent goes.
        .filter(|c| categories.get(*c) != GeneralCategory::NonspacingMark)
        .map(fold_stroke)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Latin letters whose diacritic is part of the letter, so that NFD leaves them whole
/// (`ø` is the reference's own example).
fn fold_stroke(c: char) -> char {
    match c {
        'ø' => 'o',
        'ł' => 'l',
        'đ' => 'd',
        'ħ' => 'h',
        'ŧ' => 't',
        'ƀ' => 'b',
        'ı' => 'i',
        other => other,
    }
}

/// The user slug Bitbucket derives: lower case, `@` as `_` (reference §3: `VIVEK` → `vivek`,
/// `username@example.com` → `username_example.com`).
pub fn user_slug(name: &str) -> String {
    name.to_lowercase().replace('@', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_references_examples() {
        // Reference §3, "Bitbucket Server" column of Atlassian's slug table (the first is
        // not a name the REST API accepts, but shows the one-for-one replacement).
        assert_eq!(slug_of("a@b!-#c"), "a-b---c");
        assert_eq!(repository_slug("foo bar").unwrap(), "foo-bar");
        assert_eq!(repository_slug("føøbar").unwrap(), "foobar");
        // RestRepository's example: name `My repo`, slug `my-repo`.
        assert_eq!(repository_slug("My repo").unwrap(), "my-repo");
        // Allowed characters pass through; a slug may end with `-`.
        assert_eq!(repository_slug("fleet_v1.2-").unwrap(), "fleet_v1.2-");
        // Accents that NFD separates from their letter are dropped.
        assert_eq!(repository_slug("Crème Brûlée").unwrap(), "creme-brulee");
    }

    #[test]
    fn names_outside_the_rules_get_the_recorded_400_messages() {
        // The recorded answer for `!-_999-9*` names both fields, the name first.
        let problems = repository_slug("!-_999-9*").unwrap_err();
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.context, p.message))
                .collect::<Vec<_>>(),
            [
                (
                    "name",
                    "Repository names are limited to 128 characters. They must start with a \
                     letter or number and may contain spaces, hyphens, underscores and periods"
                ),
                (
                    "slug",
                    "Please enter a non-empty value less than 128 characters"
                ),
            ]
        );
        assert_eq!(repository_slug("").unwrap_err().len(), 2);
        // Only the name is wrong: its slug `a-b` would be fine.
        assert_eq!(
            repository_slug("a*b").unwrap_err(),
            vec![NAME_PROBLEM],
            "characters outside the name rules"
        );
        assert_eq!(repository_slug(&"a".repeat(128)).unwrap(), "a".repeat(128));
        assert_eq!(
            repository_slug(&"a".repeat(129)).unwrap_err(),
            vec![NAME_PROBLEM, SLUG_PROBLEM]
        );
        // A name may start with any letter, but a slug must start with an ASCII one.
        assert_eq!(repository_slug("日本").unwrap_err(), vec![SLUG_PROBLEM]);
    }

    #[test]
    fn user_slugs_are_lower_case_with_at_as_underscore() {
        assert_eq!(user_slug("VIVEK"), "vivek");
        assert_eq!(user_slug("JoeSmith"), "joesmith");
        assert_eq!(user_slug("username@example.com"), "username_example.com");
    }
}
