//! What `nstudent train` prints while it trains: the settings, a line per event, and the
//! warnings about the pool (images also in the training data, pseudo-labels of one class).

use std::io::Write;

use nstudent_algo::{AlgoConfig, Algorithm, Event, PoolOrigin, Stage};

/// What the models trained on the labeled part are called in progress lines.
pub(super) fn first_models_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Baseline => "baseline",
        Algorithm::AugmentedBaseline => "augmented baseline",
        Algorithm::BaselineEnsemble => "baseline ensemble",
        Algorithm::NoisyStudent | Algorithm::Ensemble => "teacher",
    }
}

/// The settings that shape the models, in one line: what `--report` records, for the reader
/// of the terminal.
pub(super) fn settings_line(c: &AlgoConfig) -> String {
    let noise = |m: &nstudent_algo::ModelConfig| {
        let augment = if c.augment.enabled {
            format!(
                "RandAugment {} ops at magnitude {}",
                c.augment.num_ops, c.augment.magnitude
            )
        } else {
            "no augmentation".to_string()
        };
        format!(
            "{augment}, dropout {}, stochastic-depth survival {}",
            m.dropout, m.survival
        )
    };
    let fit = format!(
        "{} epochs, batch {}, learning rate {}",
        c.fit.epochs, c.fit.batch_size, c.fit.learning_rate
    );
    let ensemble = if c.algorithm.is_ensemble() {
        format!(", {} models per generation", c.ensemble_size)
    } else {
        String::new()
    };
    match c.algorithm {
        Algorithm::NoisyStudent | Algorithm::Ensemble => format!(
            "settings: threshold {}, {} students, {fit}{ensemble}; student noise: {}",
            c.threshold,
            c.num_students,
            noise(&c.student)
        ),
        Algorithm::AugmentedBaseline => {
            format!("settings: {fit}; noise: {}", noise(&c.student))
        }
        Algorithm::Baseline | Algorithm::BaselineEnsemble => {
            format!("settings: {fit}{ensemble}; no noise")
        }
    }
}

/// Prints a training event; `first` names the models trained on the labeled part.
/// One progress line per event; `total` is the number of training images, `members` the
/// models per generation (named only when there are several).
pub(super) fn print_event(e: &Event<'_>, first: &str, total: usize, members: usize) {
    match e {
        Event::Split {
            labeled,
            unlabeled,
            pool_origin,
            ..
        } => match pool_origin {
            PoolOrigin::TrainingData => eprintln!(
                "labels: {labeled} of the {total} training images keep their label \
                 (--teacher-factor); the labels of the other {unlabeled} are hidden, as the \
                 study's protocol does to simulate scarcity (--teacher-factor 1 keeps them all)"
            ),
            PoolOrigin::Separate if *labeled == total => eprintln!(
                "labels: all {labeled} training images keep their label; {unlabeled} images of \
                 --unlabeled are the pool"
            ),
            PoolOrigin::Separate => eprintln!(
                "labels: {labeled} of the {total} training images keep their label \
                 (--teacher-factor), the others are left out; {unlabeled} images of --unlabeled \
                 are the pool (--teacher-factor 1 keeps every label)"
            ),
        },
        Event::Fit {
            stage,
            member,
            progress,
        } => {
            if let Some(loss) = progress.epoch_loss {
                let who = match stage {
                    Stage::Teacher => first.to_string(),
                    Stage::Student { iteration } => format!("student {iteration}"),
                };
                let member = if members > 1 {
                    format!(" member {}", member + 1)
                } else {
                    String::new()
                };
                eprintln!(
                    "  {who}{member} epoch {}: mean loss {loss:.4}",
                    progress.epoch + 1
                );
            }
        }
        Event::Teacher {
            model,
            seconds,
            eval_accuracy,
        } => {
            println!(
                "{first} ({} model{}): {seconds:.1} s{}",
                model.len(),
                if model.len() == 1 { "" } else { "s" },
                eval_text(*eval_accuracy)
            );
        }
        Event::Iteration { report, .. } => {
            let kept: usize = report.kept_per_class.iter().sum();
            let trained: usize = report.trained_per_class.iter().sum();
            println!(
                "iteration {}: {} unlabeled rows, kept {kept} {:?}, trained on {} labeled + \
                 {trained} pseudo-labeled {:?}{}, {:.1} s{}",
                report.iteration,
                report.unlabeled_rows,
                report.kept_per_class,
                report.labeled_rows,
                report.trained_per_class,
                if report.labeled_only {
                    " (no pseudo-label passed the threshold: labeled data only)"
                } else {
                    ""
                },
                report.seconds,
                eval_text(report.eval_accuracy)
            );
            if let Some(warning) = collapse_warning(report.iteration, &report.kept_per_class) {
                eprintln!("{warning}");
            }
        }
        Event::Stopped { message } => println!("stopped early: {message}"),
    }
    let _ = std::io::stdout().flush();
}

/// A warning when images of the unlabeled set are also training images (the same pixels, as
/// with `--unlabeled` naming the labeled folder itself): the pool then holds labeled images.
pub(super) fn overlap_warning(
    train: &nstudent_core::Dataset,
    unlabeled: &nstudent_data::UnlabeledImages,
) -> Option<String> {
    use std::hash::{BuildHasher, RandomState};
    let side = train.shape.len();
    if unlabeled.shape != train.shape || side == 0 {
        return None;
    }
    let hasher = RandomState::new();
    let mut seen: std::collections::HashMap<u64, Vec<usize>> = Default::default();
    for (i, img) in train.images.chunks_exact(side).enumerate() {
        seen.entry(hasher.hash_one(img)).or_default().push(i);
    }
    // A hash match is checked against the pixels of that hash's images only, so a collision
    // never counts and the check stays linear.
    let shared = unlabeled
        .pixels
        .chunks_exact(side)
        .filter(|img| {
            seen.get(&hasher.hash_one(img))
                .is_some_and(|rows| rows.iter().any(|&i| train.image(i) == *img))
        })
        .count();
    (shared > 0).then(|| {
        format!(
            "warning: {shared} of the {} --unlabeled images are also in --data (the same \
             pixels): the pool holds labeled images; give images that --data does not hold",
            unlabeled.len()
        )
    })
}

/// A warning when the kept pseudo-labels all fall in one class of several: the teacher calls
/// every image the same (too few epochs or labels), and the student would learn that class.
fn collapse_warning(iteration: usize, kept_per_class: &[usize]) -> Option<String> {
    let kept: usize = kept_per_class.iter().sum();
    let classes_kept = kept_per_class.iter().filter(|&&n| n > 0).count();
    (kept > 0 && classes_kept == 1 && kept_per_class.len() > 1).then(|| {
        let class = kept_per_class.iter().position(|&n| n > 0).unwrap_or(0);
        format!(
            "warning: iteration {iteration}: all {kept} kept pseudo-labels are class {class}: \
             the teacher calls every image the same; train it longer (--epochs) or on more \
             labels (--teacher-factor), or raise --threshold"
        )
    })
}

fn eval_text(acc: Option<f64>) -> String {
    acc.map(|a| format!(", eval accuracy {a:.4}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_labels_that_collapse_onto_one_class_are_warned_about() {
        let w = collapse_warning(1, &[0, 0, 300]).unwrap();
        assert!(w.contains("all 300 kept pseudo-labels are class 2"), "{w}");
        assert!(collapse_warning(1, &[5, 0, 300]).is_none());
        assert!(collapse_warning(1, &[0, 0, 0]).is_none());
        assert!(collapse_warning(1, &[7]).is_none());
    }
}
