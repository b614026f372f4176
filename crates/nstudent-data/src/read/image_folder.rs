//! Image folders: `root/<class>/<image>.png|jpg`, one folder per class (classes in name
//! order), or `root/train/<class>/...` plus `root/test/<class>/...` for two splits.
//!
//! Images are grey when every image is grey, otherwise RGB (alpha is dropped); all must have
//! the same size.

use std::path::{Path, PathBuf};

use image::DynamicImage;

use super::{file_name, list_dirs, list_files};
use crate::image_options::{Colour, ImageOptions};
use crate::{Dataset, Error, ImageShape, Result, Splits};

/// File extensions read as images.
pub const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Whether `path` names an image file nstudent reads (by its extension).
pub fn is_image(path: &Path) -> bool {
    path.extension()
        .map(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
        .unwrap_or(false)
}

/// The image files directly inside `dir`, in name order.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(list_files(dir)?
        .into_iter()
        .filter(|p| is_image(p))
        .collect())
}

/// True when `dir` looks like an image folder: subfolders holding images.
pub fn looks_like_image_folder(dir: &Path) -> bool {
    let Ok(dirs) = list_dirs(dir) else {
        return false;
    };
    dirs.iter().any(|d| {
        list_files(d)
            .map(|f| f.iter().any(|p| is_image(p)))
            .unwrap_or(false)
            || list_dirs(d)
                .map(|sub| {
                    sub.iter().any(|s| {
                        list_files(s)
                            .map(|f| f.iter().any(|p| is_image(p)))
                            .unwrap_or(false)
                    })
                })
                .unwrap_or(false)
    })
}

fn split_dir(root: &Path, names: &[&str]) -> Option<PathBuf> {
    list_dirs(root).ok()?.into_iter().find(|d| {
        let n = file_name(d).to_ascii_lowercase();
        names.contains(&n.as_str())
    })
}

/// The test split's folder of an image folder with `train/` and `test/` (or `val/`) splits.
pub fn test_split_dir(root: &Path) -> Option<PathBuf> {
    split_dir(root, &["train", "training"])?;
    split_dir(root, &["test", "testing", "val", "valid", "validation"])
}

/// The subfolders of a folder with `train/` and `test/` (or `val/`) splits that are neither,
/// as a note: a user's `unlabeled/` beside the splits is not part of the dataset, and should
/// be given with `--unlabeled`. `None` when nothing is skipped or there are no splits.
pub fn skipped_note(root: &Path) -> Option<String> {
    const SPLITS: [&str; 7] = [
        "train",
        "training",
        "test",
        "testing",
        "val",
        "valid",
        "validation",
    ];
    let train = split_dir(root, &SPLITS[..2])?;
    let test = split_dir(root, &SPLITS[2..])?;
    let skipped: Vec<String> = list_dirs(root)
        .ok()?
        .into_iter()
        .filter(|d| *d != train && *d != test)
        .map(|d| format!("{}/", file_name(&d)))
        .collect();
    if skipped.is_empty() {
        return None;
    }
    Some(format!(
        "{}: read {}/ and {}/ only; skipped {} (a folder of unlabeled images is given with \
         --unlabeled)",
        root.display(),
        file_name(&train),
        file_name(&test),
        skipped.join(", ")
    ))
}

/// The largest width or height decoded, in pixels. A few hundred bytes of JPEG can declare a
/// 65,535 x 65,535 image; the study's CNN takes images of tens of pixels, so anything above this
/// is a mistake or a hostile file, and is refused before its pixels are allocated.
const MAX_SIDE: u32 = 4096;

/// Decodes one image with bounded allocation: [`MAX_SIDE`] on each side and at most the bytes of
/// a `MAX_SIDE` x `MAX_SIDE` RGB image (48 MiB) in the decoder's buffers.
fn decode_image(path: &Path) -> image::ImageResult<DynamicImage> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(u64::from(MAX_SIDE) * u64::from(MAX_SIDE) * 3);
    let mut reader = image::ImageReader::open(path)?;
    reader.limits(limits);
    reader.decode()
}

/// Reads an image folder; `train/` and `test/` (or `val/`) subfolders become the two splits.
pub fn read(root: &Path, source: &str, options: &ImageOptions) -> Result<Splits> {
    let train_dir = split_dir(root, &["train", "training"]);
    let test_dir = split_dir(root, &["test", "testing", "val", "valid", "validation"]);
    match (train_dir, test_dir) {
        (Some(train_dir), Some(test_dir)) => {
            let train = read_classes(&train_dir, None, source, options)?;
            let test = read_classes(&test_dir, Some(&train.class_names), source, options)?;
            if test.shape != train.shape {
                return Err(Error::format(
                    &test_dir,
                    format!(
                        "images are {} but the train images are {}: use one size and colour mode",
                        test.shape, train.shape
                    ),
                ));
            }
            Ok(Splits {
                train,
                test: Some(test),
            })
        }
        _ => Ok(Splits {
            train: read_classes(root, None, source, options)?,
            test: None,
        }),
    }
}

