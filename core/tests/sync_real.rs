//! `gotk-sync.yaml` and `kustomization.yaml` against the files `flux bootstrap` wrote in real
//! repositories (`../shared/flux/real-sync`, described by its SOURCES.tsv).

use std::collections::HashMap;

use fluxstrap_core::install::FluxVersion;
use fluxstrap_core::options::{BranchName, Interval, Namespace};
use fluxstrap_core::sync::{
    DirectoryEntry, Submodules, SyncOptions, generate_kustomization, generate_sync,
};
use fluxstrap_testkit::paths::real_sync;

fn rows() -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(real_sync().join("SOURCES.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split('\t')
        .map(str::to_string)
        .collect();
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(line.split('\t').map(str::to_string))
                .collect()
        })
        .collect()
}

/// Why a row's gotk-sync.yaml is not flux CLI output, from SOURCES.tsv itself.
fn not_generated_by_the_cli(row: &HashMap<String, String>) -> Option<&'static str> {
    let notes = &row["notes"];
    if row["sync_generated_header"] != "yes" {
        return Some("no flux header: not written by the generator");
    }
    if notes.contains("HAND-EDITED") {
        return Some("the owner edited gotk-sync.yaml after generation");
    }
    None
}

#[test]
fn real_gotk_sync_files_are_byte_identical() {
    let mut checked = 0;
    let mut skipped = Vec::new();
    for row in rows() {
        let dir = real_sync().join(&row["local_dir"]);
        let file = dir.join("gotk-sync.yaml");
        if !file.exists() {
            continue;
        }
        if let Some(reason) = not_generated_by_the_cli(&row) {
            skipped.push(format!("{}: {reason}", row["local_dir"]));
            continue;
        }
        let want = std::fs::read_to_string(&file).unwrap();
        let version = row["flux_version"].split_whitespace().next().unwrap();
        let (name, _) = row["sync_object_name/namespace"].split_once('/').unwrap();
        let git_interval = row["intervals(GitRepository,Kustomization)"]
            .split(',')
            .next()
            .unwrap();
        let options = SyncOptions {
            version: FluxVersion::parse(version).unwrap(),
            namespace: Namespace::parse(name).unwrap(),
            url: row["sync_url"].clone(),
            branch: BranchName::parse(&row["branch"]).unwrap(),
            interval: Interval::parse(git_interval).unwrap(),
            secret_name: row["secretRef"].clone(),
            target_path: row["sync_path"].clone(),
            submodules: Submodules::Ignore,
            sparse_checkout: Vec::new(),
        };
        assert_eq!(generate_sync(&options), want, "{}", row["local_dir"]);
        checked += 1;
    }
    println!("checked {checked} real gotk-sync.yaml files; skipped: {skipped:#?}");
    assert!(checked >= 20, "only {checked} files checked");
}

#[test]
fn real_generated_kustomization_files_are_byte_identical() {
    let mut checked = 0;
    for row in rows() {
        if !row["kustomization_yaml"].starts_with("bootstrap-standard") {
            continue;
        }
        let dir = real_sync().join(&row["local_dir"]);
        let want = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
        // flux generated it when the directory held the two files it had just written. The
        // folders keep only gotk-sync.yaml; any real gotk-components.yaml stands in for the other.
        let components = real_sync().join("../goldens/v2.9.4/default/gotk-components.yaml");
        let entries = [
            DirectoryEntry::File {
                path: "gotk-components.yaml".into(),
                content: std::fs::read(components).unwrap(),
            },
            DirectoryEntry::File {
                path: "gotk-sync.yaml".into(),
                content: std::fs::read(dir.join("gotk-sync.yaml")).unwrap(),
            },
        ];
        assert_eq!(
            generate_kustomization(&entries),
            want,
            "{}",
            row["local_dir"]
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} files checked");
}
