//! Classification metrics of predicted class probabilities, defined exactly as scikit-learn
//! computes them, so that numbers from nstudent and from a Python notebook agree.
//!
//! Every class `0..k` must occur among the true labels: recall, ROC AUC and average precision
//! have no value for a class without positive samples (scikit-learn warns and returns NaN for
//! the AUC), and a NaN in a study's metrics table would silently poison every later average and
//! test. [`score`] therefore refuses such inputs with [`Error::Invalid`] naming the class.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The study's per-fold metrics of one classifier on one test set. All are in `[0, 1]`.
///
/// The one declaration of the six metrics: a cell file stores them as they are here, and a
/// metrics table row ([`crate::table::Row`]) holds them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Fraction of samples whose most probable class (first one on ties) is the true class.
    pub accuracy: f64,
    /// Macro-averaged recall (true positive rate), as `recall_score(average="macro")`.
    pub tpr: f64,
    /// Macro average over classes of FP / (FP + TN) of the argmax predictions.
    pub fpr: f64,
    /// Macro-averaged precision; a class that is never predicted counts 0, as
    /// `precision_score(average="macro", zero_division=0)`.
    pub precision: f64,
    /// One-vs-rest ROC AUC, macro-averaged, ties counted half, as
    /// `roc_auc_score(multi_class="ovr", average="macro")`; for two classes the AUC of the
    /// second column, as scikit-learn computes it for binary labels.
    pub auc: f64,
    /// Macro-averaged average precision of the one-hot labels against the probabilities, as
    /// `average_precision_score(np.eye(k)[labels], proba, average="macro")`.
    pub pr_curve: f64,
}

/// Scores class probabilities against true labels.
///
/// `proba` is row-major `labels.len() x num_classes`; rows need not sum to one (any scores
/// work), but must be finite. Errors: no samples, fewer than 2 classes, a shape mismatch, a
/// label out of range, a non-finite value, or a class absent from the labels.
pub fn score(labels: &[u16], proba: &[f32], num_classes: usize) -> Result<Scores> {
    let support = checked_support(labels, proba, num_classes)?;
    let n = labels.len();
    let k = num_classes;
    let predicted: Vec<usize> = proba.chunks_exact(k).map(argmax).collect();
    let mut true_pos = vec![0usize; k];
    let mut pred_count = vec![0usize; k];
    let mut correct = 0usize;
    for (&l, &p) in labels.iter().zip(&predicted) {
        pred_count[p] += 1;
        if l as usize == p {
            true_pos[p] += 1;
            correct += 1;
        }
    }
    let kf = k as f64;
    let accuracy = correct as f64 / n as f64;
    let tpr = (0..k)
        .map(|c| true_pos[c] as f64 / support[c] as f64)
        .sum::<f64>()
        / kf;
    let precision = (0..k)
        .map(|c| match pred_count[c] {
            0 => 0.0,
            m => true_pos[c] as f64 / m as f64,
        })
        .sum::<f64>()
        / kf;
    let fpr = (0..k)
        .map(|c| {
            let negatives = n - support[c];
            let false_pos = pred_count[c] - true_pos[c];
            // Every class has support and there are at least two classes, so negatives > 0.
            false_pos as f64 / negatives as f64
        })
        .sum::<f64>()
        / kf;

    let column =
        |c: usize| -> Vec<f64> { proba.iter().skip(c).step_by(k).map(|&p| p as f64).collect() };
    let positives = |c: usize| -> Vec<bool> { labels.iter().map(|&l| l as usize == c).collect() };
    let auc = if k == 2 {
        roc_auc(&column(1), &positives(1))
    } else {
        (0..k)
            .map(|c| roc_auc(&column(c), &positives(c)))
            .sum::<f64>()
            / kf
    };
    let pr_curve = (0..k)
        .map(|c| average_precision(&column(c), &positives(c)))
        .sum::<f64>()
        / kf;
    Ok(Scores {
        accuracy,
        tpr,
        fpr,
        precision,
        auc,
        pr_curve,
    })
}

