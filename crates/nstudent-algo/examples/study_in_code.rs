//! A study built in code instead of a TOML file: Baseline against Noisy Student on the
//! embedded Fashion-MNIST test images, 3 outer folds, a 2-fold inner search over two
//! thresholds, 1 epoch per training (about a minute on 2 cores). `cargo run --release -p
//! nstudent-algo --example study_in_code -- [OUT]` writes the cells, the metrics table,
//! the statistics and the report to OUT (default `study-in-code`); run it again to resume.

use std::path::PathBuf;

use nstudent_experiment::config::{Execution, SearchSpace};
use nstudent_experiment::{
    merge, run_study, Algorithm, MergeOptions, NestedCv, RunOptions, StudyConfig, StudyDir,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or("study-in-code".into()));
    let mut config = StudyConfig {
        tasks: vec!["fashion-mnist-10k".into()],
        algorithms: vec![Algorithm::Baseline, Algorithm::NoisyStudent],
        outer_folds: 3,
        inner_folds: 2,
        space: SearchSpace {
            unl_factor: vec![0.2],
            threshold: vec![0.5, 0.8],
            num_students: vec![1],
            ..SearchSpace::default()
        },
        ..StudyConfig::preset("quick")?
    };
    // The algorithms' settings are the base every cell starts from.
    config.base.fit.epochs = 1;
    // Every core (0), two cells side by side: a speed setting, never part of a result.
    config.execution = Execution {
        threads: 0,
        jobs: 2,
        ..Execution::default()
    };
    // Checked and resolved once; the results directory, the cells' work and the runner take
    // only the resolved study.
    let resolved = config.resolve()?;
    let study = StudyDir::create(&out, &resolved, false)?;
    let work = NestedCv::new(&resolved)?;
    let run = run_study(&study, &work, &RunOptions::default())?;
    println!(
        "{} cells computed, {} already done",
        run.computed, run.skipped
    );
    for path in merge(&study, &MergeOptions::default())?.written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
