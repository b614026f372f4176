//! Pseudo-labels from teacher probabilities: the confidence filter, hard or soft labels, and
//! the class balancing of the official Noisy Student code.
//!
//! Both functions are pure, so a study can compute teacher probabilities once and try many
//! thresholds on them.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Error, Result};

/// How kept rows are labeled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LabelMode {
    /// The argmax class.
    Hard,
    /// The probability vector raised to `1 / temperature` and renormalised (temperature 1 keeps
    /// the teacher's probabilities; below 1 sharpens them).
    Soft { temperature: f32 },
}

/// Rows of the teacher's input that passed the confidence filter, with their labels.
///
/// All vectors are parallel: entry `j` describes input row `rows[j]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PseudoLabels {
    pub num_classes: usize,
    /// Indices into the images the teacher labeled; repeated after balancing duplicates a row.
    pub rows: Vec<usize>,
    /// The teacher's top class of each row.
    pub classes: Vec<u16>,
    /// The teacher's top probability of each row (its confidence).
    pub confidence: Vec<f32>,
    /// Soft targets, `num_classes` per row, row-major; `None` for hard labels.
    pub soft: Option<Vec<f32>>,
}

impl PseudoLabels {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows per class, indexed by class.
    pub fn per_class(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &c in &self.classes {
            counts[usize::from(c)] += 1;
        }
        counts
    }

    /// Entry `j` of `other` appended, as when a later iteration adds rows without relabeling.
    /// Rows of `other` are shifted by `offset`.
    pub fn extend(&mut self, other: &PseudoLabels, offset: usize) {
        self.rows.extend(other.rows.iter().map(|r| r + offset));
        self.classes.extend_from_slice(&other.classes);
        self.confidence.extend_from_slice(&other.confidence);
        match (&mut self.soft, &other.soft) {
            (Some(a), Some(b)) => a.extend_from_slice(b),
            (None, None) => {}
            _ => {
                // Mixing modes cannot happen inside a chain; keep hard labels only.
                self.soft = None;
            }
        }
    }

    /// The entries at `picks`, in that order (repeats allowed).
    fn select(&self, picks: &[usize]) -> PseudoLabels {
        let k = self.num_classes;
        PseudoLabels {
            num_classes: k,
            rows: picks.iter().map(|&j| self.rows[j]).collect(),
            classes: picks.iter().map(|&j| self.classes[j]).collect(),
            confidence: picks.iter().map(|&j| self.confidence[j]).collect(),
            soft: self.soft.as_ref().map(|s| {
                picks
                    .iter()
                    .flat_map(|&j| s[j * k..(j + 1) * k].iter().copied())
                    .collect()
            }),
        }
    }
}

/// Keeps the rows of `teacher_probs` (row-major, `num_classes` per row) whose top probability
/// exceeds `threshold` (strictly, as the original study), labeled per `mode`.
///
/// Ties for the top class go to the lowest class index, as numpy's argmax.
pub fn pseudo_label(
    teacher_probs: &[f32],
    num_classes: usize,
    threshold: f32,
    mode: LabelMode,
) -> Result<PseudoLabels> {
    if num_classes == 0 || !teacher_probs.len().is_multiple_of(num_classes) {
        return Err(Error::Invalid(format!(
            "{} probabilities are not a whole number of rows of {num_classes} classes",
            teacher_probs.len()
        )));
    }
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(Error::Invalid(format!(
            "threshold {threshold} must be >= 0 (below 1 to keep any pseudo-label)"
        )));
    }
    if let LabelMode::Soft { temperature } = mode {
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(Error::Invalid(format!(
                "temperature {temperature} must be > 0"
            )));
        }
    }
    let mut out = PseudoLabels {
        num_classes,
        soft: matches!(mode, LabelMode::Soft { .. }).then(Vec::new),
        ..PseudoLabels::default()
    };
    for (row, p) in teacher_probs.chunks_exact(num_classes).enumerate() {
        let (top, conf) = p
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (c, &v)| {
                if v > best.1 {
                    (c, v)
                } else {
                    best
                }
            });
        if conf.is_nan() || conf <= threshold {
            continue;
        }
        out.rows.push(row);
        out.classes.push(top as u16);
        out.confidence.push(conf);
        if let (Some(soft), LabelMode::Soft { temperature }) = (&mut out.soft, mode) {
            soft.extend(sharpen(p, temperature));
        }
    }
    Ok(out)
}

