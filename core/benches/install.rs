//! Generation speed of `gotk-components.yaml` (v2.9.4): the default install and all components,
//! from already parsed release files and from the raw bytes (parse + generate + write).
//! Reads the release from `../shared/flux/releases/v2.9.4/manifests`.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fluxstrap_core::install::{Distribution, InstallFlags, generate};

fn release_files() -> Vec<(String, Vec<u8>)> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/flux/releases/v2.9.4/manifests");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let files = release_files();
    let input_bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let distribution = Distribution::from_files(files.clone()).unwrap();
    let cases = [
        ("default", ""),
        (
            "all-components",
            "--components-extra=image-reflector-controller,image-automation-controller,source-watcher",
        ),
    ];
    let mut group = c.benchmark_group("install");
    for (name, args) in cases {
        let mut flags = InstallFlags::defaults("v2.9.4");
        flags
            .apply_args(&args.split_whitespace().collect::<Vec<_>>())
            .unwrap();
        let options = flags.to_options().unwrap();
        let output = generate(&distribution, &options).unwrap();
        // Throughput as bytes written, so MB/s compares with the size of gotk-components.yaml.
        group.throughput(Throughput::Bytes(output.len() as u64));
        group.bench_function(format!("{name}/from-parsed"), |b| {
            b.iter(|| generate(&distribution, &options).unwrap())
        });
        group.bench_function(format!("{name}/from-bytes"), |b| {
            b.iter(|| {
                let distribution = Distribution::from_files(files.clone()).unwrap();
                generate(&distribution, &options).unwrap()
            })
        });
    }
    group.finish();
    println!("input: {input_bytes} bytes of release manifests");
}

criterion_group!(benches, bench);
criterion_main!(benches);
