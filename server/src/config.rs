//! `fluxstrap serve --config FILE`: the Bitbucket servers and clusters a platform team offers,
//! the Flux versions, the directories and the limits. The file is TOML; flags and `FLUXSTRAP_*`
//! variables override what it says (see [`Overrides`]). Every mistake is reported with the file,
//! the line and the key, so it can be fixed without guessing.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! versions = ["v2.9.4"]            # the first is the page's default
//!
//! [limits]
//! concurrent_jobs = 4
//!
//! [[servers]]
//! name = "bitbucket"
//! url = "https://bitbucket.example.com/bitbucket"
//! ssh_url = "ssh://bitbucket.example.com:7999"
//! ca_file = "bitbucket-ca.pem"     # relative paths are relative to this file
//!
//! [[clusters]]
//! name = "prod-eu"
//! kubeconfig = "/etc/fluxstrap/prod-eu.kubeconfig"
//! context = "prod-eu"
//! projects = ["PLAT", "SHOP"]      # the Bitbucket projects that may target it; "*" for any
//! defaults = { path_prefix = "clusters/prod-eu" }
//! ```

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use fluxstrap_core::bitbucket::BitbucketHost;
use fluxstrap_core::install::FluxVersion;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

/// The default listen address: loopback only, so nothing is exposed by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_CONCURRENT_JOBS: usize = 4;
/// JSON bodies are small (a job request is a few hundred bytes).
const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<Spanned<String>>,
    web_dir: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    releases_url: Option<Spanned<String>>,
    #[serde(default)]
    versions: Vec<Spanned<String>>,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    servers: Vec<FileServer>,
    #[serde(default)]
    clusters: Vec<FileCluster>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    concurrent_jobs: Option<Spanned<usize>>,
    max_body_bytes: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    name: Spanned<String>,
    url: Spanned<String>,
    ssh_url: Option<Spanned<String>>,
    ca_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCluster {
    name: Spanned<String>,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    in_cluster: Option<Spanned<bool>>,
    #[serde(default)]
    projects: Vec<Spanned<String>>,
    #[serde(default)]
    defaults: ClusterDefaults,
}

/// A configured Bitbucket Server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// What the API and the page call it.
    pub name: String,
    /// Its base URL, with the context path if any.
    pub host: BitbucketHost,
    /// `host:port` of its SSH (the bootstrap's `--ssh-hostname`), when it serves SSH.
    pub ssh_host: Option<String>,
    /// A PEM bundle to trust for it, besides the system's roots.
    pub ca_file: Option<PathBuf>,
}

/// How `serve` reaches a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterAccess {
    /// A kubeconfig file, at its current context or the one named.
    Kubeconfig {
        path: PathBuf,
        context: Option<String>,
    },
    /// The service account of the pod `serve` runs in.
    InCluster,
}

/// Which Bitbucket projects may target a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedProjects {
    /// Any project (`"*"`).
    Any,
    /// These project keys (upper case, as Bitbucket keys are).
    Keys(Vec<String>),
}

impl AllowedProjects {
    /// Whether the project `key` may target the cluster.
    pub fn allows(&self, key: &str) -> bool {
        match self {
            AllowedProjects::Any => true,
            AllowedProjects::Keys(keys) => keys.iter().any(|k| k.eq_ignore_ascii_case(key)),
        }
    }
}

/// What a cluster suggests to the page and fills in when a job leaves it out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterDefaults {
    /// `--path` defaults to `<path_prefix>` when a job gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
}

/// A configured cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    pub name: String,
    pub access: ClusterAccess,
    pub projects: AllowedProjects,
    pub defaults: ClusterDefaults,
}

/// Limits that keep one `serve` responsive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Jobs running at once; the rest wait in order.
    pub concurrent_jobs: usize,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
}

/// Everything `serve` runs with, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub web_dir: PathBuf,
    /// Where the job database lives.
    pub data_dir: PathBuf,
    /// Where release manifests are cached.
    pub cache_dir: PathBuf,
    /// Where releases are downloaded from (`FLUXSTRAP_RELEASES_URL`); `None`: GitHub.
    pub releases_url: Option<String>,
    /// The Flux versions offered, the default first.
    pub versions: Vec<FluxVersion>,
    pub limits: Limits,
    pub servers: Vec<ServerConfig>,
    pub clusters: Vec<ClusterConfig>,
}

