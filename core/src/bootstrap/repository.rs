//! Step 1 (spec §2.2, §2.3, §2.6): the owner's project, the repository found or created, the
//! groups' grants, and the URLs everything after uses.

use crate::bitbucket::{
    GroupDecision, ProjectKey, RepoSlug, Repository, RepositoryOrigin, Request, Transport, Writes,
    reconcile_group, reconcile_repository, resolve_owner,
};
use crate::error::Result;

use super::engine::Engine;
use super::event::{Event, Step};
use super::options::{BootstrapOptions, SyncTransport};
use super::plan::PlannedWrite;
use super::ports::{Cluster, Git, System};

/// The repository a bootstrap works on, and its URLs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryTarget {
    /// The project key (`PLAT`), or `~user` for a personal repository.
    pub project_key: String,
    /// The slug Bitbucket gave the repository.
    pub slug: String,
    /// flux's name for the repository in messages: `https://<domain>/<owner>/<repository>`.
    pub reference: String,
    /// Where the CLI clones and pushes: `https://<domain>/scm/<KEY>/<slug>.git`.
    pub https_url: String,
    /// What the cluster clones: `ssh://git@<ssh host>/<KEY>/<slug>`, or the HTTPS URL with
    /// `--token-auth`.
    pub sync_url: String,
    /// `host[:port]` of the SSH server, for the host-key scan.
    pub ssh_host: String,
    /// Whether this run created it (or, in a dry run, would).
    pub created: bool,
}

/// The SSH `host:port` of the sync URL: `--ssh-hostname` as given; else the host and port of
/// the SSH clone link Bitbucket advertises (flux puts the HTTPS host and port there, which
/// fails wherever SSH listens elsewhere, usually 7999); else the HTTPS domain, as flux.
pub fn ssh_host(options: &BootstrapOptions, repository: &Repository) -> String {
    if let Some(ssh) = &options.ssh_hostname {
        return ssh.clone();
    }
    repository
        .clone_link("ssh")
        .and_then(|link| {
            let rest = link.strip_prefix("ssh://")?;
            let authority = rest.split('/').next()?;
            let host_port = authority.rsplit('@').next()?;
            (!host_port.is_empty()).then(|| host_port.to_string())
        })
        .unwrap_or_else(|| options.host.domain())
}

/// The URLs of the repository (spec §2.6).
pub fn target(
    options: &BootstrapOptions,
    key: &ProjectKey,
    repository: &Repository,
    created: bool,
) -> RepositoryTarget {
    let owner = match &options.owner {
        crate::bitbucket::Owner::ProjectName(name) => name.clone(),
        crate::bitbucket::Owner::ProjectKey(key) => key.as_str().to_string(),
        crate::bitbucket::Owner::User(user) => user.clone(),
    };
    // Personal repositories live under `~user` in URLs, lower case as Bitbucket writes them.
    let project = if key.is_personal() {
        key.as_str().to_lowercase()
    } else {
        key.as_str().to_string()
    };
    let https_url = format!(
        "{}/scm/{project}/{}.git",
        options.host.base_url(),
        repository.slug
    );
    let ssh_host = ssh_host(options, repository);
    let sync_url = match options.sync_transport {
        SyncTransport::Ssh => format!("ssh://git@{ssh_host}/{project}/{}", repository.slug),
        SyncTransport::Https => https_url.clone(),
    };
    RepositoryTarget {
        project_key: key.as_str().to_string(),
        slug: repository.slug.clone(),
        reference: format!(
            "{}/{owner}/{}",
            options.host.base_url(),
            options.repository.as_str()
        ),
        https_url,
        sync_url,
        ssh_host,
        created,
    }
}

