//! Temporary directories for one test: unique, removed when dropped, kept (and their path
//! printed) when the test is failing, so what a failed run left can be looked at.

use std::path::{Path, PathBuf};

/// A fresh directory below the system's temporary directory, named `fluxstrap-<name>-…`.
#[derive(Debug)]
pub struct TempDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TempDir {
    /// Creates the directory; `name` says which test it is for.
    pub fn new(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("fluxstrap-{name}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temporary directory for {name}: {e}"));
        let path = dir.path().to_path_buf();
        Self {
            dir: Some(dir),
            path,
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.path.join(relative)
    }

    /// A new directory inside this one (with its parents).
    pub fn subdir(&self, relative: impl AsRef<Path>) -> PathBuf {
        let path = self.join(relative);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        path
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            eprintln!("the failed test's files are kept in {}", kept.display());
        }
        // Otherwise the inner TempDir removes the directory.
    }
}
