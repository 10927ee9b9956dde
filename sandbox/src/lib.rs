//! Emulators that real clients (git, curl, kubectl, fluxstrap) talk to on loopback. Each emulator
//! lives in its own module and is started by [`up`].

pub mod bitbucket;
mod certificates;
mod error;
pub mod kube;
pub mod releases;
pub mod request_log;
pub mod serve_config;

pub use error::{Error, Result};

use std::io::Write;
use std::path::PathBuf;

use bitbucket::{BitbucketEmulator, Config, Seed};

/// What `fluxstrap-sandbox up` starts.
#[derive(Debug, Default)]
pub struct UpOptions {
    /// Where the emulators keep their data.
    pub state_dir: PathBuf,
    /// Users, groups and projects.
    pub seed: Seed,
    /// Faults injected into the Kubernetes emulator.
    pub kube_faults: Vec<kube::Fault>,
    /// Faults injected into the Bitbucket emulator.
    pub bitbucket_faults: Vec<bitbucket::Fault>,
    /// Where every request is logged as a JSON line.
    pub request_log: Option<PathBuf>,
    /// A directory of Flux releases to serve as a mirror.
    pub releases: Option<PathBuf>,
    /// How many Kubernetes emulators to start; 0 counts as 1, so `UpOptions::default()` still
    /// gets a cluster (the command line refuses 0).
    pub clusters: usize,
}

