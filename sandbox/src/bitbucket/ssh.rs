//! Git over SSH, as Bitbucket serves it (user `git`, default port 7999): repository access keys
//! and users' own keys authenticate (ed25519, ECDSA and RSA with rsa-sha2-256/512), the
//! command's repository and service are checked against the key's permission, and the real
//! `git-upload-pack` / `git-receive-pack` do the rest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use russh::server::{Auth, ChannelOpenHandle, Handle, Msg, Server, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};

use super::Shared;
use super::keys::KeyMaterial;
use super::state::Level;

/// Loads the persistent host key, creating it with `ssh-keygen` on first use.
pub fn host_key(dir: &Path) -> std::io::Result<russh::keys::PrivateKey> {
    let path = dir.join("ssh_host_ed25519_key");
    if !path.is_file() {
        std::fs::create_dir_all(dir)?;
        let status = std::process::Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "fluxstrap-sandbox",
                "-f",
            ])
            .arg(&path)
            .status()?;
        if !status.success() {
            return Err(std::io::Error::other(
                "ssh-keygen could not create the host key",
            ));
        }
    }
    russh::keys::load_secret_key(&path, None).map_err(std::io::Error::other)
}

pub(crate) struct SshServer {
    pub(crate) shared: Arc<Shared>,
}

impl Server for SshServer {
    type Handler = SshSession;

    fn new_client(&mut self, _peer: Option<std::net::SocketAddr>) -> SshSession {
        SshSession {
            shared: self.shared.clone(),
            key: None,
            user: None,
            stdin: HashMap::new(),
        }
    }
}

pub(crate) struct SshSession {
    shared: Arc<Shared>,
    /// The authenticated key's `type base64`.
    key: Option<String>,
    /// The user whose own key logged in, if it is one.
    user: Option<String>,
    stdin: HashMap<ChannelId, ChildStdin>,
}

/// `git-upload-pack '/plat/fleet.git'` → (service, key, slug).
fn parse_command(command: &str) -> Option<(&'static str, String, String)> {
    let (service, path) = command.trim().split_once(' ')?;
    let service = match service {
        "git-upload-pack" => "git-upload-pack",
        "git-receive-pack" => "git-receive-pack",
        _ => return None,
    };
    let path = path
        .trim()
        .trim_matches(['\'', '"'])
        .trim_start_matches('/');
    let (key, slug) = path.split_once('/')?;
    let slug = slug.trim_end_matches('/').trim_end_matches(".git");
    (!key.is_empty() && !slug.is_empty() && !slug.contains('/'))
        .then(|| (service, key.to_string(), slug.to_string()))
}

async fn refuse(handle: &Handle, channel: ChannelId, message: &str) {
    let _ = handle
        .extended_data(channel, 1, format!("{message}\n").into_bytes())
        .await;
    let _ = handle.exit_status_request(channel, 128).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
}

impl SshSession {
    /// Runs the git service `command` asks for on its repository, or says why not.
    async fn start(&self, command: &str) -> Result<Child, String> {
        let Some((service, key, slug)) = parse_command(command) else {
            return Err(format!(
                "fatal: '{command}' is not a git command this server runs"
            ));
        };
        let git_dir = self.permitted_git_dir(service, &key, &slug).await?;
        Command::new(service)
            .arg(&git_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("fatal: cannot run {service}: {e}"))
    }

    /// The repository's git directory, if the session may run `service` on it.
    async fn permitted_git_dir(
        &self,
        service: &str,
        key: &str,
        slug: &str,
    ) -> Result<PathBuf, String> {
        let needed = if service == "git-receive-pack" {
            Level::Write
        } else {
            Level::Read
        };
        let state = self.shared.state.lock().await;
        let Some(index) = state.repo_index(key, slug) else {
            return Err(format!("fatal: Repository {key}/{slug} does not exist."));
        };
        let repo = &state.repos[index];
        // Checked live, for the key that logged in: a key deleted since no longer works.
        let ours = self.key.as_deref().and_then(KeyMaterial::of);
        let as_user = self
            .user
            .as_deref()
            .and_then(|name| state.user(name))
            .and_then(|user| state.repo_level(user, repo))
            .is_some_and(|level| level >= needed);
        let allowed = as_user
            || state.access_keys.iter().any(|k| {
                ours.is_some_and(|ours| ours.matches(&k.text)) && k.is_on(repo) && k.level >= needed
            });
        if !allowed {
            let what = if needed == Level::Write {
                "push to"
            } else {
                "read"
            };
            return Err(format!(
                "fatal: this key is not permitted to {what} {key}/{slug}"
            ));
        }
        Ok(state.git_dir(repo))
    }
}

