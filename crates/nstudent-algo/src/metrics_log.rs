//! Metrics you can watch: one JSON line per training epoch and one per Noisy Student
//! iteration, the quantities USB logs (`train --metrics FILE`, a study's `metrics.jsonl`).
//!
//! An iteration's line says how many pseudo-labels each class kept and what share of the pool
//! passed the threshold. Where the pool's true labels are known (a pool drawn from the training
//! data: its rows outside the labeled part), it also gives the pseudo-labels' accuracy and
//! per-class precision. That is a diagnostic computed here, outside training, from the events
//! the trainer sends after the fact: nothing flows back into training or selection.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::config::PoolOrigin;
use crate::pseudo::PseudoLabels;
use crate::train::{Event, Observer, Stage};

/// Collects the JSON lines of one training run.
#[derive(Debug, Default)]
pub struct MetricsLog {
    /// Fields written into every line (e.g. a study's task, fold and algorithm).
    context: Map<String, Value>,
    /// Labels of the training data, to find the pool's true labels at the split.
    train_labels: Option<Vec<u16>>,
    /// True labels of the pool rows, when known.
    pool_truth: Option<Vec<u16>>,
    /// Seconds at the end of the previous epoch, per (stage, member).
    epoch_start: HashMap<(Stage, usize), f64>,
    lines: Vec<String>,
}

impl MetricsLog {
    /// A log whose lines carry `context` (a JSON object's fields; empty for none).
    pub fn new(context: Map<String, Value>) -> Self {
        Self {
            context,
            ..Self::default()
        }
    }

    /// The training data's labels: with a pool drawn from it, the pool's true labels follow
    /// from the split, and each iteration's line gets the pseudo-labels' accuracy.
    pub fn with_train_labels(mut self, labels: &[u16]) -> Self {
        self.train_labels = Some(labels.to_vec());
        self
    }

    /// The lines so far, each a JSON object without its newline.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Takes the lines so far.
    pub fn take_lines(&mut self) -> Vec<String> {
        std::mem::take(&mut self.lines)
    }

    fn push(&mut self, fields: Value) {
        let mut line = self.context.clone();
        if let Value::Object(f) = fields {
            line.extend(f);
        }
        self.lines.push(Value::Object(line).to_string());
    }

    fn on_split(&mut self, labeled_rows: &[usize], origin: PoolOrigin) {
        self.pool_truth = match (origin, &self.train_labels) {
            (PoolOrigin::TrainingData, Some(labels)) => {
                let mut next = labeled_rows.iter().peekable();
                let mut truth = Vec::with_capacity(labels.len() - labeled_rows.len());
                for (i, &l) in labels.iter().enumerate() {
                    if next.peek() == Some(&&i) {
                        next.next();
                    } else {
                        truth.push(l);
                    }
                }
                Some(truth)
            }
            _ => None,
        };
    }
}

/// Accuracy of the kept pseudo-labels against `truth`, and each class's precision (`None` for
/// a class no pseudo-label went to).
pub fn pseudo_label_quality(kept: &PseudoLabels, truth: &[u16]) -> (f64, Vec<Option<f64>>) {
    let k = kept.num_classes;
    let mut right = vec![0usize; k];
    let mut given = vec![0usize; k];
    for (&row, &class) in kept.rows.iter().zip(&kept.classes) {
        let c = usize::from(class);
        given[c] += 1;
        if truth.get(row) == Some(&class) {
            right[c] += 1;
        }
    }
    let total: usize = given.iter().sum();
    let accuracy = right.iter().sum::<usize>() as f64 / total.max(1) as f64;
    let precision = right
        .iter()
        .zip(&given)
        .map(|(&r, &g)| (g > 0).then(|| r as f64 / g as f64))
        .collect();
    (accuracy, precision)
}

fn stage_fields(stage: Stage) -> (&'static str, Option<usize>) {
    match stage {
        Stage::Teacher => ("teacher", None),
        Stage::Student { iteration } => ("student", Some(iteration)),
    }
}

impl Observer for MetricsLog {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::Split {
                labeled_rows,
                pool_origin,
                ..
            } => self.on_split(labeled_rows, *pool_origin),
            Event::Fit {
                stage,
                member,
                progress,
            } => {
                let Some(loss) = progress.epoch_loss else {
                    return;
                };
                let start = self
                    .epoch_start
                    .insert((*stage, *member), progress.seconds)
                    .unwrap_or(0.0);
                let seconds = progress.seconds - start;
                let (stage, iteration) = stage_fields(*stage);
                self.push(json!({
                    "event": "epoch",
                    "stage": stage,
                    "iteration": iteration,
                    "member": member,
                    "epoch": progress.epoch + 1,
                    "loss": loss,
                    "images": progress.epoch_images,
                    "images_per_second": progress.epoch_images as f64 / seconds.max(1e-9),
                    "elapsed_seconds": progress.seconds,
                }));
            }
            Event::Iteration { report, kept, .. } => {
                let kept_total: usize = report.kept_per_class.iter().sum();
                let (accuracy, precision) = match &self.pool_truth {
                    Some(truth) => {
                        let (a, p) = pseudo_label_quality(kept, truth);
                        (Some(a), Some(p))
                    }
                    None => (None, None),
                };
                self.push(json!({
                    "event": "iteration",
                    "iteration": report.iteration,
                    "unlabeled_rows": report.unlabeled_rows,
                    "predicted_rows": report.predicted_rows,
                    "kept": kept_total,
                    "kept_per_class": report.kept_per_class,
                    "share_above_threshold":
                        kept_total as f64 / report.unlabeled_rows.max(1) as f64,
                    "trained_per_class": report.trained_per_class,
                    "labeled_rows": report.labeled_rows,
                    "pseudo_label_accuracy": accuracy,
                    "pseudo_label_precision": precision,
                    "eval_accuracy": report.eval_accuracy,
                    "seconds": report.seconds,
                }));
            }
            Event::Teacher { .. } | Event::Stopped { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_counts_right_pseudo_labels_per_class() {
        let kept = PseudoLabels {
            num_classes: 3,
            rows: vec![0, 1, 2, 4],
            classes: vec![0, 0, 1, 1],
            confidence: vec![0.9; 4],
            soft: None,
        };
        let truth = [0, 1, 1, 2, 2];
        let (accuracy, precision) = pseudo_label_quality(&kept, &truth);
        assert_eq!(accuracy, 0.5);
        assert_eq!(precision, vec![Some(0.5), Some(0.5), None]);
    }

    #[test]
    fn the_pool_truth_is_the_training_labels_outside_the_labeled_rows() {
        let mut log = MetricsLog::default().with_train_labels(&[5, 6, 7, 8, 9]);
        log.on_split(&[1, 3], PoolOrigin::TrainingData);
        assert_eq!(log.pool_truth, Some(vec![5, 7, 9]));
        log.on_split(&[1, 3], PoolOrigin::Separate);
        assert_eq!(log.pool_truth, None);
    }
}
