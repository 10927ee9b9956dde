//! The git engine against the sandbox's git over HTTPS (its CA) and SSH (access keys): first
//! push into an empty repository, no-op second run, other files untouched, an existing
//! kustomization.yaml kept, a concurrent push (the retry path), a missing branch, a REPO_READ
//! key's push refused, and nothing left on disk. Prints push times of a full flux-system commit.

mod common;
mod https;
mod ssh;
