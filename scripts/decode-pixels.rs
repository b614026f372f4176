//! Writes the pixels `nstudent predict` decodes from image files, for
//! scripts/python-decode-check.py to compare with the Python package's `read_images`.
//!
//! It calls the CLI's own reader (`nstudent_data::read::image_folder::read_files`), so the bytes
//! are the ones the model sees. Not part of the workspace: the check script compiles it with
//! plain `rustc` against the `nstudent_data` library that `cargo build --release` left in
//! target/release/deps (no Cargo project, no rebuild):
//!
//!   rustc --edition 2021 -O -o decode-pixels scripts/decode-pixels.rs \
//!     -L dependency=target/release/deps \
//!     --extern nstudent_data=target/release/deps/libnstudent_data-HASH.rlib
//!
//! Usage: decode-pixels OUT [--resize WxH] [--grayscale | --rgb] FILE...
//! OUT receives the uint8 pixels, (N, H, W, C) in row-major order; standard output one line,
//! `N H W C`.

use std::path::PathBuf;
use std::process::ExitCode;

use nstudent_data::{Colour, ImageOptions};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: decode-pixels OUT [--resize WxH] [--grayscale | --rgb] FILE...");
        return ExitCode::from(2);
    };
    let mut options = ImageOptions::default();
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--resize" => {
                let size = args.next().unwrap_or_default();
                match nstudent_data::parse_size(&size) {
                    Some(wh) => options.resize = Some(wh),
                    None => {
                        eprintln!("--resize {size}: write WxH");
                        return ExitCode::from(2);
                    }
                }
            }
            "--grayscale" => options.colour = Some(Colour::Grey),
            "--rgb" => options.colour = Some(Colour::Rgb),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        eprintln!("decode-pixels: no image files given");
        return ExitCode::from(2);
    }
    match nstudent_data::read::image_folder::read_files(&files, &options) {
        Ok((pixels, shape)) => {
            if let Err(e) = std::fs::write(&out, &pixels) {
                eprintln!("{}: {e}", out.display());
                return ExitCode::FAILURE;
            }
            println!(
                "{} {} {} {}",
                files.len(),
                shape.height,
                shape.width,
                shape.channels
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("decode-pixels: {e}");
            ExitCode::FAILURE
        }
    }
}
