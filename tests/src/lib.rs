//! End-to-end tests across fluxstrap's crates (in `tests/`): the built `fluxstrap` and
//! `fluxstrap-sandbox` binaries and the web app in headless Chromium. The harness they use is
//! the `fluxstrap-testkit` crate; this library is empty.
