//! Writing the generated files into a clone. The repository is user content that anyone with
//! push access controls, so a write never follows a symbolic link (a committed
//! `clusters/x/flux-system -> /etc` is refused, and nothing outside the clone is touched), and no
//! path component may be `..`, `.`, empty, or `.git` in any letter case.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

fn refuse(path: &str, reason: &'static str) -> Error {
    Error::UnsafeRepositoryPath {
        path: path.to_string(),
        reason,
    }
}

/// Checks `relative` component by component below `root`: each existing component must be a
/// real directory (the last one a regular file, if it exists). Returns the full path and whether
/// the file exists.
pub(super) fn resolve(root: &Path, relative: &str) -> Result<(PathBuf, bool)> {
    let parts: Vec<&str> = relative.split('/').collect();
    for part in &parts {
        if part.is_empty() || *part == "." || *part == ".." {
            return Err(refuse(
                relative,
                "it is not a plain path inside the repository",
            ));
        }
        if part.eq_ignore_ascii_case(".git") {
            return Err(refuse(relative, "it would write into git's own directory"));
        }
    }
    let mut path = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let last = i + 1 == parts.len();
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(refuse(
                    relative,
                    "the repository has a symbolic link on that path; remove it from the branch",
                ));
            }
            Ok(meta) if !last && !meta.is_dir() => {
                return Err(refuse(
                    relative,
                    "the repository has a file where a directory is needed",
                ));
            }
            Ok(meta) if last && !meta.is_file() => {
                return Err(refuse(
                    relative,
                    "the repository has a directory where the file goes",
                ));
            }
            Ok(_) if last => return Ok((path, true)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((root.join(relative), false));
            }
            Err(source) => return Err(Error::JobFile { path, source }),
        }
    }
    Ok((path, false))
}

/// Writes `content` to `relative` in the clone at `root`, creating missing directories.
pub fn write_file(root: &Path, relative: &str, content: &[u8]) -> Result<()> {
    let (path, _) = resolve(root, relative)?;
    if let Some(parent) = path.parent() {
        // Every existing component was checked above; only missing ones are created.
        std::fs::create_dir_all(parent).map_err(|source| Error::JobFile {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(&path, content).map_err(|source| Error::JobFile { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_into_new_directories() {
        let clone = tempfile::tempdir().unwrap();
        write_file(
            clone.path(),
            "clusters/a/flux-system/gotk-sync.yaml",
            b"new\n",
        )
        .unwrap();
        let written =
            std::fs::read(clone.path().join("clusters/a/flux-system/gotk-sync.yaml")).unwrap();
        assert_eq!(written, b"new\n");
        let (_, exists) = resolve(clone.path(), "clusters/a/flux-system/gotk-sync.yaml").unwrap();
        assert!(exists);
    }

    #[test]
    fn paths_out_of_the_clone_or_into_git_are_refused() {
        let clone = tempfile::tempdir().unwrap();
        for path in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            ".git/config",
            "a/.GIT/hooks/pre-commit",
            "a/.Git",
        ] {
            let error = write_file(clone.path(), path, b"x").unwrap_err();
            assert!(
                matches!(error, Error::UnsafeRepositoryPath { .. }),
                "{path}: {error}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_in_the_repository_are_never_followed() {
        let clone = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(clone.path().join("clusters/x")).unwrap();
        // A committed directory link pointing outside, and a dangling file link.
        std::os::unix::fs::symlink(outside.path(), clone.path().join("clusters/x/flux-system"))
            .unwrap();
        std::fs::create_dir_all(clone.path().join("clusters/y/flux-system")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("planted"),
            clone
                .path()
                .join("clusters/y/flux-system/kustomization.yaml"),
        )
        .unwrap();
        for path in [
            "clusters/x/flux-system/gotk-sync.yaml",
            "clusters/y/flux-system/kustomization.yaml",
        ] {
            let error = write_file(clone.path(), path, b"x").unwrap_err();
            assert!(
                error.to_string().contains("symbolic link"),
                "{path}: {error}"
            );
            let error = resolve(clone.path(), path).unwrap_err();
            assert!(
                error.to_string().contains("symbolic link"),
                "{path}: {error}"
            );
        }
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
