//! The bootstrap flags, validated: [`BootstrapFlags::validate`] checks them in flux's order with
//! flux's messages (spec §1.5) and returns [`BootstrapOptions`], the typed options every step
//! reads. Reading files the flags name (CA, private key, signing keys), the token and the
//! cluster connection is the edge's part; their paths are carried here.

use crate::Secret;
use crate::bitbucket::{BitbucketHost, GroupGrant, Owner, RepoName, RepoPermission, Visibility};
use crate::duration::GoDuration;
use crate::error::{Error, Result};
use crate::install::{FluxVersion, InstallFlags, InstallOptions};
use crate::options::{BranchName, Interval, Namespace, RelativePath};
use crate::secret::{EcdsaCurve, KeySpec, RsaBits, SshKeyAlgorithm};
use crate::sync::Submodules;

use super::flags::{BootstrapFlags, display_name, spec};

/// The largest RSA key generated: larger keys take minutes and buy nothing.
pub const MAX_RSA_BITS: usize = 8192;

/// `--version`: a release, or the newest one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRequest {
    /// `latest`: resolved by the edge that can reach the releases.
    Latest,
    /// A release version.
    Exact(FluxVersion),
}

/// How Flux in the cluster fetches the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncTransport {
    /// SSH with a deploy key (flux's default).
    Ssh,
    /// HTTPS with the user and token (`--token-auth`).
    Https,
}

/// Where the deploy key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Generated (`--ssh-key-algorithm`, `--ssh-rsa-bits`, `--ssh-ecdsa-curve`).
    Generate(KeySpec),
    /// `--private-key-file`, read by the edge; an unencrypted key, as flux requires.
    File(String),
}

/// How commits are signed (`--gpg-*`, `--ssh-signing-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningRequest {
    /// Not signed.
    None,
    /// OpenPGP with the key ring at `key_ring` (a path the edge reads).
    OpenPgp {
        /// `--gpg-key-ring`.
        key_ring: String,
        /// `--gpg-passphrase`.
        passphrase: Option<Secret>,
        /// `--gpg-key-id`.
        key_id: Option<String>,
    },
    /// SSH signing with a key file or the deploy key.
    Ssh {
        /// Which key signs.
        key: SshSigningKey,
        /// `--ssh-signing-password`.
        passphrase: Option<Secret>,
    },
}

/// The SSH key commits are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshSigningKey {
    /// `--ssh-signing-key-file`.
    File(String),
    /// `--ssh-signing-reuse-private-key`: the `--private-key-file` key.
    DeployKey,
}

/// Whether existing repositories are also reconciled (`--reconcile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// Only what is missing is created (flux's default).
    Missing,
    /// An existing repository's settings are reconciled too.
    Existing,
}

/// Whether a Flux installed by another tool is taken over (`--force`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// Refuse, naming the other tool.
    Refuse,
    /// Take it over.
    Force,
}

/// Whether anything is changed (`--dry-run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create, commit, push, apply.
    Apply,
    /// Read and report every change, make none.
    DryRun,
}

/// `--registry-creds`: the image pull secret's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    /// The registry user.
    pub username: String,
    /// Their password.
    pub password: Secret,
}