/// In words, what a recorded Bitbucket write would do.
pub fn describe_write(request: &Request) -> String {
    let path = request.path.as_str();
    match request.method.as_str() {
        "POST" if path.ends_with("/repos") => {
            let name = request
                .body
                .as_ref()
                .and_then(|b| b.get("name"))
                .and_then(|n| n.as_str())
                .unwrap_or_default();
            format!("create repository \"{name}\"")
        }
        "POST" if path.ends_with("/ssh") => "register the deploy key".to_string(),
        "PUT" if path.contains("/permissions/groups") => {
            let query = |key: &str| {
                request
                    .query
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            format!(
                "grant {} to group \"{}\"",
                query("permission"),
                query("name")
            )
        }
        "PUT" if path.ends_with("/branches/default") => "set the default branch".to_string(),
        "PUT" if path.contains("/ssh/") => "change the deploy key's permission".to_string(),
        method => format!("{method} {path}"),
    }
}

impl<T: Transport, G: Git, C: Cluster, S: System, R: rand_core::CryptoRng>
    Engine<'_, T, G, C, S, R>
{
    pub(super) fn record_planned(&mut self, step: Step, requests: Vec<Request>) {
        for request in requests {
            let write = PlannedWrite {
                step,
                method: request.method.as_str().to_string(),
                path: request.path.clone(),
                what: describe_write(&request),
            };
            self.emit(Event::PlannedBitbucketWrite {
                step,
                method: write.method.clone(),
                path: write.path.clone(),
                what: write.what.clone(),
            });
            self.plan.bitbucket.push(write);
        }
    }

    /// Step 1: the repository and its permissions.
    pub(super) async fn reconcile_repository(
        &mut self,
    ) -> Result<(RepositoryTarget, Option<String>)> {
        let options = self.options;
        let host = &options.host;
        self.emit(Event::Connecting {
            domain: host.domain(),
        });
        // Who the token belongs to: a wrong token fails here, before anything is read or written.
        let (_, user) = crate::bitbucket::identify(self.bitbucket, host).await?;
        self.token_user = Some(user);
        let key = resolve_owner(self.bitbucket, host, &options.owner).await?;
        let mut planned = Vec::new();
        let mut writes = self.writes(&mut planned);
        let ensured = reconcile_repository(
            self.bitbucket,
            host,
            &key,
            &options.repository,
            options.visibility,
            &mut writes,
        )
        .await?;
        let created = ensured.origin != RepositoryOrigin::Adopted;
        let target = target(options, &key, &ensured.repository, created);
        self.record_planned(Step::Repository, planned);
        if ensured.origin == RepositoryOrigin::Created {
            self.emit(Event::RepositoryCreated {
                url: target.reference.clone(),
            });
        }
        if !options.groups.is_empty() {
            self.emit(Event::ReconcilingPermissions);
            let slug = RepoSlug::parse(&target.slug)?;
            for grant in &options.groups {
                let mut planned = Vec::new();
                let mut writes = self.writes(&mut planned);
                // A repository a dry run would create has no permissions yet.
                let decision = if ensured.origin == RepositoryOrigin::WouldCreate {
                    if let Writes::Record(list) = &mut writes {
                        list.push(Request::grant_group(
                            &key,
                            &slug,
                            &grant.group,
                            grant.permission,
                        ));
                    }
                    Ok(GroupDecision::Grant(grant.permission))
                } else {
                    reconcile_group(self.bitbucket, host, &key, &slug, grant, &mut writes).await
                };
                self.record_planned(Step::Repository, planned);
                match decision {
                    Ok(GroupDecision::Grant(permission)) if self.applies() => {
                        self.emit(Event::GroupGranted {
                            group: grant.group.clone(),
                            permission: permission.to_string(),
                        })
                    }
                    Ok(_) => {}
                    // As flux: a failed grant is reported and the bootstrap goes on.
                    Err(error) => self.emit(Event::GroupGrantFailed {
                        group: grant.group.clone(),
                        permission: grant.permission.to_string(),
                        reason: error.to_string(),
                    }),
                }
            }
            self.emit(Event::PermissionsReconciled);
        }
        Ok((target, ensured.default_branch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitbucket::{Href, Links, NamedLink, ProjectKey, RepoName};

    fn options(args: &[&str]) -> BootstrapOptions {
        let mut flags = super::super::BootstrapFlags::default();
        flags
            .parse_args(
                &[
                    &[
                        "--hostname=bitbucket.example.com:7990",
                        "--owner=Platform",
                        "--repository=Fleet Infra",
                    ],
                    args,
                ]
                .concat(),
            )
            .unwrap();
        flags.validate().unwrap()
    }

    fn repository(ssh_link: Option<&str>) -> Repository {
        let key = ProjectKey::parse("PLAT").unwrap();
        let mut repository =
            Repository::would_create(&key, &RepoName::parse("Fleet Infra").unwrap());
        repository.links = Links {
            clone: ssh_link.map(|href| {
                vec![NamedLink {
                    href: href.to_string(),
                    name: "ssh".to_string(),
                }]
            }),
            self_links: vec![Href::default()],
        };
        repository
    }

    #[test]
    fn urls_have_fluxs_forms() {
        // spec §2.6: HTTPS `/scm/KEY/slug.git`, SSH `ssh://git@D/KEY/slug` without `.git`.
        let key = ProjectKey::parse("PLAT").unwrap();
        let target = target(&options(&[]), &key, &repository(None), true);
        assert_eq!(target.slug, "fleet-infra");
        assert_eq!(
            target.https_url,
            "https://bitbucket.example.com:7990/scm/PLAT/fleet-infra.git"
        );
        assert_eq!(
            target.sync_url,
            "ssh://git@bitbucket.example.com:7990/PLAT/fleet-infra"
        );
        assert_eq!(
            target.reference,
            "https://bitbucket.example.com:7990/Platform/Fleet Infra"
        );
        let token = target_for(&["--token-auth"], None);
        assert_eq!(token.sync_url, token.https_url);
    }

    fn target_for(args: &[&str], ssh_link: Option<&str>) -> RepositoryTarget {
        let key = ProjectKey::parse("PLAT").unwrap();
        target(&options(args), &key, &repository(ssh_link), false)
    }

    #[test]
    fn the_ssh_host_is_the_flag_else_the_advertised_one() {
        let advertised = Some("ssh://git@bitbucket.example.com:7999/plat/fleet-infra.git");
        assert_eq!(
            target_for(&["--ssh-hostname=ssh.example.com:2222"], advertised).sync_url,
            "ssh://git@ssh.example.com:2222/PLAT/fleet-infra"
        );
        // flux would put the HTTPS port (7990) here; Bitbucket says where SSH listens.
        let target = target_for(&[], advertised);
        assert_eq!(
            target.sync_url,
            "ssh://git@bitbucket.example.com:7999/PLAT/fleet-infra"
        );
        assert_eq!(target.ssh_host, "bitbucket.example.com:7999");
    }

    #[test]
    fn personal_repositories_live_under_the_user() {
        let mut flags = super::super::BootstrapFlags::default();
        flags
            .parse_args(&[
                "--hostname=bb.example.com",
                "--owner=Alice",
                "--personal",
                "--repository=fleet",
            ])
            .unwrap();
        let options = flags.validate().unwrap();
        let key = ProjectKey::parse("~ALICE").unwrap();
        let target = target(&options, &key, &repository(None), false);
        assert_eq!(
            target.https_url,
            "https://bb.example.com/scm/~alice/fleet-infra.git"
        );
        assert_eq!(
            target.sync_url,
            "ssh://git@bb.example.com/~alice/fleet-infra"
        );
    }

    #[test]
    fn planned_writes_are_described() {
        let key = ProjectKey::parse("PLAT").unwrap();
        let name = RepoName::parse("fleet").unwrap();
        let create = Request::create_repository(&key, &name, crate::bitbucket::Visibility::Private);
        assert_eq!(describe_write(&create), "create repository \"fleet\"");
        let slug = name.slug();
        let grant =
            Request::grant_group(&key, &slug, "devs", crate::bitbucket::RepoPermission::Write);
        assert_eq!(describe_write(&grant), "grant REPO_WRITE to group \"devs\"");
        let branch = Request::set_default_branch(&key, &slug, "develop");
        assert_eq!(describe_write(&branch), "set the default branch");
    }
}
