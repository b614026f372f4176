//! One test per kind of bad input: each gives a typed user error, on one line, that names the
//! file and the problem.

mod common;

use std::path::Path;

use common::*;
use nstudent_data::{open, open_with, CsvOptions, Error, ImageShape, OpenOptions};

fn fails(spec: &Path, data_dir: &Path) -> Error {
    open(spec.to_str().unwrap(), data_dir).expect_err("bad input must fail")
}

/// The error is a user error on one line, mentioning each of `needles`.
fn check(err: &Error, needles: &[&str]) {
    let text = err.to_string();
    assert!(err.kind().is_users(), "not a user error: {text}");
    assert!(!text.contains('\n'), "not one line: {text}");
    for n in needles {
        assert!(text.contains(n), "`{text}` does not mention `{n}`");
    }
}

fn nowhere() -> &'static Path {
    Path::new("/nonexistent-nstudent-data")
}

#[test]
fn idx_wrong_magic_number() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), 4, 2, false);
    let f = tmp.path().join("train-images-idx3-ubyte");
    let mut bytes = std::fs::read(&f).unwrap();
    bytes[0] = 0x1a;
    std::fs::write(&f, bytes).unwrap();
    let e = fails(tmp.path(), nowhere());
    check(&e, &["train-images-idx3-ubyte", "magic number"]);
    assert!(matches!(e, Error::Format { .. }));
}

#[test]
fn idx_truncated_file() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), 4, 2, false);
    let f = tmp.path().join("t10k-images-idx3-ubyte");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() - 5]).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["t10k-images-idx3-ubyte", "truncated", "download it again"],
    );
    // Cut inside the header.
    std::fs::write(&f, &bytes[..9]).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["t10k-images-idx3-ubyte", "truncated"],
    );
}

#[test]
fn idx_header_length_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), 4, 2, false);
    let f = tmp.path().join("train-labels-idx1-ubyte");
    let mut bytes = std::fs::read(&f).unwrap();
    bytes.extend_from_slice(&[1, 2, 3]);
    std::fs::write(&f, bytes).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["train-labels-idx1-ubyte", "header/length mismatch"],
    );
}

#[test]
fn idx_label_out_of_range_for_a_named_source() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mnist");
    write_idx_dir(&dir, 4, 2, true);
    let (_, _, _) = idx_pair(1, 1, 1, 1);
    std::fs::write(
        dir.join("train-labels-idx1-ubyte.gz"),
        gz(&idx_bytes(&[4], &[0, 1, 12, 3])),
    )
    .unwrap();
    let e = open("mnist", tmp.path()).unwrap_err();
    check(
        &e,
        &["train-labels-idx1-ubyte.gz", "label 12", "out of range"],
    );
}

#[test]
fn idx_zero_images() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("train-images-idx3-ubyte"),
        idx_bytes(&[0, 28, 28], &[]),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("train-labels-idx1-ubyte"),
        idx_bytes(&[0], &[]),
    )
    .unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["train-images-idx3-ubyte", "zero images"],
    );
}

#[test]
fn labels_far_outside_the_classes_are_refused_with_the_labels_found() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("train-images-idx3-ubyte"),
        idx_bytes(&[4, 2, 2], &[9; 16]),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("train-labels-idx1-ubyte"),
        idx_bytes(&[4], &[200, 255, 200, 255]),
    )
    .unwrap();
    let e = fails(tmp.path(), nowhere());
    check(
        &e,
        &[
            "254 of its 256 classes (0-255) have no image",
            "200, 255",
            "relabel",
        ],
    );
    // Kept as a task, the two labels are a 2-class dataset.
    let spec = format!("{}:200,255", tmp.path().display());
    let task = open(&spec, nowhere()).unwrap();
    assert_eq!(task.train.class_counts(), vec![2, 2]);
}

#[test]
fn a_csv_of_one_class_hints_at_the_label_column() {
    let tmp = tempfile::tempdir().unwrap();
    // The label is in the last column, but read from the first: every row's "label" is 0.
    let path = tmp.path().join("last.csv");
    std::fs::write(&path, "0,0,0,0,1\n0,0,0,0,2\n0,0,0,0,1\n").unwrap();
    let options = OpenOptions {
        csv: CsvOptions {
            label_column: Some(nstudent_data::LabelColumn::First),
            ..CsvOptions::default()
        },
        ..OpenOptions::default()
    };
    let e = open_with(path.to_str().unwrap(), nowhere(), &options).unwrap_err();
    check(&e, &["one class", "--label-column"]);
}

