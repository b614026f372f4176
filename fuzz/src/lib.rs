//! The contracts the fuzz targets check, one module per parser of outside input. Each
//! `fuzz_targets/<name>.rs` hands libFuzzer's inputs to `<name>::run`; `tests/replay.rs` runs
//! the committed seeds and regressions through the same functions on the stable toolchain, so
//! CI checks every input the fuzzers ever failed on.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest single allocation one input may make: a parser bounds what it allocates by its
/// input's size, and no input under the fuzzers' 256 KB needs more.
pub const MALLOC_LIMIT: usize = 64 << 20;

/// The system allocator, recording the largest request. In fuzzing builds (`--cfg fuzzing`) a
/// request over [`MALLOC_LIMIT`] fails, which aborts the input as a finding; libFuzzer's own
/// `-malloc_limit_mb` needs a sanitizer's allocator, which a plain stable build lacks.
struct Bounded;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

fn record(size: usize) -> bool {
    LARGEST.fetch_max(size, Ordering::Relaxed);
    !(cfg!(fuzzing) && size > MALLOC_LIMIT)
}

// SAFETY: every call is forwarded unchanged to the system allocator, or refused with null,
// which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !record(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !record(new_size) {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Bounded = Bounded;

/// The largest single allocation since the last call, in bytes.
pub fn take_largest_allocation() -> usize {
    LARGEST.swap(0, Ordering::Relaxed)
}

/// Every target, by name, as `cargo fuzz list` shows them.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("idx", idx::run),
    ("cifar", cifar::run),
    ("csv", csv::run),
    ("files", files::run),
    ("image", image::run),
    ("model_file", model_file::run),
    ("study_toml", study_toml::run),
    ("cell_json", cell_json::run),
    ("metrics_table", metrics_table::run),
    ("score_csv", score_csv::run),
    ("layouts", layouts::run),
];

pub mod idx {
    //! IDX arrays (raw): any bytes parse or fail with an error, never panic; an accepted array's
    //! values are exactly the bytes after its header.
    use std::path::Path;

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        if let Ok(array) =
            nstudent_data::read::idx::parse(data.to_vec(), Path::new("fuzz-idx3-ubyte"))
        {
            let cells: usize = array.dims.iter().product();
            assert_eq!(array.data.len(), cells, "{:?}", array.dims);
            assert!(array.data.len() <= data.len());
        }
    }
}

pub mod cifar {
    //! CIFAR binary records (10 and 100, fine and coarse labels): any member bytes decode or fail
    //! with an error, never panic; a decoded split has one 32x32x3 image per record.
    use nstudent_data::read::cifar::{from_members, Member};
    use nstudent_data::Cifar100Labels;
    use std::path::Path;

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let Some((&which, bytes)) = data.split_first() else {
            return;
        };
        let name = [
            "data_batch_1.bin",
            "test_batch.bin",
            "train.bin",
            "test.bin",
        ][usize::from(which % 4)];
        let labels = if which & 4 == 0 {
            Cifar100Labels::Fine
        } else {
            Cifar100Labels::Coarse
        };
        let member = Member {
            origin: format!("fuzz/{name}"),
            name: name.into(),
            bytes: bytes.to_vec(),
        };
        if let Ok((splits, _)) = from_members(vec![member], Path::new("fuzz"), labels, "fuzz") {
            let d = &splits.train;
            assert_eq!(d.images.len(), d.len() * 32 * 32 * 3);
            assert!(d.images.len() <= bytes.len());
        }
    }
}

pub mod csv {
    //! Image CSVs under every option the readers take: any text reads or fails with an error,
    //! never panics; an accepted dataset holds one label and one image per data row.
    use nstudent_data::read::csv::read_from;
    use nstudent_data::{CsvOptions, ImageShape, LabelColumn};
    use std::path::Path;

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let Some((&flags, text)) = data.split_first() else {
            return;
        };
        let options = CsvOptions {
            label_column: match flags % 4 {
                0 => None,
                1 => Some(LabelColumn::First),
                2 => Some(LabelColumn::Last),
                _ => Some(LabelColumn::Index(usize::from(flags >> 5))),
            },
            shape: (flags & 4 != 0).then(|| ImageShape::new(2, 2, 1)),
            max_value: (flags & 8 != 0).then_some(16.0),
            header: match (flags >> 4) % 3 {
                0 => None,
                1 => Some(true),
                _ => Some(false),
            },
            ..CsvOptions::default()
        };
        if let Ok(read) = read_from(text, Path::new("fuzz.csv"), &options, "fuzz") {
            let d = &read.data;
            // A header is noted only when it was detected, never when it was given.
            assert!(read.detected_header.is_none() || options.header.is_none());
            assert_eq!(d.images.len(), d.len() * d.shape.len());
            assert!(d.labels.iter().all(|&l| usize::from(l) < d.num_classes()));
            // Never more rows than lines.
            assert!(d.len() <= text.split(|&b| b == b'\n').count());
        }
    }
}

