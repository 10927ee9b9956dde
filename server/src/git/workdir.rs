//! The per-job working directory: a private temporary directory (0700 from its creation) that
//! holds the clones and every credential file of one sync, removed with everything in it when the
//! job ends — also on an error or a panic. Files are created with their final mode (0600 for
//! secrets, 0700 for helper scripts), never chmod-ed afterwards.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Job directories are named `fluxstrap-git-<pid>-<random>`, so a later start can tell the
/// ones a dead process left behind.
const PREFIX: &str = "fluxstrap-git-";

/// A job directory, removed when dropped.
pub struct JobDir {
    dir: tempfile::TempDir,
}

impl JobDir {
    /// Creates a fresh private directory below `parent`.
    pub fn new(parent: &Path) -> Result<Self> {
        std::fs::create_dir_all(parent).map_err(|source| Error::JobFile {
            path: parent.to_path_buf(),
            source,
        })?;
        let prefix = format!("{PREFIX}{}-", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        let dir = builder
            .tempdir_in(parent)
            .map_err(|source| Error::JobFile {
                path: parent.to_path_buf(),
                source,
            })?;
        Ok(Self { dir })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `content` to `name` in the job directory, created with `mode` (e.g. 0o600).
    pub fn write_private(&self, name: &str, content: &[u8], mode: u32) -> Result<PathBuf> {
        let path = self.path().join(name);
        write_new(&path, content, mode).map_err(|source| Error::JobFile {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Writes a private key to `name` (0600), ending it with the newline OpenSSH needs.
    pub fn write_key(&self, name: &str, key: &fluxstrap_core::Secret) -> Result<PathBuf> {
        let mut pem = key.expose().to_string();
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        self.write_private(name, pem.as_bytes(), 0o600)
    }

    /// Creates the private subdirectory `name` (0700).
    pub fn private_dir(&self, name: &str) -> Result<PathBuf> {
        let path = self.path().join(name);
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path).map_err(|source| Error::JobFile {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        // OpenPGP signing starts an agent on the job's GnuPG home: stop it before the removal.
        let gnupg = self.path().join("gnupg");
        if gnupg.exists() {
            let _ = std::process::Command::new("gpgconf")
                .env("GNUPGHOME", &gnupg)
                .args(["--kill", "gpg-agent"])
                .status();
        }
    }
}

/// Removes the job directories below `parent` that a killed process (SIGKILL, power loss) left
/// behind: they may hold private keys. A directory belongs to a dead process when no process
/// with the pid in its name runs (on Linux, no `/proc/<pid>`); others are left alone.
pub fn remove_stale(parent: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let owner = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let Some(pid) = owner else { continue };
        if !process_runs(pid) && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn process_runs(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // Without a cheap liveness check, assume it runs: a leftover beats a removed live job.
        true
    }
}

/// Creates `path` (it must not exist) with `mode` from the start and writes `content`.
fn write_new(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn job_directories_are_private_and_removed_when_dropped() {
        let parent = tempfile::tempdir().unwrap();
        let job = JobDir::new(parent.path()).unwrap();
        let key = job.write_private("identity", b"secret\n", 0o600).unwrap();
        let script = job.write_private("askpass", b"#!/bin/sh\n", 0o700).unwrap();
        let home = job.private_dir("gnupg-home").unwrap();
        #[cfg(unix)]
        {
            assert_eq!(mode(job.path()), 0o700);
            assert_eq!(mode(&key), 0o600);
            assert_eq!(mode(&script), 0o700);
            assert_eq!(mode(&home), 0o700);
        }
        // A second write of the same name is refused rather than reusing a file.
        assert!(job.write_private("identity", b"other", 0o600).is_err());
        let path = job.path().to_path_buf();
        drop(job);
        assert!(!path.exists());
    }

    #[test]
    fn only_directories_of_dead_processes_are_removed() {
        let parent = tempfile::tempdir().unwrap();
        let live = JobDir::new(parent.path()).unwrap();
        // A process that has exited: its pid is free (or reused, which keeps the directory).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        let stale = parent.path().join(format!("{PREFIX}{dead_pid}-abc123"));
        std::fs::create_dir(&stale).unwrap();
        let unrelated = parent.path().join("unrelated");
        std::fs::create_dir(&unrelated).unwrap();
        let removed = remove_stale(parent.path());
        assert!(live.path().exists(), "a live job's directory was removed");
        assert!(unrelated.exists());
        if !process_runs(dead_pid) {
            assert_eq!(removed, 1);
            assert!(!stale.exists());
        }
    }
}
