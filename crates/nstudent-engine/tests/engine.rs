//! The engine interface end to end: training learns, is reproducible, validates its input,
//! and models survive a save/load round trip.

use nstudent_core::{augment::RandAugment, ImageShape, ImagesRef};
use nstudent_engine::{
    engine_by_name, load_spec, Arch, Classifier, Engine, Error, FitOptions, ModelSpec,
    NativeEngine, Targets, Threads,
};

mod common;

use common::{accuracy, synthetic, SHAPE};

fn options(epochs: usize, threads: usize) -> FitOptions {
    FitOptions {
        epochs,
        batch_size: 32,
        learning_rate: 1e-3,
        seed: 7,
        augment: None,
        threads: Threads::resolve(threads),
    }
}

fn train(spec: &ModelSpec, opts: &FitOptions, px: &[u8], labels: &[u16]) -> Box<dyn Classifier> {
    let mut model = NativeEngine::default().build(spec, 3).unwrap();
    let report = model
        .fit(
            ImagesRef::new(px, SHAPE).unwrap(),
            Targets::Hard(labels),
            opts,
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(report.epoch_losses.len(), opts.epochs);
    model
}

#[test]
fn cnn_learns_a_synthetic_task() {
    let (px, labels) = synthetic(800, 1);
    let (tpx, tlabels) = synthetic(400, 2);
    let spec = ModelSpec::cnn(SHAPE, 4);
    let mut losses = Vec::new();
    let mut model = NativeEngine::default().build(&spec, 3).unwrap();
    let report = model
        .fit(
            ImagesRef::new(&px, SHAPE).unwrap(),
            Targets::Hard(&labels),
            &options(3, 1),
            &mut |p| losses.push(p.loss),
        )
        .unwrap();
    assert_eq!(losses.len(), 3 * 800usize.div_ceil(32));
    assert!(
        report.epoch_losses[2] < report.epoch_losses[0] * 0.5,
        "{report:?}"
    );
    let acc = accuracy(model.as_ref(), &tpx, &tlabels);
    assert!(acc > 0.95, "test accuracy {acc}");
}

#[test]
fn residual_cnn_with_noise_and_soft_targets_learns() {
    let (px, labels) = synthetic(800, 3);
    let (tpx, tlabels) = synthetic(400, 4);
    // Soft targets: 0.9 on the true class, the rest spread.
    let soft: Vec<f32> = labels
        .iter()
        .flat_map(|&l| (0..4).map(move |c| if c == l { 0.91 } else { 0.03 }))
        .collect();
    let spec = ModelSpec {
        arch: Arch::ResCnn,
        input: SHAPE,
        num_classes: 4,
        width: 0.5,
        dropout: 0.3,
        survival: 0.7,
    };
    let mut model = NativeEngine::default().build(&spec, 5).unwrap();
    model
        .fit(
            ImagesRef::new(&px, SHAPE).unwrap(),
            Targets::Soft {
                probs: &soft,
                classes: 4,
            },
            &options(4, 2),
            &mut |_| {},
        )
        .unwrap();
    let acc = accuracy(model.as_ref(), &tpx, &tlabels);
    assert!(acc > 0.95, "test accuracy {acc}");
    // Eval mode is deterministic: no dropout or stochastic depth at prediction.
    let a = model
        .predict_proba(ImagesRef::new(&tpx, SHAPE).unwrap())
        .unwrap();
    let b = model
        .predict_proba(ImagesRef::new(&tpx, SHAPE).unwrap())
        .unwrap();
    assert_eq!(a, b);
    for row in a.chunks_exact(4) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn training_is_reproducible_for_a_seed_whatever_the_thread_count() {
    let (px, labels) = synthetic(200, 5);
    let mut spec = ModelSpec::cnn(SHAPE, 4);
    spec.dropout = 0.2;
    let mut opts = options(1, 2);
    opts.augment = Some(RandAugment {
        num_ops: 2,
        magnitude: 9.0,
        horizontal_flip: false,
    });
    let probe = ImagesRef::new(&px[..50 * SHAPE.len()], SHAPE).unwrap();
    let p1 = train(&spec, &opts, &px, &labels)
        .predict_proba(probe)
        .unwrap();
    let p2 = train(&spec, &opts, &px, &labels)
        .predict_proba(probe)
        .unwrap();
    assert_eq!(p1, p2, "same seed, same threads: identical models");
    opts.seed += 1;
    let p3 = train(&spec, &opts, &px, &labels)
        .predict_proba(probe)
        .unwrap();
    assert_ne!(p1, p3, "another seed shuffles differently");
    opts.seed -= 1;
    // Every thread count computes the same float operations in the same order: the same
    // bits, also for a batch that is not a multiple of the gradient chunk and with more
    // threads than chunks.
    let residual = ModelSpec {
        arch: Arch::ResCnn,
        width: 0.5,
        survival: 0.7,
        ..spec.clone()
    };
    let cases = [
        (&spec, 1, 32),
        (&spec, 3, 32),
        (&spec, 1, 40),
        (&spec, 2, 40),
        (&spec, 4, 40),
        (&spec, 0, 40),
        (&residual, 1, 48),
    ];
    for (spec, threads, batch) in cases {
        let mut o = opts.clone();
        o.threads = Threads::resolve(threads);
        o.batch_size = batch;
        let mut reference = opts.clone();
        reference.threads = Threads::resolve(2);
        reference.batch_size = batch;
        let a = train(spec, &o, &px, &labels);
        let b = train(spec, &reference, &px, &labels);
        let (ta, tb) = (weights(a.as_ref()), weights(b.as_ref()));
        assert!(
            ta == tb,
            "{:?}, {threads} threads against 2, batch {batch}: weights differ",
            spec.arch
        );
        assert_eq!(
            a.predict_proba(probe).unwrap(),
            b.predict_proba(probe).unwrap()
        );
    }
}

/// Every weight of a native model, as saved.
fn weights(model: &dyn Classifier) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    model.save(&path).unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn save_and_load_round_trip_gives_identical_probabilities() {
    let (px, labels) = synthetic(100, 6);
    let spec = ModelSpec {
        arch: Arch::ResCnn,
        input: SHAPE,
        num_classes: 4,
        width: 0.25,
        dropout: 0.1,
        survival: 0.8,
    };
    let mut model = train(&spec, &options(1, 1), &px, &labels);
    model.set_class_names(vec!["a".into(), "b".into(), "c".into(), "d".into()]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    model.save(&path).unwrap();
    assert_eq!(load_spec(&path).unwrap(), spec);
    let loaded = NativeEngine::default().load(&path).unwrap();
    assert_eq!(loaded.spec(), &spec);
    assert_eq!(loaded.class_names(), ["a", "b", "c", "d"]);
    let view = ImagesRef::new(&px, SHAPE).unwrap();
    assert_eq!(
        model.predict_proba(view).unwrap(),
        loaded.predict_proba(view).unwrap()
    );
    // Not a model file.
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a model").unwrap();
    let err = NativeEngine::default().load(&junk).err().unwrap();
    assert!(matches!(err, Error::Format { .. }), "{err}");
    let missing = NativeEngine::default()
        .load(&dir.path().join("none"))
        .err()
        .unwrap();
    assert!(matches!(missing, Error::Io { .. }) && missing.kind().is_users());
}

#[test]
fn bad_inputs_are_invalid_errors_not_panics() {
    let (px, labels) = synthetic(40, 7);
    let spec = ModelSpec::cnn(SHAPE, 4);
    let mut model = NativeEngine::default().build(&spec, 1).unwrap();
    let view = ImagesRef::new(&px, SHAPE).unwrap();
    let fit = |m: &mut Box<dyn Classifier>, v, t, o: &FitOptions| m.fit(v, t, o, &mut |_| {});
    let invalid = |r: Result<_, Error>| matches!(r, Err(Error::Invalid(_)));
    // Wrong image shape.
    let other = ImagesRef::new(&px[..36 * 4 * 4], ImageShape::new(6, 6, 4)).unwrap();
    assert!(invalid(fit(
        &mut model,
        other,
        Targets::Hard(&labels),
        &options(1, 1)
    )));
    assert!(matches!(model.predict_proba(other), Err(Error::Invalid(_))));
    // Targets that do not match.
    assert!(invalid(fit(
        &mut model,
        view,
        Targets::Hard(&labels[..39]),
        &options(1, 1)
    )));
    let mut bad = labels.clone();
    bad[3] = 4;
    assert!(invalid(fit(
        &mut model,
        view,
        Targets::Hard(&bad),
        &options(1, 1)
    )));
    let soft = vec![0.5f32; 40 * 4];
    let t = Targets::Soft {
        probs: &soft,
        classes: 4,
    };
    assert!(invalid(fit(&mut model, view, t, &options(1, 1))));
    let soft3 = vec![1.0f32 / 3.0; 40 * 3];
    let t = Targets::Soft {
        probs: &soft3,
        classes: 3,
    };
    assert!(invalid(fit(&mut model, view, t, &options(1, 1))));
    // Options.
    let mut o = options(1, 1);
    o.batch_size = 0;
    assert!(invalid(fit(&mut model, view, Targets::Hard(&labels), &o)));
    o = options(1, 1);
    o.learning_rate = f32::NAN;
    assert!(invalid(fit(&mut model, view, Targets::Hard(&labels), &o)));
    // Zero epochs change nothing.
    let before = model.predict_proba(view).unwrap();
    let r = fit(&mut model, view, Targets::Hard(&labels), &options(0, 1)).unwrap();
    assert!(r.epoch_losses.is_empty());
    assert_eq!(before, model.predict_proba(view).unwrap());
    // Batch larger than the data set, odd thread count.
    let mut o = options(1, 3);
    o.batch_size = 1000;
    fit(&mut model, view, Targets::Hard(&labels), &o).unwrap();
    // Specs.
    let mut s = spec.clone();
    s.width = 0.0;
    assert!(matches!(
        NativeEngine::default().build(&s, 0),
        Err(Error::Invalid(_))
    ));
    s = spec.clone();
    s.dropout = 1.0;
    assert!(matches!(
        NativeEngine::default().build(&s, 0),
        Err(Error::Invalid(_))
    ));
    s = spec.clone();
    s.survival = 0.0;
    assert!(matches!(
        NativeEngine::default().build(&s, 0),
        Err(Error::Invalid(_))
    ));
    s = ModelSpec::cnn(ImageShape::new(3, 8, 1), 4);
    assert!(matches!(
        NativeEngine::default().build(&s, 0),
        Err(Error::Invalid(_))
    ));
    s = ModelSpec::cnn(SHAPE, 1);
    assert!(matches!(
        NativeEngine::default().build(&s, 0),
        Err(Error::Invalid(_))
    ));
    // Empty prediction input.
    let empty = ImagesRef {
        pixels: &[],
        shape: SHAPE,
    };
    assert!(model.predict_proba(empty).unwrap().is_empty());
}

#[test]
fn engines_by_name() {
    assert_eq!(engine_by_name("native").unwrap().name(), "native");
    let err = engine_by_name("tensorflow").err().unwrap().to_string();
    assert!(err.contains("native") && err.contains("burn"), "{err}");
    #[cfg(not(feature = "burn"))]
    {
        let err = engine_by_name("burn").err().unwrap().to_string();
        assert!(err.contains("--features burn"), "{err}");
    }
    #[cfg(feature = "burn")]
    assert_eq!(engine_by_name("burn").unwrap().name(), "burn");
}

#[test]
fn engine_names_are_the_names_engine_by_name_takes() {
    use clap::ValueEnum;
    use nstudent_engine::{EngineName, ENGINE_NAMES};
    let names: Vec<&str> = EngineName::value_variants()
        .iter()
        .map(|e| e.name())
        .collect();
    assert_eq!(names, ENGINE_NAMES);
    for e in EngineName::value_variants() {
        assert_eq!(e.to_possible_value().unwrap().get_name(), e.name());
    }
    assert_eq!(EngineName::Native.engine().unwrap().name(), "native");
    #[cfg(not(feature = "burn"))]
    {
        let err = EngineName::Burn.engine().err().unwrap();
        assert!(err.kind().is_users() && err.to_string().contains("--features burn"));
    }
}

/// Reads an IDX file (gzip) into (dims, bytes).
fn read_idx(path: &std::path::Path) -> Option<(Vec<usize>, Vec<u8>)> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut bytes)
        .ok()?;
    let ndim = usize::from(bytes[3]);
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    Some((dims, bytes[4 + 4 * ndim..].to_vec()))
}

#[test]
fn mnist_two_epochs_on_6000_images_exceed_95_percent() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/datasets/mnist"
    ));
    let load = |name: &str| read_idx(&dir.join(name));
    let (Some((_, train_px)), Some((_, train_l)), Some((_, test_px)), Some((_, test_l))) = (
        load("train-images-idx3-ubyte.gz"),
        load("train-labels-idx1-ubyte.gz"),
        load("t10k-images-idx3-ubyte.gz"),
        load("t10k-labels-idx1-ubyte.gz"),
    ) else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "MNIST not found under {}, and CI=true: the real-data check must run in CI",
            dir.display()
        );
        println!("skipping: MNIST not found under {}", dir.display());
        return;
    };
    let shape = ImageShape::new(28, 28, 1);
    let n = 6000;
    let labels: Vec<u16> = train_l[..n].iter().map(|&l| u16::from(l)).collect();
    let spec = ModelSpec::cnn(shape, 10);
    let mut model = NativeEngine::default().build(&spec, 1).unwrap();
    let t = std::time::Instant::now();
    model
        .fit(
            ImagesRef::new(&train_px[..n * 784], shape).unwrap(),
            Targets::Hard(&labels),
            &FitOptions {
                epochs: 2,
                ..options(2, 0)
            },
            &mut |_| {},
        )
        .unwrap();
    let fit_s = t.elapsed().as_secs_f64();
    let probs = model
        .predict_proba(ImagesRef::new(&test_px, shape).unwrap())
        .unwrap();
    let correct = probs
        .chunks_exact(10)
        .zip(&test_l)
        .filter(|(row, &l)| {
            row.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0
                == usize::from(l)
        })
        .count();
    let acc = correct as f64 / test_l.len() as f64;
    println!("MNIST: 2 epochs on {n} images in {fit_s:.1} s, test accuracy {acc:.4}");
    assert!(acc > 0.95, "MNIST test accuracy {acc}");
}

