//! Splitting training data into the labeled part and the unlabeled pool.
//!
//! The pool keeps images only: its labels are dropped when it is built, so no algorithm can
//! read them, by construction.

use std::ops::Range;

use nstudent_data::{Dataset, ImageShape, ImagesRef};

use crate::config::{LabeledSplitMode, PoolOrigin};
use crate::{Error, Result};

/// Images whose labels the algorithms may not see.
#[derive(Debug, Clone, PartialEq)]
pub struct UnlabeledPool {
    images: Vec<u8>,
    shape: ImageShape,
    num_classes: usize,
}

impl UnlabeledPool {
    /// A pool of the images of `data`, in order; the labels are discarded.
    pub fn from_images(data: ImagesRef<'_>, num_classes: usize) -> Self {
        Self {
            images: data.pixels.to_vec(),
            shape: data.shape,
            num_classes,
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.len() / self.shape.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// Classes of the task the pool was drawn from.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// All images.
    pub fn view(&self) -> ImagesRef<'_> {
        ImagesRef {
            pixels: &self.images,
            shape: self.shape,
        }
    }

    /// The images at `rows` (clamped to the pool).
    pub fn rows(&self, rows: Range<usize>) -> ImagesRef<'_> {
        let n = self.shape.len();
        let end = rows.end.min(self.len());
        let start = rows.start.min(end);
        ImagesRef {
            pixels: &self.images[start * n..end * n],
            shape: self.shape,
        }
    }

    /// The pixels of image `i`. Panics if `i >= len()`, like slice indexing.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.shape.len();
        &self.images[i * n..(i + 1) * n]
    }
}

/// Training data divided for semi-supervised learning.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledSplit {
    /// The rows that keep their labels.
    pub labeled: Dataset,
    /// Every other row, without labels, in the training data's order.
    pub pool: UnlabeledPool,
    /// Rows of the training data that form `labeled`, ascending.
    pub labeled_rows: Vec<usize>,
    /// Where `pool` came from: the training rows outside `labeled`, or a separate set.
    pub pool_origin: PoolOrigin,
}

impl LabeledSplit {
    /// Replaces the pool with a separate unlabeled set, the paper's setting: the training rows
    /// outside the labeled part are no longer used. The set's images must have the labeled
    /// data's shape and channels.
    pub fn with_separate_pool(mut self, images: ImagesRef<'_>, source: &str) -> Result<Self> {
        if images.shape != self.labeled.shape {
            return Err(Error::Invalid(format!(
                "the unlabeled set {source} holds {} images but the labeled data {} holds {}: \
                 use unlabeled images of the same size and colour mode",
                images.shape, self.labeled.source, self.labeled.shape
            )));
        }
        if images.is_empty() {
            return Err(Error::Invalid(format!(
                "the unlabeled set {source} holds no images"
            )));
        }
        self.pool = UnlabeledPool::from_images(images, self.labeled.num_classes());
        self.pool_origin = PoolOrigin::Separate;
        Ok(self)
    }
}

/// Splits `train` into a labeled `teacher_factor` fraction and the unlabeled pool.
///
/// [`LabeledSplitMode::Stratified`] takes `round(teacher_factor * count)` rows of every class
/// (at least one of each class present), chosen by a shuffle seeded with `seed`;
/// [`LabeledSplitMode::First`] takes the first `floor(teacher_factor * len)` rows, as the
/// original study did (and reads no label to choose them).
pub fn split_labeled(
    train: &Dataset,
    teacher_factor: f64,
    mode: LabeledSplitMode,
    seed: u64,
) -> Result<LabeledSplit> {
    if !(teacher_factor > 0.0 && teacher_factor <= 1.0) {
        return Err(Error::Invalid(format!(
            "teacher_factor {teacher_factor} must be in (0, 1]"
        )));
    }
    if train.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no training images",
            train.source
        )));
    }
    let rows = match mode {
        LabeledSplitMode::First => {
            let n = ((teacher_factor * train.len() as f64 + 1e-9).floor() as usize).max(1);
            (0..n).collect()
        }
        LabeledSplitMode::Stratified if teacher_factor >= 1.0 => (0..train.len()).collect(),
        LabeledSplitMode::Stratified => {
            nstudent_data::split::stratified_sample(&train.labels, teacher_factor, seed)
                .map_err(|e| {
                    Error::Invalid(format!(
                        "{}: teacher_factor {teacher_factor}: {e}",
                        train.source
                    ))
                })?
                .0
        }
    };
    let split = split_labeled_at(train, rows)?;
    if mode == LabeledSplitMode::First {
        require_every_class(train, &split)?;
    }
    Ok(split)
}

