//! Datasets for nstudent: reading them from disk, naming them, and downloading them.
//!
//! The types everything trains on ([`Dataset`], [`ImageShape`], [`ImagesRef`], [`Splits`],
//! [`split`], [`augment`], [`Error`]) live in `nstudent-core`, which does no I/O, and are
//! re-exported here.
//!
//! [`open`] turns what a user types (a path, a source name such as `mnist`, or a task such as
//! `cifar100:30-39`) into [`Splits`]; [`read`] holds the format readers; [`sources`] names the
//! datasets nstudent knows; [`tasks`] lists the study's tasks; `fetch` (cargo feature `fetch`,
//! on by default) downloads named sources.
//!
//! Modules depend one way: [`read`], [`sources`] and [`tasks`] know nothing of [`open`], which
//! builds on them; `fetch` builds on [`sources`] and [`read`], [`open_unlabeled`] on [`open`].

mod image_options;
mod open;
mod unlabeled;

#[cfg(feature = "fetch")]
pub mod fetch;
pub mod read;
pub mod sources;
pub mod tasks;

pub use nstudent_core::{
    augment, seed, split, Dataset, Error, ImageShape, ImagesRef, Result, Splits,
};

pub use image_options::{parse_size, Colour, ImageOptions};
pub use open::{
    default_data_dir, embedded_default, open, open_source, open_with, Loaded, OpenOptions,
};
pub use read::cifar::Cifar100Labels;
pub use read::csv::{CsvOptions, LabelColumn};
pub use read::{data_budget, set_data_budget, DEFAULT_DATA_BUDGET};
pub use sources::Source;
pub use tasks::Task;
pub use unlabeled::{open_unlabeled, UnlabeledImages};
