//! The host-key scan against the sandbox's SSH server: the line it writes is the one the
//! server's own host key gives, and an unreachable host fails with flux's message.

use std::time::Duration;

use fluxstrap_server::ssh_scan::scan_host_key;
use fluxstrap_testkit::Bitbucket;

#[tokio::test(flavor = "multi_thread")]
async fn scanning_finds_the_servers_host_key() {
    let bitbucket = Bitbucket::loopback("scan").plain_http().start().await;
    let target = bitbucket
        .ssh_url()
        .unwrap()
        .trim_start_matches("ssh://git@")
        .to_string();
    let line = scan_host_key(&target, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(line, bitbucket.ssh_known_hosts().unwrap());
    // OpenSSH accepts the line: ssh-keygen finds the host in a known_hosts file holding it.
    let file = bitbucket.dir().join("known_hosts");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let host = line.split_whitespace().next().unwrap();
    let found = std::process::Command::new("ssh-keygen")
        .args(["-F", host, "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );

    let refused = scan_host_key("127.0.0.1:1", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .starts_with("SSH key scan for host 127.0.0.1:1 failed, error: "),
        "{refused}"
    );
    bitbucket.stop().await;
}
