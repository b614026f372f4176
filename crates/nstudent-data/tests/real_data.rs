//! The real datasets in ../shared/datasets, when present: skipped with a message otherwise,
//! except under `CI=true`, where their absence fails the tests.

use std::path::{Path, PathBuf};

use nstudent_data::{open, open_with, CsvOptions, ImageShape, LabelColumn, OpenOptions};

fn shared() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/datasets"
    ))
    .to_path_buf();
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is absent, and CI=true: the real-data checks must run in CI",
            dir.display()
        );
    } else {
        eprintln!(
            "skipped: {} is absent (real-data checks need ../shared/datasets)",
            dir.display()
        );
        None
    }
}

fn nowhere() -> &'static Path {
    Path::new("/nonexistent-nstudent-data")
}

#[test]
fn mnist_has_60000_plus_10000() {
    let Some(dir) = shared() else { return };
    let s = open(dir.join("mnist").to_str().unwrap(), nowhere()).unwrap();
    assert_eq!(s.train.len(), 60_000);
    assert_eq!(s.test.as_ref().unwrap().len(), 10_000);
    assert_eq!(s.train.shape, ImageShape::new(28, 28, 1));
    assert_eq!(s.train.num_classes(), 10);
    // Known facts of MNIST: the first training label is 5, class 1 is the largest.
    assert_eq!(s.train.labels[0], 5);
    assert_eq!(s.train.class_counts()[1], 6742);
}

#[test]
fn fashion_mnist_has_6000_per_class_and_matches_the_embedded_copy() {
    let Some(dir) = shared() else { return };
    let s = open(dir.join("fashion-mnist").to_str().unwrap(), nowhere()).unwrap();
    assert_eq!(s.train.class_counts(), vec![6000; 10]);
    let test = s.test.unwrap();
    assert_eq!(test.class_counts(), vec![1000; 10]);
    let embedded = nstudent_data::embedded_default().unwrap();
    assert_eq!(embedded.images, test.images);
    assert_eq!(embedded.labels, test.labels);
}

#[test]
fn cifar10_subset_has_4000_plus_1000() {
    let Some(dir) = shared() else { return };
    let s = open(dir.join("cifar-10-subset").to_str().unwrap(), nowhere()).unwrap();
    assert_eq!(s.train.len(), 4000);
    assert_eq!(s.test.as_ref().unwrap().len(), 1000);
    assert_eq!(s.train.shape, ImageShape::new(32, 32, 3));
    assert_eq!(s.train.class_names[0], "airplane");
    assert_eq!(s.train.class_names[9], "truck");
    // The first record of data_batch_1 is a frog (label 6).
    assert_eq!(s.train.labels[0], 6);
    let t = nstudent_data::tasks::Task::parse("cifar10:5-9")
        .unwrap()
        .apply(&s)
        .unwrap();
    assert_eq!(
        t.train.class_names,
        ["dog", "frog", "horse", "ship", "truck"]
    );
}

#[test]
fn sklearn_digits_csv_reads_with_options() {
    let Some(dir) = shared() else { return };
    let options = OpenOptions {
        csv: CsvOptions {
            label_column: Some(LabelColumn::Last),
            max_value: Some(16.0),
            ..Default::default()
        },
        ..Default::default()
    };
    let path = dir.join("sklearn-digits/digits.csv.gz");
    let s = open_with(path.to_str().unwrap(), nowhere(), &options)
        .unwrap()
        .splits;
    assert_eq!(s.train.len(), 1797);
    assert_eq!(s.train.shape, ImageShape::new(8, 8, 1));
    assert_eq!(s.train.num_classes(), 10);
    assert_eq!(s.train.labels[..3], [0, 1, 2]);
    assert_eq!(*s.train.images.iter().max().unwrap(), 255);
}

#[test]
fn the_shared_copies_open_as_named_sources_of_the_data_directory() {
    let Some(dir) = shared() else { return };
    // The standard preset's tasks, by name, from the shared folder as the data directory.
    let digits = open("sklearn-digits:0-4", &dir).unwrap();
    assert_eq!(digits.train.shape, ImageShape::new(8, 8, 1));
    assert_eq!(digits.train.num_classes(), 5);
    assert_eq!(digits.train.len(), 901);
    // Values 0-16 scaled to 0-255: the largest becomes 255.
    assert_eq!(digits.train.images.iter().max(), Some(&255));
    let subset = open("cifar-10-subset", &dir).unwrap();
    assert_eq!(subset.train.len(), 4000);
    assert_eq!(subset.test.as_ref().unwrap().len(), 1000);
    let jpeg = open("cifar-10-jpeg:5-9", &dir).unwrap();
    assert_eq!(jpeg.train.len(), 25_000);
    assert_eq!(
        jpeg.train.class_names,
        ["dog", "frog", "horse", "ship", "truck"]
    );
    for spec in nstudent_data::sources::names() {
        let present = nstudent_data::tasks::missing_data(spec, &dir).is_none();
        let expected = [
            "mnist",
            "fashion-mnist",
            "fashion-mnist-10k",
            "cifar-10-jpeg",
            "cifar-10-subset",
            "sklearn-digits",
        ]
        .contains(&spec);
        assert_eq!(present, expected, "{spec}");
    }
    let why = nstudent_data::tasks::missing_data("cifar100:30-39", &dir).unwrap();
    assert!(why.contains("nstudent data fetch cifar100"), "{why}");
}
