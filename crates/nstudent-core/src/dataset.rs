use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Height, width and channels of one image, in pixels and channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageShape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl ImageShape {
    pub const fn new(height: usize, width: usize, channels: usize) -> Self {
        Self {
            height,
            width,
            channels,
        }
    }

    /// Bytes (and pixels-times-channels) of one image.
    pub const fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// True for a degenerate shape with no pixels.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Parses `HxW` (grey) or `HxWxC` with C 1 or 3, as `--shape` and `[data] shape` take it.
    pub fn parse(text: &str) -> Option<Self> {
        let nums: Option<Vec<usize>> = text
            .split(['x', 'X'])
            .map(|p| p.trim().parse().ok())
            .collect();
        match *nums.as_deref()? {
            [h, w] if h > 0 && w > 0 => Some(Self::new(h, w, 1)),
            [h, w, c] if h > 0 && w > 0 && (c == 1 || c == 3) => Some(Self::new(h, w, c)),
            _ => None,
        }
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.height, self.width, self.channels)
    }
}

/// Labeled images held in memory as `u8` pixels, `(N, H, W, C)` order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `len() * shape.len()` bytes, image after image, rows top to bottom, channels last.
    pub images: Vec<u8>,
    /// One label per image, in `0..class_names.len()`.
    pub labels: Vec<u16>,
    pub shape: ImageShape,
    /// Human-readable class names; their count is the number of classes.
    pub class_names: Vec<String>,
    /// Where the data came from (a path, a source name, a task), for messages and reports.
    pub source: String,
}

impl Dataset {
    /// Builds a dataset after checking that pixels, labels and classes agree.
    pub fn new(
        images: Vec<u8>,
        labels: Vec<u16>,
        shape: ImageShape,
        class_names: Vec<String>,
        source: impl Into<String>,
    ) -> Result<Self> {
        let source = source.into();
        if shape.is_empty() {
            return Err(Error::Invalid(format!(
                "{source}: image shape {shape} has no pixels"
            )));
        }
        if images.len() != labels.len() * shape.len() {
            return Err(Error::Invalid(format!(
                "{source}: {} pixel bytes do not make {} images of {shape}",
                images.len(),
                labels.len()
            )));
        }
        if let Some(&bad) = labels
            .iter()
            .find(|&&l| usize::from(l) >= class_names.len())
        {
            return Err(Error::Invalid(format!(
                "{source}: label {bad} is out of range for {} classes",
                class_names.len()
            )));
        }
        Ok(Self {
            images,
            labels,
            shape,
            class_names,
            source,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The pixels of image `i`. Panics if `i >= len()`, like slice indexing.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.shape.len();
        &self.images[i * n..(i + 1) * n]
    }

    /// A borrowed view of all images, without labels: what a model predicts on.
    pub fn view(&self) -> ImagesRef<'_> {
        ImagesRef {
            pixels: &self.images,
            shape: self.shape,
        }
    }

    /// A new dataset holding the images at `indices`, in that order (repeats allowed).
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        let n = self.shape.len();
        let mut images = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            if i >= self.len() {
                return Err(Error::Invalid(format!(
                    "{}: index {i} is out of range for {} images",
                    self.source,
                    self.len()
                )));
            }
            images.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        Ok(Self {
            images,
            labels,
            shape: self.shape,
            class_names: self.class_names.clone(),
            source: self.source.clone(),
        })
    }

    /// The same images in an order drawn from `seed` (ChaCha8, the same on every machine).
    /// For sources stored sorted by class, such as the A-Z CSV, which the study shuffled once
    /// before its unshuffled K-fold.
    pub fn shuffled(&self, seed: u64) -> Self {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let mut images = Vec::with_capacity(self.images.len());
        for &i in &order {
            images.extend_from_slice(self.image(i));
        }
        Self {
            images,
            labels: order.iter().map(|&i| self.labels[i]).collect(),
            shape: self.shape,
            class_names: self.class_names.clone(),
            source: self.source.clone(),
        }
    }

    /// Number of images of each class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }
}

/// The splits of a dataset as distributed. `test` is `None` when the data has one split only
/// (the embedded default, a single file, a CSV without a test file).
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    pub train: Dataset,
    pub test: Option<Dataset>,
}

/// Borrowed `u8` images in `(N, H, W, C)` order, without labels.
#[derive(Debug, Clone, Copy)]
pub struct ImagesRef<'a> {
    pub pixels: &'a [u8],
    pub shape: ImageShape,
}

impl<'a> ImagesRef<'a> {
    /// Wraps `pixels`, checking that they hold a whole number of images of `shape`.
    pub fn new(pixels: &'a [u8], shape: ImageShape) -> Result<Self> {
        if shape.is_empty() || !pixels.len().is_multiple_of(shape.len()) {
            return Err(Error::Invalid(format!(
                "{} bytes are not a whole number of {shape} images",
                pixels.len()
            )));
        }
        Ok(Self { pixels, shape })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.pixels.len() / self.shape.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// The pixels of image `i`. Panics if `i >= len()`, like slice indexing.
    pub fn image(&self, i: usize) -> &'a [u8] {
        let n = self.shape.len();
        &self.pixels[i * n..(i + 1) * n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        Dataset::new(
            (0..12).collect(),
            vec![0, 1, 1],
            ImageShape::new(2, 2, 1),
            vec!["a".into(), "b".into()],
            "tiny",
        )
        .unwrap()
    }

    #[test]
    fn new_rejects_inconsistent_parts() {
        let shape = ImageShape::new(2, 2, 1);
        let names = vec!["a".to_string()];
        assert!(Dataset::new(vec![0; 7], vec![0, 0], shape, names.clone(), "x").is_err());
        assert!(Dataset::new(vec![0; 8], vec![0, 1], shape, names, "x").is_err());
    }

    #[test]
    fn shuffled_keeps_images_with_their_labels() {
        let d = Dataset::new(
            (0..40).map(|i| (i / 4) as u8).collect(),
            (0..10).collect(),
            ImageShape::new(2, 2, 1),
            (0..10).map(|i| i.to_string()).collect(),
            "ten",
        )
        .unwrap();
        let s = d.shuffled(3);
        assert_eq!(s, d.shuffled(3));
        assert_ne!(s.labels, d.labels);
        for i in 0..s.len() {
            assert_eq!(s.image(i), &[s.labels[i] as u8; 4]);
        }
        let mut sorted = s.labels.clone();
        sorted.sort();
        assert_eq!(sorted, d.labels);
    }

    #[test]
    fn subset_copies_images_and_labels_in_order() {
        let d = tiny();
        let s = d.subset(&[2, 0, 2]).unwrap();
        assert_eq!(s.labels, vec![1, 0, 1]);
        assert_eq!(s.image(0), &[8, 9, 10, 11]);
        assert_eq!(s.image(1), &[0, 1, 2, 3]);
        assert!(d.subset(&[3]).is_err());
        assert_eq!(d.class_counts(), vec![1, 2]);
    }
}
