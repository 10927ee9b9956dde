//! Commit signing with the job's key (flux's `--gpg-*` and SSH signing flags): `-c` options that
//! make `git commit --gpg-sign` use it. Keys, passphrases and the GnuPG home live in the job
//! directory only (0600/0700 from creation), so they go when the job does; a passphrase reaches
//! gpg or ssh-keygen through a file or an askpass script, never argv.

use fluxstrap_core::Secret;

use super::command::{TOOL_TIMEOUT, clean_command, output_within};
use super::workdir::JobDir;
use crate::error::{Error, Result};

/// How the commit is signed; OpenPGP and SSH exclude each other, as flux's flags do.
#[derive(Debug, Clone)]
pub enum Signing {
    /// Not signed.
    None,
    /// An armored key ring holding the secret key; `key_id` picks the key when it holds several.
    OpenPgp {
        /// The armored secret key ring (`--gpg-key-ring`).
        key_ring: Secret,
        /// Its passphrase (`--gpg-passphrase`).
        passphrase: Option<Secret>,
        /// The key to sign with (`--gpg-key-id`); the ring's first key when absent.
        key_id: Option<String>,
    },
    /// An OpenSSH private key, signed with `gpg.format=ssh`.
    Ssh {
        /// The private key.
        private_key: Secret,
        /// Its passphrase.
        passphrase: Option<Secret>,
    },
}

fn config(pairs: Vec<(&str, String)>) -> Vec<String> {
    pairs
        .into_iter()
        .flat_map(|(k, v)| ["-c".to_string(), format!("{k}={v}")])
        .collect()
}

/// The `-c` options for `signing`; writes the key material into `job`.
pub async fn signing_config(signing: &Signing, job: &JobDir) -> Result<Vec<String>> {
    match signing {
        Signing::None => Ok(Vec::new()),
        Signing::Ssh {
            private_key,
            passphrase,
        } => {
            let key = job.write_key("signing-key", private_key)?;
            // ssh-keygen asks through SSH_ASKPASS when forced; the script prints a 0600 file.
            let program = match passphrase {
                None => "ssh-keygen".to_string(),
                Some(passphrase) => {
                    let secret = job.write_private(
                        "signing-passphrase",
                        passphrase.expose().as_bytes(),
                        0o600,
                    )?;
                    let askpass = job.write_private(
                        "signing-askpass",
                        format!("#!/bin/sh\ncat '{}'\n", secret.display()).as_bytes(),
                        0o700,
                    )?;
                    let wrapper = job.write_private(
                        "signing-ssh-keygen",
                        format!(
                            "#!/bin/sh\nSSH_ASKPASS='{}' SSH_ASKPASS_REQUIRE=force DISPLAY=none exec ssh-keygen \"$@\" </dev/null\n",
                            askpass.display()
                        )
                        .as_bytes(),
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
            let home = job.private_dir("gnupg")?;
            let ring =
                job.write_private("signing-keyring.asc", key_ring.expose().as_bytes(), 0o600)?;
            let mut import = clean_command("gpg");
            import
                .env("GNUPGHOME", &home)
                .args(["--batch", "--quiet", "--import"])
                .arg(&ring);
            let imported = output_within(import, "gpg", TOOL_TIMEOUT).await?;
            if !imported.status.success() {
                return Err(Error::SigningKeyRing {
                    detail: String::from_utf8_lossy(&imported.stderr).trim().to_string(),
                });
            }
            let passphrase_arg = match passphrase {
                Some(p) => {
                    let file =
                        job.write_private("signing-passphrase", p.expose().as_bytes(), 0o600)?;
                    format!(
                        " --pinentry-mode loopback --passphrase-file '{}'",
                        file.display()
                    )
                }
                None => String::new(),
            };
            let wrapper = job.write_private(
                "signing-gpg",
                format!(
                    "#!/bin/sh\nGNUPGHOME='{}' exec gpg --batch --no-tty{passphrase_arg} \"$@\"\n",
                    home.display()
                )
                .as_bytes(),
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
                    let mut list = clean_command("gpg");
                    list.env("GNUPGHOME", &home).args([
                        "--batch",
                        "--with-colons",
                        "--list-secret-keys",
                    ]);
                    let listed = output_within(list, "gpg", TOOL_TIMEOUT).await?;
                    String::from_utf8_lossy(&listed.stdout)
                        .lines()
                        .find(|l| l.starts_with("fpr:"))
                        .and_then(|l| l.split(':').nth(9))
                        .map(str::to_string)
                        .ok_or(Error::NoSigningKey)?
                }
            };
            pairs.push(("user.signingKey", id));
            Ok(config(pairs))
        }
    }
}
