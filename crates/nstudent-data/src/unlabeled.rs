//! A separate unlabeled set, as the paper trains with (`train --unlabeled`, a study's
//! `[data] unlabeled`): images only, whatever labels the files carry.

use std::path::Path;

use crate::read::image_folder;
use crate::{open_with, ImageShape, ImagesRef, OpenOptions, Result};

/// Images without labels, in the order read.
#[derive(Debug, Clone, PartialEq)]
pub struct UnlabeledImages {
    /// `(N, H, W, C)` pixels.
    pub pixels: Vec<u8>,
    pub shape: ImageShape,
    /// What the user named, for messages and reports.
    pub source: String,
    /// What the reader skipped or assumed, for the user (as [`crate::Loaded::notes`]).
    pub notes: Vec<String>,
}

impl UnlabeledImages {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.pixels.len() / self.shape.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    pub fn view(&self) -> ImagesRef<'_> {
        ImagesRef {
            pixels: &self.pixels,
            shape: self.shape,
        }
    }
}

/// Opens `spec` as an unlabeled set: a folder of images with no class subfolders, or anything
/// [`open_with`] reads (a source, a task, a path), whose train split is taken and whose labels
/// are dropped here, so that nothing downstream can read them.
pub fn open_unlabeled(
    spec: &str,
    data_dir: &Path,
    options: &OpenOptions,
) -> Result<UnlabeledImages> {
    let path = Path::new(spec);
    let (pixels, shape, notes) = if path.is_dir() && image_folder::is_flat_image_folder(path) {
        let (pixels, shape) = image_folder::read_unlabeled(path, &options.image)?;
        (pixels, shape, Vec::new())
    } else {
        let loaded = open_with(spec, data_dir, options)?;
        let mut notes = loaded.notes;
        let train = loaded.splits.train;
        notes.push(format!(
            "{spec} is a labeled dataset: its {} training images are the unlabeled set (labels \
             dropped){}",
            train.len(),
            if loaded.splits.test.is_some() {
                ", its test split is not used"
            } else {
                ""
            }
        ));
        (train.images, train.shape, notes)
    };
    Ok(UnlabeledImages {
        pixels,
        shape,
        source: spec.to_string(),
        notes,
    })
}