#[test]
fn a_small_file_claiming_a_huge_model_is_refused_before_allocating_it() {
    // A 4096x4096 input makes fc1 about 8.6 billion weights (34 GB): the file holds none.
    let spec = ModelSpec::cnn(ImageShape::new(4096, 4096, 1), 10);
    let meta = std::collections::HashMap::from([
        ("format".to_string(), "nstudent".to_string()),
        ("spec".to_string(), serde_json::to_string(&spec).unwrap()),
    ]);
    let bytes = vec![0u8; 4 * 32 * 9];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![32, 1, 3, 3], &bytes)
            .unwrap();
    let data = safetensors::serialize([("conv1.weight", view)], Some(meta)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.safetensors");
    std::fs::write(&path, data).unwrap();
    let err = NativeEngine::default().load(&path).err().expect("refused");
    assert!(err.kind().is_users());
    assert!(
        err.to_string().contains("missing tensor conv1.bias"),
        "{err}"
    );
}

/// On a pool the loop runs on the pool's threads and its reports are relayed to the caller:
/// every batch's report still arrives, in order, with the losses the report gives, and a
/// report that panics (how a study stops a training) stops the fit at that batch and the panic
/// reaches the caller.
#[test]
fn a_pool_fit_reports_every_batch_in_order_and_a_panicking_report_stops_it() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let (px, labels) = synthetic(200, 5);
    let spec = ModelSpec::cnn(SHAPE, 4);
    let opts = options(3, 2);
    let images = ImagesRef::new(&px, SHAPE).unwrap();
    let per_epoch = 200usize.div_ceil(32);
    let mut model = NativeEngine::default().build(&spec, 3).unwrap();
    let mut seen = Vec::new();
    let mut last_losses = Vec::new();
    let report = model
        .fit(images, Targets::Hard(&labels), &opts, &mut |p| {
            seen.push((p.epoch, p.batch));
            last_losses.extend(p.epoch_loss);
        })
        .unwrap();
    let expected: Vec<(usize, usize)> = (0..3)
        .flat_map(|e| (1..=per_epoch).map(move |b| (e, b)))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(last_losses, report.epoch_losses);

    let mut model = NativeEngine::default().build(&spec, 3).unwrap();
    let mut calls = 0usize;
    let stopped = catch_unwind(AssertUnwindSafe(|| {
        model.fit(images, Targets::Hard(&labels), &opts, &mut |p| {
            calls += 1;
            if p.epoch == 1 && p.batch == 2 {
                panic!("stop requested");
            }
        })
    }));
    let payload = stopped.expect_err("the report's panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"stop requested"));
    assert_eq!(
        calls,
        per_epoch + 2,
        "no report after the one that panicked"
    );
}