impl russh::server::Handler for SshSession {
    type Error = russh::Error;

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if user != "git" {
            return Ok(Auth::reject());
        }
        let offered = key.public_key.to_openssh().unwrap_or_default();
        let Some(material) = KeyMaterial::of(&offered) else {
            return Ok(Auth::reject());
        };
        let state = self.shared.state.lock().await;
        let access_key = state.access_keys.iter().any(|k| material.matches(&k.text));
        // A user's own key acts with that user's permissions.
        self.user = state
            .users
            .iter()
            .find(|u| u.ssh_keys.iter().any(|k| material.matches(k)))
            .map(|u| u.name.clone());
        if !access_key && self.user.is_none() {
            return Ok(Auth::reject());
        }
        self.key = Some(material.to_string());
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        let handle = session.handle();
        let command = String::from_utf8_lossy(data).into_owned();
        let mut child = match self.start(&command).await {
            Ok(child) => child,
            Err(refusal) => {
                refuse(&handle, channel, &refusal).await;
                return Ok(());
            }
        };
        if let Some(stdin) = child.stdin.take() {
            self.stdin.insert(channel, stdin);
        }
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        tokio::spawn(async move {
            let err_handle = handle.clone();
            let errors = tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                while let Ok(n) = stderr.read(&mut buffer).await {
                    if n == 0
                        || err_handle
                            .extended_data(channel, 1, buffer[..n].to_vec())
                            .await
                            .is_err()
                    {
                        break;
                    }
                }
            });
            let mut buffer = vec![0u8; 32 * 1024];
            while let Ok(n) = stdout.read(&mut buffer).await {
                if n == 0 || handle.data(channel, buffer[..n].to_vec()).await.is_err() {
                    break;
                }
            }
            let _ = errors.await;
            let code = child.wait().await.ok().and_then(|s| s.code()).unwrap_or(1);
            let _ = handle.exit_status_request(channel, code as u32).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(stdin) = self.stdin.get_mut(&channel)
            && stdin.write_all(data).await.is_err()
        {
            self.stdin.remove(&channel);
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Closing git's stdin tells it the client is done.
        self.stdin.remove(&channel);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_name_service_and_repository() {
        assert_eq!(
            parse_command("git-upload-pack '/plat/fleet.git'"),
            Some(("git-upload-pack", "plat".into(), "fleet".into()))
        );
        // flux's form: no .git, upper-case key.
        assert_eq!(
            parse_command("git-receive-pack '/PLAT/fleet'"),
            Some(("git-receive-pack", "PLAT".into(), "fleet".into()))
        );
        assert_eq!(parse_command("rm -rf /"), None);
        assert_eq!(parse_command("git-upload-pack '/plat/a/b'"), None);
    }

    /// OpenSSH signs with rsa-sha2-512 (or -256) for an RSA key; a user's RSA key logs in and
    /// reaches the command check (a missing repository, not "Permission denied").
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rsa_keys_log_in_with_rsa_sha2_signatures() {
        use crate::bitbucket::{BitbucketEmulator, Config, Seed, Ssh, Transport};
        let root = std::env::temp_dir().join(format!("fluxstrap-ssh-rsa-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let key = root.join("id_rsa");
        let keygen = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "rsa", "-b", "3072", "-N", "", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(keygen.success());
        let mut seed = Seed::default();
        let alice = seed.users.iter_mut().find(|u| u.name == "alice").unwrap();
        alice.ssh_keys = vec![std::fs::read_to_string(key.with_extension("pub")).unwrap()];
        let bitbucket = BitbucketEmulator::start(Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            context_path: String::new(),
            git_root: root.join("repos"),
            seed,
            ssh_port: 7999,
            transport: Transport::Http,
            ssh: Ssh::Enabled {
                listen: "127.0.0.1:0".parse().unwrap(),
                host_key_dir: root.join("hostkey"),
            },
        })
        .await
        .unwrap();
        let known_hosts = root.join("known_hosts");
        std::fs::write(&known_hosts, bitbucket.ssh_known_hosts().unwrap()).unwrap();
        let port = bitbucket
            .ssh_url()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_string();
        let login = |algorithms: &str| {
            let output = std::process::Command::new("ssh")
                .args(["-F", "none", "-p", &port, "-i"])
                .arg(&key)
                .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
                .arg("-o")
                .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
                .args(["-o", "StrictHostKeyChecking=yes", "-o"])
                .arg(format!("PubkeyAcceptedAlgorithms={algorithms}"))
                .args(["git@127.0.0.1", "git-upload-pack '/plat/nowhere.git'"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&output.stderr).into_owned()
        };
        for algorithm in ["rsa-sha2-512", "rsa-sha2-256"] {
            let stderr = tokio::task::block_in_place(|| login(algorithm));
            assert!(
                stderr.contains("fatal: Repository plat/nowhere does not exist."),
                "{algorithm}: {stderr}"
            );
        }
        bitbucket.stop().await;
        let _ = std::fs::remove_dir_all(root);
    }
}
