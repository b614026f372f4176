//! Core types of nstudent, free of I/O.
//!
//! Everything the study trains on is held as a [`Dataset`]: `u8` pixels in `(N, H, W, C)` order
//! (channels last, as the original distribution formats and image files store them), one `u16`
//! label per image, and class names. Conversion to `f32` happens once, inside the engine, where
//! the model needs it. [`ImagesRef`] borrows images without labels (what a model predicts on),
//! [`split`] makes cross-validation folds, and [`augment`] is the students' input noise.
//!
//! This crate reads no files and opens no connections (it writes files only through [`fs`], the
//! one atomic write every crate uses): the training engine depends on it alone.
//! Readers of the distribution formats, named sources, tasks and downloading live in
//! `nstudent-data`, which re-exports everything here.

mod dataset;
mod error;

pub mod augment;
pub mod fs;
pub mod seed;
pub mod split;

pub use dataset::{Dataset, ImageShape, ImagesRef, Splits};
pub use error::{Error, ErrorKind, Result};