impl ServeConfig {
    pub fn server(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|s| s.name == name)
    }

    pub fn cluster(&self, name: &str) -> Option<&ClusterConfig> {
        self.clusters.iter().find(|c| c.name == name)
    }
}

/// What flags and `FLUXSTRAP_*` variables set; each wins over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub web_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub releases_url: Option<String>,
    /// `--flux-version`: offered first.
    pub version: Option<String>,
    /// `--bitbucket-url` (with `--bitbucket-ca-file`): one more server, named `bitbucket`, for
    /// running without a file.
    pub bitbucket_url: Option<String>,
    pub bitbucket_ca_file: Option<PathBuf>,
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads and checks `path` (or nothing, when `None`), then applies `overrides`.
pub fn load(path: Option<&Path>, overrides: Overrides) -> Result<ServeConfig> {
    let (file, origin) = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
                path: path.to_path_buf(),
                source,
            })?;
            let file: File = toml::from_str(&text).map_err(|e| Error::Config {
                path: path.to_path_buf(),
                line: e.span().map_or(1, |s| line_of(&text, s.start)),
                key: String::new(),
                reason: e.message().to_string(),
            })?;
            (file, Some((path.to_path_buf(), text)))
        }
        None => (File::default(), None),
    };
    Checker { origin: &origin }.check(file, overrides)
}

/// Turns the file into a [`ServeConfig`], naming the line of every mistake.
struct Checker<'a> {
    origin: &'a Option<(PathBuf, String)>,
}

