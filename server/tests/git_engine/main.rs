//! The git port (`NativeGit`) against the sandbox's git over HTTPS (its CA) and SSH (access keys): first
//! push into an empty repository, no-op second sync, other files untouched, a push the branch
//! moved under refused (the engine retries it, tested with the bootstrap), a missing branch, a
//! REPO_READ key's push refused, and nothing left on disk. Prints push times of a full
//! flux-system commit.

mod common;
mod https;
mod ssh;