/// Starts every emulator, writes `<state_dir>/fluxstrap.toml` for `fluxstrap serve`, prints
/// their `KEY=VALUE` connection lines followed by `READY`, and returns when the process is asked
/// to stop (SIGINT or SIGTERM).
pub async fn up(out: &mut impl Write, options: UpOptions) -> Result<()> {
    let UpOptions {
        state_dir,
        seed,
        kube_faults,
        bitbucket_faults,
        request_log,
        releases,
        clusters,
    } = options;
    // The configuration file names paths for a server started from anywhere.
    let state_dir =
        std::path::absolute(&state_dir).map_err(Error::io("resolving the state directory"))?;
    let sink = match &request_log {
        Some(path) => Some(std::sync::Arc::new(request_log::RequestSink::open(path)?)),
        None => None,
    };
    let admin = seed.users.iter().find(|u| u.sys_admin).cloned();
    let reader = seed
        .users
        .iter()
        .find(|u| !u.sys_admin && u.name == "reader")
        .cloned();
    let project = seed.projects.first().cloned();
    let group = seed.groups.first().cloned();
    let project_keys: Vec<String> = seed.projects.iter().map(|p| p.key.clone()).collect();
    // Printed together once everything listens, so READY means ready.
    let mut settings: Vec<String> = Vec::new();
    let bitbucket_dir = state_dir.join("bitbucket");
    let bitbucket = BitbucketEmulator::start(Config {
        // `bitbucket/git`, where a --state kept from earlier runs has its repositories.
        git_root: bitbucket_dir.join("git"),
        seed,
        ..Config::loopback(&bitbucket_dir)
    })
    .await?;
    if let Some(sink) = &sink {
        bitbucket.log_requests_to(sink.clone()).await;
    }
    for fault in bitbucket_faults {
        bitbucket.inject(fault).await;
    }
    settings.push(format!("BITBUCKET_URL={}", bitbucket.base_url()));
    if let Some(ca_file) = bitbucket.ca_file() {
        settings.push(format!("BITBUCKET_CA_FILE={}", ca_file.display()));
    }
    // `ssh://host:port`: clients add the `git@` user themselves.
    let ssh_url = bitbucket
        .ssh_url()
        .map(|url| url.replace("ssh://git@", "ssh://"));
    if let Some(ssh_url) = &ssh_url {
        settings.push(format!("BITBUCKET_SSH_URL={ssh_url}"));
    }
    if let Some(line) = bitbucket.ssh_known_hosts() {
        settings.push(format!("BITBUCKET_SSH_KNOWN_HOSTS={line}"));
    }
    if let Some(admin) = admin {
        settings.push(format!("BITBUCKET_USER={}", admin.name));
        settings.push(format!("BITBUCKET_TOKEN={}", admin.token));
    }
    if let Some(project) = project {
        settings.push(format!("BITBUCKET_PROJECT={}", project.key));
        settings.push(format!("BITBUCKET_PROJECT_NAME={}", project.name));
    }
    if let Some(group) = group {
        settings.push(format!("BITBUCKET_GROUP={}", group.name));
    }
    if let Some(reader) = reader {
        settings.push(format!("BITBUCKET_READONLY_USER={}", reader.name));
        settings.push(format!("BITBUCKET_READONLY_TOKEN={}", reader.token));
    }
    let mut kubes = Vec::new();
    for number in 1..=clusters.max(1) {
        // The first keeps `kube`, where a single-cluster sandbox has always written its
        // kubeconfig; the others get `kube-2`, `kube-3`, ….
        let dir = match number {
            1 => state_dir.join("kube"),
            _ => state_dir.join(format!("kube-{number}")),
        };
        let kube = kube::KubeEmulator::start(kube::Config::loopback(&dir)).await?;
        for fault in &kube_faults {
            kube.inject(fault.clone());
        }
        if let Some(sink) = &sink {
            kube.log_requests_to(sink.clone());
        }
        kubes.push(kube);
    }
    if let Some(first) = kubes.first() {
        settings.push(format!("KUBECONFIG={}", first.kubeconfig_path().display()));
    }
    let mirror = match &releases {
        Some(dir) => {
            let mirror = releases::ReleaseMirror::start(
                dir,
                "127.0.0.1:0".parse().expect("a literal address"),
            )
            .await?;
            settings.push(format!("FLUXSTRAP_RELEASES_URL={}", mirror.url()));
            Some(mirror)
        }
        None => None,
    };
    let config = serve_config::ServeConfig {
        releases_url: mirror.as_ref().map(|m| m.url().to_string()),
        versions: mirror
            .as_ref()
            .map(|m| m.versions().to_vec())
            .unwrap_or_default(),
        servers: vec![serve_config::Server {
            name: "sandbox".to_string(),
            url: bitbucket.base_url().to_string(),
            ssh_url,
            ca_file: bitbucket.ca_file().map(|path| path.to_path_buf()),
        }],
        clusters: kubes
            .iter()
            .enumerate()
            .map(|(index, kube)| serve_config::Cluster {
                name: format!("sandbox-{}", index + 1),
                kubeconfig: kube.kubeconfig_path().to_path_buf(),
                projects: project_keys.clone(),
            })
            .collect(),
    };
    let config_path = state_dir.join("fluxstrap.toml");
    config.write(&config_path)?;
    settings.push(format!("FLUXSTRAP_CONFIG={}", config_path.display()));
    writeln!(out, "{}\nREADY", settings.join("\n"))
        .and_then(|()| out.flush())
        .map_err(Error::io("printing the settings"))?;
    fluxstrap_runtime::shutdown_signal().await;
    if let Some(mirror) = mirror {
        mirror.stop();
    }
    for kube in kubes {
        kube.stop().await;
    }
    bitbucket.stop().await;
    Ok(())
}

/// Binds a std listener on `address` in non-blocking mode (what axum-server and tokio take),
/// and returns it with the address it got.
pub(crate) fn bind(
    address: std::net::SocketAddr,
) -> crate::Result<(std::net::TcpListener, std::net::SocketAddr)> {
    let listener = std::net::TcpListener::bind(address)
        .map_err(|source| error::Error::Listen { address, source })?;
    listener
        .set_nonblocking(true)
        .map_err(error::Error::io("preparing a listener"))?;
    let bound = listener
        .local_addr()
        .map_err(error::Error::io("preparing a listener"))?;
    Ok((listener, bound))
}
