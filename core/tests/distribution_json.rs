//! The parsed release as the page receives it (JSON, parsed once by the server), and flux's
//! namespace replacement in rbac.yaml done on parsed documents: both give exactly the bytes of
//! parsing the release text, for every release in `../shared/flux/releases`.

use fluxstrap_core::install::{Distribution, InstallFlags, generate};
use fluxstrap_testkit::paths::{release_files, shared_flux};

fn versions() -> Vec<String> {
    let mut versions: Vec<String> = std::fs::read_dir(shared_flux().join("releases"))
        .expect("../shared/flux/releases")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('v'))
        .collect();
    versions.sort();
    assert!(versions.len() >= 9, "{versions:?}");
    versions
}

fn components(version: &str, distribution: &Distribution, namespace: &str) -> String {
    let mut install = InstallFlags::defaults(version);
    install
        .apply_args(&[&format!("--namespace={namespace}")])
        .unwrap_or_else(|e| panic!("{namespace}: {e}"));
    let options = install.to_options().unwrap();
    generate(distribution, &options).unwrap_or_else(|e| panic!("{version} {namespace}: {e}"))
}

/// Namespaces that are DNS labels a YAML reader types as something else than a string once
/// they replace `flux-system` in the text (a number, a boolean, null), and ordinary ones.
const NAMESPACES: [&str; 8] = ["gitops", "a", "123", "0x1f", "1e3", "true", "null", "0o17"];

#[test]
fn replacing_the_namespace_in_parsed_rbac_equals_replacing_it_in_the_text() {
    for version in versions() {
        let files = release_files(&version);
        let distribution = Distribution::from_files(files.clone()).unwrap();
        for namespace in NAMESPACES {
            // flux's way: the text replaced, then read.
            let replaced: Vec<(String, Vec<u8>)> = files
                .iter()
                .map(|(name, content)| match name.ends_with("rbac.yaml") {
                    true => {
                        let text = String::from_utf8(content.clone()).unwrap();
                        (
                            name.clone(),
                            text.replace("flux-system", namespace).into_bytes(),
                        )
                    }
                    false => (name.clone(), content.clone()),
                })
                .collect();
            let text_way = Distribution::from_files(replaced).unwrap();
            assert_eq!(
                components(&version, &distribution, namespace),
                components(&version, &text_way, namespace),
                "{version} --namespace={namespace}"
            );
        }
    }
}

#[test]
fn a_release_sent_as_json_generates_the_same_bytes() {
    for version in versions() {
        let distribution = Distribution::from_files(release_files(&version)).unwrap();
        let json = serde_json::to_vec(&distribution).unwrap();
        let received: Distribution = serde_json::from_slice(&json).unwrap();
        assert_eq!(received, distribution, "{version}");
        for namespace in ["flux-system", "gitops"] {
            assert_eq!(
                components(&version, &received, namespace),
                components(&version, &distribution, namespace),
                "{version} --namespace={namespace}"
            );
        }
    }
}
