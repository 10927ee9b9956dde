//! `fluxstrap bootstrap bitbucket-server`: reads what the flags name (token, CA, keys, the
//! release), builds the native ports and runs [`fluxstrap_core::bootstrap::run`] — the same
//! engine the server's jobs and the page's preview run. Progress goes to stderr in flux's
//! words; a dry run's plan goes to stdout.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fluxstrap_core::Secret;
use fluxstrap_core::bootstrap::{
    self, BootstrapFlags, BootstrapOptions, Event, Inputs, KeySource, NamespaceEnvironment, Plan,
    Ports, SigningRequest, SshSigningKey, VersionRequest,
};
use fluxstrap_core::install::Distribution;

use crate::bitbucket_http::HttpTransport;
use crate::cluster::{Cluster, KubeconfigSource};
use crate::error::{Error, Result};
use crate::git::{GitAuth, NativeGit, Signing};

/// The environment variable holding the token, as flux names it.
pub const TOKEN_VARIABLE: &str = "BITBUCKET_TOKEN";
const TOKEN_PROMPT: &str = "Please enter your Bitbucket personal access token (PAT): ";
/// How long one SSH host-key scan may take (flux: 30 s).
const SCAN_TIMEOUT: Duration = Duration::from_secs(30);

/// Host-key scans and time, natively.
pub struct NativeSystem {
    started: Instant,
}

impl Default for NativeSystem {
    fn default() -> Self {
        Self {
            started: Instant::now(),
        }
    }
}

impl bootstrap::ports::System for NativeSystem {
    async fn scan_host_key(&self, host: &str, port: u16) -> bootstrap::ports::PortResult<String> {
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        crate::ssh_scan::scan_host_key(&target, SCAN_TIMEOUT)
            .await
            .map_err(|e| bootstrap::ports::PortError::of(&e))
    }

    fn timestamp(&self) -> String {
        jiff::Timestamp::now().to_string()
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The token: `BITBUCKET_TOKEN`, else asked for on stdout and read from stdin without echo
/// (flux's prompt, before any other check but the flags').
fn read_token() -> Result<Secret> {
    if let Some(token) = std::env::var(TOKEN_VARIABLE).ok().filter(|t| !t.is_empty()) {
        return Ok(Secret::new(token));
    }
    print!("{TOKEN_PROMPT}");
    let _ = std::io::stdout().flush();
    let token = if std::io::stdin().is_terminal() {
        rpassword::read_password().map_err(Error::ReadToken)?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(Error::ReadToken)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    println!();
    Ok(Secret::new(token))
}

fn read_file(path: &str, error: fn(PathBuf, std::io::Error) -> Error) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| error(PathBuf::from(path), source))
}

/// The commit signing the flags ask for, with the key material read.
fn signing(options: &BootstrapOptions, private_key: Option<&Secret>) -> Result<Signing> {
    Ok(match &options.signing {
        SigningRequest::None => Signing::None,
        SigningRequest::OpenPgp {
            key_ring,
            passphrase,
            key_id,
        } => Signing::OpenPgp {
            key_ring: Secret::new(read_file(key_ring, |path, source| Error::ReadFlagFile {
                flag: "--gpg-key-ring",
                path,
                source,
            })?),
            passphrase: passphrase.clone(),
            key_id: key_id.clone(),
        },
        SigningRequest::Ssh { key, passphrase } => Signing::Ssh {
            private_key: match key {
                SshSigningKey::File(path) => {
                    Secret::new(read_file(path, |path, source| Error::ReadFlagFile {
                        flag: "--ssh-signing-key-file",
                        path,
                        source,
                    })?)
                }
                SshSigningKey::DeployKey => {
                    private_key.cloned().ok_or(Error::NoPrivateKeyToReuse)?
                }
            },
            passphrase: passphrase.clone(),
        },
    })
}

/// Where job directories (clones, keys) live: below the system's temp dir, private.
pub fn jobs_dir() -> PathBuf {
    std::env::temp_dir().join("fluxstrap-jobs")
}

/// Prints a dry run's plan on stdout: files with their diffs, Bitbucket writes, objects.
fn print_plan(plan: &Plan, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "Files:")?;
    for file in &plan.files {
        writeln!(out, "  {:?} {}", file.change, file.path)?;
    }
    // Changed files show their diff; a new file is all additions, so only its size shows.
    for file in &plan.files {
        match file.change {
            bootstrap::FileChange::Update => {
                writeln!(out)?;
                write!(out, "{}", file.diff)?;
            }
            bootstrap::FileChange::Create => {
                writeln!(
                    out,
                    "\n+++ b/{} (new, {} lines)",
                    file.path,
                    file.content.lines().count()
                )?;
            }
            _ => {}
        }
    }
    writeln!(out, "\nBitbucket writes:")?;
    if plan.bitbucket.is_empty() {
        writeln!(out, "  none")?;
    }
    for write in &plan.bitbucket {
        writeln!(out, "  {} {} ({})", write.method, write.path, write.what)?;
    }
    writeln!(out, "\nCluster objects:")?;
    for object in &plan.objects {
        writeln!(out, "  {} {}", object.object, object.action)?;
    }
    if let Some(label) = &plan.deploy_key {
        writeln!(out, "\nDeploy key to register: {label}")?;
    }
    Ok(())
}

