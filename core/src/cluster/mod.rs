//! The cluster decisions of a bootstrap, as pure functions on API objects (JSON values): which
//! objects go in which apply stage and in what order, whether an applied object changed, when an
//! object is healthy by kstatus' rules, and when Flux has reconciled the pushed commit (spec §2.4,
//! §2.7, §2.8, §6). The server's kube-rs engine performs the requests; everything it decides comes
//! from here, so the rules are unit-tested without a cluster.

mod fields;
mod objects;
mod order;
mod reconcile;
mod status;

pub use objects::{objects_from_documents, to_json};
pub use order::{ApplyStage, ObjectRef, apply_stage, compare_for_apply, sort_for_apply};
pub use reconcile::{
    ApplyAction, SyncKind, SyncState, check_sync_path, classify_apply, expected_revision,
    must_install_components, normalize_revision, sync_state,
};
pub use status::{Health, health};
