//! Every reader on fixtures generated here, in every supported layout.

mod common;

use std::path::Path;

use common::*;
use nstudent_data::read::cifar::{Member, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES};
use nstudent_data::{
    open, open_with, Cifar100Labels, CsvOptions, ImageShape, LabelColumn, OpenOptions,
};

fn no_data_dir() -> &'static Path {
    Path::new("/nonexistent-nstudent-data-dir")
}

#[test]
fn idx_directory_gzip_and_raw_read_both_splits() {
    for compress in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        write_idx_dir(tmp.path(), 23, 7, compress);
        let loaded = open_with(
            tmp.path().to_str().unwrap(),
            no_data_dir(),
            &OpenOptions::default(),
        )
        .unwrap();
        assert_eq!(loaded.format, if compress { "IDX (gzip)" } else { "IDX" });
        let s = loaded.splits;
        assert_eq!(s.train.len(), 23);
        assert_eq!(s.test.as_ref().unwrap().len(), 7);
        assert_eq!(s.train.shape, ImageShape::new(4, 3, 1));
        assert_eq!(s.train.labels, labels_for(23, 10));
        let l = s.train.labels[5];
        assert_eq!(
            s.train.image(5),
            (0..12)
                .map(|j| pixel(5, j, l))
                .collect::<Vec<_>>()
                .as_slice()
        );
        assert_eq!(s.train.num_classes(), 10);
    }
}

#[test]
fn idx_single_file_finds_its_labels_partner() {
    let tmp = tempfile::tempdir().unwrap();
    // 10 images: every one of the 10 classes (a file alone must hold each class it numbers).
    write_idx_dir(tmp.path(), 11, 10, true);
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        let s = open(tmp.path().join(name).to_str().unwrap(), no_data_dir()).unwrap();
        assert_eq!(s.train.len(), 10);
        assert!(s.test.is_none());
    }
}

#[test]
fn idx_directory_with_only_the_test_split_is_one_split() {
    let tmp = tempfile::tempdir().unwrap();
    let (images, labels, _) = idx_pair(9, 2, 2, 4);
    std::fs::write(tmp.path().join("t10k-images-idx3-ubyte.gz"), gz(&images)).unwrap();
    std::fs::write(tmp.path().join("t10k-labels-idx1-ubyte.gz"), gz(&labels)).unwrap();
    let s = open(tmp.path().to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.len(), 9);
    assert!(s.test.is_none());
}

fn check_cifar10_pixels(d: &nstudent_data::Dataset, first: usize) {
    // Pixel (y, x, c) of record i was written as pixel(i, (y*32+x)*3 + c, label).
    for i in [0, d.len() - 1] {
        let l = d.labels[i];
        let expected: Vec<u8> = (0..3072).map(|j| pixel(first + i, j, l)).collect();
        assert_eq!(d.image(i), expected.as_slice(), "record {i}");
    }
}

#[test]
fn cifar10_directory_with_batches_and_meta() {
    let tmp = tempfile::tempdir().unwrap();
    let (b1, l1) = cifar10_file(6, 0);
    let (b2, l2) = cifar10_file(4, 6);
    let (t, lt) = cifar10_file(5, 100);
    std::fs::write(tmp.path().join("data_batch_1.bin"), b1).unwrap();
    std::fs::write(tmp.path().join("data_batch_2.bin"), b2).unwrap();
    std::fs::write(tmp.path().join("test_batch.bin"), t).unwrap();
    std::fs::write(
        tmp.path().join("batches.meta.txt"),
        "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n",
    )
    .unwrap();
    let loaded = open_with(
        tmp.path().to_str().unwrap(),
        no_data_dir(),
        &OpenOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded.format, "CIFAR-10 binary (directory)");
    let s = loaded.splits;
    assert_eq!(s.train.shape, ImageShape::new(32, 32, 3));
    assert_eq!(s.train.labels, [l1, l2].concat());
    assert_eq!(s.test.as_ref().unwrap().labels, lt);
    assert_eq!(s.train.class_names[9], "j");
    check_cifar10_pixels(&s.train, 0);
    check_cifar10_pixels(s.test.as_ref().unwrap(), 100);
}

