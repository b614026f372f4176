//! Noisy Student on your own data through the library: `cargo run --release -p nstudent-algo
//! --example noisy_student -- [DATA]`, where DATA is anything `nstudent data info` reads (a CSV,
//! an image folder, IDX or CIFAR files, a source name); without it, the embedded 10,000
//! Fashion-MNIST test images. Holds out a fifth, keeps 10% of the rest labeled, and compares
//! the teacher (the baseline) with the last student.

use nstudent_algo::{AlgoConfig, Algorithm, Silent, Trainer};
use nstudent_data::split::StratifiedKFold;
use nstudent_engine::NativeEngine;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = match std::env::args().nth(1) {
        Some(spec) => nstudent_data::open(&spec, &nstudent_data::default_data_dir())?.train,
        None => nstudent_data::embedded_default()?,
    };
    let fold = &StratifiedKFold::new(5, 7).split(&data.labels)?[0];
    let (train, test) = (data.subset(&fold.train)?, data.subset(&fold.test)?);
    let config = AlgoConfig {
        algorithm: Algorithm::NoisyStudent,
        teacher_factor: 0.1,
        num_students: 2,
        seed: 7,
        ..AlgoConfig::default()
    };
    let engine = NativeEngine::default();
    let trainer = Trainer::new(&engine, config)?.eval(&test);
    let outcome = trainer.train(&train, &mut Silent)?;
    println!(
        "{}: {} labeled, {} unlabeled training images",
        data.source, outcome.labeled_rows, outcome.unlabeled_rows
    );
    println!(
        "teacher (baseline) test accuracy: {:.4}",
        outcome.teacher.accuracy(&test)?
    );
    for (i, student) in outcome.chain.iter().flat_map(|c| &c.students).enumerate() {
        println!(
            "student {} test accuracy: {:.4}",
            i + 1,
            student.accuracy(&test)?
        );
    }
    Ok(())
}
