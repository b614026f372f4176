//! Cross-validation splits and seeded stratified sampling.
//!
//! [`KFold`] without shuffling reproduces scikit-learn's `KFold` exactly: consecutive folds,
//! the first `n % k` of them one item larger. Shuffled and stratified variants draw every
//! random choice from a seed (ChaCha8), so a seed gives the same folds on every machine.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One train/test split of `0..n`: both index lists ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

fn check_k(k: usize, n: usize) -> Result<()> {
    if k < 2 {
        return Err(Error::Invalid(format!(
            "cross-validation needs at least 2 folds, got {k}"
        )));
    }
    if k > n {
        return Err(Error::Invalid(format!(
            "cannot make {k} folds from {n} items: use at most {n} folds or more data"
        )));
    }
    Ok(())
}

/// Folds from a fold number per item.
fn folds_from_assignment(fold_of: &[usize], k: usize) -> Vec<Fold> {
    (0..k)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..fold_of.len()).partition(|&i| fold_of[i] == f);
            Fold { train, test }
        })
        .collect()
}

/// K-fold cross-validation over `0..n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KFold {
    pub n_splits: usize,
    /// Seed of the shuffle before splitting; `None` keeps the data order (as the study does).
    pub seed: Option<u64>,
}

impl KFold {
    /// Unshuffled K-fold, as scikit-learn's `KFold(n_splits)`.
    pub fn new(n_splits: usize) -> Self {
        Self {
            n_splits,
            seed: None,
        }
    }

    /// The same, after shuffling the items with `seed`.
    pub fn shuffled(self, seed: u64) -> Self {
        Self {
            seed: Some(seed),
            ..self
        }
    }

    /// The folds of `n` items: fold `i`'s test part is the `i`-th block of the (shuffled)
    /// order; the first `n % k` blocks hold `n / k + 1` items, the rest `n / k`.
    pub fn split(&self, n: usize) -> Result<Vec<Fold>> {
        let k = self.n_splits;
        check_k(k, n)?;
        let mut order: Vec<usize> = (0..n).collect();
        if let Some(seed) = self.seed {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        }
        let mut fold_of = vec![0; n];
        let mut start = 0;
        for f in 0..k {
            let size = n / k + usize::from(f < n % k);
            for &i in &order[start..start + size] {
                fold_of[i] = f;
            }
            start += size;
        }
        Ok(folds_from_assignment(&fold_of, k))
    }
}

/// Stratified K-fold: every fold holds about `1/k` of each class. Items of each class are
/// shuffled with the seed, then dealt to the folds in turn, class after class, so fold sizes
/// differ by at most one overall and per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StratifiedKFold {
    pub n_splits: usize,
    pub seed: u64,
}

impl StratifiedKFold {
    pub fn new(n_splits: usize, seed: u64) -> Self {
        Self { n_splits, seed }
    }

    /// The folds of the items with `labels`.
    pub fn split(&self, labels: &[u16]) -> Result<Vec<Fold>> {
        let k = self.n_splits;
        check_k(k, labels.len())?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut fold_of = vec![0; labels.len()];
        let mut next = 0;
        for members in by_class(labels) {
            let mut members = members;
            members.shuffle(&mut rng);
            for i in members {
                fold_of[i] = next % k;
                next += 1;
            }
        }
        Ok(folds_from_assignment(&fold_of, k))
    }
}

/// Item indices of each label, in label order, each list ascending.
fn by_class(labels: &[u16]) -> Vec<Vec<usize>> {
    let classes = labels
        .iter()
        .copied()
        .max()
        .map_or(0, |m| usize::from(m) + 1);
    let mut out = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        out[usize::from(l)].push(i);
    }
    out
}

/// A seeded stratified sample: `round(fraction * n)` items, at least one of every class
/// present (a class without a labeled example cannot be learned, so tiny classes or fractions
/// raise the count to the number of classes), the rest spread over the classes in proportion to
/// their sizes (largest remainders get the extra items), drawn at random within each class.
/// Returns the chosen items and the rest, both ascending.
pub fn stratified_sample(
    labels: &[u16],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::Invalid(format!(
            "sample fraction {fraction} must be strictly between 0 and 1"
        )));
    }
    let n = labels.len();
    let classes = by_class(labels);
    let present = classes.iter().filter(|c| !c.is_empty()).count();
    let total = ((fraction * n as f64).round() as usize).max(present);
    if total == 0 || total >= n {
        return Err(Error::Invalid(format!(
            "a fraction of {fraction} of {n} items with {present} classes leaves one side empty: \
             use more data or another fraction"
        )));
    }
    // One item of each class first, then largest-remainder apportionment of the others over
    // the classes' remaining items.
    let spare = total - present;
    let spare_items = n - present;
    let exact: Vec<f64> = classes
        .iter()
        .map(|c| c.len().saturating_sub(1) as f64 * spare as f64 / spare_items as f64)
        .collect();
    let mut quota: Vec<usize> = classes
        .iter()
        .zip(&exact)
        .map(|(c, e)| usize::from(!c.is_empty()) + e.floor() as usize)
        .collect();
    let mut left = total - quota.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..classes.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &c in &order {
        if left == 0 {
            break;
        }
        if quota[c] < classes[c].len() {
            quota[c] += 1;
            left -= 1;
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut chosen = Vec::with_capacity(total);
    for (members, &q) in classes.iter().zip(&quota) {
        let mut members = members.clone();
        members.shuffle(&mut rng);
        chosen.extend_from_slice(&members[..q]);
    }
    chosen.sort_unstable();
    let mut is_chosen = vec![false; n];
    for &i in &chosen {
        is_chosen[i] = true;
    }
    let rest = (0..n).filter(|&i| !is_chosen[i]).collect();
    Ok((chosen, rest))
}