#[test]
fn cifar10_subset_file_names_choose_roles_by_test_in_name() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("data_batch_1_first40.bin"),
        cifar10_file(40, 0).0,
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("test_batch_first10.bin"),
        cifar10_file(10, 0).0,
    )
    .unwrap();
    let s = open(tmp.path().to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.len(), 40);
    assert_eq!(s.test.unwrap().len(), 10);
    assert_eq!(s.train.class_names[0], "airplane");
}

fn write_tar_gz(path: &Path, files: &[(&str, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let enc = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(enc);
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}

#[test]
fn cifar10_tar_gz_archive_as_distributed() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("cifar-10-binary.tar.gz");
    write_tar_gz(
        &archive,
        &[
            (
                "cifar-10-batches-bin/batches.meta.txt",
                b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n".to_vec(),
            ),
            (
                "cifar-10-batches-bin/data_batch_1.bin",
                cifar10_file(3, 0).0,
            ),
            (
                "cifar-10-batches-bin/data_batch_2.bin",
                cifar10_file(3, 3).0,
            ),
            ("cifar-10-batches-bin/test_batch.bin", cifar10_file(2, 50).0),
            ("cifar-10-batches-bin/readme.html", b"<html>".to_vec()),
        ],
    );
    let loaded = open_with(
        archive.to_str().unwrap(),
        no_data_dir(),
        &OpenOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded.format, "CIFAR-10 binary (archive)");
    assert_eq!(loaded.splits.train.len(), 6);
    check_cifar10_pixels(&loaded.splits.train, 0);
    assert_eq!(loaded.splits.test.unwrap().len(), 2);
    // A directory holding only the archive opens it.
    let s = open(tmp.path().to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.len(), 6);
}

#[test]
fn cifar100_fine_by_default_coarse_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cifar-100-binary");
    std::fs::create_dir(&dir).unwrap();
    let (train, fine) = cifar100_file(30);
    std::fs::write(dir.join("train.bin"), &train).unwrap();
    std::fs::write(dir.join("test.bin"), cifar100_file(8).0).unwrap();
    let s = open(tmp.path().to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.labels, fine);
    assert_eq!(s.train.num_classes(), 100);
    assert_eq!(s.train.class_names, CIFAR100_FINE_CLASSES.to_vec());
    assert_eq!(s.test.unwrap().len(), 8);
    let l = s.train.labels[3];
    assert_eq!(
        s.train.image(3)[..6],
        (0..6).map(|j| pixel(3, j, l)).collect::<Vec<_>>()[..]
    );
    let coarse = open_with(
        dir.to_str().unwrap(),
        no_data_dir(),
        &OpenOptions {
            cifar100_labels: Cifar100Labels::Coarse,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(coarse.format.contains("coarse"));
    assert_eq!(
        coarse.splits.train.labels,
        fine.iter().map(|f| f / 5).collect::<Vec<_>>()
    );
    assert_eq!(
        coarse.splits.train.class_names,
        CIFAR100_COARSE_CLASSES.to_vec()
    );
    // fine_label_names.txt overrides the built-in names.
    let names: String = (0..100).map(|i| format!("class{i}\n")).collect();
    std::fs::write(dir.join("fine_label_names.txt"), names).unwrap();
    let s = open(dir.to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.class_names[42], "class42");
}

#[test]
fn cifar_members_decode_without_files() {
    let (bytes, labels) = cifar10_file(2, 0);
    let m = Member {
        origin: "mem".into(),
        name: "data_batch_1.bin".into(),
        bytes,
    };
    let (s, kind) = nstudent_data::read::cifar::from_members(
        vec![m],
        Path::new("mem"),
        Cifar100Labels::Fine,
        "mem",
    )
    .unwrap();
    assert_eq!(kind, nstudent_data::read::cifar::CifarKind::Cifar10);
    assert_eq!(s.train.labels, labels);
}

#[test]
fn az_csv_streams_with_letter_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("az-handwritten");
    std::fs::create_dir(&dir).unwrap();
    let (text, labels) = az_csv(60);
    std::fs::write(dir.join("A_Z Handwritten Data.csv"), &text).unwrap();
    let s = open("az-handwritten", tmp.path()).unwrap();
    assert_eq!(s.train.len(), 60);
    assert_eq!(s.train.labels, labels);
    assert_eq!(s.train.shape, ImageShape::new(28, 28, 1));
    assert_eq!(s.train.class_names.len(), 26);
    assert_eq!(s.train.class_names[25], "Z");
    assert_eq!(
        s.train.image(7),
        (0..784)
            .map(|j| pixel(7, j, labels[7]))
            .collect::<Vec<_>>()
            .as_slice()
    );
    // The task names of the study: A-Z 20-25 has 6 classes.
    let t = open("az:20-25", tmp.path()).unwrap();
    assert_eq!(t.train.class_names, ["U", "V", "W", "X", "Y", "Z"]);
    assert!(t.train.labels.iter().all(|&l| l < 6));
    assert_eq!(t.train.len(), labels.iter().filter(|&&l| l >= 20).count());
    // The Kaggle .zip download works as is.
    std::fs::remove_file(dir.join("A_Z Handwritten Data.csv")).unwrap();
    let zip_path = dir.join("archive.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file(
        "A_Z Handwritten Data.csv",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut zip, text.as_bytes()).unwrap();
    zip.finish().unwrap();
    let z = open("az", tmp.path()).unwrap();
    assert_eq!(z.train.labels, labels);
}

#[test]
fn generic_csv_with_header_label_column_and_gzip() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("pixel0,pixel1,pixel2,pixel3,label\n");
    for i in 0..9 {
        text.push_str(&format!("{},{},{},{},{}\n", i, i + 1, i + 2, 255, i % 3));
    }
    let plain = tmp.path().join("data.csv");
    std::fs::write(&plain, &text).unwrap();
    let s = open(plain.to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.shape, ImageShape::new(2, 2, 1));
    assert_eq!(s.train.labels, (0..9).map(|i| i % 3).collect::<Vec<u16>>());
    assert_eq!(s.train.image(4), &[4, 5, 6, 255]);
    let packed = tmp.path().join("data2.csv.gz");
    std::fs::write(&packed, gz(text.as_bytes())).unwrap();
    assert_eq!(
        open(packed.to_str().unwrap(), no_data_dir()).unwrap().train,
        {
            let mut d = s.train.clone();
            d.source = packed.to_str().unwrap().into();
            d
        }
    );
}

