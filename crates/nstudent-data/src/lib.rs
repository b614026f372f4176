//! Datasets for nstudent.
//!
//! Everything the study trains on is held as a [`Dataset`]: `u8` pixels in `(N, H, W, C)` order
//! (channels last, as the original distribution formats and image files store them), one `u16`
//! label per image, and class names. Conversion to `f32` happens once, inside the engine, where
//! the model needs it.

mod dataset;
mod error;

pub mod augment;

pub use dataset::{Dataset, ImageShape, ImagesRef};
pub use error::{Error, Result};
