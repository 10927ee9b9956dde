//! A Flux release's nine pre-rendered manifest files (`manifests.tar.gz` of the release), parsed.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::yaml::{Value, parse_documents_with_lines};

/// The files of a release, in the order flux's kustomization lists them.
pub const RELEASE_FILES: [&str; 9] = [
    "policies.yaml",
    "rbac.yaml",
    "source-controller.yaml",
    "kustomize-controller.yaml",
    "helm-controller.yaml",
    "notification-controller.yaml",
    "image-reflector-controller.yaml",
    "image-automation-controller.yaml",
    "source-watcher.yaml",
];

/// The regular files of a `manifests.tar.gz`, as (name, content). Feature `release-archive`:
/// the web page is served the files one by one and needs no tar or gzip code.
#[cfg(feature = "release-archive")]
pub fn unpack_tar_gz(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let invalid = |e: std::io::Error| Error::Distribution {
        file: "manifests.tar.gz".to_string(),
        line: 0,
        message: format!("not a readable tar.gz archive: {e}"),
    };
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = Vec::new();
    for entry in archive.entries().map_err(invalid)? {
        let mut entry = entry.map_err(invalid)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(invalid)?
            .to_string_lossy()
            .into_owned();
        let name = path.rsplit('/').next().unwrap_or(&path).to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).map_err(invalid)?;
        files.push((name, content));
    }
    Ok(files)
}

/// One manifest file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ManifestFile {
    /// Its YAML documents, empty ones dropped.
    pub documents: Vec<Value>,
}

/// The parsed release files, by file name. Serialized (JSON), it is what the page generates
/// from: parsed once by the server, so the browser carries no YAML parser.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Distribution {
    files: BTreeMap<String, ManifestFile>,
}

fn parse_file(name: &str, text: String) -> Result<ManifestFile> {
    let documents = parse_documents_with_lines(&text).map_err(|e| match e {
        Error::Yaml {
            line,
            column,
            message,
        } => Error::Distribution {
            file: name.to_string(),
            line,
            message: format!("invalid YAML at column {column}: {message}"),
        },
        other => other,
    })?;
    let mut values = Vec::with_capacity(documents.len());
    for document in documents {
        if matches!(document.value, Value::Null) {
            continue;
        }
        let has = |path: &[&str]| {
            document
                .value
                .pointer(path)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        if !has(&["kind"]) || !has(&["metadata", "name"]) {
            return Err(Error::Distribution {
                file: name.to_string(),
                line: document.line,
                message: "the document has no kind or no metadata.name".to_string(),
            });
        }
        values.push(document.value);
    }
    Ok(ManifestFile { documents: values })
}

impl Distribution {
    /// Reads the release files from `(name, content)` pairs; other names are ignored. Files a
    /// release does not have (source-watcher.yaml before v2.7) may be missing; whether the
    /// requested components are all there is checked when generating.
    pub fn from_files<I, N, C>(files: I) -> Result<Self>
    where
        I: IntoIterator<Item = (N, C)>,
        N: AsRef<str>,
        C: AsRef<[u8]>,
    {
        let mut parsed = BTreeMap::new();
        for (name, content) in files {
            let name = name.as_ref();
            let base = name.rsplit('/').next().unwrap_or(name);
            if !RELEASE_FILES.contains(&base) {
                continue;
            }
            let text =
                String::from_utf8(content.as_ref().to_vec()).map_err(|e| Error::Distribution {
                    file: base.to_string(),
                    line: 0,
                    message: format!("the file is not UTF-8 text: {e}"),
                })?;
            parsed.insert(base.to_string(), parse_file(base, text)?);
        }
        for required in ["rbac.yaml", "policies.yaml"] {
            if !parsed.contains_key(required) {
                return Err(Error::MissingManifest(required.to_string()));
            }
        }
        Ok(Self { files: parsed })
    }

    /// Reads a release's `manifests.tar.gz` (a flat archive of the nine files); feature
    /// `release-archive`.
    #[cfg(feature = "release-archive")]
    pub fn from_tar_gz(bytes: &[u8]) -> Result<Self> {
        Self::from_files(unpack_tar_gz(bytes)?)
    }

    /// The release file `name` (e.g. `rbac.yaml`); a missing one is an error naming it.
    pub fn file(&self, name: &str) -> Result<&ManifestFile> {
        self.files
            .get(name)
            .ok_or_else(|| Error::MissingManifest(name.to_string()))
    }
}