#[test]
fn a_detected_header_is_noted_and_a_bad_first_row_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let rows: String = (0..6)
        .map(|i| format!("{},{},{},{},{}\n", i % 2, i, i + 1, i + 2, 255))
        .collect();
    let path = tmp.path().join("d.csv");
    let read = |first: &str| {
        std::fs::write(&path, format!("{first}\n{rows}")).unwrap();
        open_with(
            path.to_str().unwrap(),
            no_data_dir(),
            &OpenOptions::default(),
        )
    };
    // A header: noted, never dropped silently.
    let loaded = read("label,p0,p1,p2,p3").unwrap();
    assert_eq!(loaded.splits.train.len(), 6);
    assert_eq!(loaded.notes.len(), 1, "{:?}", loaded.notes);
    assert!(
        loaded.notes[0]
            .contains("the first row was read as a header (label, p0, p1, ... (5 columns))"),
        "{:?}",
        loaded.notes
    );
    // pandas' header: an empty index cell, then column numbers.
    assert_eq!(read(",0,1,2,3").unwrap().splits.train.len(), 6);
    // An image row: no note.
    let loaded = read("1,9,9,9,9").unwrap();
    assert_eq!((loaded.splits.train.len(), loaded.notes.len()), (7, 0));
    // Numbers with a stray value: neither a header nor an image.
    for (first, cell) in [
        ("1,nan,2,3,4", "column 1: \"nan\""),
        ("1,2,inf,3,4", "column 2: \"inf\""),
        ("1,2,3,abc,4", "column 3: \"abc\""),
        ("NaN,2,3,4,5", "column 0: \"NaN\""),
    ] {
        let e = read(first).unwrap_err().to_string();
        assert!(
            e.contains(&format!("line 1, {cell} is not a pixel value")),
            "{e}"
        );
        assert!(e.contains("not a header"), "{e}");
    }
    // Given explicitly, a header needs no note.
    let options = OpenOptions {
        csv: CsvOptions {
            header: Some(true),
            ..Default::default()
        },
        ..Default::default()
    };
    std::fs::write(&path, format!("label,p0,p1,p2,p3\n{rows}")).unwrap();
    let loaded = open_with(path.to_str().unwrap(), no_data_dir(), &options).unwrap();
    assert!(loaded.notes.is_empty());
}

