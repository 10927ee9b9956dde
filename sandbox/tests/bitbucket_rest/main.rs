//! The Bitbucket emulator's REST API driven by a real client (`curl`) over loopback, with
//! expectations from the reference and the recorded real responses.

mod common;
mod content;
mod identity;
mod permissions;
mod repositories;
