//! How data given by path is read: the flags `data info`, `train` and `predict` share.

use nstudent_data::{
    Cifar100Labels, Colour, CsvOptions, ImageOptions, ImageShape, LabelColumn, OpenOptions,
};

use crate::failure::usage;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ReadArgs {
    /// CSV: the label column, `first`, `last` or a zero-based number [default: from the
    /// header, else first]
    #[arg(long, value_name = "COLUMN")]
    pub label_column: Option<String>,
    /// CSV: image shape HxW or HxWxC [default: square grey or RGB from the column count]
    #[arg(long, value_name = "HxWxC")]
    pub shape: Option<String>,
    /// CSV: largest pixel value, scaled to 255 (16 for scikit-learn digits, 1 for [0, 1])
    #[arg(long, value_name = "MAX", allow_negative_numbers = true)]
    pub max_value: Option<f64>,
    /// CSV: the first row is a header [default: detected]
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// CSV: the first row is data [default: detected]
    #[arg(long)]
    pub no_header: bool,
    /// CIFAR-100: use the 20 coarse labels instead of the 100 fine ones.
    #[arg(long)]
    pub coarse: bool,
    /// Resize every image to WIDTHxHEIGHT pixels (bilinear), e.g. for a folder of images of
    /// mixed sizes
    #[arg(long, value_name = "WxH")]
    pub resize: Option<String>,
    /// Convert every image to one grey channel
    #[arg(long, conflicts_with = "rgb")]
    pub grayscale: bool,
    /// Convert every image to three RGB channels
    #[arg(long)]
    pub rgb: bool,
}

impl ReadArgs {
    /// The validated options, or a usage error naming the flag.
    pub fn open_options(&self) -> crate::failure::Result<OpenOptions> {
        let label_column = match &self.label_column {
            Some(text) => Some(text.parse::<LabelColumn>()?),
            None => None,
        };
        let shape = self.shape.as_deref().map(parse_shape).transpose()?;
        if let Some(m) = self.max_value {
            if !(m > 0.0 && m.is_finite()) {
                usage!("--max-value {m} must be a positive number (e.g. 16 or 1)");
            }
        }
        Ok(OpenOptions {
            csv: CsvOptions {
                label_column,
                shape,
                max_value: self.max_value,
                header: if self.header {
                    Some(true)
                } else if self.no_header {
                    Some(false)
                } else {
                    None
                },
                ..CsvOptions::default()
            },
            cifar100_labels: if self.coarse {
                Cifar100Labels::Coarse
            } else {
                Cifar100Labels::Fine
            },
            image: ImageOptions {
                resize: self.resize.as_deref().map(parse_resize).transpose()?,
                colour: if self.grayscale {
                    Some(Colour::Grey)
                } else if self.rgb {
                    Some(Colour::Rgb)
                } else {
                    None
                },
            },
        })
    }
}

fn parse_shape(text: &str) -> crate::failure::Result<ImageShape> {
    match ImageShape::parse(text) {
        Some(shape) => Ok(shape),
        None => {
            usage!("--shape `{text}` is not valid: write HxW or HxWxC with C 1 or 3, e.g. 28x28x1")
        }
    }
}

fn parse_resize(text: &str) -> crate::failure::Result<(u32, u32)> {
    match nstudent_data::parse_size(text) {
        Some(size) => Ok(size),
        None => usage!(
            "--resize `{text}` is not valid: write WIDTHxHEIGHT in pixels, each 1 to 4096, e.g. 32x32"
        ),
    }
}

/// Opens `spec` and prints the reader's notes (a CSV's first row read as a header) on stderr,
/// one `note:` line each, so that nothing about the data is decided silently.
pub fn open_noted(
    spec: &str,
    data_dir: &std::path::Path,
    options: &nstudent_data::OpenOptions,
) -> crate::failure::Result<nstudent_data::Splits> {
    let loaded = nstudent_data::open_with(spec, data_dir, options)?;
    check_coarse(spec, options, &loaded)?;
    print_notes(&loaded);
    Ok(loaded.splits)
}

/// Refuses `--coarse` on data other than CIFAR-100, where it would be ignored without a word.
pub fn check_coarse(
    spec: &str,
    options: &nstudent_data::OpenOptions,
    loaded: &nstudent_data::Loaded,
) -> crate::failure::Result<()> {
    if options.cifar100_labels == nstudent_data::Cifar100Labels::Coarse
        && !loaded.format.starts_with("CIFAR-100")
    {
        crate::failure::usage!(
            "--coarse picks CIFAR-100's 20 coarse labels, but {} is {}; drop --coarse",
            crate::failure::escape_controls(spec),
            loaded.format
        );
    }
    Ok(())
}

/// Prints a loaded dataset's notes on stderr, control characters escaped.
pub fn print_notes(loaded: &nstudent_data::Loaded) {
    for note in &loaded.notes {
        eprintln!("note: {}", crate::failure::escape_controls(note));
    }
}