#[test]
fn sklearn_digits_style_csv_with_options() {
    // 8x8 values 0-16, label last, no header.
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..5 {
        let row: Vec<String> = (0..64).map(|j| ((i + j) % 17).to_string()).collect();
        text.push_str(&format!("{},{}\n", row.join(","), i % 10));
    }
    let path = tmp.path().join("digits.csv");
    std::fs::write(&path, text).unwrap();
    let options = OpenOptions {
        csv: CsvOptions {
            label_column: Some(LabelColumn::Last),
            max_value: Some(16.0),
            ..Default::default()
        },
        ..Default::default()
    };
    let s = open_with(path.to_str().unwrap(), no_data_dir(), &options)
        .unwrap()
        .splits;
    assert_eq!(s.train.shape, ImageShape::new(8, 8, 1));
    assert_eq!(s.train.labels, vec![0, 1, 2, 3, 4]);
    // 16 -> 255, 8 -> 128 (rounded), 0 -> 0.
    let img = s.train.image(0);
    assert_eq!(img[16], 255);
    assert_eq!(img[8], 128);
    assert_eq!(img[0], 0);
}

#[test]
fn csv_directory_with_train_and_test_files() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("mnist_train.csv"), "1,0,0,0,9\n0,1,2,3,4\n").unwrap();
    std::fs::write(tmp.path().join("mnist_test.csv"), "1,5,5,5,5\n").unwrap();
    let s = open(tmp.path().to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.len(), 2);
    assert_eq!(s.test.unwrap().image(0), &[5, 5, 5, 5]);
}

#[test]
fn csv_quoted_fields_may_hold_the_delimiter() {
    // Header names holding the delimiter inside quotes (as pandas writes them), a doubled
    // quote, quoted numbers, and the label column found by its quoted name.
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("quoted.csv");
    std::fs::write(
        &plain,
        "\"pixel,1\",\"pixel,2\",\"say \"\"px\"\"\",pixel4,\"label\"\r\n\
         1,2,\"3\",4,0\r\n\
         \"9\", 8 ,7,\"6\",1\r\n",
    )
    .unwrap();
    let s = open(plain.to_str().unwrap(), no_data_dir()).unwrap().train;
    assert_eq!(s.shape, ImageShape::new(2, 2, 1));
    assert_eq!(s.labels, [0, 1]);
    assert_eq!(s.image(0), &[1, 2, 3, 4]);
    assert_eq!(s.image(1), &[9, 8, 7, 6]);
    // The same with another delimiter, given as an option; commas are then plain text.
    let semi = tmp.path().join("semi.csv");
    std::fs::write(
        &semi,
        "\"label\";\"a;b\";\"c,d\";e;f\n0;1;2;3;4\n1;5;6;7;\"8\"\n",
    )
    .unwrap();
    let options = OpenOptions {
        csv: CsvOptions {
            delimiter: b';',
            ..Default::default()
        },
        ..Default::default()
    };
    let s = open_with(semi.to_str().unwrap(), no_data_dir(), &options)
        .unwrap()
        .splits
        .train;
    assert_eq!(s.labels, [0, 1]);
    assert_eq!(s.image(1), &[5, 6, 7, 8]);
}

