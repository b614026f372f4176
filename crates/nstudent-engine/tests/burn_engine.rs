//! The burn engine (`--features burn`, CPU backend flex) against the native engine and the
//! PyTorch fixtures: same probabilities from the same weights, interchangeable model files,
//! the same training step, learning, reproducibility and input validation.
#![cfg(feature = "burn")]

use std::collections::HashMap;

use nstudent_core::{augment::RandAugment, ImageShape, ImagesRef};
use nstudent_engine::{
    engine_by_name, Arch, BurnBackend, BurnEngine, Classifier, Engine, Error, FitOptions,
    ModelSpec, NativeClassifier, NativeEngine, Targets, Threads,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::{Dtype, SafeTensors};

mod common;

use common::{accuracy, synthetic, SHAPE};

fn burn() -> BurnEngine {
    BurnEngine::new(BurnBackend::Flex).unwrap()
}

/// Largest absolute difference.
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[track_caller]
fn assert_close(what: &str, a: &[f32], b: &[f32], tol: f32) {
    let d = max_diff(a, b);
    assert!(d <= tol, "{what}: max difference {d} > {tol}");
}

fn random_pixels(shape: ImageShape, n: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * shape.len()).map(|_| rng.gen()).collect()
}

/// Tensors of a PyTorch fixture (`tests/fixtures/gen_fixtures.py`), as f32.
fn fixture(name: &str) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            let values = match view.dtype() {
                Dtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
                Dtype::U8 => view.data().iter().map(|&b| f32::from(b)).collect(),
                d => panic!("unexpected dtype {d:?}"),
            };
            (name, (view.shape().to_vec(), values))
        })
        .collect()
}

fn fixture_specs() -> Vec<(&'static str, ModelSpec)> {
    let mut cnn = ModelSpec::cnn(ImageShape::new(8, 12, 3), 5);
    cnn.width = 0.25;
    let mut dropout = ModelSpec::cnn(ImageShape::new(8, 8, 1), 4);
    dropout.width = 0.25;
    dropout.dropout = 0.5;
    let res = ModelSpec {
        arch: Arch::ResCnn,
        input: ImageShape::new(8, 12, 2),
        num_classes: 3,
        width: 0.25,
        dropout: 0.0,
        survival: 0.6,
    };
    vec![
        ("model_cnn.safetensors", cnn),
        ("model_cnn_dropout.safetensors", dropout),
        ("model_rescnn.safetensors", res),
    ]
}

/// The native model with a fixture's PyTorch weights.
fn native_with_fixture_weights(
    f: &HashMap<String, (Vec<usize>, Vec<f32>)>,
    spec: &ModelSpec,
) -> NativeClassifier {
    let mut m = NativeClassifier::new(spec, 0).unwrap();
    for name in m.tensor_names() {
        m.set_torch_tensor(&name, &f[&format!("param.{name}")].1)
            .unwrap();
    }
    m
}