impl Checker<'_> {
    fn error(&self, span: Option<Range<usize>>, key: &str, reason: impl Into<String>) -> Error {
        let reason = reason.into();
        match self.origin {
            Some((path, text)) => Error::Config {
                path: path.clone(),
                line: span.map_or(1, |s| line_of(text, s.start)),
                key: key.to_string(),
                reason,
            },
            None => Error::ConfigFlag {
                key: key.to_string(),
                reason,
            },
        }
    }

    /// `path` as written, resolved against the config file's directory.
    fn resolve(&self, path: PathBuf) -> PathBuf {
        match self.origin {
            Some((file, _)) if path.is_relative() => {
                file.parent().map_or(path.clone(), |dir| dir.join(&path))
            }
            _ => path,
        }
    }

    fn check(&self, file: File, overrides: Overrides) -> Result<ServeConfig> {
        let listen = match (overrides.listen, file.listen) {
            (Some(listen), _) => listen,
            (None, Some(listen)) => listen.get_ref().parse().map_err(|_| {
                self.error(
                    Some(listen.span()),
                    "listen",
                    format!("{:?} is not an address:port", listen.get_ref()),
                )
            })?,
            (None, None) => DEFAULT_LISTEN.parse().expect("a literal address"),
        };
        let mut versions = Vec::new();
        let written = file
            .versions
            .iter()
            .map(|v| (v.get_ref().clone(), Some(v.span())));
        for (version, span) in overrides
            .version
            .clone()
            .map(|v| (v, None))
            .into_iter()
            .chain(written)
        {
            let parsed = FluxVersion::parse(&version)
                .map_err(|e| self.error(span, "versions", e.to_string()))?;
            if !versions.contains(&parsed) {
                versions.push(parsed);
            }
        }
        if versions.is_empty() {
            versions.push(
                FluxVersion::parse(crate::install::DEFAULT_FLUX_VERSION)
                    .expect("the default version parses"),
            );
        }
        let concurrent_jobs = match file.limits.concurrent_jobs {
            Some(n) if *n.get_ref() == 0 => {
                return Err(self.error(
                    Some(n.span()),
                    "limits.concurrent_jobs",
                    "must be at least 1",
                ));
            }
            Some(n) => n.into_inner(),
            None => DEFAULT_CONCURRENT_JOBS,
        };
        let limits = Limits {
            concurrent_jobs,
            max_body_bytes: file.limits.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        };
        let mut servers = Vec::new();
        for server in file.servers {
            servers.push(self.server(server, &servers)?);
        }
        if let Some(url) = &overrides.bitbucket_url {
            let host = BitbucketHost::parse(url)
                .map_err(|e| self.error(None, "--bitbucket-url", e.to_string()))?;
            if !servers.iter().any(|s: &ServerConfig| s.host == host) {
                servers.push(ServerConfig {
                    name: "bitbucket".to_string(),
                    host,
                    ssh_host: None,
                    ca_file: overrides.bitbucket_ca_file.clone(),
                });
            }
        }
        let mut clusters = Vec::new();
        for cluster in file.clusters {
            clusters.push(self.cluster(cluster, &clusters)?);
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let data_dir = overrides
            .data_dir
            .or(file.data_dir.map(|p| self.resolve(p)))
            .or_else(|| home.as_ref().map(|h| h.join(".local/share/fluxstrap")))
            .ok_or_else(|| {
                self.error(
                    None,
                    "data_dir",
                    "no data directory: set FLUXSTRAP_DATA_DIR",
                )
            })?;
        let cache_dir = overrides
            .cache_dir
            .or(file.cache_dir.map(|p| self.resolve(p)))
            .or_else(crate::releases::cache_dir)
            .ok_or(Error::NoCacheDir)?;
        Ok(ServeConfig {
            listen,
            web_dir: overrides
                .web_dir
                .or(file.web_dir.map(|p| self.resolve(p)))
                .unwrap_or_else(|| PathBuf::from("dist")),
            data_dir,
            cache_dir,
            releases_url: overrides
                .releases_url
                .or(file.releases_url.map(Spanned::into_inner)),
            versions,
            limits,
            servers,
            clusters,
        })
    }

    /// A name the API can carry in a path segment.
    fn name(&self, name: &Spanned<String>, key: &str, taken: bool) -> Result<String> {
        let text = name.get_ref();
        let fine = !text.is_empty()
            && text.len() <= 63
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && !text.starts_with('.');
        if !fine {
            return Err(self.error(
                Some(name.span()),
                key,
                format!("{text:?} is not a name: use letters, digits, '-', '_' or '.'"),
            ));
        }
        if taken {
            return Err(self.error(
                Some(name.span()),
                key,
                format!("{text:?} is used twice: names must be unique"),
            ));
        }
        Ok(text.clone())
    }

    fn server(&self, server: FileServer, earlier: &[ServerConfig]) -> Result<ServerConfig> {
        let taken = earlier.iter().any(|s| s.name == *server.name.get_ref());
        let name = self.name(&server.name, "servers.name", taken)?;
        let host = BitbucketHost::parse(server.url.get_ref())
            .map_err(|e| self.error(Some(server.url.span()), "servers.url", e.to_string()))?;
        let ssh_host = match &server.ssh_url {
            Some(ssh) => Some(ssh_host(ssh.get_ref()).ok_or_else(|| {
                self.error(
                    Some(ssh.span()),
                    "servers.ssh_url",
                    format!(
                        "{:?} is not an SSH URL: write ssh://host[:port]",
                        ssh.get_ref()
                    ),
                )
            })?),
            None => None,
        };
        Ok(ServerConfig {
            name,
            host,
            ssh_host,
            ca_file: server.ca_file.map(|p| self.resolve(p)),
        })
    }

    fn cluster(&self, cluster: FileCluster, earlier: &[ClusterConfig]) -> Result<ClusterConfig> {
        let taken = earlier.iter().any(|c| c.name == *cluster.name.get_ref());
        let name = self.name(&cluster.name, "clusters.name", taken)?;
        let in_cluster = cluster.in_cluster.as_ref().is_some_and(|b| *b.get_ref());
        let in_cluster_span = cluster.in_cluster.as_ref().map(Spanned::span);
        let access = match (cluster.kubeconfig, in_cluster) {
            (Some(path), false) => ClusterAccess::Kubeconfig {
                path: self.resolve(path),
                context: cluster.context,
            },
            (None, true) => ClusterAccess::InCluster,
            (Some(_), true) => {
                return Err(self.error(
                    in_cluster_span,
                    "clusters.in_cluster",
                    format!("cluster {name:?} has both kubeconfig and in_cluster: pick one"),
                ));
            }
            (None, false) => {
                return Err(self.error(
                    Some(cluster.name.span()),
                    "clusters.kubeconfig",
                    format!("cluster {name:?} needs kubeconfig = \"FILE\" or in_cluster = true"),
                ));
            }
        };
        let projects = if cluster.projects.iter().any(|p| p.get_ref() == "*") {
            AllowedProjects::Any
        } else {
            let mut keys = Vec::new();
            for project in &cluster.projects {
                fluxstrap_core::bitbucket::ProjectKey::parse(project.get_ref()).map_err(|e| {
                    self.error(Some(project.span()), "clusters.projects", e.to_string())
                })?;
                keys.push(project.get_ref().to_ascii_uppercase());
            }
            if keys.is_empty() {
                return Err(self.error(
                    Some(cluster.name.span()),
                    "clusters.projects",
                    format!(
                        "cluster {name:?} allows no project: list project keys, or \"*\" for any"
                    ),
                ));
            }
            AllowedProjects::Keys(keys)
        };
        Ok(ClusterConfig {
            name,
            access,
            projects,
            defaults: cluster.defaults,
        })
    }
}

