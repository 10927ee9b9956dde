//! `gotk-components.yaml` generation against what the real `flux` wrote: the 19 v2.9.4 goldens
//! of `cases.tsv` and the 89 real files of `real/INDEX.tsv` (each generated from its own
//! release's manifests). Everything is read from `../shared/flux` at test time.

use fluxstrap_core::install::{Distribution, InstallFlags, generate};
use fluxstrap_testkit::paths::{goldens, real_files, release_files};

fn distribution(version: &str) -> Distribution {
    Distribution::from_files(release_files(version)).unwrap_or_else(|e| panic!("{version}: {e}"))
}

fn generate_for(version: &str, distribution: &Distribution, flags: &str) -> String {
    let mut install = InstallFlags::defaults(version);
    let args: Vec<&str> = flags.split_whitespace().collect();
    install
        .apply_args(&args)
        .unwrap_or_else(|e| panic!("{flags}: {e}"));
    let options = install
        .to_options()
        .unwrap_or_else(|e| panic!("{flags}: {e}"));
    generate(distribution, &options).unwrap_or_else(|e| panic!("{version} {flags}: {e}"))
}

fn first_difference(got: &str, want: &str) -> String {
    for (i, (a, b)) in got.lines().zip(want.lines()).enumerate() {
        if a != b {
            return format!("line {}: got {a:?}, want {b:?}", i + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        got.lines().count(),
        want.lines().count()
    )
}

/// Exactly `expected` files were compared, and none differs.
#[track_caller]
fn assert_none_differ(checked: usize, expected: usize, failures: &[String]) {
    assert_eq!(checked, expected);
    assert!(
        failures.is_empty(),
        "{} of {expected} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn all_v2_9_4_goldens_are_byte_identical() {
    let root = goldens("v2.9.4");
    let cases = std::fs::read_to_string(root.join("cases.tsv")).unwrap();
    let distribution = distribution("v2.9.4");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in cases.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let (case, flags) = (columns[0], columns[1]);
        let want = std::fs::read_to_string(root.join(case).join("gotk-components.yaml")).unwrap();
        let got = generate_for("v2.9.4", &distribution, flags);
        if got != want {
            failures.push(format!(
                "{case} ({flags}): {}",
                first_difference(&got, &want)
            ));
        }
        checked += 1;
    }
    assert_none_differ(checked, 19, &failures);
}

#[test]
fn all_real_files_are_byte_identical() {
    let root = real_files();
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let mut distributions = std::collections::BTreeMap::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in index.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let (version, file, flags) = (columns[0], columns[1], columns[2]);
        let distribution = distributions
            .entry(version.to_string())
            .or_insert_with(|| distribution(version));
        let want = std::fs::read_to_string(root.join(file)).unwrap();
        let got = generate_for(version, distribution, flags);
        if got != want {
            failures.push(format!(
                "{file} ({flags}): {}",
                first_difference(&got, &want)
            ));
        }
        checked += 1;
    }
    assert_none_differ(checked, 89, &failures);
}
