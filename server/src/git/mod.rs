//! Writing to git, which the browser cannot: clone the branch, write the generated files, commit
//! only when something changed, push without force, and on a non-fast-forward rejection start
//! again from a fresh clone (bounded). Uses the `git` program: it pushes over HTTPS and SSH with
//! every key type and signs commits, which gitoxide cannot and libgit2 only partly can.
//!
//! Credentials never reach a command line or `.git/config`: HTTPS auth travels in environment
//! variables (`GIT_CONFIG_*`), SSH keys in files of a per-job directory removed when the job ends.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine;
use tokio::process::Command;

use crate::error::{Error, Result};

/// A token or private key: prints as `***`, handed only to the git process's environment or to a
/// 0600 file of the job directory.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How git authenticates to the remote.
#[derive(Debug, Clone)]
pub enum GitAuth {
    /// Basic `username:token`, trusting `ca_file` too.
    Https {
        username: String,
        token: Secret,
        ca_file: Option<PathBuf>,
    },
    /// `Authorization: Bearer <token>`: Bitbucket's project and repository HTTP access tokens.
    HttpsBearer {
        token: Secret,
        ca_file: Option<PathBuf>,
    },
    /// A private key (PEM or OpenSSH) and the `known_hosts` lines to check the server against.
    Ssh {
        private_key: Secret,
        known_hosts: String,
    },
}

/// Whether an existing file is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Overwrite,
    /// Written only when absent (flux keeps an existing `kustomization.yaml`).
    CreateOnly,
}

#[derive(Debug, Clone)]
pub struct FileWrite {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub content: Vec<u8>,
    pub mode: WriteMode,
}

#[derive(Debug, Clone)]
pub struct CommitSpec {
    /// What the files are, for the progress lines: "component manifests", "sync manifests".
    pub subject: String,
    pub message: String,
    pub appendix: Option<String>,
    pub author_name: String,
    pub author_email: String,
    pub signing: Signing,
}

/// How the commit is signed; OpenPGP and SSH exclude each other, as flux's flags do.
#[derive(Debug, Clone)]
pub enum Signing {
    None,
    /// An armored key ring holding the secret key; `key_id` picks the key when it holds several.
    OpenPgp {
        key_ring: Secret,
        passphrase: Option<Secret>,
        key_id: Option<String>,
    },
    /// An OpenSSH private key, signed with `gpg.format=ssh`.
    Ssh {
        private_key: Secret,
        passphrase: Option<Secret>,
    },
}

