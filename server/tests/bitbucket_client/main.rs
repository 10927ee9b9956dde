//! fluxstrap's Bitbucket steps against the sandbox emulator over HTTPS (its own CA): create vs
//! adopt, personal repositories, an empty repository on `develop`, group grants, the deploy key
//! lifecycle, injected failures followed by a good re-run, error messages, and no writes at all
//! when nothing changed (checked on the emulator's request log).

mod access;
mod common;
mod faults;
mod repositories;
