//! The real clients the tests drive the emulators and fluxstrap with. Each helper runs the
//! client without any user or system configuration and never lets it prompt; when a command
//! that must succeed fails, the panic names the command, its exit status and its stderr.

mod curl;
mod git;
mod kubectl;

pub use curl::{Curl, CurlAnswer};
pub use git::Git;
pub use kubectl::{KUBECTL, Kubectl, KubectlOutput};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `command`, panicking when it cannot be started (the client is not installed).
pub(crate) fn output_of(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{}: cannot run it: {e}", describe(command)))
}

/// Panics unless `output` is a success, naming the command, its status and its stderr.
#[track_caller]
pub(crate) fn assert_success(description: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{description} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The program and arguments of a command, for messages.
pub(crate) fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// A new key pair from `ssh-keygen -t <kind> [extra…] -f <dir>/<name>`, without a passphrase
/// unless `extra` gives one (`-N`); returns the private key's path (the public key is beside
/// it, with `.pub`).
pub fn ssh_keygen(dir: &Path, name: &str, kind: &str, extra: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut command = Command::new("ssh-keygen");
    command.args(["-q", "-t", kind]);
    if !extra.contains(&"-N") {
        command.args(["-N", ""]);
    }
    command.args(extra).arg("-f").arg(&path);
    let output = output_of(&mut command);
    assert_success(&describe(&command), &output);
    path
}
