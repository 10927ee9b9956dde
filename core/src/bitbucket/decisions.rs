//! What fluxstrap decides from Bitbucket's answers: group grants and deploy-key (access key)
//! reconciliation, fixing flux's defects listed in spec §2.3 and §3.5.

use std::fmt;

use crate::error::{Error, Result};

use super::model::{AccessKey, GroupPermission};

/// A repository permission, ordered read < write < admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RepoPermission {
    /// `REPO_READ`: clone and pull (`pull` in `--group`).
    Read,
    /// `REPO_WRITE`: also push (`push`, the default).
    Write,
    /// `REPO_ADMIN`: also manage the repository's settings and permissions (`admin`).
    Admin,
}

impl RepoPermission {
    /// Every permission with its Bitbucket name, the project permission that implies it and its
    /// `--group` word, in the enum's order.
    const NAMES: [(Self, &'static str, &'static str, &'static str); 3] = [
        (Self::Read, "REPO_READ", "PROJECT_READ", "pull"),
        (Self::Write, "REPO_WRITE", "PROJECT_WRITE", "push"),
        (Self::Admin, "REPO_ADMIN", "PROJECT_ADMIN", "admin"),
    ];

    /// Bitbucket's name (`REPO_READ`, …).
    pub fn as_api(self) -> &'static str {
        let (_, repository, _, _) = Self::NAMES[self as usize];
        repository
    }

    /// Reads `REPO_*`, or `PROJECT_*` mapped to the repository level it implies.
    pub fn from_api(value: &str) -> Option<Self> {
        Self::NAMES
            .into_iter()
            .find(|(_, repository, project, _)| value == *repository || value == *project)
            .map(|(permission, ..)| permission)
    }

    /// Reads a `--group` word (`pull`, `push`, `admin`).
    fn from_group_flag(word: &str) -> Option<Self> {
        Self::NAMES
            .into_iter()
            .find(|(.., group_flag)| word == *group_flag)
            .map(|(permission, ..)| permission)
    }
}

/// The word of `--group` (`pull`, `push`, `admin`).
impl fmt::Display for RepoPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (.., group_flag) = Self::NAMES[*self as usize];
        f.write_str(group_flag)
    }
}

/// One `--group name[:pull|push|admin]` entry (default `push`, as flux).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupGrant {
    /// The group's name, as Bitbucket knows it.
    pub group: String,
    /// The least permission the group must have on the repository.
    pub permission: RepoPermission,
}

impl GroupGrant {
    /// Parses one entry. Unlike flux, `devs:admin` is only the group `devs` with admin (flux
    /// also tries to grant a group literally named `devs:admin`).
    pub fn parse(entry: &str) -> Result<Self> {
        let (group, permission) = match entry.rsplit_once(':') {
            Some((group, word)) => {
                let permission = RepoPermission::from_group_flag(word)
                    .ok_or_else(|| {
                        Error::InvalidGroup(format!(
                            "invalid permission \"{word}\" for team \"{group}\": use pull, push or admin"
                        ))
                    })?;
                (group, permission)
            }
            None => (entry, RepoPermission::Write),
        };
        if group.trim().is_empty() {
            return Err(Error::InvalidGroup(format!("\"{entry}\" names no group")));
        }
        Ok(Self {
            group: group.to_string(),
            permission,
        })
    }
}

/// What to do about one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupDecision {
    /// It already has this permission or more (repository or project level); nothing is sent.
    UpToDate(RepoPermission),
    /// Grant (or raise to) this permission on the repository.
    Grant(RepoPermission),
}

/// Decides a group's grant from the repository- and project-level entries Bitbucket listed for
/// it. The list filter is a substring match, so names are compared exactly here; a grant is
/// never lowered.
pub fn decide_group_grant(
    grant: &GroupGrant,
    repository_entries: &[GroupPermission],
    project_entries: &[GroupPermission],
) -> GroupDecision {
    let effective = repository_entries
        .iter()
        .chain(project_entries)
        .filter(|entry| entry.group.name == grant.group)
        .filter_map(|entry| RepoPermission::from_api(&entry.permission))
        .max();
    match effective {
        Some(current) if current >= grant.permission => GroupDecision::UpToDate(current),
        _ => GroupDecision::Grant(grant.permission),
    }
}

/// `type base64`, the part of an OpenSSH public key line that identifies the key.
pub fn key_material(text: &str) -> Option<(&str, &str)> {
    let mut fields = text.split_whitespace();
    Some((fields.next()?, fields.next()?))
}

/// What to do about the deploy key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessKeyDecision {
    /// The key is registered with the wanted permission.
    UpToDate {
        /// Bitbucket's id of the registered key.
        id: u64,
    },
    /// The key is registered, with another permission: change it in place.
    ChangePermission {
        /// Bitbucket's id of the registered key.
        id: u64,
        /// The permission it gets.
        to: RepoPermission,
    },
    /// Not registered (or deleted since): add it.
    Add,
}

