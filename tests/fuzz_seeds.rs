//! Every fuzz target's checks over its seed inputs (`fuzz/seeds/<target>`: hand-made inputs and
//! past findings) and, when a fuzzing run left one, its corpus (`fuzz/corpus/<target>`), on
//! stable in the ordinary test run. `scripts/fuzz` runs the coverage-guided fuzzer itself.

use std::path::Path;

use kafka_producer_fuzz_checks::TARGETS;

#[test]
fn every_seed_input_passes_its_target_checks() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for (target, check) in TARGETS {
        let seeds = fuzz.join("seeds").join(target);
        let mut inputs: Vec<_> = std::fs::read_dir(&seeds)
            .unwrap_or_else(|e| panic!("{}: {e}", seeds.display()))
            .collect();
        assert!(!inputs.is_empty(), "no seed for {target}");
        if let Ok(corpus) = std::fs::read_dir(fuzz.join("corpus").join(target)) {
            inputs.extend(corpus);
        }
        for entry in inputs {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(
                outcome.is_ok(),
                "{target}: {} fails its checks",
                path.display()
            );
            replayed += 1;
        }
    }
    println!(
        "replayed {replayed} inputs through {} targets",
        TARGETS.len()
    );
}
