//! The apply engine (kube-rs) against the sandbox's Kubernetes API emulator, with the Flux
//! simulator cloning from the Bitbucket emulator: the full v2.9.4 install with every component,
//! the source Secret, the sync objects, flux's three waits, a re-apply that changes nothing, and
//! a Kustomization that never gets ready. Prints the apply times.

mod common;
mod connection;
mod faults;
mod install;
mod sources;