pub mod files {
    //! Whole files through `nstudent_data::open`, as a user passes them: gzip'd IDX pairs, gzip'd
    //! and zipped CSVs and CIFAR archives (.tar.gz). Any bytes open or fail with an error.

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let Some((&which, bytes)) = data.split_first() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = match which % 4 {
            0 => {
                // An IDX pair: two bytes give the images file's length, then the images file,
                // then the labels file (both gzip'd, or not, as the input has it).
                let Some((len, rest)) = bytes.split_first_chunk::<2>() else {
                    return;
                };
                let cut = usize::from(u16::from_le_bytes(*len)).min(rest.len());
                std::fs::write(dir.path().join("train-labels-idx1-ubyte.gz"), &rest[cut..])
                    .unwrap();
                let p = dir.path().join("train-images-idx3-ubyte.gz");
                std::fs::write(&p, &rest[..cut]).unwrap();
                p
            }
            1 => dir.path().join("fuzz.csv.gz"),
            2 => dir.path().join("fuzz.zip"),
            _ => dir.path().join("cifar-10-binary.tar.gz"),
        };
        if !path.exists() {
            std::fs::write(&path, bytes).unwrap();
        }
        if let Ok(splits) = nstudent_data::open(path.to_str().unwrap(), dir.path()) {
            let d = &splits.train;
            assert_eq!(d.images.len(), d.len() * d.shape.len());
        }
    }
}

pub mod image {
    //! Image files (PNG and JPEG) in an image folder: any bytes read or fail with an error, never
    //! panic.

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let Some((&which, bytes)) = data.split_first() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let ext = if which & 1 == 0 { "png" } else { "jpg" };
        for class in ["a", "b"] {
            std::fs::create_dir(dir.path().join(class)).unwrap();
            std::fs::write(dir.path().join(class).join(format!("0.{ext}")), bytes).unwrap();
        }
        if let Ok(splits) =
            nstudent_data::read::image_folder::read(dir.path(), "fuzz", &Default::default())
        {
            let d = &splits.train;
            assert_eq!(d.len(), 2);
            assert_eq!(d.images.len(), 2 * d.shape.len());
        }
    }
}

pub mod model_file {
    //! Model files (safetensors with nstudent's metadata) and ensemble manifests: any bytes load
    //! or fail with an error, never panic. A model that loads predicts rows summing to 1 (or
    //! non-finite rows, for weights that overflow, which `predict` refuses), and saving it again
    //! gives a file that loads to the same probabilities.
    use nstudent_algo::Model;
    use nstudent_data::ImagesRef;
    use nstudent_engine::NativeEngine;

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let Some((&which, bytes)) = data.split_first() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = if which & 1 == 0 {
            let p = dir.path().join("m.safetensors");
            std::fs::write(&p, bytes).unwrap();
            p
        } else {
            std::fs::write(dir.path().join(nstudent_algo::ENSEMBLE_MANIFEST), bytes).unwrap();
            dir.path().to_path_buf()
        };
        let Ok(model) = Model::load(&NativeEngine::default(), &path) else {
            return;
        };
        let shape = model.spec().input;
        if shape.len() > 1 << 16 {
            return;
        }
        let pixels = vec![128u8; shape.len()];
        let probs = model
            .predict_proba(ImagesRef::new(&pixels, shape).unwrap())
            .unwrap();
        // Finite weights may still overflow to non-finite outputs, which `predict` refuses.
        if !probs.iter().all(|p| p.is_finite()) {
            return;
        }
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-3, "{probs:?}");
        let again = dir.path().join("again.safetensors");
        if model.len() == 1 {
            model.save(&again).unwrap();
            let back = Model::load(&NativeEngine::default(), &again).unwrap();
            assert_eq!(
                back.predict_proba(ImagesRef::new(&pixels, shape).unwrap())
                    .unwrap(),
                probs
            );
        }
    }
}

