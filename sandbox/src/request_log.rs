//! `fluxstrap-sandbox up --request-log FILE`: one JSON object per line for every request either
//! emulator answers (`emulator`, `method`, `path`, `query`, `status`), written as it is answered,
//! so black-box tests and demos can count requests (writes above all) without the Rust API.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// An open request log, shared by the emulators.
pub struct RequestSink {
    file: Mutex<std::fs::File>,
}

impl RequestSink {
    /// Opens `path` for appending (creating it).
    pub fn open(path: &Path) -> crate::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(crate::Error::io("opening the request log"))?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }

    /// Appends one request.
    pub fn record(&self, emulator: &str, method: &str, path: &str, query: &str, status: u16) {
        let line = serde_json::json!({
            "emulator": emulator,
            "method": method,
            "path": path,
            "query": query,
            "status": status,
        });
        if let Ok(mut file) = self.file.lock() {
            // A full disk must not take the emulators down; the log is a test aid.
            let _ = writeln!(file, "{line}");
        }
    }
}