/// `-c` options that make `git commit --gpg-sign` use the job's key. Keys, passphrases and the
/// GnuPG home live in the job directory only (0600/0700), so they go when the job does; the
/// passphrase reaches gpg/ssh-keygen through a file or an askpass script, never argv.
fn signing_config(signing: &Signing, job: &Path) -> Result<Vec<String>> {
    let write_secret = |name: &str, content: &str, mode: u32| -> Result<PathBuf> {
        let path = job.join(name);
        std::fs::write(&path, content)
            .map_err(|e| Error::Git(format!("cannot write {name} into the job directory: {e}")))?;
        restrict(&path, mode);
        Ok(path)
    };
    let config = |pairs: Vec<(&str, String)>| {
        pairs
            .into_iter()
            .flat_map(|(k, v)| ["-c".to_string(), format!("{k}={v}")])
            .collect::<Vec<_>>()
    };
    match signing {
        Signing::None => Ok(Vec::new()),
        Signing::Ssh {
            private_key,
            passphrase,
        } => {
            let mut pem = private_key.expose().to_string();
            if !pem.ends_with('\n') {
                pem.push('\n');
            }
            let key = write_secret("signing-key", &pem, 0o600)?;
            // ssh-keygen asks through SSH_ASKPASS when forced; the script prints a 0600 file.
            let program = match passphrase {
                None => "ssh-keygen".to_string(),
                Some(passphrase) => {
                    let secret = write_secret("signing-passphrase", passphrase.expose(), 0o600)?;
                    let askpass = write_secret(
                        "signing-askpass",
                        &format!("#!/bin/sh\ncat '{}'\n", secret.display()),
                        0o700,
                    )?;
                    let wrapper = write_secret(
                        "signing-ssh-keygen",
                        &format!(
                            "#!/bin/sh\nSSH_ASKPASS='{}' SSH_ASKPASS_REQUIRE=force DISPLAY=none exec ssh-keygen \"$@\" </dev/null\n",
                            askpass.display()
                        ),
                        0o700,
                    )?;
                    wrapper.display().to_string()
                }
            };
            Ok(config(vec![
                ("gpg.format", "ssh".into()),
                ("gpg.ssh.program", program),
                ("user.signingKey", key.display().to_string()),
            ]))
        }
        Signing::OpenPgp {
            key_ring,
            passphrase,
            key_id,
        } => {
            let home = job.join("gnupg");
            std::fs::create_dir_all(&home)
                .map_err(|e| Error::Git(format!("cannot create the GnuPG home: {e}")))?;
            restrict(&home, 0o700);
            let ring = write_secret("signing-keyring.asc", key_ring.expose(), 0o600)?;
            let imported = std::process::Command::new("gpg")
                .env("GNUPGHOME", &home)
                .args(["--batch", "--quiet", "--import"])
                .arg(&ring)
                .output()
                .map_err(|e| {
                    Error::Git(format!("cannot run gpg (install the gnupg package): {e}"))
                })?;
            if !imported.status.success() {
                return Err(Error::Git(format!(
                    "unable to read the OpenPGP key ring (pass an armored secret key ring with --gpg-key-ring): {}",
                    String::from_utf8_lossy(&imported.stderr).trim()
                )));
            }
            let passphrase_arg = match passphrase {
                Some(p) => {
                    let file = write_secret("signing-passphrase", p.expose(), 0o600)?;
                    format!(
                        " --pinentry-mode loopback --passphrase-file '{}'",
                        file.display()
                    )
                }
                None => String::new(),
            };
            let wrapper = write_secret(
                "signing-gpg",
                &format!(
                    "#!/bin/sh\nGNUPGHOME='{}' exec gpg --batch --no-tty{passphrase_arg} \"$@\"\n",
                    home.display()
                ),
                0o700,
            )?;
            let mut pairs = vec![
                ("gpg.format", "openpgp".to_string()),
                ("gpg.program", wrapper.display().to_string()),
            ];
            // Like flux, no key id means the key ring's first key.
            let id = match key_id {
                Some(id) => id.clone(),
                None => {
                    let listed = std::process::Command::new("gpg")
                        .env("GNUPGHOME", &home)
                        .args(["--batch", "--with-colons", "--list-secret-keys"])
                        .output()
                        .map_err(|e| Error::Git(format!("cannot run gpg: {e}")))?;
                    String::from_utf8_lossy(&listed.stdout)
                        .lines()
                        .find(|l| l.starts_with("fpr:"))
                        .and_then(|l| l.split(':').nth(9))
                        .map(str::to_string)
                        .ok_or_else(|| {
                            Error::Git(
                                "the OpenPGP key ring holds no secret key: export it with `gpg --export-secret-keys --armor`".into(),
                            )
                        })?
                }
            };
            pairs.push(("user.signingKey", id));
            Ok(config(pairs))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The branch already holds these files: nothing was committed or pushed.
    UpToDate {
        head: String,
    },
    Pushed {
        commit: String,
        attempts: usize,
    },
}

/// How many times a push rejected as non-fast-forward is retried from a fresh clone.
pub const PUSH_ATTEMPTS: usize = 3;

/// A per-job directory, removed with everything in it when dropped.
pub struct JobDir(PathBuf);

impl JobDir {
    pub fn new(parent: &Path) -> Result<Self> {
        let dir = parent.join(format!(
            "fluxstrap-git-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Git(format!("cannot create {}: {e}", dir.display())))?;
        restrict(&dir, 0o700);
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        // OpenPGP signing started an agent on the job's GnuPG home: stop it before removing it.
        let gnupg = self.0.join("gnupg");
        if gnupg.exists() {
            let _ = std::process::Command::new("gpgconf")
                .env("GNUPGHOME", &gnupg)
                .args(["--kill", "gpg-agent"])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn restrict(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
}

/// A git command with the job's authentication in its environment.
struct Git<'a> {
    auth: &'a GitAuth,
    job: &'a Path,
}

impl Git<'_> {
    fn command(&self, dir: Option<&Path>) -> Result<Command> {
        let mut command = Command::new("git");
        if let Some(dir) = dir {
            command.arg("-C").arg(dir);
        }
        command
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.job)
            .env_remove("GIT_SSH")
            .env_remove("GIT_ASKPASS")
            .kill_on_drop(true);
        match self.auth {
            GitAuth::Https { ca_file, .. } | GitAuth::HttpsBearer { ca_file, .. } => {
                let authorization = match self.auth {
                    GitAuth::Https {
                        username, token, ..
                    } => format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(format!("{username}:{}", token.expose()))
                    ),
                    GitAuth::HttpsBearer { token, .. } => format!("Bearer {}", token.expose()),
                    GitAuth::Ssh { .. } => unreachable!("matched above"),
                };
                let config = [(
                    "http.extraHeader".to_string(),
                    format!("Authorization: {authorization}"),
                )];
                // The environment variable, which beats any git configuration (and an inherited
                // GIT_SSL_CAINFO, which would otherwise replace the CA the user gave).
                if let Some(ca) = ca_file {
                    command.env("GIT_SSL_CAINFO", ca);
                }
                command.env("GIT_CONFIG_COUNT", config.len().to_string());
                for (i, (key, value)) in config.iter().enumerate() {
                    command.env(format!("GIT_CONFIG_KEY_{i}"), key);
                    command.env(format!("GIT_CONFIG_VALUE_{i}"), value);
                }
            }
            GitAuth::Ssh {
                private_key,
                known_hosts,
            } => {
                let key = self.job.join("identity");
                let hosts = self.job.join("known_hosts");
                let mut pem = private_key.expose().to_string();
                if !pem.ends_with('\n') {
                    pem.push('\n');
                }
                std::fs::write(&key, pem)
                    .map_err(|e| Error::Git(format!("cannot write the SSH key: {e}")))?;
                restrict(&key, 0o600);
                std::fs::write(&hosts, format!("{}\n", known_hosts.trim()))
                    .map_err(|e| Error::Git(format!("cannot write known_hosts: {e}")))?;
                command.env(
                    "GIT_SSH_COMMAND",
                    format!(
                        "ssh -i '{}' -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile='{}'",
                        key.display(),
                        hosts.display()
                    ),
                );
            }
        }
        Ok(command)
    }

    async fn run(&self, dir: Option<&Path>, args: &[&str]) -> Result<Output> {
        self.command(dir)?
            .args(args)
            .output()
            .await
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))
    }

    async fn ok(&self, dir: Option<&Path>, args: &[&str], what: &str) -> Result<Output> {
        let output = self.run(dir, args).await?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(Error::Git(format!(
                "{what}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        }
    }
}

/// Clones `branch` (or starts it locally when the repository is empty).
async fn clone(git: &Git<'_>, url: &str, branch: &str, dir: &Path) -> Result<()> {
    let dir_text = dir.display().to_string();
    let cloned = git
        .run(
            None,
            &[
                "clone",
                "--quiet",
                "--single-branch",
                "--no-tags",
                "--branch",
                branch,
                url,
                &dir_text,
            ],
        )
        .await?;
    if cloned.status.success() {
        return Ok(());
    }
    let heads = git
        .ok(
            None,
            &["ls-remote", "--heads", url],
            &format!("cannot read {url}"),
        )
        .await?;
    if !heads.stdout.is_empty() {
        return Err(Error::Git(format!(
            "the branch \"{branch}\" does not exist in {url}: create it first or pick an existing branch ({})",
            String::from_utf8_lossy(&cloned.stderr).trim()
        )));
    }
    // An empty repository: the first push creates the branch.
    let _ = std::fs::remove_dir_all(dir);
    git.ok(
        None,
        &["init", "--quiet", "--initial-branch", branch, &dir_text],
        "cannot start a local repository",
    )
    .await?;
    git.ok(
        Some(dir),
        &["remote", "add", "origin", url],
        "cannot add the remote",
    )
    .await?;
    Ok(())
}

fn write_files(dir: &Path, writes: &[FileWrite]) -> Result<Vec<String>> {
    let mut written = Vec::new();
    for write in writes {
        if write
            .path
            .split('/')
            .any(|part| part == ".." || part.is_empty())
            || write.path.starts_with(".git/")
        {
            return Err(Error::Git(format!(
                "refusing to write {:?} outside the repository",
                write.path
            )));
        }
        let path = dir.join(&write.path);
        if write.mode == WriteMode::CreateOnly && path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Git(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, &write.content)
            .map_err(|e| Error::Git(format!("cannot write {}: {e}", write.path)))?;
        written.push(write.path.clone());
    }
    Ok(written)
}

/// What the engine is doing, in flux's words (`Display` prints the line flux prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Cloning {
        branch: String,
        url: String,
    },
    Cloned,
    Committed {
        subject: String,
        branch: String,
        commit: String,
    },
    Pushing {
        subject: String,
        url: String,
    },
    Conflict,
    UpToDate {
        subject: String,
    },
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Cloning { branch, url } => {
                write!(
                    f,
                    "► cloning branch \"{branch}\" from Git repository \"{url}\""
                )
            }
            Progress::Cloned => write!(f, "✔ cloned repository"),
            Progress::Committed {
                subject,
                branch,
                commit,
            } => write!(f, "✔ committed {subject} to \"{branch}\" (\"{commit}\")"),
            Progress::Pushing { subject, url } => write!(f, "► pushing {subject} to \"{url}\""),
            Progress::Conflict => write!(f, "◎ git conflict detected, retrying with a fresh clone"),
            Progress::UpToDate { subject } => write!(f, "✔ {subject} are up to date"),
        }
    }
}

