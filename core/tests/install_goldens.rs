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

/// The rows of a tab-separated file, after its header line.
fn rows(tsv: &str) -> impl Iterator<Item = Vec<&str>> {
    tsv.lines().skip(1).map(|line| line.split('\t').collect())
}

/// Generated files compared with what flux wrote, and those that differ.
#[derive(Default)]
struct Comparison {
    checked: usize,
    failures: Vec<String>,
}

impl Comparison {
    /// Compares one generated file; `label` names it in the failure report.
    fn check(&mut self, label: &str, got: &str, want: &str) {
        if got != want {
            self.failures
                .push(format!("{label}: {}", first_difference(got, want)));
        }
        self.checked += 1;
    }

    /// Exactly `expected` files were compared, and none differs.
    #[track_caller]
    fn assert_none_differ(&self, expected: usize) {
        assert_eq!(self.checked, expected);
        assert!(
            self.failures.is_empty(),
            "{} of {expected} differ:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

#[test]
fn all_v2_9_4_goldens_are_byte_identical() {
    let root = goldens("v2.9.4");
    let cases = std::fs::read_to_string(root.join("cases.tsv")).unwrap();
    let distribution = distribution("v2.9.4");
    let mut comparison = Comparison::default();
    for columns in rows(&cases) {
        let (case, flags) = (columns[0], columns[1]);
        let want = std::fs::read_to_string(root.join(case).join("gotk-components.yaml")).unwrap();
        let got = generate_for("v2.9.4", &distribution, flags);
        comparison.check(&format!("{case} ({flags})"), &got, &want);
    }
    comparison.assert_none_differ(19);
}

#[test]
fn all_real_files_are_byte_identical() {
    let root = real_files();
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let mut distributions = std::collections::BTreeMap::new();
    let mut comparison = Comparison::default();
    for columns in rows(&index) {
        let (version, file, flags) = (columns[0], columns[1], columns[2]);
        let distribution = distributions
            .entry(version.to_string())
            .or_insert_with(|| distribution(version));
        let want = std::fs::read_to_string(root.join(file)).unwrap();
        let got = generate_for(version, distribution, flags);
        comparison.check(&format!("{file} ({flags})"), &got, &want);
    }
    comparison.assert_none_differ(89);
}