#[test]
fn both_engines_give_pytorchs_probabilities_from_the_fixture_weights() {
    for (file, spec) in fixture_specs() {
        let f = fixture(file);
        let native = native_with_fixture_weights(&f, &spec);
        let burn = burn().from_native(&native).unwrap();
        assert!(
            burn.to_native().unwrap().torch_tensors() == native.torch_tensors(),
            "{file}: weights survive native -> burn -> native bit for bit"
        );
        let pixels: Vec<u8> = f["images"].1.iter().map(|&v| v as u8).collect();
        let view = ImagesRef::new(&pixels, spec.input).unwrap();
        let p_burn = burn.predict_proba(view).unwrap();
        let p_native = native.predict_proba(view).unwrap();
        assert_close(
            &format!("{file}: burn vs PyTorch"),
            &p_burn,
            &f["eval_probs"].1,
            1e-4,
        );
        assert_close(&format!("{file}: burn vs native"), &p_burn, &p_native, 1e-4);
        // More inputs than one prediction chunk, and a ragged last chunk.
        let many = random_pixels(spec.input, 300, 9);
        let view = ImagesRef::new(&many, spec.input).unwrap();
        let (a, b) = (
            burn.predict_proba(view).unwrap(),
            native.predict_proba(view).unwrap(),
        );
        assert_eq!(a.len(), 300 * spec.num_classes);
        assert_close(&format!("{file}: burn vs native, 300 images"), &a, &b, 1e-4);
        for row in a.chunks_exact(spec.num_classes) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
}

#[test]
fn one_burn_training_step_equals_pytorchs_adam_step() {
    // The fixture's Adam step is on the mean hard-target gradient of all its images: one
    // batch holding them all, in any order.
    let (file, spec) = fixture_specs().remove(0);
    let f = fixture(file);
    let native = native_with_fixture_weights(&f, &spec);
    let mut model = burn().from_native(&native).unwrap();
    let pixels: Vec<u8> = f["images"].1.iter().map(|&v| v as u8).collect();
    let labels: Vec<u16> = f["labels"].1.iter().map(|&v| v as u16).collect();
    let report = model
        .fit(
            ImagesRef::new(&pixels, spec.input).unwrap(),
            Targets::Hard(&labels),
            &FitOptions {
                epochs: 1,
                batch_size: labels.len(),
                ..FitOptions::default()
            },
            &mut |_| {},
        )
        .unwrap();
    assert_close(
        "loss",
        &report.epoch_losses,
        &f["loss_hard"].1,
        1e-4 * f["loss_hard"].1[0],
    );
    for (name, t) in model.torch_tensors().unwrap() {
        let want = &f[&format!("adam1.{name}")];
        assert_eq!(t.shape, want.0, "{name}");
        for (i, (g, w)) in t.values.iter().zip(&want.1).enumerate() {
            assert!(
                (g - w).abs() <= 1e-6 + 1e-6 * w.abs(),
                "adam step {name}[{i}]: burn {g} vs PyTorch {w}"
            );
        }
    }
}

#[test]
fn model_files_move_between_engines_with_the_same_probabilities() {
    let shape = ImageShape::new(12, 12, 2);
    let spec = ModelSpec {
        arch: Arch::ResCnn,
        input: shape,
        num_classes: 3,
        width: 0.5,
        dropout: 0.2,
        survival: 0.8,
    };
    let pixels = random_pixels(shape, 64, 1);
    let view = ImagesRef::new(&pixels, shape).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The same seed builds the same initial weights in both engines.
    let native = NativeEngine::default().build(&spec, 11).unwrap();
    let fresh = burn().build(&spec, 11).unwrap();
    assert_close(
        "fresh models",
        &fresh.predict_proba(view).unwrap(),
        &native.predict_proba(view).unwrap(),
        1e-4,
    );
    // native -> file -> burn, with trained (non-zero) biases.
    let mut native = native;
    let labels: Vec<u16> = (0..64).map(|i| (i % 3) as u16).collect();
    let opts = FitOptions {
        epochs: 1,
        batch_size: 16,
        ..FitOptions::default()
    };
    native
        .fit(view, Targets::Hard(&labels), &opts, &mut |_| {})
        .unwrap();
    native.set_class_names(vec!["a".into(), "b".into(), "c".into()]);
    let native_file = dir.path().join("native.safetensors");
    native.save(&native_file).unwrap();
    let in_burn = burn().load(&native_file).unwrap();
    assert_eq!(in_burn.spec(), &spec);
    assert_eq!(in_burn.class_names(), ["a", "b", "c"]);
    let p_native = native.predict_proba(view).unwrap();
    assert_close(
        "native model in burn",
        &in_burn.predict_proba(view).unwrap(),
        &p_native,
        1e-4,
    );
    // burn -> file -> native: the weights come back bit for bit.
    let burn_file = dir.path().join("burn.safetensors");
    in_burn.save(&burn_file).unwrap();
    let back = NativeEngine::default().load(&burn_file).unwrap();
    assert_eq!(back.class_names(), ["a", "b", "c"]);
    assert_eq!(back.predict_proba(view).unwrap(), p_native);
    assert!(
        NativeClassifier::load(&burn_file).unwrap().torch_tensors()
            == NativeClassifier::load(&native_file)
                .unwrap()
                .torch_tensors(),
        "burn saves the very weights native saved"
    );
    // A model trained by burn loads in native with burn's probabilities.
    let mut trained = burn().load(&burn_file).unwrap();
    trained
        .fit(view, Targets::Hard(&labels), &opts, &mut |_| {})
        .unwrap();
    trained.save(&burn_file).unwrap();
    assert_close(
        "burn-trained model in native",
        &NativeEngine::default()
            .load(&burn_file)
            .unwrap()
            .predict_proba(view)
            .unwrap(),
        &trained.predict_proba(view).unwrap(),
        1e-4,
    );
    // Bad files are the native loader's errors.
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a model").unwrap();
    assert!(matches!(burn().load(&junk), Err(Error::Format { .. })));
    assert!(matches!(
        burn().load(&dir.path().join("none")),
        Err(Error::Io { .. })
    ));
}

fn soft_targets(labels: &[u16]) -> Vec<f32> {
    labels
        .iter()
        .flat_map(|&l| (0..4).map(move |c| if c == l { 0.91 } else { 0.03 }))
        .collect()
}

fn options(epochs: usize, seed: u64) -> FitOptions {
    FitOptions {
        epochs,
        batch_size: 32,
        learning_rate: 1e-3,
        seed,
        augment: None,
        threads: Threads::ONE,
    }
}

#[test]
fn burn_training_learns_with_hard_and_soft_targets() {
    let (px, labels) = synthetic(800, 1);
    let (tpx, tlabels) = synthetic(400, 2);
    let view = ImagesRef::new(&px, SHAPE).unwrap();
    // The original CNN on hard labels.
    let mut model = burn().build(&ModelSpec::cnn(SHAPE, 4), 3).unwrap();
    let mut losses = Vec::new();
    let report = model
        .fit(view, Targets::Hard(&labels), &options(3, 7), &mut |p| {
            losses.push(p.loss)
        })
        .unwrap();
    assert_eq!(losses.len(), 3 * 800usize.div_ceil(32));
    assert!(
        report.epoch_losses[2] < report.epoch_losses[0] * 0.5,
        "{report:?}"
    );
    let acc = accuracy(model.as_ref(), &tpx, &tlabels);
    assert!(acc > 0.95, "hard targets: test accuracy {acc}");
    // The residual model with dropout, stochastic depth and soft targets.
    let spec = ModelSpec {
        arch: Arch::ResCnn,
        input: SHAPE,
        num_classes: 4,
        width: 0.5,
        dropout: 0.3,
        survival: 0.7,
    };
    let soft = soft_targets(&labels);
    let mut model = burn().build(&spec, 5).unwrap();
    model
        .fit(
            view,
            Targets::Soft {
                probs: &soft,
                classes: 4,
            },
            &options(4, 7),
            &mut |_| {},
        )
        .unwrap();
    let acc = accuracy(model.as_ref(), &tpx, &tlabels);
    assert!(acc > 0.95, "soft targets: test accuracy {acc}");
}

/// Both engines train on the same batches, augmentations and masks: only rounding differs.
#[test]
fn burn_and_native_train_alike_from_the_same_seed() {
    let (px, labels) = synthetic(96, 3);
    let view = ImagesRef::new(&px, SHAPE).unwrap();
    let soft = soft_targets(&labels);
    let spec = ModelSpec {
        arch: Arch::ResCnn,
        input: SHAPE,
        num_classes: 4,
        width: 0.5,
        dropout: 0.3,
        survival: 0.7,
    };
    let mut opts = options(2, 5);
    opts.augment = Some(RandAugment {
        num_ops: 2,
        magnitude: 9.0,
        horizontal_flip: false,
    });
    let mut trained = Vec::new();
    for (kind, targets) in [
        ("hard", Targets::Hard(&labels)),
        (
            "soft",
            Targets::Soft {
                probs: &soft,
                classes: 4,
            },
        ),
    ] {
        let mut native = NativeEngine::default().build(&spec, 2).unwrap();
        let mut burned = burn().build(&spec, 2).unwrap();
        let rn = native.fit(view, targets, &opts, &mut |_| {}).unwrap();
        let rb = burned.fit(view, targets, &opts, &mut |_| {}).unwrap();
        assert_close(
            &format!("{kind}: epoch losses"),
            &rb.epoch_losses,
            &rn.epoch_losses,
            1e-4,
        );
        let (pn, pb) = (
            native.predict_proba(view).unwrap(),
            burned.predict_proba(view).unwrap(),
        );
        assert_close(
            &format!("{kind}: probabilities after training"),
            &pb,
            &pn,
            1e-4,
        );
        // Training moved the model: the agreement is not that of two untouched models.
        let fresh = NativeEngine::default().build(&spec, 2).unwrap();
        assert!(max_diff(&fresh.predict_proba(view).unwrap(), &pn) > 1e-2);
        trained.push(pn);
    }
    assert!(
        max_diff(&trained[0], &trained[1]) > 1e-3,
        "hard and soft targets train alike"
    );
}

#[test]
fn burn_training_is_reproducible_for_a_seed() {
    let (px, labels) = synthetic(200, 5);
    let view = ImagesRef::new(&px, SHAPE).unwrap();
    let mut spec = ModelSpec::cnn(SHAPE, 4);
    spec.dropout = 0.2;
    let mut opts = options(1, 7);
    opts.threads = Threads::resolve(2);
    opts.augment = Some(RandAugment {
        num_ops: 2,
        magnitude: 9.0,
        horizontal_flip: false,
    });
    let run = |opts: &FitOptions| {
        let mut m = burn().build(&spec, 3).unwrap();
        m.fit(view, Targets::Hard(&labels), opts, &mut |_| {})
            .unwrap();
        m.predict_proba(view).unwrap()
    };
    let p1 = run(&opts);
    assert_eq!(p1, run(&opts), "same seed and threads: identical models");
    opts.seed += 1;
    assert_ne!(p1, run(&opts), "another seed trains differently");
}

/// Runs the same call in both engines and checks they fail alike, with `Error::Invalid`.
#[track_caller]
fn same_invalid<T>(what: &str, native: Result<T, Error>, burn: Result<T, Error>) {
    match (native, burn) {
        (Err(Error::Invalid(a)), Err(Error::Invalid(b))) => assert_eq!(a, b, "{what}"),
        (a, b) => panic!(
            "{what}: native {:?}, burn {:?}",
            a.err().map(|e| e.to_string()),
            b.err().map(|e| e.to_string())
        ),
    }
}

#[test]
fn bad_inputs_are_the_native_engines_errors() {
    let (px, labels) = synthetic(40, 7);
    let spec = ModelSpec::cnn(SHAPE, 4);
    let mut native = NativeEngine::default().build(&spec, 1).unwrap();
    let mut burned = burn().build(&spec, 1).unwrap();
    let view = ImagesRef::new(&px, SHAPE).unwrap();
    let o = options(1, 1);
    let other = ImagesRef::new(&px[..36 * 4 * 4], ImageShape::new(6, 6, 4)).unwrap();
    let mut bad = labels.clone();
    bad[3] = 4;
    let soft = vec![0.5f32; 40 * 4];
    let soft3 = vec![1.0f32 / 3.0; 40 * 3];
    let mut zero_batch = o.clone();
    zero_batch.batch_size = 0;
    let mut nan_lr = o.clone();
    nan_lr.learning_rate = f32::NAN;
    let cases: Vec<(&str, ImagesRef, Targets, &FitOptions)> = vec![
        ("wrong image shape", other, Targets::Hard(&labels), &o),
        ("too few labels", view, Targets::Hard(&labels[..39]), &o),
        ("label out of range", view, Targets::Hard(&bad), &o),
        (
            "soft rows not summing to 1",
            view,
            Targets::Soft {
                probs: &soft,
                classes: 4,
            },
            &o,
        ),
        (
            "soft targets of 3 classes",
            view,
            Targets::Soft {
                probs: &soft3,
                classes: 3,
            },
            &o,
        ),
        ("batch size 0", view, Targets::Hard(&labels), &zero_batch),
        ("NaN learning rate", view, Targets::Hard(&labels), &nan_lr),
    ];
    let before = burned.predict_proba(view).unwrap();
    for (what, images, targets, opts) in cases {
        same_invalid(
            what,
            native.fit(images, targets, opts, &mut |_| {}),
            burned.fit(images, targets, opts, &mut |_| {}),
        );
    }
    same_invalid(
        "predict on wrong shape",
        native.predict_proba(other),
        burned.predict_proba(other),
    );
    // Failed calls leave the model as it was; zero epochs change nothing.
    let r = burned
        .fit(view, Targets::Hard(&labels), &options(0, 1), &mut |_| {})
        .unwrap();
    assert!(r.epoch_losses.is_empty());
    assert_eq!(before, burned.predict_proba(view).unwrap());
    // A batch larger than the data set trains on one batch.
    let mut big = options(1, 1);
    big.batch_size = 1000;
    let mut steps = 0;
    burned
        .fit(view, Targets::Hard(&labels), &big, &mut |_| steps += 1)
        .unwrap();
    assert_eq!(steps, 1);
    // Specs.
    let mut s = spec.clone();
    s.width = 0.0;
    same_invalid(
        "width 0",
        NativeEngine::default().build(&s, 0),
        burn().build(&s, 0),
    );
    s = spec.clone();
    s.dropout = 1.0;
    same_invalid(
        "dropout 1",
        NativeEngine::default().build(&s, 0),
        burn().build(&s, 0),
    );
    // Empty prediction input.
    let empty = ImagesRef {
        pixels: &[],
        shape: SHAPE,
    };
    assert!(burned.predict_proba(empty).unwrap().is_empty());
}

#[test]
fn backends_by_name() {
    assert_eq!(engine_by_name("burn").unwrap().name(), "burn");
    assert_eq!(BurnBackend::parse("flex").unwrap(), BurnBackend::Flex);
    assert_eq!(BurnBackend::parse(" AUTO ").unwrap(), BurnBackend::best());
    let err = BurnBackend::parse("tpu").err().unwrap();
    assert!(matches!(err, Error::Invalid(_)) && err.to_string().contains("cuda:N"));
    assert!(matches!(
        BurnBackend::parse("cuda:x"),
        Err(Error::Invalid(_))
    ));
    #[cfg(not(feature = "cuda"))]
    {
        let err = BurnBackend::parse("cuda:1").err().unwrap().to_string();
        assert!(err.contains("--features cuda"), "{err}");
    }
    #[cfg(not(feature = "wgpu"))]
    assert!(BurnEngine::new(BurnBackend::Wgpu).is_err());
    #[cfg(not(any(feature = "cuda", feature = "wgpu")))]
    assert_eq!(BurnBackend::best(), BurnBackend::Flex);
}
