//! Datasets for nstudent.
//!
//! Everything the study trains on is held as a [`Dataset`]: `u8` pixels in `(N, H, W, C)` order
//! (channels last, as the original distribution formats and image files store them), one `u16`
//! label per image, and class names. Conversion to `f32` happens once, inside the engine, where
//! the model needs it.
//!
//! [`open`] turns what a user types (a path, a source name such as `mnist`, or a task such as
//! `cifar100:30-39`) into [`Splits`]; [`fetch`] downloads named sources; [`split`] makes
//! cross-validation folds; [`tasks`] lists the study's tasks.

mod dataset;
mod error;
mod image_options;
mod open;
mod unlabeled;

pub mod augment;
pub mod fetch;
pub mod read;
pub mod sources;
pub mod split;
pub mod tasks;

pub use dataset::{Dataset, ImageShape, ImagesRef};
pub use error::{Error, Result};
pub use image_options::{parse_size, Colour, ImageOptions};
pub use open::{
    default_data_dir, embedded_default, open, open_source, open_with, Loaded, OpenOptions, Splits,
};
pub use read::cifar::Cifar100Labels;
pub use read::csv::{CsvOptions, LabelColumn};
pub use sources::Source;
pub use tasks::Task;
pub use unlabeled::{open_unlabeled, UnlabeledImages};
