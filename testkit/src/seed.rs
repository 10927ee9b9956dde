//! The users, tokens, project and group the Bitbucket emulator starts with, read from the
//! sandbox's own [`Seed::default`] so that tests never spell them out again.

use std::sync::OnceLock;

use fluxstrap_sandbox::bitbucket::{Seed, SeedGroup, SeedProject, SeedUser};

/// A real ed25519 public key (type and base64 of the SSH wire format), to register as an
/// access key.
pub const ED25519_PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

fn seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(Seed::default)
}

fn user(name: &str) -> &'static SeedUser {
    seed()
        .users
        .iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("the sandbox's default seed has no user {name}"))
}

/// The system administrator (`admin`).
pub fn admin() -> &'static SeedUser {
    seed()
        .users
        .iter()
        .find(|u| u.sys_admin)
        .expect("the sandbox's default seed has a system administrator")
}

/// `alice`, who administers the project through the group.
pub fn alice() -> &'static SeedUser {
    user("alice")
}

/// `reader`, who may read the project but not administer it.
pub fn reader() -> &'static SeedUser {
    user("reader")
}

/// The project (`PLAT`, "Platform").
pub fn project() -> &'static SeedProject {
    seed()
        .projects
        .first()
        .expect("the sandbox's default seed has a project")
}

/// The group administering the project (`platform-team`).
pub fn group() -> &'static SeedGroup {
    seed()
        .groups
        .first()
        .expect("the sandbox's default seed has a group")
}