/// The first rows of data stored by class hold few classes: a labeled part that lacks a class
/// of the data would train a teacher that never predicts it, silently. Refused instead.
fn require_every_class(train: &Dataset, split: &LabeledSplit) -> Result<()> {
    let present = train.class_counts();
    let labeled = split.labeled.class_counts();
    let missing: Vec<&str> = present
        .iter()
        .zip(&labeled)
        .enumerate()
        .filter(|(_, (&p, &l))| p > 0 && l == 0)
        .map(|(c, _)| train.class_names[c].as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = missing.iter().take(5).copied().collect();
    Err(Error::Invalid(format!(
        "{}: the labeled part (the first {} rows) holds no image of {} of the {} classes ({}{}): the data is probably stored by class; use the stratified labeled split, or shuffle the data",
        train.source,
        split.labeled.len(),
        missing.len(),
        present.iter().filter(|&&p| p > 0).count(),
        shown.join(", "),
        if missing.len() > shown.len() { ", ..." } else { "" }
    )))
}

/// Splits `train` with the given labeled rows (any order; sorted and deduplicated here).
pub fn split_labeled_at(train: &Dataset, mut labeled_rows: Vec<usize>) -> Result<LabeledSplit> {
    labeled_rows.sort_unstable();
    labeled_rows.dedup();
    if labeled_rows.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: the labeled part is empty; raise teacher_factor",
            train.source
        )));
    }
    let labeled = train.subset(&labeled_rows)?;
    let n = train.shape.len();
    let mut pool = Vec::with_capacity((train.len() - labeled_rows.len()) * n);
    let mut next = labeled_rows.iter().peekable();
    for i in 0..train.len() {
        if next.peek() == Some(&&i) {
            next.next();
        } else {
            pool.extend_from_slice(train.image(i));
        }
    }
    Ok(LabeledSplit {
        labeled,
        pool: UnlabeledPool {
            images: pool,
            shape: train.shape,
            num_classes: train.num_classes(),
        },
        labeled_rows,
        pool_origin: PoolOrigin::TrainingData,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, classes: u16) -> Dataset {
        let shape = ImageShape::new(2, 2, 1);
        let images = (0..n * 4).map(|i| (i % 251) as u8).collect();
        let labels = (0..n).map(|i| (i as u16 * 7) % classes).collect();
        let names = (0..classes).map(|c| c.to_string()).collect();
        Dataset::new(images, labels, shape, names, "t").unwrap()
    }

    #[test]
    fn first_mode_takes_the_leading_rows() {
        let d = data(100, 4);
        let s = split_labeled(&d, 0.1, LabeledSplitMode::First, 0).unwrap();
        assert_eq!(s.labeled_rows, (0..10).collect::<Vec<_>>());
        assert_eq!(s.pool.len(), 90);
        assert_eq!(s.pool.image(0), d.image(10));
        assert_eq!(s.labeled.image(9), d.image(9));
    }

    #[test]
    fn stratified_mode_is_balanced_seeded_and_disjoint() {
        let d = data(400, 4);
        let a = split_labeled(&d, 0.25, LabeledSplitMode::Stratified, 3).unwrap();
        let b = split_labeled(&d, 0.25, LabeledSplitMode::Stratified, 3).unwrap();
        let c = split_labeled(&d, 0.25, LabeledSplitMode::Stratified, 4).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.labeled_rows, c.labeled_rows);
        assert_eq!(a.labeled.class_counts(), vec![25; 4]);
        assert_eq!(a.labeled.len() + a.pool.len(), 400);
        // The pool holds exactly the rows not labeled, in order.
        let pool_rows: Vec<usize> = (0..400).filter(|i| !a.labeled_rows.contains(i)).collect();
        for (k, &row) in pool_rows.iter().enumerate() {
            assert_eq!(a.pool.image(k), d.image(row));
        }
    }

    #[test]
    fn a_first_rows_split_missing_a_class_is_refused() {
        // Stored by class: the first 10% are all class 0.
        let shape = ImageShape::new(2, 2, 1);
        let labels: Vec<u16> = (0..100).map(|i| (i / 50) as u16).collect();
        let names = vec!["cat".to_string(), "dog".to_string()];
        let d = Dataset::new(vec![7; 400], labels, shape, names, "sorted").unwrap();
        let e = split_labeled(&d, 0.1, LabeledSplitMode::First, 0).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("holds no image of 1 of the 2 classes (dog)")
                && msg.contains("stratified"),
            "{msg}"
        );
        assert!(e.kind().is_users());
        // The stratified split labels every class.
        let s = split_labeled(&d, 0.1, LabeledSplitMode::Stratified, 0).unwrap();
        assert_eq!(s.labeled.class_counts(), vec![5, 5]);
    }

    #[test]
    fn bad_fractions_are_rejected() {
        let d = data(10, 2);
        for f in [0.0, -1.0, 1.5, f64::NAN] {
            assert!(split_labeled(&d, f, LabeledSplitMode::First, 0).is_err());
        }
        let whole = split_labeled(&d, 1.0, LabeledSplitMode::First, 0).unwrap();
        assert!(whole.pool.is_empty());
    }

    #[test]
    fn pool_rows_are_clamped() {
        let d = data(20, 2);
        let s = split_labeled(&d, 0.5, LabeledSplitMode::First, 0).unwrap();
        assert_eq!(s.pool.rows(5..100).len(), 5);
        assert_eq!(s.pool.rows(50..60).len(), 0);
    }
}