pub mod study_toml {
    //! Study configs: any text parses (and validates) or fails with a one-line error, never
    //! panics; an accepted config prints as TOML that parses back to the same config and hash.
    use nstudent_experiment::StudyConfig;
    use std::path::Path;

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let quick = StudyConfig::preset("quick").unwrap();
        for parsed in [
            StudyConfig::from_toml(text, Path::new("fuzz.toml")),
            StudyConfig::from_toml_over(text, Path::new("fuzz.toml"), &quick),
        ] {
            match parsed {
                Ok(c) => {
                    let back =
                        StudyConfig::from_toml(&c.to_commented_toml(), Path::new("back.toml"))
                            .unwrap();
                    assert_eq!(back, c);
                    assert_eq!(back.hash(), c.hash());
                }
                Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
            }
        }
    }
}

pub mod cell_json {
    //! Cell files and checkpoints, as a results directory holds them: any bytes read or are
    //! refused, never panic; an accepted cell round-trips through its writer exactly.
    use nstudent_experiment::cell::{read_record, write_record};
    use nstudent_experiment::checkpoint::{self, Owner};
    use nstudent_experiment::{Algorithm, Cell};

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let cell = Cell {
            index: 0,
            task: "mnist:0-4".into(),
            fold: 2,
            algorithm: Algorithm::NoisyStudent,
        };
        let path = dir.path().join(cell.relative_path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap();
        if let Ok(Some(record)) = read_record(dir.path(), &cell) {
            write_record(dir.path(), &cell, &record).unwrap();
            assert_eq!(read_record(dir.path(), &cell).unwrap(), Some(record));
        }
        std::fs::write(checkpoint::path(dir.path(), &cell), data).unwrap();
        let owner = Owner {
            config_hash: "abc".into(),
            seed: 1,
        };
        let steps = checkpoint::read(dir.path(), &cell, &owner);
        checkpoint::write(dir.path(), &cell, &owner, &steps).unwrap();
        assert_eq!(checkpoint::read(dir.path(), &cell, &owner), steps);
    }
}

pub mod metrics_table {
    //! Metrics tables: any text reads or fails with an error, never panics; an accepted table
    //! writes and reads back the same, and its analysis either runs or says why not.
    use nstudent_stats::table::MetricsTable;
    use std::path::Path;

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let Ok(table) = MetricsTable::from_reader(data, Path::new("fuzz.csv")) else {
            return;
        };
        let mut out = Vec::new();
        table.write(&mut out).unwrap();
        let back = MetricsTable::from_reader(out.as_slice(), Path::new("back.csv")).unwrap();
        assert_eq!(back.rows.len(), table.rows.len());
        for (a, b) in back.rows.iter().zip(&table.rows) {
            assert_eq!(a.dataset, b.dataset);
            assert_eq!(a.metrics.accuracy.to_bits(), b.metrics.accuracy.to_bits());
        }
        let _ = nstudent_stats::compare::analyze(&table, "Accuracy", 0.05);
    }
}

pub mod score_csv {
    //! `score`'s label and probability CSVs: any bytes read or fail with an error, never panic;
    //! accepted files score or are refused with a reason.
    use nstudent_stats::predictions::{read_labels, read_probabilities};

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        let labels = dir.path().join("y.csv");
        let probs = dir.path().join("p.csv");
        std::fs::write(&labels, &data[..cut]).unwrap();
        std::fs::write(&probs, data.get(cut + 1..).unwrap_or(&[])).unwrap();
        if let (Ok(y), Ok(p)) = (read_labels(&labels), read_probabilities(&probs)) {
            if y.len() * p.num_classes == p.values.len() {
                let _ = nstudent_stats::metrics::score(&y, &p.values, p.num_classes);
            }
        }
    }
}

pub mod layouts {
    //! Other tools' wide and long result tables: any bytes read or fail with an error, never
    //! panic; an accepted table's analysis and effect sizes either run or say why not.
    use nstudent_stats::layouts::{read_long, read_wide, LongColumns};
    use nstudent_stats::{compare, effect};

    /// One input; panics where the parser breaks its contract.
    pub fn run(data: &[u8]) {
        let Some((&which, bytes)) = data.split_first() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).unwrap();
        let means = if which & 1 == 0 {
            read_wide(&path, None)
        } else {
            let columns = LongColumns {
                dataset: "dataset".into(),
                algorithm: "algorithm".into(),
                value: "value".into(),
                fold: (which & 2 != 0).then(|| "fold".into()),
            };
            read_long(&path, &columns, None)
        };
        let Ok(means) = means else { return };
        assert_eq!(means.means.len(), means.datasets.len());
        assert!(means
            .means
            .iter()
            .all(|r| r.len() == means.algorithms.len()));
        if let Ok(analysis) = compare::analyze_means(means, "value", which & 4 != 0, 0.05) {
            let _ = effect::effects(&analysis.means, &analysis.algorithms, 0.05, None);
        }
    }
}
