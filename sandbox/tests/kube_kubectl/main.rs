//! The kubectl checklist (`kubernetes-api-surface.md` §5.3) against the Kubernetes API emulator,
//! driven by the real kubectl (`/usr/bin/kubectl`, plus every
//! `/usr/lib/google-cloud-sdk/bin/kubectl.1.*` that is installed). Expected texts are kubectl's
//! own output for a real API server. kubectl must be installed: these tests fail without it.

mod apply;
mod common;
mod custom_resources;
mod discovery;
mod releases_and_faults;
mod workloads;