/// Clone, write, commit if anything changed, push; a push rejected because the branch moved is
/// retried from a fresh clone up to [`PUSH_ATTEMPTS`] times. `progress` hears each step
/// as it happens; [`Progress::Committed`] comes before the push (tests move the branch then).
pub async fn sync_files(
    url: &str,
    auth: &GitAuth,
    branch: &str,
    writes: &[FileWrite],
    commit: &CommitSpec,
    job_parent: &Path,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<SyncOutcome> {
    let job = JobDir::new(job_parent)?;
    let git = Git {
        auth,
        job: job.path(),
    };
    let mut last_rejection = String::new();
    for attempt in 1..=PUSH_ATTEMPTS {
        let dir = job.path().join(format!("clone-{attempt}"));
        progress(Progress::Cloning {
            branch: branch.into(),
            url: url.into(),
        });
        clone(&git, url, branch, &dir).await?;
        progress(Progress::Cloned);
        let written = write_files(&dir, writes)?;
        if !written.is_empty() {
            let mut args = vec!["add", "--"];
            args.extend(written.iter().map(String::as_str));
            git.ok(Some(&dir), &args, "cannot stage the files").await?;
        }
        let staged = git
            .run(Some(&dir), &["diff", "--cached", "--quiet"])
            .await?;
        if staged.status.success() {
            let head = git.run(Some(&dir), &["rev-parse", "HEAD"]).await?;
            progress(Progress::UpToDate {
                subject: commit.subject.clone(),
            });
            return Ok(SyncOutcome::UpToDate {
                head: String::from_utf8_lossy(&head.stdout).trim().to_string(),
            });
        }
        let mut message = commit.message.clone();
        if let Some(appendix) = commit.appendix.as_deref().filter(|a| !a.is_empty()) {
            message.push_str("\n\n");
            message.push_str(appendix);
        }
        let mut args = vec![
            format!("user.name={}", commit.author_name),
            format!("user.email={}", commit.author_email),
        ];
        args = args
            .into_iter()
            .flat_map(|c| ["-c".to_string(), c])
            .collect();
        args.extend(signing_config(&commit.signing, job.path())?);
        args.extend(
            ["commit", "--quiet", "--no-verify", "-m", &message]
                .iter()
                .map(|a| a.to_string()),
        );
        if !matches!(commit.signing, Signing::None) {
            args.push("--gpg-sign".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        git.ok(Some(&dir), &args, "cannot commit").await?;
        let head = git
            .ok(Some(&dir), &["rev-parse", "HEAD"], "cannot read the commit")
            .await?;
        let commit_id = String::from_utf8_lossy(&head.stdout).trim().to_string();
        progress(Progress::Committed {
            subject: commit.subject.clone(),
            branch: branch.into(),
            commit: commit_id.clone(),
        });
        progress(Progress::Pushing {
            subject: commit.subject.clone(),
            url: url.into(),
        });
        let refspec = format!("HEAD:refs/heads/{branch}");
        let pushed = git
            .run(
                Some(&dir),
                &["push", "--quiet", "--porcelain", "origin", &refspec],
            )
            .await?;
        if pushed.status.success() {
            return Ok(SyncOutcome::Pushed {
                commit: commit_id,
                attempts: attempt,
            });
        }
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&pushed.stdout),
            String::from_utf8_lossy(&pushed.stderr)
        );
        let moved = report.contains("[rejected]")
            || report.contains("non-fast-forward")
            || report.contains("fetch first");
        if !moved {
            return Err(Error::Git(format!(
                "failed to push to {url}: {}",
                report.trim()
            )));
        }
        last_rejection = report.trim().to_string();
        if attempt < PUSH_ATTEMPTS {
            progress(Progress::Conflict);
        }
    }
    Err(Error::Git(format!(
        "the branch \"{branch}\" kept moving while pushing ({PUSH_ATTEMPTS} attempts): {last_rejection}"
    )))
}