/// `host:port` of `ssh://[user@]host[:port][/…]`.
fn ssh_host(url: &str) -> Option<String> {
    let rest = url.strip_prefix("ssh://")?;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (!host.is_empty()).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fluxstrap.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn load_text(text: &str) -> Result<ServeConfig> {
        let (_dir, path) = write(text);
        load(
            Some(&path),
            Overrides {
                cache_dir: Some(PathBuf::from("/cache")),
                data_dir: Some(PathBuf::from("/data")),
                ..Overrides::default()
            },
        )
    }

    const GOOD: &str = r#"
listen = "127.0.0.1:9000"
versions = ["v2.9.4", "v2.8.0"]

[limits]
concurrent_jobs = 8

[[servers]]
name = "bitbucket"
url = "https://bitbucket.example.com/bitbucket"
ssh_url = "ssh://git@bitbucket.example.com:7999"
ca_file = "ca.pem"

[[clusters]]
name = "prod-eu"
kubeconfig = "prod.kubeconfig"
context = "prod"
projects = ["plat", "SHOP"]
defaults = { path_prefix = "clusters/prod-eu" }

[[clusters]]
name = "lab"
in_cluster = true
projects = ["*"]
"#;

    #[test]
    fn a_full_file_is_read_with_paths_relative_to_it() {
        let (dir, path) = write(GOOD);
        let config = load(Some(&path), Overrides::default()).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(
            config.versions,
            vec![
                FluxVersion::parse("v2.9.4").unwrap(),
                FluxVersion::parse("v2.8.0").unwrap()
            ]
        );
        assert_eq!(config.limits.concurrent_jobs, 8);
        assert_eq!(config.limits.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        let server = config.server("bitbucket").unwrap();
        assert_eq!(
            server.host.base_url(),
            "https://bitbucket.example.com/bitbucket"
        );
        assert_eq!(
            server.ssh_host.as_deref(),
            Some("bitbucket.example.com:7999")
        );
        assert_eq!(server.ca_file, Some(dir.path().join("ca.pem")));
        let prod = config.cluster("prod-eu").unwrap();
        assert_eq!(
            prod.access,
            ClusterAccess::Kubeconfig {
                path: dir.path().join("prod.kubeconfig"),
                context: Some("prod".into())
            }
        );
        assert!(prod.projects.allows("PLAT") && prod.projects.allows("shop"));
        assert!(!prod.projects.allows("OTHER"));
        assert_eq!(
            prod.defaults.path_prefix.as_deref(),
            Some("clusters/prod-eu")
        );
        let lab = config.cluster("lab").unwrap();
        assert_eq!(lab.access, ClusterAccess::InCluster);
        assert!(lab.projects.allows("ANY"));
    }

    #[test]
    fn flags_and_variables_win_over_the_file() {
        let (_dir, path) = write(GOOD);
        let config = load(
            Some(&path),
            Overrides {
                listen: Some("127.0.0.1:1".parse().unwrap()),
                data_dir: Some("/elsewhere".into()),
                version: Some("v2.8.0".into()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:1".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/elsewhere"));
        // The flag's version comes first (the default), without a duplicate.
        assert_eq!(config.versions[0].to_string(), "v2.8.0");
        assert_eq!(config.versions.len(), 2);
    }

    #[test]
    fn without_a_file_the_defaults_hold() {
        let config = load(
            None,
            Overrides {
                cache_dir: Some("/c".into()),
                data_dir: Some("/d".into()),
                bitbucket_url: Some("https://bb.example.com".into()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(config.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(config.limits.concurrent_jobs, DEFAULT_CONCURRENT_JOBS);
        assert_eq!(config.servers[0].name, "bitbucket");
        assert!(config.clusters.is_empty());
        assert_eq!(
            config.versions[0].to_string(),
            crate::install::DEFAULT_FLUX_VERSION
        );
    }

    /// The message of loading `text`, which must fail.
    fn refusal(text: &str) -> String {
        load_text(text).unwrap_err().to_string()
    }

    #[test]
    fn mistakes_name_the_line_and_the_key() {
        let cases = [
            // (file, line, words the message has)
            (
                "listen = \"nowhere\"\n",
                1,
                vec!["listen", "not an address"],
            ),
            ("\n\nlistn = \"x\"\n", 3, vec!["unknown field `listn`"]),
            ("versions = [\"v2.9.4\", \"2.x\"]\n", 1, vec!["versions"]),
            (
                "[limits]\nconcurrent_jobs = 0\n",
                2,
                vec!["limits.concurrent_jobs", "at least 1"],
            ),
            (
                "[[servers]]\nname = \"a\"\nurl = \"https://a.example\"\n[[servers]]\nname = \"a\"\nurl = \"https://b.example\"\n",
                5,
                vec!["servers.name", "used twice"],
            ),
            (
                "[[servers]]\nname = \"a b\"\nurl = \"https://a.example\"\n",
                2,
                vec!["not a name"],
            ),
            (
                "[[servers]]\nname = \"a\"\nurl = \"ftp://a\"\n",
                3,
                vec!["servers.url"],
            ),
            (
                "[[servers]]\nname = \"a\"\nurl = \"https://a.example\"\nssh_url = \"a.example:7999\"\n",
                4,
                vec!["servers.ssh_url", "ssh://host"],
            ),
            (
                "[[clusters]]\nname = \"c\"\nprojects = [\"*\"]\n",
                2,
                vec!["kubeconfig", "in_cluster"],
            ),
            (
                "[[clusters]]\nname = \"c\"\nkubeconfig = \"k\"\nin_cluster = true\nprojects = [\"*\"]\n",
                4,
                vec!["both"],
            ),
            (
                "[[clusters]]\nname = \"c\"\nkubeconfig = \"k\"\n",
                2,
                vec!["allows no project"],
            ),
            (
                "[[clusters]]\nname = \"c\"\nkubeconfig = \"k\"\nprojects = [\"not a key\"]\n",
                4,
                vec!["clusters.projects"],
            ),
            (
                "[[clusters]]\nname = \"c\"\nin_cluster = true\nprojects = [\"*\"]\nnamespace = \"x\"\n",
                5,
                vec!["unknown field `namespace`"],
            ),
        ];
        for (text, line, words) in cases {
            let message = refusal(text);
            assert!(
                message.contains(&format!("fluxstrap.toml:{line}:")),
                "{text:?} → {message}"
            );
            for word in words {
                assert!(message.contains(word), "{text:?} → {message}");
            }
        }
    }

    #[test]
    fn a_missing_file_says_which() {
        let error = load(
            Some(Path::new("/nonexistent/fluxstrap.toml")),
            Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("/nonexistent/fluxstrap.toml"), "{error}");
    }
}