/// Everything but the run: the flags checked in flux's order, the token, the release and the
/// files the flags name.
async fn prepare(
    args: &[String],
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(BootstrapOptions, Inputs)> {
    let namespace_variable = std::env::var("FLUX_SYSTEM_NAMESPACE").ok();
    let (mut flags, namespace) =
        BootstrapFlags::with_namespace_environment(namespace_variable.as_deref());
    if let NamespaceEnvironment::Ignored(value) = namespace {
        eprintln!("⚠️ ignoring invalid FLUX_SYSTEM_NAMESPACE: \"{value}\"");
    }
    flags.parse_args(args)?;
    flags.check_values()?;
    let token = read_token()?;
    let options = flags.validate()?;
    let requested = match &options.version {
        VersionRequest::Latest => "latest".to_string(),
        VersionRequest::Exact(version) => version.to_string(),
    };
    let manifests = options.manifests.as_deref().map(Path::new);
    let (version, files) = crate::releases::load(manifests, &requested, on_event).await?;
    let options = options.with_version(version);
    let distribution = Distribution::from_files(files)?;
    let ca_bundle = match &options.ca_file {
        Some(path) => Some(read_file(path, |path, source| Error::ReadCaFile {
            path,
            source,
        })?),
        None => None,
    };
    let private_key = match (&options.key, options.sync_transport) {
        (KeySource::File(path), bootstrap::SyncTransport::Ssh) => {
            Some(Secret::new(read_file(path, |path, source| {
                Error::ReadFlagFile {
                    flag: "--private-key-file",
                    path,
                    source,
                }
            })?))
        }
        _ => None,
    };
    Ok((
        options,
        Inputs {
            token,
            ca_bundle,
            private_key,
            distribution,
        },
    ))
}

/// The cluster the flags name.
pub fn kubeconfig(options: &BootstrapOptions) -> KubeconfigSource {
    match (&options.kubeconfig, &options.context) {
        (Some(path), context) => KubeconfigSource::File {
            path: PathBuf::from(path),
            context: context.clone(),
        },
        (None, Some(context)) => KubeconfigSource::Default {
            context: context.clone(),
        },
        (None, None) => KubeconfigSource::Infer,
    }
}

/// The engine over the native ports — Bitbucket over reqwest, `git`, kube-rs, the system — for
/// `options` and `inputs`, bounded by `--timeout`: what the CLI and `serve`'s jobs both run.
pub async fn run_engine(
    options: &BootstrapOptions,
    inputs: &Inputs,
    kubeconfig: &KubeconfigSource,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<bootstrap::Outcome> {
    let ca_file = options.ca_file.as_deref().map(Path::new);
    let transport = HttpTransport::new(inputs.token.clone(), ca_file)?;
    // Bearer works for personal and for project/repository tokens (which refuse Basic), and
    // needs no user name; flux sends Basic `--username:token`, which fails for `git`.
    let git = NativeGit::new(
        GitAuth::HttpsBearer {
            token: inputs.token.clone(),
            ca_file: ca_file.map(Path::to_path_buf),
        },
        signing(options, inputs.private_key.as_ref())?,
        jobs_dir(),
    );
    let cluster = Cluster::connect(kubeconfig).await?;
    let system = NativeSystem::default();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let ports = Ports {
        bitbucket: &transport,
        git: &git,
        cluster: &cluster,
        system: &system,
        rng: &mut rng,
    };
    let timeout = options.timeout.to_std().unwrap_or(Duration::from_secs(300));
    tokio::time::timeout(timeout, bootstrap::run(options, inputs, ports, on_event))
        .await
        .map_err(|_| Error::Core(fluxstrap_core::Error::Timeout(options.timeout.to_string())))?
        .map_err(Error::from)
}

/// Runs `fluxstrap bootstrap bitbucket-server <args>`.
pub async fn bitbucket_server(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!(
            "Deploy Flux on a cluster connected to a Bitbucket Server repository (as flux bootstrap bitbucket-server).\n\nUsage:\n  fluxstrap bootstrap bitbucket-server [flags]\n\nFlags:\n{}",
            bootstrap::flags::help()
        );
        return Ok(());
    }
    let removed = crate::git::remove_stale(&jobs_dir());
    if removed > 0 {
        tracing::info!(removed, "removed job directories a killed run left behind");
    }
    let mut print = |event: Event| {
        if !event.is_detail() {
            eprintln!("{event}");
        }
    };
    let (options, inputs) = prepare(args, &mut print).await?;
    let kubeconfig = kubeconfig(&options);
    // Ctrl-C or SIGTERM drops the run, and with it every job directory (keys included).
    let outcome = tokio::select! {
        outcome = run_engine(&options, &inputs, &kubeconfig, &mut print) => outcome?,
        () = fluxstrap_runtime::shutdown_signal() => return Err(Error::Interrupted),
    };
    if let Some(plan) = &outcome.plan {
        print_plan(plan, &mut std::io::stdout()).map_err(Error::Serve)?;
    }
    Ok(())
}
