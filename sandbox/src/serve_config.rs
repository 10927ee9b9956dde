//! The configuration file `up` writes for `fluxstrap serve --config` (`FLUXSTRAP_CONFIG`), so the
//! server can be pointed at the sandbox without copying settings by hand. `serve` reads it with
//! `deny_unknown_fields`, so only keys it knows are written; no token ever goes in (the server
//! has its own credentials: the kubeconfigs, and the caller's Bitbucket token per request).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The whole file.
#[derive(Debug, Serialize)]
pub struct ServeConfig {
    /// Where `serve` downloads releases from: the mirror, when `up --releases` runs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub releases_url: Option<String>,
    /// The versions the mirror serves, newest first (the page's default is the first); left
    /// out without a mirror, so `serve` keeps its own list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    pub servers: Vec<Server>,
    pub clusters: Vec<Cluster>,
}

/// The Bitbucket emulator.
#[derive(Debug, Serialize)]
pub struct Server {
    pub name: String,
    pub url: String,
    /// `ssh://host:port`, as `BITBUCKET_SSH_URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// One Kubernetes emulator.
#[derive(Debug, Serialize)]
pub struct Cluster {
    pub name: String,
    pub kubeconfig: PathBuf,
    /// The Bitbucket projects that may target it.
    pub projects: Vec<String>,
}

impl ServeConfig {
    /// Writes the file at `path`.
    pub fn write(&self, path: &Path) -> crate::Result<()> {
        let text = toml::to_string(self).map_err(|e| crate::Error::Config(e.to_string()))?;
        std::fs::write(path, text).map_err(|source| crate::Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_the_keys_serve_knows_and_escapes_strings() {
        let config = ServeConfig {
            releases_url: None,
            versions: Vec::new(),
            servers: vec![Server {
                name: "sandbox".into(),
                url: "https://localhost:1".into(),
                ssh_url: None,
                ca_file: Some(PathBuf::from("/tmp/a \"quoted\" dir/ca.pem")),
            }],
            clusters: vec![Cluster {
                name: "sandbox-1".into(),
                kubeconfig: PathBuf::from("/tmp/kube/kubeconfig"),
                projects: vec!["PLAT".into()],
            }],
        };
        let text = toml::to_string(&config).unwrap();
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(
            parsed.keys().collect::<Vec<_>>(),
            ["clusters", "servers"],
            "{text}"
        );
        assert_eq!(
            parsed["servers"][0]["ca_file"].as_str(),
            Some("/tmp/a \"quoted\" dir/ca.pem")
        );
        assert!(parsed["servers"][0].get("ssh_url").is_none(), "{text}");
        assert_eq!(parsed["clusters"][0]["projects"][0].as_str(), Some("PLAT"));
    }
}
