//! The acceptance property of the YAML writer: every real `gotk-components.yaml` written by
//! `flux` (v2.1.2 … v2.9.4) and every v2.9.4 golden, parsed and written again, is byte-identical.
//! The files are read from `../shared/flux` at test time.

use std::path::{Path, PathBuf};

use fluxstrap_core::yaml::{parse_documents, to_yaml_stream};
use fluxstrap_testkit::paths::{goldens, real_files, real_sync};

fn yaml_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files_under(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Splits flux's header (leading `---` and `#` lines) from the kustomize output.
fn split_header(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with('#') || line == "---\n" {
            offset += line.len();
        } else {
            break;
        }
    }
    text.split_at(offset)
}

fn assert_round_trips(files: &[PathBuf]) {
    let mut failures = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let (_, body) = split_header(&text);
        let documents = parse_documents(body).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let written = to_yaml_stream(&documents);
        if written != body {
            let line = written
                .lines()
                .zip(body.lines())
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 1);
            failures.push(format!(
                "{} (first difference at line {line})",
                file.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "not byte-identical:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_real_flux_file_round_trips_byte_identically() {
    let files = yaml_files_under(&real_files());
    assert_eq!(files.len(), 89, "INDEX.tsv lists 89 distinct real files");
    assert_round_trips(&files);
}

#[test]
fn every_v2_9_4_golden_round_trips_byte_identically() {
    let files = yaml_files_under(&goldens("v2.9.4"));
    assert_eq!(files.len(), 19, "cases.tsv lists 19 cases");
    assert_round_trips(&files);
}

#[test]
fn real_gotk_sync_files_round_trip_byte_identically() {
    let root = real_sync();
    let sources = std::fs::read_to_string(root.join("SOURCES.tsv")).unwrap();
    let mut checked = 0;
    for line in sources.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let (dir, notes) = (columns[0], columns[columns.len() - 1]);
        let file = root.join(dir).join("gotk-sync.yaml");
        // Owner-edited files (SOURCES.tsv's notes say so) are not go-yaml output.
        if !file.exists() || notes.contains("HAND-EDITED") || columns[18] != "yes" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let (_, body) = split_header(&text);
        let documents = parse_documents(body).unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert_eq!(to_yaml_stream(&documents), body, "{dir}");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} files checked");
}