/// The validated options of one bootstrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapOptions {
    /// `--hostname`.
    pub host: BitbucketHost,
    /// `--owner` with `--personal`: a project by name, or a user.
    pub owner: Owner,
    /// `--repository`.
    pub repository: RepoName,
    /// `--group`, empty for personal repositories (flux ignores them there).
    pub groups: Vec<GroupGrant>,
    /// The user named for git over HTTPS and the token-auth Secret: `--owner` with
    /// `--personal`, else `--username` when given; `None` means flux's default `git`, for which
    /// fluxstrap uses the token owner's name (Bitbucket refuses a personal token with another).
    pub git_user: Option<String>,
    /// `--private`.
    pub visibility: Visibility,
    /// `--branch`.
    pub branch: BranchName,
    /// `--path`, `None` when not given (flux's deploy-key label differs then).
    pub path: Option<RelativePath>,
    /// `--version`.
    pub version: VersionRequest,
    /// The install options; their `version` is the requested one, or the default for `latest`
    /// until it is resolved ([`BootstrapOptions::with_version`]).
    pub install: InstallOptions,
    /// `--registry-creds`.
    pub registry_credentials: Option<RegistryCredentials>,
    /// `--interval`.
    pub interval: Interval,
    /// `--recurse-submodules`.
    pub submodules: Submodules,
    /// `--sparse-checkout`.
    pub sparse_checkout: Vec<String>,
    /// `--secret-name`.
    pub secret_name: String,
    /// `--token-auth`.
    pub sync_transport: SyncTransport,
    /// The deploy key (SSH sync only).
    pub key: KeySource,
    /// `--read-write-key`.
    pub key_permission: RepoPermission,
    /// `--ssh-hostname`.
    pub ssh_hostname: Option<String>,
    /// `--ssh-hostkey-algos`.
    pub ssh_hostkey_algorithms: Vec<String>,
    /// `--ca-file` (a path the edge reads).
    pub ca_file: Option<String>,
    /// `--author-name`.
    pub author_name: String,
    /// `--author-email`.
    pub author_email: String,
    /// `--commit-message-appendix`.
    pub commit_appendix: Option<String>,
    /// `--gpg-*` / `--ssh-signing-*`.
    pub signing: SigningRequest,
    /// `--reconcile`.
    pub reconcile: Reconcile,
    /// `--force`.
    pub takeover: Takeover,
    /// `--timeout`: bounds the whole run.
    pub timeout: GoDuration,
    /// `--manifests` (a path the edge reads).
    pub manifests: Option<String>,
    /// `--kubeconfig`.
    pub kubeconfig: Option<String>,
    /// `--context`.
    pub context: Option<String>,
    /// `--dry-run`.
    pub mode: Mode,
}

fn invalid(flag: &str, value: &str, reason: impl Into<String>) -> Error {
    let name = spec(flag).map_or_else(|| format!("--{flag}"), display_name);
    Error::invalid_flag(value, &name, reason)
}

