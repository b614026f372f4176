//! `nstudent predict` on new images: a flat folder, one image, a list of files; the CSV names
//! each row's file, in the order documented.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn nstudent(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(args)
        .current_dir(dir)
        .env("NSTUDENT_DATA", "/nonexistent-nstudent-data")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An 8x8 grey image: class "dark" is dim, class "light" bright.
fn write_png(path: &Path, light: bool, i: u8, side: u32) {
    let value = if light { 200 } else { 30 } + i % 20;
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_pixel(side, side, image::Luma([value]))
        .save(path)
        .unwrap();
}

#[test]
fn predict_takes_a_folder_one_image_or_a_list_and_names_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 0..20u8 {
        write_png(&d.join(format!("data/dark/{i}.png")), false, i, 8);
        write_png(&d.join(format!("data/light/{i}.png")), true, i, 8);
    }
    for (name, light) in [("b.png", true), ("a.png", false), ("c.png", true)] {
        write_png(&d.join("new").join(name), light, 3, 8);
    }
    let out = nstudent(
        d,
        &[
            "train",
            "--data",
            "data",
            "--algo",
            "baseline",
            "--teacher-factor",
            "1",
            "--epochs",
            "40",
            "--out",
            "m",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // data info knows such a folder for what it is.
    let out = nstudent(d, &["data", "info", "new"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let info = text(&out.stdout);
    assert!(
        info.contains("images with no labels (no class folders)") && info.contains("images     3"),
        "{info}"
    );

    // A flat folder: its images in name order, each row named by its file.
    let out = nstudent(
        d,
        &["predict", "--model", "m", "--data", "new", "--out", "p.csv"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = fs::read_to_string(d.join("p.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "file,dark,light");
    let files: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.split(',').next().unwrap())
        .collect();
    assert_eq!(files, ["new/a.png", "new/b.png", "new/c.png"]);
    // The model learned the classes: a dark image is dark, a light one light.
    let p_light = |row: &str| row.split(',').nth(2).unwrap().parse::<f64>().unwrap();
    assert!(p_light(rows[1]) < 0.5 && p_light(rows[2]) > 0.5, "{csv}");

    // Predictions may be written beside the images they describe, and are no image.
    let out = nstudent(
        d,
        &[
            "predict",
            "--model",
            "m",
            "--data",
            "new",
            "--out",
            "new/p.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(fs::read_to_string(d.join("new/p.csv")).unwrap(), csv);

    // One image, to standard output; a list, in the order given.
    let out = nstudent(d, &["predict", "--model", "m", "--data", "new/c.png"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let one = text(&out.stdout);
    assert_eq!(one.lines().count(), 2, "{one}");
    assert!(
        one.lines().nth(1).unwrap().starts_with("new/c.png,"),
        "{one}"
    );
    let out = nstudent(
        d,
        &[
            "predict",
            "--model",
            "m",
            "--data",
            "new/c.png",
            "new/a.png",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: Vec<String> = text(&out.stdout)
        .lines()
        .skip(1)
        .map(|r| r.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(listed, ["new/c.png", "new/a.png"]);

    // Images have no labels; a list holds images only; a size the model does not take is
    // named with the flag that fixes it.
    let refused = |args: &[&str], needle: &str| {
        let out = nstudent(d, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    refused(
        &[
            "predict",
            "--model",
            "m",
            "--data",
            "new",
            "--labels-out",
            "l.csv",
        ],
        "holds images with no labels",
    );
    refused(
        &["predict", "--model", "m", "--data", "new/a.png", "data"],
        "each must be an image file",
    );
    write_png(&d.join("big/x.png"), true, 0, 16);
    refused(
        &["predict", "--model", "m", "--data", "big"],
        "has images of 16x16x1: resize or convert them (--resize WxH",
    );
    let out = nstudent(
        d,
        &[
            "predict", "--model", "m", "--data", "big", "--resize", "8x8",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!d.join("l.csv").exists());

    // A dataset: a `row` column, the split's order; score reads it as it is.
    let out = nstudent(
        d,
        &[
            "predict",
            "--model",
            "m",
            "--data",
            "data",
            "--out",
            "pd.csv",
            "--labels-out",
            "l.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = fs::read_to_string(d.join("pd.csv")).unwrap();
    assert!(csv.starts_with("row,dark,light\n0,"), "{csv}");
    let out = nstudent(d, &["score", "--labels", "l.csv", "--proba", "pd.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("40 samples, 2 classes"));
}