#[test]
fn image_folder_grey_and_rgb_with_splits() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("shapes");
    write_png_grey(&root.join("cat/a.png"), 5, 4, 10);
    write_png_grey(&root.join("cat/b.png"), 5, 4, 20);
    write_png_grey(&root.join("dog/c.png"), 5, 4, 30);
    let s = open(root.to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.shape, ImageShape::new(4, 5, 1));
    assert_eq!(s.train.class_names, ["cat", "dog"]);
    assert_eq!(s.train.labels, [0, 0, 1]);
    assert_eq!(s.train.image(2)[0], 30);
    // One colour image makes the dataset RGB; grey images are expanded.
    write_png_rgb(&root.join("dog/d.png"), 5, 4, [200, 100, 50]);
    let s = open(root.to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.shape.channels, 3);
    assert_eq!(&s.train.image(0)[..3], &[10, 10, 10]);
    assert_eq!(&s.train.image(3)[..3], &[200, 100, 50]);
    // train/ and test/ become the two splits.
    let split_root = tmp.path().join("split");
    write_png_grey(&split_root.join("train/a/1.png"), 3, 3, 1);
    write_png_grey(&split_root.join("train/b/2.png"), 3, 3, 2);
    write_png_grey(&split_root.join("test/b/3.png"), 3, 3, 3);
    let s = open(split_root.to_str().unwrap(), no_data_dir()).unwrap();
    assert_eq!(s.train.len(), 2);
    let test = s.test.unwrap();
    assert_eq!(test.labels, [1]);
    assert_eq!(test.class_names, ["a", "b"]);
}

#[test]
fn named_sources_read_from_the_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    write_idx_dir(&tmp.path().join("mnist"), 20, 10, true);
    let s = open("mnist", tmp.path()).unwrap();
    assert_eq!(s.train.len(), 20);
    assert_eq!(s.train.source, "mnist");
    assert_eq!(s.train.class_names[3], "3");
    write_idx_dir(&tmp.path().join("fashion-mnist"), 20, 10, false);
    let s = open("fashion-mnist", tmp.path()).unwrap();
    assert_eq!(s.train.class_names[9], "Ankle boot");
}

#[test]
fn emnist_letters_labels_shift_and_images_transpose() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("emnist-letters");
    std::fs::create_dir(&dir).unwrap();
    // Two 2x3 images stored column-major; labels 1 and 26.
    let stored: Vec<u8> = vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    for split in ["train", "test"] {
        std::fs::write(
            dir.join(format!("emnist-letters-{split}-images-idx3-ubyte.gz")),
            gz(&idx_bytes(&[2, 2, 3], &stored)),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("emnist-letters-{split}-labels-idx1-ubyte.gz")),
            gz(&idx_bytes(&[2], &[1, 26])),
        )
        .unwrap();
    }
    let s = open("emnist-letters", tmp.path()).unwrap();
    assert_eq!(s.train.labels, [0, 25]);
    assert_eq!(s.train.class_names[25], "Z");
    // Stored (W=3, H=2): column x holds (x*2, x*2+1); row-major H=2, W=3 reads 1,3,5 / 2,4,6.
    assert_eq!(s.train.image(0), &[1, 3, 5, 2, 4, 6]);
}