#[test]
fn idx_mismatched_image_and_label_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let (images, _, _) = idx_pair(5, 2, 2, 3);
    let (_, labels, _) = idx_pair(4, 2, 2, 3);
    std::fs::write(tmp.path().join("train-images-idx3-ubyte"), images).unwrap();
    std::fs::write(tmp.path().join("train-labels-idx1-ubyte"), labels).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["train-labels-idx1-ubyte", "4 labels", "5 images"],
    );
}

#[test]
fn unreadable_gzip() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(tmp.path(), 40, 2, true);
    let f = tmp.path().join("train-images-idx3-ubyte.gz");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["train-images-idx3-ubyte.gz", "gzip"],
    );
    // Garbage after a gzip magic number.
    std::fs::write(&f, [0x1f, 0x8b, 0xff, 0xff, 0, 0, 0]).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["train-images-idx3-ubyte.gz", "gzip"],
    );
}

#[test]
fn cifar_truncated_record() {
    let tmp = tempfile::tempdir().unwrap();
    let (bytes, _) = cifar10_file(3, 0);
    std::fs::write(
        tmp.path().join("data_batch_1.bin"),
        &bytes[..bytes.len() - 100],
    )
    .unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["data_batch_1.bin", "3073-byte records"],
    );
}

#[test]
fn cifar_label_out_of_range() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut bytes, _) = cifar10_file(3, 0);
    bytes[3073] = 10;
    std::fs::write(tmp.path().join("data_batch_1.bin"), bytes).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["data_batch_1.bin", "label 10 of record 1", "out of range"],
    );
    // CIFAR-100 fine labels stop at 99.
    let (mut bytes, _) = cifar100_file(2);
    bytes[1] = 100;
    let f = tmp.path().join("train.bin");
    std::fs::write(&f, bytes).unwrap();
    check(&fails(&f, nowhere()), &["train.bin", "label 100"]);
}

#[test]
fn cifar_zero_images() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("data_batch_1.bin"), []).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["data_batch_1.bin", "zero images"],
    );
}

#[test]
fn cifar_corrupt_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("cifar-10-binary.tar.gz");
    std::fs::write(
        &f,
        gz(b"this is not a tar archive at all, just some text that is long enough"),
    )
    .unwrap();
    check(&fails(&f, nowhere()), &["cifar-10-binary.tar.gz"]);
}

#[test]
fn csv_row_of_the_wrong_width() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("rows.csv");
    std::fs::write(&f, "1,2,3,4,5\n0,1,2,3,4\n2,1,2,3\n").unwrap();
    check(
        &fails(&f, nowhere()),
        &["rows.csv", "line 3 has 4 columns, expected 5"],
    );
}

#[test]
fn csv_non_numeric_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("cells.csv");
    std::fs::write(&f, "1,2,3,4,5\n0,1,x7,3,4\n").unwrap();
    check(
        &fails(&f, nowhere()),
        &["cells.csv", "line 2, column 3", "`x7` is not a number"],
    );
}

#[test]
fn csv_pixel_out_of_range_and_bad_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("px.csv");
    std::fs::write(&f, "1,2,3,4,300\n").unwrap();
    check(
        &fails(&f, nowhere()),
        &["px.csv", "pixel value 300", "--max-value"],
    );
    std::fs::write(&f, "1,2,3,4\n").unwrap();
    check(
        &fails(&f, nowhere()),
        &["px.csv", "3 pixel columns", "--shape"],
    );
    let options = OpenOptions {
        csv: CsvOptions {
            shape: Some(ImageShape::new(2, 2, 1)),
            ..Default::default()
        },
        ..Default::default()
    };
    let e = open_with(f.to_str().unwrap(), nowhere(), &options).unwrap_err();
    check(&e, &["px.csv", "shape 2x2x1"]);
}