/// The number of samples of each class, once the inputs are checked: at least one sample, two
/// classes, `n x k` finite probabilities, labels below `k`, and every class present (else its
/// recall and AUC are undefined).
fn checked_support(labels: &[u16], proba: &[f32], num_classes: usize) -> Result<Vec<usize>> {
    let n = labels.len();
    let k = num_classes;
    if n == 0 {
        return Err(Error::Invalid("no samples to score".into()));
    }
    if k < 2 {
        return Err(Error::Invalid(format!(
            "scoring needs at least 2 classes, got {k}"
        )));
    }
    if proba.len() != n * k {
        return Err(Error::Invalid(format!(
            "{n} labels need {n} x {k} = {} probabilities, got {}",
            n * k,
            proba.len()
        )));
    }
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= k) {
        return Err(Error::Invalid(format!(
            "label {l} of sample {} is not a class of a {k}-class problem (labels are 0..{})",
            i + 1,
            k - 1
        )));
    }
    if let Some(i) = proba.iter().position(|p| !p.is_finite()) {
        return Err(Error::Invalid(format!(
            "probability of class {} for sample {} is {}, not a finite number",
            i % k,
            i / k + 1,
            proba[i]
        )));
    }
    let mut support = vec![0usize; k];
    for &l in labels {
        support[l as usize] += 1;
    }
    if let Some(c) = support.iter().position(|&s| s == 0) {
        return Err(Error::Invalid(format!(
            "class {c} has no sample among the {n} labels: its recall, ROC AUC and average \
             precision are undefined; score a set that contains every one of the {k} classes"
        )));
    }
    Ok(support)
}

/// Index of the largest value, the first one on ties (as `numpy.argmax`): the predicted class
/// of a row of probabilities, for every metric and every accuracy nstudent reports.
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Indices sorted by decreasing score.
fn by_decreasing_score(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// Area under the ROC curve of a binary problem, ties between a positive and a negative
/// counted one half (the trapezoidal area of scikit-learn's `roc_curve`). Needs at least one
/// positive and one negative.
fn roc_auc(scores: &[f64], positive: &[bool]) -> f64 {
    let order = by_decreasing_score(scores);
    let total_pos = positive.iter().filter(|&&p| p).count() as f64;
    let total_neg = positive.len() as f64 - total_pos;
    let (mut tp, mut fp) = (0.0f64, 0.0f64);
    let mut area = 0.0;
    let mut i = 0;
    while i < order.len() {
        let (tp0, fp0) = (tp, fp);
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if positive[order[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        area += (fp - fp0) * (tp + tp0) / 2.0;
    }
    area / (total_pos * total_neg)
}

/// Average precision: the sum over distinct score thresholds, from the highest, of the recall
/// gained times the precision at that threshold (scikit-learn's `average_precision_score`).
/// Needs at least one positive.
fn average_precision(scores: &[f64], positive: &[bool]) -> f64 {
    let order = by_decreasing_score(scores);
    let total_pos = positive.iter().filter(|&&p| p).count() as f64;
    let (mut tp, mut seen) = (0.0f64, 0.0f64);
    let mut ap = 0.0;
    let mut i = 0;
    while i < order.len() {
        let tp0 = tp;
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if positive[order[i]] {
                tp += 1.0;
            }
            seen += 1.0;
            i += 1;
        }
        ap += (tp - tp0) / total_pos * (tp / seen);
    }
    ap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_reversed_predictions() {
        let labels = [0u16, 1, 2, 0];
        let proba = [
            0.8f32, 0.1, 0.1, 0.1, 0.7, 0.2, 0.2, 0.2, 0.6, 0.5, 0.3, 0.2,
        ];
        let s = score(&labels, &proba, 3).unwrap();
        assert_eq!(s.accuracy, 1.0);
        assert_eq!(s.tpr, 1.0);
        assert_eq!(s.fpr, 0.0);
        assert_eq!(s.precision, 1.0);
        assert_eq!(s.auc, 1.0);
        assert_eq!(s.pr_curve, 1.0);
        let json = serde_json::to_value(s).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 6);
        for key in ["accuracy", "tpr", "fpr", "precision", "auc", "pr_curve"] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn all_tied_scores_give_auc_one_half() {
        let labels = [0u16, 1, 0, 1];
        let proba = [0.5f32; 8];
        let s = score(&labels, &proba, 2).unwrap();
        assert_eq!(s.auc, 0.5);
        assert_eq!(s.accuracy, 0.5);
        // Everything predicted as class 0: class 1 never predicted counts precision 0.
        assert_eq!(s.precision, 0.25);
        assert_eq!(s.pr_curve, 0.5);
    }

    #[test]
    fn rejects_bad_inputs_with_a_reason() {
        let e = score(&[0, 1, 1], &[0.5; 6], 3).unwrap_err().to_string();
        assert!(e.contains("need 3 x 3"), "{e}");
        let e = score(&[0, 1, 1], &[0.5; 9], 3).unwrap_err().to_string();
        assert!(e.contains("class 2 has no sample"), "{e}");
        let e = score(&[0, 3], &[0.5; 6], 3).unwrap_err().to_string();
        assert!(e.contains("label 3 of sample 2"), "{e}");
        let e = score(&[0, 1], &[0.5, f32::NAN, 0.5, 0.5], 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("class 1 for sample 1"), "{e}");
        assert!(score(&[], &[], 2).is_err());
        assert!(score(&[0], &[1.0], 1).is_err());
    }
}
