//! The cluster port (kube-rs) against the sandbox's Kubernetes API emulator, with the Flux
//! simulator cloning from the Bitbucket emulator: the full v2.9.4 install with every component,
//! a re-apply that changes nothing, legacy discovery, a server error halfway, Secrets, SSH deploy
//! keys and a wrong token as the simulated source-controller sees them, kubeconfig contexts and
//! client certificates. Prints the apply times.

mod common;
mod connection;
mod faults;
mod install;
mod sources;