fn duration(flags: &BootstrapFlags, name: &str) -> Result<GoDuration> {
    let text = flags.text(name);
    GoDuration::parse(text).map_err(|e| invalid(name, text, e.0))
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

impl BootstrapFlags {
    /// Step one and two of flux's checks (spec §1.5): every typed value, then the namespace.
    /// The CLI asks for the token after these and before [`BootstrapFlags::validate`].
    pub fn check_values(&self) -> Result<()> {
        self.typed_values().map(|_| ())
    }

    fn typed_values(&self) -> Result<TypedValues> {
        let algorithm = SshKeyAlgorithm::parse(self.text("ssh-key-algorithm"))?;
        let rsa_bits = RsaBits::parse(self.text("ssh-rsa-bits"))?;
        if rsa_bits.get() > MAX_RSA_BITS {
            return Err(invalid(
                "ssh-rsa-bits",
                self.text("ssh-rsa-bits"),
                format!("RSA key bit size must be at most {MAX_RSA_BITS}"),
            ));
        }
        let curve = EcdsaCurve::parse(self.text("ssh-ecdsa-curve"))?;
        crate::options::LogLevel::parse(self.text("log-level"))?;
        let interval = Interval::parse(self.text("interval"))?;
        let timeout = duration(self, "timeout")?;
        if timeout.as_nanos() <= 0 {
            return Err(invalid(
                "timeout",
                self.text("timeout"),
                "the timeout must be greater than zero",
            ));
        }
        for name in [
            "personal",
            "private",
            "read-write-key",
            "reconcile",
            "recurse-submodules",
            "watch-all-namespaces",
            "network-policy",
            "token-auth",
            "ssh-signing-reuse-private-key",
            "force",
            "dry-run",
        ] {
            self.bool(name)?;
        }
        let path = match self.text("path") {
            "" => None,
            text => Some(RelativePath::parse(text)?),
        };
        let namespace = Namespace::parse(self.text("namespace"))?;
        Ok(TypedValues {
            key: KeySpec::new(algorithm, rsa_bits, curve),
            interval,
            timeout,
            path,
            namespace,
        })
    }

    /// The install flags these bootstrap flags carry (`--version` … `--cluster-domain`).
    pub fn install_flags(&self) -> InstallFlags {
        let version = match self.text("version") {
            "latest" | "" => super::flags::DEFAULT_VERSION,
            other => other,
        };
        InstallFlags {
            version: version.to_string(),
            namespace: self.text("namespace").to_string(),
            components: self.list("components").to_vec(),
            components_extra: self.list("components-extra").to_vec(),
            registry: self.text("registry").to_string(),
            image_pull_secret: self.text("image-pull-secret").to_string(),
            toleration_keys: self.list("toleration-keys").to_vec(),
            watch_all_namespaces: self.text("watch-all-namespaces").to_string(),
            network_policy: self.text("network-policy").to_string(),
            log_level: self.text("log-level").to_string(),
            cluster_domain: self.text("cluster-domain").to_string(),
        }
    }

    /// Every check, in flux's order (spec §1.5; the token comes from the edge between steps 2
    /// and 4), with fluxstrap's additions after flux's own: a missing owner or repository, an
    /// invalid repository name, branch or group, are reported here rather than by a failing
    /// request halfway.
    pub fn validate(&self) -> Result<BootstrapOptions> {
        let typed = self.typed_values()?;
        // 4. The host.
        let hostname = self.text("hostname");
        if hostname.is_empty() {
            return Err(Error::MissingHostname);
        }
        let host = BitbucketHost::parse(hostname)?;
        // 5. bootstrapValidate: components, registry credentials, signing.
        // Components first, then the version, as flux (its version check is step 8).
        let install = self.install_flags().to_options()?;
        let version = match self.text("version") {
            "latest" => VersionRequest::Latest,
            _ => VersionRequest::Exact(install.version.clone()),
        };
        let registry_creds = self.text("registry-creds");
        let registry_credentials = if registry_creds.is_empty() {
            None
        } else {
            if self.text("image-pull-secret").is_empty() {
                return Err(Error::RegistryCredsNeedPullSecret);
            }
            match registry_creds.split(':').collect::<Vec<_>>().as_slice() {
                [user, password] => Some(RegistryCredentials {
                    username: user.to_string(),
                    password: Secret::new(*password),
                }),
                _ => return Err(Error::RegistryCredsFormat),
            }
        };
        let signing = self.signing()?;
        // fluxstrap's additions.
        let personal = self.bool("personal")?;
        let owner_text = self.text("owner");
        if owner_text.trim().is_empty() {
            return Err(Error::MissingOwner);
        }
        let repository_text = self.text("repository");
        if repository_text.is_empty() {
            return Err(Error::MissingRepository);
        }
        if repository_text.contains('/') {
            return Err(Error::RepositoryWithSlash(repository_text.to_string()));
        }
        let repository = RepoName::parse(repository_text)?;
        let branch = BranchName::parse(self.text("branch"))?;
        let owner = if personal {
            Owner::User(owner_text.to_string())
        } else {
            Owner::ProjectName(owner_text.to_string())
        };
        let groups = if personal {
            Vec::new()
        } else {
            self.list("group")
                .iter()
                .filter(|g| !g.is_empty())
                .map(|g| GroupGrant::parse(g))
                .collect::<Result<_>>()?
        };
        let secret_name = self.text("secret-name");
        crate::options::check_object_name(secret_name, "--secret-name")?;
        let key = match self.text("private-key-file") {
            "" => KeySource::Generate(typed.key),
            path => KeySource::File(path.to_string()),
        };
        let _ = typed.namespace;
        Ok(BootstrapOptions {
            host,
            owner,
            repository,
            groups,
            git_user: if personal {
                Some(owner_text.to_string())
            } else if self.is_set("username") {
                Some(self.text("username").to_string())
            } else {
                None
            },
            visibility: if self.bool("private")? {
                Visibility::Private
            } else {
                Visibility::Public
            },
            branch,
            path: typed.path,
            version,
            install,
            registry_credentials,
            interval: typed.interval,
            submodules: if self.bool("recurse-submodules")? {
                Submodules::Recurse
            } else {
                Submodules::Ignore
            },
            sparse_checkout: self.list("sparse-checkout").to_vec(),
            secret_name: secret_name.to_string(),
            sync_transport: if self.bool("token-auth")? {
                SyncTransport::Https
            } else {
                SyncTransport::Ssh
            },
            key,
            key_permission: if self.bool("read-write-key")? {
                RepoPermission::Write
            } else {
                RepoPermission::Read
            },
            ssh_hostname: optional(self.text("ssh-hostname")),
            ssh_hostkey_algorithms: self.list("ssh-hostkey-algos").to_vec(),
            ca_file: optional(self.text("ca-file")),
            author_name: self.text("author-name").to_string(),
            author_email: self.text("author-email").to_string(),
            commit_appendix: optional(self.text("commit-message-appendix")),
            signing,
            reconcile: if self.bool("reconcile")? {
                Reconcile::Existing
            } else {
                Reconcile::Missing
            },
            takeover: if self.bool("force")? {
                Takeover::Force
            } else {
                Takeover::Refuse
            },
            timeout: typed.timeout,
            manifests: optional(self.text("manifests")),
            kubeconfig: optional(self.text("kubeconfig")),
            context: optional(self.text("context")),
            mode: if self.bool("dry-run")? {
                Mode::DryRun
            } else {
                Mode::Apply
            },
        })
    }

    /// flux's signing checks, in its order.
    fn signing(&self) -> Result<SigningRequest> {
        let key_ring = self.text("gpg-key-ring");
        let key_file = self.text("ssh-signing-key-file");
        let reuse = self.bool("ssh-signing-reuse-private-key")?;
        if !key_ring.is_empty() && (!key_file.is_empty() || reuse) {
            return Err(Error::Signing(
                "--gpg-* and --ssh-signing-* are mutually exclusive; pick one signing format",
            ));
        }
        if !key_file.is_empty() && reuse {
            return Err(Error::Signing(
                "--ssh-signing-key-file and --ssh-signing-reuse-private-key are mutually exclusive",
            ));
        }
        if reuse && self.text("private-key-file").is_empty() {
            return Err(Error::Signing(
                "--ssh-signing-reuse-private-key requires --private-key-file",
            ));
        }
        let password = self.text("ssh-signing-password");
        let alias = self.text("ssh-signing-passphrase");
        if !password.is_empty() && !alias.is_empty() && password != alias {
            return Err(Error::Signing(
                "--ssh-signing-password and --ssh-signing-passphrase are aliases; do not pass both",
            ));
        }
        let passphrase = optional(if password.is_empty() { alias } else { password });
        if passphrase.is_some() && key_file.is_empty() {
            return Err(Error::Signing(
                "--ssh-signing-password requires --ssh-signing-key-file",
            ));
        }
        Ok(if !key_ring.is_empty() {
            SigningRequest::OpenPgp {
                key_ring: key_ring.to_string(),
                passphrase: optional(self.text("gpg-passphrase")).map(Secret::new),
                key_id: optional(self.text("gpg-key-id")),
            }
        } else if !key_file.is_empty() {
            SigningRequest::Ssh {
                key: SshSigningKey::File(key_file.to_string()),
                passphrase: passphrase.map(Secret::new),
            }
        } else if reuse {
            SigningRequest::Ssh {
                key: SshSigningKey::DeployKey,
                passphrase: None,
            }
        } else {
            SigningRequest::None
        })
    }
}

struct TypedValues {
    key: KeySpec,
    interval: Interval,
    timeout: GoDuration,
    path: Option<RelativePath>,
    namespace: Namespace,
}

impl BootstrapOptions {
    /// The options with `latest` resolved to `version`.
    pub fn with_version(mut self, version: FluxVersion) -> Self {
        self.install.version = version.clone();
        self.version = VersionRequest::Exact(version);
        self
    }

    /// The install namespace (`--namespace`), also the name of the sync objects.
    pub fn namespace(&self) -> &Namespace {
        &self.install.namespace
    }

    /// The user whose token this is: `~user` repositories and token-auth Secrets name them.
    pub fn personal_user(&self) -> Option<&str> {
        match &self.owner {
            Owner::User(user) => Some(user),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
