//! Replays every committed fuzz input (`seeds/<target>/`, from real files, and
//! `regressions/<target>/`, what the fuzzers once failed on) through the target's contract, on
//! the stable toolchain, with the fuzzers' allocation limit. A regression that comes back fails
//! here, in CI, without libFuzzer.

use std::path::Path;

use nstudent_fuzz::{take_largest_allocation, MALLOC_LIMIT};

#[test]
fn every_seed_and_regression_holds_its_targets_contract() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for (name, run) in nstudent_fuzz::TARGETS {
        let mut inputs = 0;
        for dir in ["seeds", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                take_largest_allocation();
                run(&bytes);
                let largest = take_largest_allocation();
                assert!(
                    largest <= MALLOC_LIMIT,
                    "{}: one allocation of {largest} bytes, over the fuzzers' limit",
                    path.display()
                );
                inputs += 1;
            }
        }
        assert!(
            inputs > 0,
            "target {name} has no committed seed: run scripts/fuzz-seeds.sh"
        );
        replayed += inputs;
    }
    assert!(replayed > nstudent_fuzz::TARGETS.len());
}