/// Reads one split: one subfolder per class. With `classes` (the train split's), every folder
/// must be one of those classes and labels follow their order.
fn read_classes(
    root: &Path,
    classes: Option<&[String]>,
    source: &str,
    options: &ImageOptions,
) -> Result<Dataset> {
    let dirs = list_dirs(root)?;
    if dirs.is_empty() {
        let loose = list_files(root)?.iter().any(|p| is_image(p));
        return Err(Error::format(
            root,
            if loose {
                "holds images but no class folders: put each class's images in its own folder \
                 (root/<class>/<image>.png)"
            } else {
                "holds no class folders: expected root/<class>/<image>.png|jpg"
            },
        ));
    }
    let class_names: Vec<String> = match classes {
        Some(c) => c.to_vec(),
        None => dirs.iter().map(|d| file_name(d)).collect(),
    };
    let mut images: Vec<(PathBuf, DynamicImage)> = Vec::new();
    let mut labels = Vec::new();
    for dir in &dirs {
        let name = file_name(dir);
        let Some(label) = class_names.iter().position(|c| *c == name) else {
            return Err(Error::format(
                dir,
                format!(
                    "class `{name}` is not among the train classes ({}): use the same class folders \
                     in both splits",
                    class_names.join(", ")
                ),
            ));
        };
        let files = image_files(dir)?;
        if files.is_empty() {
            return Err(Error::format(
                dir,
                "class folder holds no images (.png, .jpg): add images or remove the folder",
            ));
        }
        for f in files {
            let img = options.resize_image(load(&f)?);
            images.push((f, img));
            labels.push(label as u16);
        }
    }
    let (pixels, shape) = stack(&images, options.colour)?;
    Dataset::new(pixels, labels, shape, class_names, source)
}

/// True when `dir` holds images itself and no class subfolders: an unlabeled set.
pub fn is_flat_image_folder(dir: &Path) -> bool {
    list_files(dir).is_ok_and(|f| f.iter().any(|p| is_image(p))) && !looks_like_image_folder(dir)
}

/// Reads the images directly inside `dir` (in name order), with no labels: a separate
/// unlabeled set. Same rules as a class folder: one size, grey when every image is grey.
pub fn read_unlabeled(dir: &Path, options: &ImageOptions) -> Result<(Vec<u8>, ImageShape)> {
    let files = image_files(dir)?;
    if files.is_empty() {
        return Err(Error::format(
            dir,
            "holds no images (.png, .jpg): an unlabeled set is a folder of images",
        ));
    }
    let images = files
        .into_iter()
        .map(|f| load(&f).map(|img| (f, options.resize_image(img))))
        .collect::<Result<Vec<_>>>()?;
    stack(&images, options.colour)
}

/// Reads the given image files, in the order given, with no labels: what `predict` runs on
/// new images. Same rules as a folder: one size (after `options`' resizing), grey when every
/// image is grey unless `options` says otherwise.
pub fn read_files(files: &[PathBuf], options: &ImageOptions) -> Result<(Vec<u8>, ImageShape)> {
    let images = files
        .iter()
        .map(|f| load(f).map(|img| (f.clone(), options.resize_image(img))))
        .collect::<Result<Vec<_>>>()?;
    stack(&images, options.colour)
}

/// Decodes one image file, with a one-line error naming it.
fn load(f: &Path) -> Result<DynamicImage> {
    decode_image(f).map_err(|e| match e {
        image::ImageError::IoError(io) => Error::io(f, io),
        image::ImageError::Limits(_) => Error::format(
            f,
            format!(
                "the image is larger than nstudent decodes (at most {MAX_SIDE}x{MAX_SIDE} \
                 pixels): shrink the images first"
            ),
        ),
        other => Error::format(
            f,
            format!("cannot decode the image ({other}): the file is corrupt or not a PNG/JPEG"),
        ),
    })
}

/// Stacks decoded images into one `(N, H, W, C)` buffer in `colour`, or by default grey when
/// every image is grey, else RGB; every image must have the size of the first.
fn stack(
    images: &[(PathBuf, DynamicImage)],
    colour: Option<Colour>,
) -> Result<(Vec<u8>, ImageShape)> {
    let grey = match colour {
        Some(c) => c == Colour::Grey,
        None => images.iter().all(|(_, i)| !i.color().has_color()),
    };
    let channels = if grey { 1 } else { 3 };
    let (w0, h0) = (images[0].1.width(), images[0].1.height());
    let shape = ImageShape::new(h0 as usize, w0 as usize, channels);
    let mut pixels = Vec::with_capacity(images.len() * shape.len());
    for (path, img) in images {
        if img.width() != w0 || img.height() != h0 {
            return Err(Error::format(
                path,
                format!(
                    "is {}x{} (width x height) but {} is {w0}x{h0}: resize all images to one size \
                     (--resize WxH)",
                    img.width(),
                    img.height(),
                    images[0].0.display()
                ),
            ));
        }
        if grey {
            pixels.extend_from_slice(img.to_luma8().as_raw());
        } else {
            pixels.extend_from_slice(img.to_rgb8().as_raw());
        }
    }
    Ok((pixels, shape))
}
