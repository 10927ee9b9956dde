//! The emulated server's data: users and their tokens, groups, projects, repositories backed by
//! real bare git repositories, permissions and access keys; and who may do what.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::names::user_slug;

/// Permission levels, ordered as Bitbucket's hierarchy: each implies the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    Read,
    Write,
    Admin,
}

/// Each level with Bitbucket's names for it, on a repository and on a project, in the enum's
/// order.
const LEVEL_NAMES: [(Level, &str, &str); 3] = [
    (Level::Read, "REPO_READ", "PROJECT_READ"),
    (Level::Write, "REPO_WRITE", "PROJECT_WRITE"),
    (Level::Admin, "REPO_ADMIN", "PROJECT_ADMIN"),
];

impl Level {
    pub fn project_name(self) -> &'static str {
        LEVEL_NAMES[self as usize].2
    }

    pub fn repo_name(self) -> &'static str {
        LEVEL_NAMES[self as usize].1
    }

    /// Either name of a level.
    pub fn parse(value: &str) -> Option<Self> {
        LEVEL_NAMES
            .iter()
            .find(|(_, repo, project)| value == *repo || value == *project)
            .map(|(level, ..)| *level)
    }
}

/// The seed: who exists before the first request (TOML or JSON file, or the default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
    #[serde(default)]
    pub projects: Vec<SeedProject>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedUser {
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub token: String,
    /// System administrators may do anything.
    #[serde(default)]
    pub sys_admin: bool,
    /// The user's own SSH public keys (`type base64 [comment]`), for git over SSH.
    #[serde(default)]
    pub ssh_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedGroup {
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedProject {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `group name` → level on the project.
    #[serde(default)]
    pub groups: BTreeMap<String, Level>,
    /// `user name` → level on the project.
    #[serde(default)]
    pub users: BTreeMap<String, Level>,
}

impl Default for Seed {
    /// An administrator, a project administered by a group, and a second user who can read the
    /// project but not administer it.
    fn default() -> Self {
        let user = |name: &str, display: &str, sys_admin| SeedUser {
            name: name.into(),
            display_name: display.into(),
            email: format!("{name}@example.com"),
            token: format!("{name}-token-0123456789abcdef"),
            sys_admin,
            ssh_keys: Vec::new(),
        };
        Seed {
            users: vec![
                user("admin", "Administrator", true),
                user("alice", "Alice Admin", false),
                user("reader", "Read Only", false),
            ],
            groups: vec![SeedGroup {
                name: "platform-team".into(),
                members: vec!["alice".into()],
            }],
            projects: vec![SeedProject {
                key: "PLAT".into(),
                name: "Platform".into(),
                description: Some("Cluster configuration".into()),
                groups: [("platform-team".to_string(), Level::Admin)].into(),
                users: [("reader".to_string(), Level::Read)].into(),
            }],
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub slug: String,
    pub display_name: String,
    pub email: String,
    pub token: String,
    pub sys_admin: bool,
    pub ssh_keys: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: u64,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub grants: Grants,
}

/// Who holds which level on a project or a repository, by group name and by user name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Grants {
    pub groups: BTreeMap<String, Level>,
    pub users: BTreeMap<String, Level>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repo {
    pub id: u64,
    pub project_key: String,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub public: bool,
    pub forkable: bool,
    pub default_branch: String,
    /// Flattened: the saved state keeps `groups` and `users` beside the other fields.
    #[serde(flatten)]
    pub grants: Grants,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: u64,
    pub project_key: String,
    pub slug: String,
    pub text: String,
    pub label: String,
    pub level: Level,
}

impl AccessKey {
    /// Whether the key was added to `repo`.
    pub fn is_on(&self, repo: &Repo) -> bool {
        self.project_key == repo.project_key && self.slug == repo.slug
    }
}

/// Everything the emulator knows.
#[derive(Debug)]
pub struct State {
    pub users: Vec<User>,
    pub groups: BTreeMap<String, Vec<String>>,
    pub projects: Vec<Project>,
    pub repos: Vec<Repo>,
    pub access_keys: Vec<AccessKey>,
    pub git_root: PathBuf,
    next_id: u64,
}

/// What survives a restart (users, groups and projects come from the seed).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Persisted {
    repos: Vec<Repo>,
    access_keys: Vec<AccessKey>,
    next_id: u64,
}

impl State {
    pub fn new(seed: &Seed, git_root: &Path) -> Self {
        let mut state = State {
            users: Vec::new(),
            groups: BTreeMap::new(),
            projects: Vec::new(),
            repos: Vec::new(),
            access_keys: Vec::new(),
            git_root: git_root.to_path_buf(),
            next_id: 1,
        };
        for user in &seed.users {
            let id = state.next_id();
            state.users.push(User {
                id,
                slug: user_slug(&user.name),
                name: user.name.clone(),
                display_name: user.display_name.clone(),
                email: user.email.clone(),
                token: user.token.clone(),
                sys_admin: user.sys_admin,
                ssh_keys: user.ssh_keys.clone(),
            });
        }
        for group in &seed.groups {
            state
                .groups
                .insert(group.name.clone(), group.members.clone());
        }
        for project in &seed.projects {
            let id = state.next_id();
            state.projects.push(Project {
                id,
                key: project.key.to_uppercase(),
                name: project.name.clone(),
                description: project.description.clone(),
                grants: Grants {
                    groups: project.groups.clone(),
                    users: project.users.clone(),
                },
            });
        }
        // Repositories, permissions and access keys of an earlier run.
        if let Some(saved) = std::fs::read(state.state_file())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Persisted>(&bytes).ok())
        {
            state.repos = saved.repos;
            state.access_keys = saved.access_keys;
            state.next_id = state.next_id.max(saved.next_id);
        }
        state
    }

    fn state_file(&self) -> PathBuf {
        self.git_root.join("state.json")
    }

    /// Writes what must survive a restart; called after every change.
    pub fn save(&self) -> std::io::Result<()> {
        let persisted = Persisted {
            repos: self.repos.clone(),
            access_keys: self.access_keys.clone(),
            next_id: self.next_id,
        };
        std::fs::create_dir_all(&self.git_root)?;
        let temporary = self.git_root.join("state.json.tmp");
        std::fs::write(&temporary, serde_json::to_vec_pretty(&persisted)?)?;
        std::fs::rename(temporary, self.state_file())
    }

    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The user a token (Bearer, or Basic password with the matching user name) belongs to.
    pub fn authenticate(&self, user_name: Option<&str>, token: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.token == token && user_name.is_none_or(|n| n.eq_ignore_ascii_case(&u.name)))
    }

    pub fn user(&self, name_or_slug: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.slug == name_or_slug.to_lowercase() || u.name == name_or_slug)
    }

    /// The canonical key of a project or personal project (`~USER`), matched case-insensitively.
    pub fn project_index(&self, key: &str) -> Option<usize> {
        self.projects
            .iter()
            .position(|p| p.key.eq_ignore_ascii_case(key))
    }

    pub fn personal_user(&self, key: &str) -> Option<&User> {
        let name = key.strip_prefix('~')?;
        self.user(name)
    }

    pub fn repo_index(&self, project_key: &str, slug: &str) -> Option<usize> {
        self.repos.iter().position(|r| {
            r.project_key.eq_ignore_ascii_case(project_key) && r.slug.eq_ignore_ascii_case(slug)
        })
    }

    /// The highest level `grants` give the user, directly or through a group it belongs to.
    fn granted(&self, grants: &Grants, user: &User) -> Option<Level> {
        let direct = grants.users.get(&user.name).copied();
        let via_groups = self
            .groups
            .iter()
            .filter(|(_, members)| members.contains(&user.name))
            .filter_map(|(group, _)| grants.groups.get(group).copied())
            .max();
        direct.max(via_groups)
    }

    /// The user's level on a project (through user and group grants).
    pub fn project_level(&self, user: &User, project_key: &str) -> Option<Level> {
        if user.sys_admin {
            return Some(Level::Admin);
        }
        if let Some(owner) = project_key.strip_prefix('~') {
            return (user_slug(owner) == user.slug).then_some(Level::Admin);
        }
        let project = &self.projects[self.project_index(project_key)?];
        self.granted(&project.grants, user)
    }

    /// The user's level on a repository: the project level or the repository's own grants.
    pub fn repo_level(&self, user: &User, repo: &Repo) -> Option<Level> {
        let project = self.project_level(user, &repo.project_key);
        project.max(self.granted(&repo.grants, user))
    }

    pub fn git_dir(&self, repo: &Repo) -> PathBuf {
        self.git_root
            .join(repo.project_key.to_lowercase())
            .join(format!("{}.git", repo.slug))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_and_print_bitbucket_names() {
        // `repo_name` and `project_name` index the table by the enum's order.
        for (index, (level, ..)) in LEVEL_NAMES.iter().enumerate() {
            assert_eq!(*level as usize, index);
        }
        assert_eq!(Level::Admin.repo_name(), "REPO_ADMIN");
        assert_eq!(Level::Read.project_name(), "PROJECT_READ");
        assert_eq!(Level::parse("PROJECT_WRITE"), Some(Level::Write));
        assert_eq!(Level::parse("REPO_READ"), Some(Level::Read));
        assert_eq!(Level::parse("WRITE"), None);
    }
}
