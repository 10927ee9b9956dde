//! `fluxstrap install --export`: `gotk-components.yaml` on stdout, as `flux install --export`
//! prints it, from a Flux release's manifests ([`crate::releases`]).

use std::path::Path;

use fluxstrap_core::install::{Distribution, InstallFlags, generate};

use crate::error::Result;
use fluxstrap_core::bootstrap::Event;

/// The Flux release fluxstrap generates by default (flux's default is its own version).
pub const DEFAULT_FLUX_VERSION: &str = "v2.9.4";

/// Generates `gotk-components.yaml` for the flags from the release in `manifests` (or the
/// cache, or the Flux releases); progress about the release goes to `on_event`.
pub async fn export(
    manifests: Option<&Path>,
    flags: &InstallFlags,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<String> {
    // Options first: a bad flag is reported before anything is read, as flux does.
    let options = flags.to_options()?;
    let (_, files) = crate::releases::load(manifests, &flags.version, on_event).await?;
    let distribution = Distribution::from_files(files)?;
    Ok(generate(&distribution, &options)?)
}
