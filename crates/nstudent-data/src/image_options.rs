//! Making images of any source fit one model: `--resize WxH` and `--grayscale` / `--rgb`.
//!
//! Image folders apply them to each file as it is decoded, so folders of mixed sizes or mixed
//! colour modes read as one dataset; every other format applies them after reading.

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, RgbImage};

use crate::{Dataset, Error, ImageShape, Result};

/// The colour mode every image is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// One channel: luma, with the `image` crate's Rec. 709 weights.
    Grey,
    /// Three channels; a grey image's value is repeated.
    Rgb,
}

/// How every image is made to fit; the default changes nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageOptions {
    /// Target `(width, height)` in pixels, by bilinear (triangle filter) resampling.
    pub resize: Option<(u32, u32)>,
    /// Target colour mode; `None` keeps grey data grey and colour data colour.
    pub colour: Option<Colour>,
}

impl ImageOptions {
    /// True when these options change nothing.
    pub fn is_identity(&self) -> bool {
        *self == Self::default()
    }

    /// Resizes one decoded image (colour is chosen when images are stacked).
    pub(crate) fn resize_image(&self, img: DynamicImage) -> DynamicImage {
        match self.resize {
            Some((w, h)) if (img.width(), img.height()) != (w, h) => {
                img.resize_exact(w, h, FilterType::Triangle)
            }
            _ => img,
        }
    }

    /// Applies the options to every image of `data` (any format's reader output).
    pub fn apply(&self, data: Dataset) -> Result<Dataset> {
        if self.is_identity() {
            return Ok(data);
        }
        let shape = data.shape;
        let out_colour = self.colour.unwrap_or(if shape.channels == 1 {
            Colour::Grey
        } else {
            Colour::Rgb
        });
        let (w, h) = self
            .resize
            .unwrap_or((shape.width as u32, shape.height as u32));
        let out_shape = ImageShape::new(
            h as usize,
            w as usize,
            if out_colour == Colour::Grey { 1 } else { 3 },
        );
        let mut pixels = Vec::with_capacity(data.len() * out_shape.len());
        for i in 0..data.len() {
            let img = to_dynamic(data.image(i), shape).ok_or_else(|| {
                Error::Invalid(format!(
                    "{}: images of {shape} cannot be resized or converted (1 or 3 channels only)",
                    data.source
                ))
            })?;
            let img = self.resize_image(img);
            match out_colour {
                Colour::Grey => pixels.extend_from_slice(img.to_luma8().as_raw()),
                Colour::Rgb => pixels.extend_from_slice(img.to_rgb8().as_raw()),
            }
        }
        Dataset::new(
            pixels,
            data.labels,
            out_shape,
            data.class_names,
            &data.source,
        )
    }
}

/// One image's `(H, W, C)` bytes as an `image` crate image; `None` for 2 or 4+ channels.
fn to_dynamic(pixels: &[u8], shape: ImageShape) -> Option<DynamicImage> {
    let (w, h) = (shape.width as u32, shape.height as u32);
    match shape.channels {
        1 => GrayImage::from_raw(w, h, pixels.to_vec()).map(DynamicImage::ImageLuma8),
        3 => RgbImage::from_raw(w, h, pixels.to_vec()).map(DynamicImage::ImageRgb8),
        _ => None,
    }
}

/// Parses `WxH` (width x height, in pixels, each 1 to 4096), as `--resize` takes it.
pub fn parse_size(text: &str) -> Option<(u32, u32)> {
    let (w, h) = text.split_once(['x', 'X'])?;
    let (w, h): (u32, u32) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    ((1..=4096).contains(&w) && (1..=4096).contains(&h)).then_some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(shape: ImageShape, n: usize) -> Dataset {
        let pixels = (0..n * shape.len()).map(|i| (i * 37 % 256) as u8).collect();
        let labels = (0..n).map(|i| (i % 2) as u16).collect();
        Dataset::new(pixels, labels, shape, vec!["a".into(), "b".into()], "t").unwrap()
    }

    #[test]
    fn resize_and_colour_change_the_shape_and_keep_the_labels() {
        let d = data(ImageShape::new(4, 6, 3), 3);
        let o = ImageOptions {
            resize: Some((8, 2)),
            colour: Some(Colour::Grey),
        };
        let out = o.apply(d.clone()).unwrap();
        assert_eq!(out.shape, ImageShape::new(2, 8, 1));
        assert_eq!(out.labels, d.labels);
        assert_eq!(out.images.len(), 3 * 16);
        // Grey to RGB repeats the value in every channel.
        let g = data(ImageShape::new(2, 2, 1), 1);
        let rgb = ImageOptions {
            colour: Some(Colour::Rgb),
            ..Default::default()
        }
        .apply(g.clone())
        .unwrap();
        assert_eq!(rgb.shape, ImageShape::new(2, 2, 3));
        assert_eq!(&rgb.images[..3], &[g.images[0]; 3]);
        // The identity leaves the data as it is.
        assert_eq!(ImageOptions::default().apply(d.clone()).unwrap(), d);
    }

    #[test]
    fn sizes_parse_as_width_by_height() {
        assert_eq!(parse_size("32x24"), Some((32, 24)));
        assert_eq!(parse_size("32X32"), Some((32, 32)));
        for bad in ["32", "0x5", "5x0", "axb", "5000x5", "-1x3"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }
}