#[test]
fn csv_label_out_of_range_for_az() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("az-handwritten");
    std::fs::create_dir(&dir).unwrap();
    let (mut text, _) = az_csv(3);
    text.push_str(&format!("26{}\n", ",0".repeat(784)));
    std::fs::write(dir.join("A_Z Handwritten Data.csv"), text).unwrap();
    check(
        &open("az", tmp.path()).unwrap_err(),
        &["A_Z Handwritten Data.csv", "label 26", "out of range"],
    );
}

#[test]
fn csv_zero_images() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("empty.csv");
    std::fs::write(&f, "").unwrap();
    check(&fails(&f, nowhere()), &["empty.csv", "zero images"]);
    std::fs::write(&f, "label,p0,p1,p2,p3\n").unwrap();
    check(&fails(&f, nowhere()), &["empty.csv", "zero images"]);
}

#[test]
fn image_folder_empty_class_folder() {
    let tmp = tempfile::tempdir().unwrap();
    write_png_grey(&tmp.path().join("a/1.png"), 2, 2, 1);
    std::fs::create_dir(tmp.path().join("b")).unwrap();
    check(
        &fails(tmp.path(), nowhere()),
        &["/b", "class folder holds no images"],
    );
}

#[test]
fn image_folder_sizes_differ_and_corrupt_image() {
    let tmp = tempfile::tempdir().unwrap();
    write_png_grey(&tmp.path().join("a/1.png"), 2, 2, 1);
    write_png_grey(&tmp.path().join("b/2.png"), 3, 2, 1);
    check(&fails(tmp.path(), nowhere()), &["2.png", "resize"]);
    std::fs::write(tmp.path().join("b/2.png"), b"not a png").unwrap();
    check(&fails(tmp.path(), nowhere()), &["2.png", "cannot decode"]);
}

#[test]
fn unknown_source_or_task_name() {
    let e = open("mnsit", nowhere()).unwrap_err();
    check(&e, &["mnsit", "mnist, fashion-mnist"]);
    let e = open("mnsit:0-4", nowhere()).unwrap_err();
    check(&e, &["mnsit", "nstudent data list"]);
    let e = open("mnist:4-a", nowhere()).unwrap_err();
    check(&e, &["mnist"]);
    let e = open("mnist:7-2", nowhere()).unwrap_err();
    check(&e, &["reversed"]);
}

#[test]
fn task_range_outside_the_source() {
    let e = open("fashion-mnist-10k:5-12", nowhere()).unwrap_err();
    check(
        &e,
        &["fashion-mnist-10k:5-12", "10, 11, 12", "10 classes (0-9)"],
    );
}

#[test]
fn missing_named_sources_say_how_to_get_them() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open("mnist", tmp.path()).unwrap_err();
    check(&e, &["nstudent data fetch mnist"]);
    let e = open("cifar100:30-39", tmp.path()).unwrap_err();
    check(&e, &["nstudent data fetch cifar100"]);
    let e = open("az:0-4", tmp.path()).unwrap_err();
    check(&e, &["Kaggle", "A_Z Handwritten Data.csv"]);
}

#[test]
fn missing_path_and_unrecognised_file() {
    let tmp = tempfile::tempdir().unwrap();
    check(
        &open("./no/such/file.csv", nowhere()).unwrap_err(),
        &["no/such/file.csv", "no such file"],
    );
    let f = tmp.path().join("notes.txt");
    std::fs::write(&f, "hello").unwrap();
    check(&fails(&f, nowhere()), &["notes.txt", "unrecognised"]);
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    check(&fails(&empty, nowhere()), &["empty", "is empty"]);
}

/// Inputs the fuzzer found (fuzz/regressions/image): a JPEG of under 1 KB that declares a size
/// whose pixels would take 195 MB is refused before they are allocated.
#[test]
fn an_image_declaring_a_huge_size_is_refused_before_decoding() {
    let jpeg = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/image/jpeg-huge-declared-size");
    let bytes = std::fs::read(jpeg).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for class in ["a", "b"] {
        std::fs::create_dir(tmp.path().join(class)).unwrap();
        // The regression input's first byte picks the extension (fuzz/fuzz_targets/image.rs).
        std::fs::write(tmp.path().join(class).join("0.jpg"), &bytes[1..]).unwrap();
    }
    let e = fails(tmp.path(), nowhere());
    check(&e, &["0.jpg", "larger than nstudent decodes", "4096x4096"]);
}
