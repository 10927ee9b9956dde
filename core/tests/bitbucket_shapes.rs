//! The Bitbucket model reads what real servers answered: every recorded response family in
//! `../shared/bitbucket/recorded` parses into fluxstrap's types.

use std::path::PathBuf;

use fluxstrap_core::bitbucket::{
    AccessKey, ApplicationProperties, Branch, ErrorEnvelope, GroupPermission, Page, Project,
    Repository, User,
};
use fluxstrap_testkit::paths::recorded_bitbucket as recorded;
use serde::de::DeserializeOwned;

/// Response bodies of `family` whose name contains `pattern` (not the `.meta.json` files).
fn bodies(family: &str, pattern: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(recorded().join(family))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.contains(pattern) && name.ends_with(".json") && !name.ends_with(".meta.json")
        })
        .collect();
    files.sort();
    files
}

fn parse_all<T: DeserializeOwned>(family: &str, pattern: &str) -> usize {
    let files = bodies(family, pattern);
    assert!(!files.is_empty(), "no recorded {family}/*{pattern}*");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if let Err(e) = serde_json::from_str::<T>(&text) {
            panic!("{}: {e}", file.display());
        }
    }
    files.len()
}

#[test]
fn recorded_responses_parse_into_the_model() {
    let mut parsed = 0;
    parsed += parse_all::<Repository>("repository", "repo-single");
    parsed += parse_all::<Page<Repository>>("repository", "repos-list");
    parsed += parse_all::<Project>("project", "project-single");
    parsed += parse_all::<Page<Project>>("project", "projects-list");
    parsed += parse_all::<User>("user", "user-single");
    parsed += parse_all::<Page<User>>("user", "users-list");
    parsed += parse_all::<Page<AccessKey>>("access-keys", "keys-list");
    parsed += parse_all::<AccessKey>("access-keys", "key-single");
    parsed += parse_all::<Page<GroupPermission>>("permissions", "permissions-groups-list");
    parsed +=
        parse_all::<ApplicationProperties>("application-properties", "application-properties");
    parsed += parse_all::<Branch>("branches", "default-branch.json");
    parsed += parse_all::<Page<Branch>>("branches", "branches-list");
    parsed += parse_all::<ErrorEnvelope>("errors", "__");
    println!("{parsed} recorded responses parsed");
    assert!(parsed >= 40, "only {parsed} recorded responses checked");
}

#[test]
fn recorded_clone_links_give_usable_urls() {
    let text = std::fs::read_to_string(recorded().join("repository/sg__repo-single.json")).unwrap();
    let repo: Repository = serde_json::from_str(&text).unwrap();
    assert_eq!(
        repo.clone_link("http").as_deref(),
        Some("http://127.0.0.1:7990/scm/public/public-repo.git")
    );
    assert_eq!(
        repo.clone_link("ssh").as_deref(),
        Some("ssh://git@127.0.0.1:7999/public/public-repo.git")
    );
}