/// Matches our public key against the repository's access keys by key material (comments and
/// labels differ between clients). Keys that are not ours are never touched.
pub fn decide_access_key(
    existing: &[AccessKey],
    public_key: &str,
    wanted: RepoPermission,
) -> AccessKeyDecision {
    let Some(ours) = key_material(public_key) else {
        return AccessKeyDecision::Add;
    };
    match existing
        .iter()
        .find(|k| key_material(&k.key.text) == Some(ours))
    {
        Some(key) if RepoPermission::from_api(&key.permission) == Some(wanted) => {
            AccessKeyDecision::UpToDate { id: key.key.id }
        }
        Some(key) => AccessKeyDecision::ChangePermission {
            id: key.key.id,
            to: wanted,
        },
        None => AccessKeyDecision::Add,
    }
}

/// The key text registered for our deploy key: `type base64 label`. (flux sends
/// `"type base64\n label"` because its public key ends in a newline.)
pub fn access_key_text(public_key: &str, label: &str) -> Option<String> {
    let (kind, material) = key_material(public_key)?;
    Some(format!("{kind} {material} {label}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitbucket::model::{GroupRef, SshKey};

    fn entry(name: &str, permission: &str) -> GroupPermission {
        GroupPermission {
            group: GroupRef { name: name.into() },
            permission: permission.into(),
        }
    }

    fn key(id: u64, text: &str, permission: &str) -> AccessKey {
        AccessKey {
            key: SshKey {
                id,
                text: text.into(),
                label: "someone".into(),
            },
            permission: permission.into(),
        }
    }

    #[test]
    fn every_permission_has_its_names() {
        for (permission, api, word) in [
            (RepoPermission::Read, "REPO_READ", "pull"),
            (RepoPermission::Write, "REPO_WRITE", "push"),
            (RepoPermission::Admin, "REPO_ADMIN", "admin"),
        ] {
            assert_eq!(permission.as_api(), api);
            assert_eq!(permission.to_string(), word);
            assert_eq!(RepoPermission::from_api(api), Some(permission));
        }
        assert_eq!(
            RepoPermission::from_api("PROJECT_WRITE"),
            Some(RepoPermission::Write)
        );
        assert_eq!(RepoPermission::from_api("SYS_ADMIN"), None);
    }

    #[test]
    fn group_entries_parse_without_the_bogus_double() {
        assert_eq!(
            GroupGrant::parse("devs:admin").unwrap(),
            GroupGrant {
                group: "devs".into(),
                permission: RepoPermission::Admin
            }
        );
        assert_eq!(
            GroupGrant::parse("devs").unwrap().permission,
            RepoPermission::Write
        );
        let err = GroupGrant::parse("devs:maintain").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid permission \"maintain\" for team \"devs\": use pull, push or admin"
        );
        assert!(GroupGrant::parse(":push").is_err());
    }

    #[test]
    fn missing_group_permission_is_granted_unlike_flux() {
        let grant = GroupGrant::parse("devs:push").unwrap();
        assert_eq!(
            decide_group_grant(&grant, &[], &[]),
            GroupDecision::Grant(RepoPermission::Write)
        );
    }

    #[test]
    fn names_compare_exactly_despite_the_substring_filter() {
        let grant = GroupGrant::parse("dev").unwrap();
        let listed = [entry("devops", "REPO_ADMIN")];
        assert_eq!(
            decide_group_grant(&grant, &listed, &[]),
            GroupDecision::Grant(RepoPermission::Write)
        );
    }

    #[test]
    fn project_level_and_higher_permissions_count() {
        let grant = GroupGrant::parse("devs:push").unwrap();
        assert_eq!(
            decide_group_grant(
                &grant,
                &[entry("devs", "REPO_READ")],
                &[entry("devs", "PROJECT_ADMIN")]
            ),
            GroupDecision::UpToDate(RepoPermission::Admin)
        );
        // A lower grant is raised.
        assert_eq!(
            decide_group_grant(&grant, &[entry("devs", "REPO_READ")], &[]),
            GroupDecision::Grant(RepoPermission::Write)
        );
    }

    #[test]
    fn access_keys_match_by_material_not_comment() {
        let ours = "ecdsa-sha2-nistp384 AAAAE2Vj\n";
        let existing = [
            key(7, "ssh-ed25519 AAAAC3Nz someone-else", "REPO_WRITE"),
            key(
                9,
                "ecdsa-sha2-nistp384 AAAAE2Vj flux-system-main-flux-system-./clusters/a",
                "REPO_READ",
            ),
        ];
        assert_eq!(
            decide_access_key(&existing, ours, RepoPermission::Read),
            AccessKeyDecision::UpToDate { id: 9 }
        );
        assert_eq!(
            decide_access_key(&existing, ours, RepoPermission::Write),
            AccessKeyDecision::ChangePermission {
                id: 9,
                to: RepoPermission::Write
            }
        );
        // Deleted in Bitbucket since the last run: added again.
        assert_eq!(
            decide_access_key(&existing[..1], ours, RepoPermission::Read),
            AccessKeyDecision::Add
        );
        assert_eq!(
            access_key_text(ours, "flux-system-main-flux-system").as_deref(),
            Some("ecdsa-sha2-nistp384 AAAAE2Vj flux-system-main-flux-system")
        );
    }
}
