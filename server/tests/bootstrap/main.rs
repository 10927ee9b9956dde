//! `fluxstrap bootstrap bitbucket-server` end to end, run as a user runs it, against the
//! sandbox's Bitbucket (HTTPS and SSH) and Kubernetes emulators with the Flux simulator, the
//! release downloaded from a mirror: first runs (project, personal, token auth, an empty
//! repository on another branch), no-op re-runs, the healed deploy key, options compared with
//! `install --export`, the fault matrix (Bitbucket 500s, a push race, an apply failure,
//! `kill -9`), bad input refused before any request, and a hostile repository. Prints the
//! timings of first and no-op runs.

mod common;
mod faults;
mod first_run;
mod input;
mod variants;
mod waits;