#[test]
fn embedded_default_opens_from_anywhere() {
    let s = open("fashion-mnist-10k", no_data_dir()).unwrap();
    assert_eq!(s.train.len(), 10_000);
    assert!(s.test.is_none());
    assert_eq!(s.train.class_counts(), vec![1000; 10]);
    assert_eq!(s.train.class_names[0], "T-shirt/top");
    let t = open("fashion-mnist-10k:0-4", no_data_dir()).unwrap();
    assert_eq!(t.train.len(), 5000);
    assert_eq!(t.train.class_names.len(), 5);
    assert_eq!(t.train.source, "fashion-mnist-10k:0-4");
}

#[test]
fn an_unlabeled_set_is_a_flat_image_folder_or_any_dataset_without_its_labels() {
    let tmp = tempfile::tempdir().unwrap();
    // A folder of images with no class folders.
    let flat = tmp.path().join("flat");
    for (i, v) in [10u8, 20, 30].iter().enumerate() {
        write_png_grey(&flat.join(format!("{i}.png")), 5, 4, *v);
    }
    let u = nstudent_data::open_unlabeled(flat.to_str().unwrap(), tmp.path(), &Default::default())
        .unwrap();
    assert_eq!((u.len(), u.shape), (3, ImageShape::new(4, 5, 1)));
    assert_eq!(&u.pixels[..20], &[10; 20]);
    assert_eq!(u.view().len(), 3);

    // A labeled image folder: every train image, labels dropped.
    let classes = tmp.path().join("classes");
    for c in ["a", "b"] {
        for i in 0..2 {
            write_png_grey(&classes.join(c).join(format!("{i}.png")), 5, 4, 7);
        }
    }
    let u =
        nstudent_data::open_unlabeled(classes.to_str().unwrap(), tmp.path(), &Default::default())
            .unwrap();
    assert_eq!((u.len(), u.shape), (4, ImageShape::new(4, 5, 1)));

    // Mixed sizes in the flat folder: the reader's one-line error.
    write_png_grey(&flat.join("3.png"), 6, 4, 1);
    let e = nstudent_data::open_unlabeled(flat.to_str().unwrap(), tmp.path(), &Default::default())
        .unwrap_err();
    assert!(e.kind().is_users());
    assert!(
        e.to_string().contains("resize all images to one size"),
        "{e}"
    );
}

#[test]
fn resize_and_colour_options_make_mixed_image_folders_one_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mixed");
    write_png_grey(&root.join("a/0.png"), 8, 6, 50);
    write_png_rgb(&root.join("b/0.png"), 12, 10, [200, 10, 10]);
    let spec = root.to_str().unwrap();
    // As stored: two sizes, refused with the flag that fixes it.
    let e = open(spec, tmp.path()).unwrap_err();
    assert!(e.to_string().contains("--resize WxH"), "{e}");
    let mut options = OpenOptions::default();
    options.image.resize = Some((16, 12));
    let d = open_with(spec, tmp.path(), &options).unwrap().splits.train;
    // One colour image makes the whole folder RGB, at 16 wide by 12 high.
    assert_eq!(d.shape, ImageShape::new(12, 16, 3));
    options.image.colour = Some(nstudent_data::Colour::Grey);
    let d = open_with(spec, tmp.path(), &options).unwrap().splits.train;
    assert_eq!(d.shape, ImageShape::new(12, 16, 1));
    assert_eq!(d.image(0)[0], 50, "a uniform grey image keeps its value");

    // Other formats are converted after reading: an IDX pair to 4x4 RGB.
    let idx = tmp.path().join("idx");
    write_idx_dir(&idx, 40, 20, false);
    let options = OpenOptions {
        image: nstudent_data::ImageOptions {
            resize: Some((4, 4)),
            colour: Some(nstudent_data::Colour::Rgb),
        },
        ..OpenOptions::default()
    };
    let d = open_with(idx.to_str().unwrap(), tmp.path(), &options).unwrap();
    assert_eq!(d.splits.train.shape, ImageShape::new(4, 4, 3));
    assert_eq!(d.splits.test.unwrap().shape, ImageShape::new(4, 4, 3));
}