/// `p^(1/T)`, renormalised, computed in log space so small probabilities do not underflow.
fn sharpen(p: &[f32], temperature: f32) -> Vec<f32> {
    if temperature == 1.0 {
        let sum: f32 = p.iter().sum();
        return p.iter().map(|v| v / sum).collect();
    }
    let logs: Vec<f32> = p.iter().map(|&v| v.max(1e-30).ln() / temperature).collect();
    let max = logs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logs.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// The mean number of rows per class (rounded, at least 1 when any row exists): the default
/// balancing target.
pub fn mean_per_class(labels: &PseudoLabels) -> usize {
    if labels.is_empty() || labels.num_classes == 0 {
        return 0;
    }
    ((labels.len() as f64 / labels.num_classes as f64).round() as usize).max(1)
}

/// Balances pseudo-labels to `target` rows per class (default [`mean_per_class`]), as the
/// official Noisy Student code's `filter_unlabel.py`:
/// - a class with more rows keeps its `target` most confident ones (ties: earlier row first);
/// - a class with fewer rows (but at least one) repeats each row `target / count` times, plus
///   once more with probability `(target mod count) / count` (a Bernoulli draw seeded with
///   `seed`), so its expected size is `target`;
/// - a class with no rows stays empty.
///
/// The result lists classes in order, each class's rows by descending confidence.
pub fn balance_classes(labels: &PseudoLabels, target: Option<usize>, seed: u64) -> PseudoLabels {
    let target = target.unwrap_or_else(|| mean_per_class(labels));
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); labels.num_classes];
    for (j, &c) in labels.classes.iter().enumerate() {
        by_class[usize::from(c)].push(j);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut picks = Vec::with_capacity(target * labels.num_classes);
    for mut members in by_class {
        if members.is_empty() {
            continue;
        }
        members.sort_by(|&a, &b| {
            labels.confidence[b]
                .total_cmp(&labels.confidence[a])
                .then(labels.rows[a].cmp(&labels.rows[b]))
        });
        if members.len() >= target {
            picks.extend_from_slice(&members[..target]);
            continue;
        }
        let copies = target / members.len();
        let extra = (target % members.len()) as f64 / members.len() as f64;
        for &j in &members {
            let n = copies + usize::from(rng.gen_bool(extra));
            picks.extend(std::iter::repeat_n(j, n));
        }
    }
    labels.select(&picks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: [f32; 12] = [
        0.9, 0.05, 0.05, // row 0: class 0, 0.9
        0.3, 0.4, 0.3, // row 1: class 1, 0.4
        0.1, 0.1, 0.8, // row 2: class 2, 0.8
        0.5, 0.5, 0.0, // row 3: tie -> class 0, 0.5
    ];

    #[test]
    fn threshold_keeps_rows_strictly_above() {
        let pl = pseudo_label(&P, 3, 0.5, LabelMode::Hard).unwrap();
        assert_eq!(pl.rows, vec![0, 2]);
        assert_eq!(pl.classes, vec![0, 2]);
        assert_eq!(pl.confidence, vec![0.9, 0.8]);
        assert!(pl.soft.is_none());
        let all = pseudo_label(&P, 3, 0.0, LabelMode::Hard).unwrap();
        assert_eq!(all.rows, vec![0, 1, 2, 3]);
        assert_eq!(all.classes, vec![0, 1, 2, 0]);
        assert_eq!(all.per_class(), vec![2, 1, 1]);
        assert!(pseudo_label(&P, 3, 0.95, LabelMode::Hard)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_inputs_are_rejected() {
        assert!(pseudo_label(&P, 5, 0.5, LabelMode::Hard).is_err());
        assert!(pseudo_label(&P, 0, 0.5, LabelMode::Hard).is_err());
        assert!(pseudo_label(&P, 3, -0.1, LabelMode::Hard).is_err());
        assert!(pseudo_label(&P, 3, f32::NAN, LabelMode::Hard).is_err());
        // The original notebook's typed threshold 8: nothing passes.
        assert!(pseudo_label(&P, 3, 8.0, LabelMode::Hard)
            .unwrap()
            .rows
            .is_empty());
        assert!(pseudo_label(&P, 3, 0.5, LabelMode::Soft { temperature: 0.0 }).is_err());
    }

    #[test]
    fn soft_labels_keep_or_sharpen_the_distribution() {
        let plain = pseudo_label(&P, 3, 0.5, LabelMode::Soft { temperature: 1.0 }).unwrap();
        let soft = plain.soft.unwrap();
        assert_eq!(soft.len(), 6);
        for (a, b) in soft.iter().zip([0.9, 0.05, 0.05, 0.1, 0.1, 0.8]) {
            assert!((a - b).abs() < 1e-6);
        }
        let sharp = pseudo_label(&P, 3, 0.5, LabelMode::Soft { temperature: 0.5 }).unwrap();
        let s = sharp.soft.unwrap();
        // 0.9^2 / (0.81 + 2 x 0.0025)
        assert!((s[0] - 0.81 / 0.815).abs() < 1e-5);
        assert!((s[0..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let flat = pseudo_label(&P, 3, 0.5, LabelMode::Soft { temperature: 4.0 }).unwrap();
        assert!(flat.soft.unwrap()[0] < 0.9);
    }

    fn labels(classes: &[u16], conf: &[f32]) -> PseudoLabels {
        PseudoLabels {
            num_classes: 3,
            rows: (0..classes.len()).collect(),
            classes: classes.to_vec(),
            confidence: conf.to_vec(),
            soft: None,
        }
    }

    #[test]
    fn balance_keeps_the_most_confident_of_large_classes() {
        // class 0: 6 rows, class 1: 2 rows, class 2: 1 row; mean = 3.
        let pl = labels(
            &[0, 0, 0, 0, 0, 0, 1, 1, 2],
            &[0.6, 0.9, 0.7, 0.95, 0.8, 0.65, 0.7, 0.9, 0.99],
        );
        assert_eq!(mean_per_class(&pl), 3);
        let b = balance_classes(&pl, None, 1);
        let class0: Vec<usize> = b
            .rows
            .iter()
            .copied()
            .filter(|&r| pl.classes[r] == 0)
            .collect();
        assert_eq!(class0, vec![3, 1, 4]);
        // Class 2 has one row: exactly 3 copies (no fractional part).
        assert_eq!(b.rows.iter().filter(|&&r| r == 8).count(), 3);
        // Class 1: 3 / 2 = 1 copy each plus one more with probability 1/2.
        let c1 = b.per_class()[1];
        assert!((2..=4).contains(&c1), "{c1}");
    }

    #[test]
    fn balance_duplication_has_the_target_in_expectation_and_is_seeded() {
        // One class with 3 rows, target 10: 3 copies each + Bernoulli(1/3) each.
        let pl = labels(&[1, 1, 1], &[0.9, 0.8, 0.7]);
        let mut total = 0;
        for seed in 0..3000 {
            let b = balance_classes(&pl, Some(10), seed);
            assert!((9..=12).contains(&b.len()));
            total += b.len();
        }
        let mean = total as f64 / 3000.0;
        assert!((mean - 10.0).abs() < 0.1, "mean {mean}");
        assert_eq!(
            balance_classes(&pl, Some(10), 5),
            balance_classes(&pl, Some(10), 5)
        );
        // Classes without rows stay empty; target counts per class.
        let b = balance_classes(&pl, Some(2), 0);
        assert_eq!(b.per_class(), vec![0, 2, 0]);
        assert_eq!(b.rows, vec![0, 1]);
    }

    #[test]
    fn balance_carries_soft_targets_with_their_rows() {
        let pl = pseudo_label(&P, 3, 0.0, LabelMode::Soft { temperature: 1.0 }).unwrap();
        let b = balance_classes(&pl, Some(1), 0);
        assert_eq!(b.rows, vec![0, 1, 2]);
        let soft = b.soft.unwrap();
        for (a, b) in soft[3..6].iter().zip(&P[3..6]) {
            assert!((a - b).abs() < 1e-6);
        }
        assert!(balance_classes(
            &PseudoLabels {
                num_classes: 3,
                ..Default::default()
            },
            None,
            0
        )
        .is_empty());
    }
}
