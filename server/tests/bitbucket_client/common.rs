//! The emulator the suite's tests drive: HTTPS below `/bitbucket`, with two more groups.

use std::sync::LazyLock;

use fluxstrap_core::Result;
use fluxstrap_core::Secret as Token;
use fluxstrap_core::bitbucket::{
    AccessKeyDecision, BitbucketHost, EnsuredRepository, GroupDecision, GroupGrant, ProjectKey,
    RepoName, RepoPermission, RepoSlug, Visibility, ensure_access_key, ensure_group,
    ensure_repository,
};
use fluxstrap_sandbox::bitbucket::{Level, Seed, SeedGroup};
use fluxstrap_server::bitbucket_http::HttpTransport;
use fluxstrap_testkit::{Bitbucket, seed};

/// The access key, as a key file holds it (with its newline).
pub(crate) static PUBLIC_KEY: LazyLock<String> =
    LazyLock::new(|| format!("{}\n", seed::ED25519_PUBLIC_KEY));

/// The seeded admin's token, which the transport sends.
pub(crate) fn admin_token() -> &'static str {
    &seed::admin().token
}

/// The emulator and a client transport (as the admin) for it.
pub(crate) struct Sandbox {
    pub(crate) bitbucket: Bitbucket,
    pub(crate) host: BitbucketHost,
    pub(crate) transport: HttpTransport,
}

/// The emulator over HTTPS below `/bitbucket`, without SSH, with the groups `devs` (no
/// permission yet) and `devops` (administers the project).
pub(crate) async fn sandbox(name: &str) -> Sandbox {
    let mut seed = Seed::default();
    // `devs` has no permission yet; `devops` contains it as a substring.
    seed.groups.push(SeedGroup {
        name: "devs".into(),
        members: vec!["reader".into()],
    });
    seed.groups.push(SeedGroup {
        name: "devops".into(),
        members: vec![],
    });
    seed.projects[0]
        .groups
        .insert("devops".into(), Level::Admin);
    let bitbucket = Bitbucket::loopback(&format!("client-{name}"))
        .context_path("/bitbucket")
        .without_ssh()
        .seed(seed)
        .start()
        .await;
    let host = BitbucketHost::parse(bitbucket.base_url()).unwrap();
    let transport = HttpTransport::new(Token::new(admin_token()), bitbucket.ca_file()).unwrap();
    Sandbox {
        bitbucket,
        host,
        transport,
    }
}

impl Sandbox {
    /// Creates or adopts the private repository `name` of `owner`.
    pub(crate) async fn repository(
        &self,
        owner: &ProjectKey,
        name: &str,
    ) -> Result<EnsuredRepository> {
        let name = RepoName::parse(name)?;
        ensure_repository(
            &self.transport,
            &self.host,
            owner,
            &name,
            Visibility::Private,
        )
        .await
    }

    /// A new repository `name` in the seeded project: its project key and slug.
    pub(crate) async fn new_repository(
        &self,
        name: &str,
    ) -> (ProjectKey, RepoSlug, EnsuredRepository) {
        let key = ProjectKey::parse(&seed::project().key).unwrap();
        let ensured = self.repository(&key, name).await.unwrap();
        let slug = RepoSlug::parse(&ensured.repository.slug).unwrap();
        (key, slug, ensured)
    }

    /// Grants the group of `entry` (`name[:permission]`) access to the repository.
    pub(crate) async fn group(
        &self,
        key: &ProjectKey,
        slug: &RepoSlug,
        entry: &str,
    ) -> GroupDecision {
        let grant = GroupGrant::parse(entry).unwrap();
        ensure_group(&self.transport, &self.host, key, slug, &grant)
            .await
            .unwrap()
    }

    /// A run's Bitbucket steps: the repository `name`, the group grant, the access key.
    pub(crate) async fn full_run(
        &self,
        owner: &ProjectKey,
        name: &str,
        grant: &GroupGrant,
        label: &str,
    ) -> Result<AccessKeyDecision> {
        let repo = self.repository(owner, name).await?;
        let slug = RepoSlug::parse(&repo.repository.slug)?;
        ensure_group(&self.transport, &self.host, owner, &slug, grant).await?;
        ensure_access_key(
            &self.transport,
            &self.host,
            owner,
            &slug,
            &PUBLIC_KEY,
            label,
            RepoPermission::Read,
        )
        .await
    }

    /// How many requests the emulator logged so far.
    pub(crate) async fn logged(&self) -> usize {
        self.bitbucket.request_log().await.len()
    }

    /// The writes (every request but GETs) logged since the first `before` requests.
    pub(crate) async fn writes_since(&self, before: usize) -> Vec<String> {
        self.bitbucket.request_log().await[before..]
            .iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}
