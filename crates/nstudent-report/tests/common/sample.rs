//! A realistic, deterministic metrics table: the original study's 20 tasks x 3 algorithms x
//! 10 outer folds, with per-fold values drawn around its reported mean accuracies and the
//! other metrics, times and chosen hyperparameters made plausible for those accuracies.
//!
//! Used by the report's tests, by `examples/sample_report.rs`, and to write
//! `tests/fixtures/sample_metrics_table.csv` (a test checks the file matches).

use nstudent_stats::metrics::Scores;
use nstudent_stats::table::{MetricsTable, Row};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (task, classes, test images per fold, training seconds per fold of the baseline,
/// mean accuracy of baseline / noisy student / ensemble noisy student).
const TASKS: [(&str, usize, f64, f64, [f64; 3]); 20] = [
    ("Fashion MNIST", 10, 6000.0, 4.1, [0.8741, 0.8830, 0.8830]),
    ("MNIST 0-4", 5, 3060.0, 2.2, [0.9845, 0.9885, 0.9881]),
    ("MNIST 5-9", 5, 2940.0, 2.1, [0.9779, 0.9815, 0.9832]),
    ("CIFAR10 0-4", 5, 2500.0, 2.6, [0.6202, 0.6375, 0.6380]),
    ("CIFAR10 5-9", 5, 2500.0, 2.6, [0.7126, 0.7385, 0.7341]),
    ("CIFAR100 0-9", 10, 500.0, 0.45, [0.1958, 0.2602, 0.2172]),
    ("CIFAR100 10-19", 10, 500.0, 0.45, [0.1994, 0.2520, 0.2132]),
    ("CIFAR100 20-29", 10, 500.0, 0.45, [0.2372, 0.2880, 0.2554]),
    ("CIFAR100 30-39", 10, 500.0, 0.45, [0.2548, 0.2920, 0.2468]),
    ("CIFAR100 40-49", 10, 500.0, 0.45, [0.2498, 0.3296, 0.2836]),
    ("CIFAR100 50-59", 10, 500.0, 0.45, [0.3124, 0.3318, 0.3014]),
    ("CIFAR100 60-69", 10, 500.0, 0.45, [0.3184, 0.3732, 0.3340]),
    ("CIFAR100 70-79", 10, 500.0, 0.45, [0.2844, 0.3324, 0.2880]),
    ("CIFAR100 80-89", 10, 500.0, 0.45, [0.2612, 0.2820, 0.2344]),
    ("CIFAR100 90-99", 10, 500.0, 0.45, [0.3152, 0.3750, 0.3238]),
    ("A-Z 0-4", 5, 7400.0, 5.0, [0.9862, 0.9901, 0.9907]),
    ("A-Z 5-9", 5, 7400.0, 5.0, [0.9878, 0.9920, 0.9922]),
    ("A-Z 10-14", 5, 7400.0, 5.0, [0.9904, 0.9923, 0.9941]),
    ("A-Z 15-19", 5, 7400.0, 5.0, [0.9937, 0.9938, 0.9942]),
    ("A-Z 20-25", 6, 8900.0, 6.0, [0.9848, 0.9883, 0.9892]),
];

pub const ALGORITHMS: [&str; 3] = ["Baseline", "Noisy Student", "Ensemble Noisy Student"];

/// Training and inference cost relative to the baseline.
const TRAIN_FACTOR: [f64; 3] = [1.0, 5.2, 14.3];
const INFER_FACTOR: [f64; 3] = [1.0, 1.0, 2.9];

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Rounds to 6 decimals, as a results table would print them.
fn r6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

pub fn sample_table() -> MetricsTable {
    let mut rng = ChaCha8Rng::seed_from_u64(2020);
    let mut rows = Vec::new();
    for (task, classes, n_test, seconds, means) in TASKS {
        for (a, algorithm) in ALGORITHMS.iter().enumerate() {
            for fold in 1..=10 {
                let p = means[a];
                let sd = 1.4 * (p * (1.0 - p) / n_test).sqrt();
                let acc = (p + sd * normal(&mut rng)).clamp(0.0, 1.0);
                let tpr = (acc + 0.002 * normal(&mut rng)).clamp(0.0, 1.0);
                let fpr = ((1.0 - acc) / (classes as f64 - 1.0) * (1.0 + 0.02 * normal(&mut rng)))
                    .max(0.0);
                let precision = (acc - 0.004 + 0.004 * normal(&mut rng)).clamp(0.0, 1.0);
                let auc =
                    (1.0 - 0.35 * (1.0 - acc).powf(1.3) + 0.002 * normal(&mut rng)).clamp(0.0, 1.0);
                let pr_curve = (acc + (auc - acc) * 0.3).clamp(0.0, 1.0);
                let train = seconds * TRAIN_FACTOR[a] * (1.0 + 0.06 * normal(&mut rng));
                let infer =
                    0.05 * n_test / 1000.0 * INFER_FACTOR[a] * (1.0 + 0.08 * normal(&mut rng));
                let hyperparameters = if a == 0 {
                    "None".to_string()
                } else {
                    let unl = [0.05, 0.1, 0.2][rng.gen_range(0..3)];
                    let threshold = [0.4, 0.5, 0.6, 0.7, 0.8][rng.gen_range(0..5)];
                    let students = rng.gen_range(1..=3);
                    let mut text = format!(
                        "unl_factor: {unl}, threshold: {threshold}, num_of_students: {students}"
                    );
                    if a == 2 {
                        text.push_str(&format!(", ensemble_size: {}", rng.gen_range(2..=3)));
                    }
                    text
                };
                rows.push(Row {
                    dataset: task.to_string(),
                    algorithm: algorithm.to_string(),
                    fold,
                    hyperparameters,
                    metrics: Scores {
                        accuracy: r6(acc),
                        tpr: r6(tpr),
                        fpr: r6(fpr),
                        precision: r6(precision),
                        auc: r6(auc),
                        pr_curve: r6(pr_curve),
                    },
                    training_time: r6(train.max(0.01)),
                    inference_time: r6(infer.max(0.001)),
                });
            }
        }
    }
    MetricsTable { rows }
}

/// The table as CSV text in the study's layout.
pub fn sample_csv() -> String {
    let mut out = Vec::new();
    sample_table()
        .write(&mut out)
        .expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the table writer writes UTF-8")
}
