//! Checks of every layer and of whole models against PyTorch (fixtures made by
//! `tests/fixtures/gen_fixtures.py`), plus the optimiser.

use std::collections::HashMap;

use nstudent_core::ImageShape;
use safetensors::{Dtype, SafeTensors};

use super::exec::{StepNoise, Worker};
use super::kernels::{
    avx512_for_test, AdamConfig, ChunkGradient, ConvShape, Gradients, KernelSet, Kernels, MatRef,
    Plain,
};
use super::plan::{NoiseKind, ParamInfo, ParamKind};
use super::softmax::{softmax_xent, BatchTargets};
use super::NativeClassifier;
use crate::{Arch, Classifier, ModelSpec};

/// The kernel paths this CPU runs; each parity test checks every one of them.
fn paths() -> Vec<KernelSet> {
    let mut out = vec![KernelSet::Plain(Plain)];
    if let Some(cpu) = avx512_for_test("the AVX-512 kernels against PyTorch") {
        out.push(KernelSet::portable());
        out.push(KernelSet::Avx512(cpu));
    }
    out
}

struct Fixture {
    t: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Fixture {
    fn load(name: &str) -> Fixture {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let mut t = HashMap::new();
        for (name, view) in st.tensors() {
            let values: Vec<f32> = match view.dtype() {
                Dtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
                Dtype::U8 => view.data().iter().map(|&b| f32::from(b)).collect(),
                d => panic!("unexpected dtype {d:?}"),
            };
            t.insert(name, (view.shape().to_vec(), values));
        }
        Fixture { t }
    }

    fn get(&self, name: &str) -> &[f32] {
        &self
            .t
            .get(name)
            .unwrap_or_else(|| panic!("fixture has no {name}"))
            .1
    }

    fn shape(&self, name: &str) -> &[usize] {
        &self.t[name].0
    }
}

/// `|a - b| <= 1e-4 * max(|b|, rms(b))` element-wise: 1e-4 relative, with the tensor's scale as
/// the floor near zero.
#[track_caller]
fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let rms =
        (want.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / want.len() as f64).sqrt() as f32;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let tol = 1e-4 * w.abs().max(rms).max(1e-12);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: got {g}, want {w} (tolerance {tol})"
        );
    }
}

fn conv_param(k: usize, cin: usize, cout: usize) -> ParamInfo {
    ParamInfo {
        name: "w".into(),
        offset: 0,
        len: k * k * cin * cout,
        kind: ParamKind::Conv { k, cin, cout },
    }
}

fn check_conv(f: &Fixture, tag: &str, k: usize, relu: bool) {
    for path in paths() {
        check_conv_on(path, f, tag, k, relu);
    }
}

fn check_conv_on(path: KernelSet, f: &Fixture, tag: &str, k: usize, relu: bool) {
    let xs = f.shape(&format!("{tag}.x")).to_vec();
    let (n, h, w, cin) = (xs[0], xs[1], xs[2], xs[3]);
    let cout = f.shape(&format!("{tag}.w"))[0];
    let s = ConvShape {
        n,
        h,
        w,
        cin,
        cout,
        k,
    };
    let p = conv_param(k, cin, cout);
    let wt = p.import_torch(f.get(&format!("{tag}.w")));
    let b = f.get(&format!("{tag}.b"));
    let x = f.get(&format!("{tag}.x"));
    let mut col = vec![0.0; s.rows() * s.patch()];
    let input = if k == 3 {
        path.ops().im2col3(x, s, &mut col);
        MatRef::rows(&col, s.patch())
    } else {
        MatRef::rows(x, s.patch())
    };
    let mut y = vec![0.0; s.rows() * cout];
    path.ops()
        .affine_forward(s.rows(), s.patch(), cout, input, &wt, b, relu, &mut y);
    assert_close(
        &format!("{tag} forward ({path:?})"),
        &y,
        f.get(&format!("{tag}.y")),
    );
    let mut dy = f.get(&format!("{tag}.dy")).to_vec();
    let mut dw = vec![0.0; wt.len()];
    let mut db = vec![0.0; cout];
    let mut dcol = vec![0.0; s.rows() * s.patch()];
    path.ops().affine_backward(
        s.rows(),
        s.patch(),
        cout,
        input,
        &wt,
        &y,
        relu,
        &mut dy,
        Some(&mut dw),
        &mut db,
        false,
        Some((&mut dcol, false)),
    );
    let dx = if k == 3 {
        let mut dx = vec![0.0; x.len()];
        path.ops().col2im3(&dcol, s, &mut dx, false);
        dx
    } else {
        dcol[..x.len()].to_vec()
    };
    assert_close(
        &format!("{tag} dx ({path:?})"),
        &dx,
        f.get(&format!("{tag}.dx")),
    );
    assert_close(
        &format!("{tag} dw ({path:?})"),
        &p.export_torch(&dw),
        f.get(&format!("{tag}.dw")),
    );
    assert_close(&format!("{tag} db"), &db, f.get(&format!("{tag}.db")));
}

#[test]
fn conv3x3_matches_pytorch() {
    let f = Fixture::load("layers.safetensors");
    check_conv(&f, "conv3", 3, false);
    check_conv(&f, "conv3_relu", 3, true);
}

#[test]
fn conv1x1_matches_pytorch() {
    let f = Fixture::load("layers.safetensors");
    check_conv(&f, "conv1", 1, false);
}

#[test]
fn maxpool_matches_pytorch() {
    let f = Fixture::load("layers.safetensors");
    let xs = f.shape("pool.x").to_vec();
    let (n, h, w, c) = (xs[0], xs[1], xs[2], xs[3]);
    let x = f.get("pool.x");
    let mut y = vec![0.0; n * (h / 2) * (w / 2) * c];
    let mut arg = vec![0u8; y.len()];
    Plain.maxpool_forward(x, n, h, w, c, &mut y, &mut arg);
    assert_close("pool forward", &y, f.get("pool.y"));
    let mut dx = vec![f32::NAN; x.len()];
    Plain.maxpool_backward(f.get("pool.dy"), &arg, n, h, w, c, &mut dx, false);
    assert_close("pool dx", &dx, f.get("pool.dx"));
}

#[test]
fn dense_matches_pytorch() {
    let f = Fixture::load("layers.safetensors");
    for path in paths() {
        check_dense_on(path, &f);
    }
}

fn check_dense_on(path: KernelSet, f: &Fixture) {
    let (n, nin) = (f.shape("dense.x")[0], f.shape("dense.x")[1]);
    let nout = f.shape("dense.w")[0];
    let p = ParamInfo {
        name: "w".into(),
        offset: 0,
        len: nin * nout,
        kind: ParamKind::Dense {
            nin,
            nout,
            flatten: None,
        },
    };
    let wt = p.import_torch(f.get("dense.w"));
    let x = f.get("dense.x");
    let mut y = vec![0.0; n * nout];
    let input = MatRef::rows(x, nin);
    path.ops()
        .affine_forward(n, nin, nout, input, &wt, f.get("dense.b"), true, &mut y);
    assert_close(&format!("dense forward ({path:?})"), &y, f.get("dense.y"));
    let mut dy = f.get("dense.dy").to_vec();
    let (mut dw, mut db, mut dx) = (vec![0.0; wt.len()], vec![0.0; nout], vec![0.0; x.len()]);
    path.ops().affine_backward(
        n,
        nin,
        nout,
        input,
        &wt,
        &y,
        true,
        &mut dy,
        Some(&mut dw),
        &mut db,
        false,
        Some((&mut dx, false)),
    );
    assert_close(&format!("dense dx ({path:?})"), &dx, f.get("dense.dx"));
    assert_close(
        &format!("dense dw ({path:?})"),
        &p.export_torch(&dw),
        f.get("dense.dw"),
    );
    assert_close("dense db", &db, f.get("dense.db"));
}

#[test]
fn softmax_cross_entropy_matches_pytorch_for_hard_and_soft_targets() {
    let f = Fixture::load("layers.safetensors");
    let (n, k) = (4, 5);
    let logits = f.get("xent.logits");
    let labels: Vec<u16> = f.get("xent.labels").iter().map(|&v| v as u16).collect();
    let mut probs = vec![0.0; n * k];
    let mut g = vec![0.0; n * k];
    let scale = 1.0 / n as f32;
    let loss = softmax_xent(
        logits,
        n,
        k,
        BatchTargets::Hard(&labels),
        scale,
        &mut probs,
        &mut g,
    );
    assert_close("probs", &probs, f.get("xent.probs"));
    assert_close(
        "hard loss",
        &[(loss / n as f64) as f32],
        f.get("xent.loss_hard"),
    );
    assert_close("hard dlogits", &g, f.get("xent.dlogits_hard"));
    let soft = f.get("xent.soft");
    let loss = softmax_xent(
        logits,
        n,
        k,
        BatchTargets::Soft(soft),
        scale,
        &mut probs,
        &mut g,
    );
    assert_close(
        "soft loss",
        &[(loss / n as f64) as f32],
        f.get("xent.loss_soft"),
    );
    assert_close("soft dlogits", &g, f.get("xent.dlogits_soft"));
}

#[test]
fn adam_steps_match_torch_adam_with_eps_1e_7() {
    let f = Fixture::load("layers.safetensors");
    let mut p = f.get("adam.p0").to_vec();
    let (mut m, mut v) = (vec![0.0; p.len()], vec![0.0; p.len()]);
    let cfg = AdamConfig {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-7,
    };
    for s in 0..3 {
        let g = [ChunkGradient::ready(
            f.get(&format!("adam.g{s}")).to_vec(),
            vec![],
        )];
        let old = p.clone();
        let grads = Gradients::summed(&g);
        let at = cfg.at_step(s + 1);
        Plain.adam_step_sum(at, &old, &mut p, grads, 0, &mut m, &mut v);
        // Parameters move by ~1e-3 per step: compare the updates, not just the values.
        let want = f.get(&format!("adam.p{}", s + 1));
        let p0 = f.get("adam.p0");
        let got_d: Vec<f32> = p.iter().zip(p0).map(|(a, b)| a - b).collect();
        let want_d: Vec<f32> = want.iter().zip(p0).map(|(a, b)| a - b).collect();
        for (i, (g, w)) in got_d.iter().zip(&want_d).enumerate() {
            assert!(
                (g - w).abs() <= 2e-3 * w.abs() + 2e-7,
                "adam step {s} [{i}]: update {g} vs torch {w}"
            );
        }
    }
}

/// Builds the model of a fixture with its weights, on `kernels`.
fn fixture_model(f: &Fixture, spec: &ModelSpec, kernels: KernelSet) -> NativeClassifier {
    let mut model = NativeClassifier::on(kernels, spec, 0).unwrap();
    for name in model.tensor_names() {
        model
            .set_torch_tensor(&name, f.get(&format!("param.{name}")))
            .unwrap();
    }
    model
}

/// The deterministic noise the fixture generator used, in the plan's noise order.
fn fixture_noise(model: &NativeClassifier, n: usize) -> Vec<Vec<f32>> {
    let mut depth = 0;
    model
        .plan()
        .noises
        .iter()
        .map(|kind| match *kind {
            NoiseKind::Dropout { rate, per_image } => (0..n * per_image)
                .map(|i| if i % 3 == 0 { 0.0 } else { 1.0 / (1.0 - rate) })
                .collect(),
            NoiseKind::Depth { survival } => {
                depth += 1;
                (0..n)
                    .map(|i| {
                        let keep = if depth == 1 { i % 2 == 0 } else { i % 3 != 1 };
                        if keep {
                            1.0 / survival
                        } else {
                            0.0
                        }
                    })
                    .collect()
            }
        })
        .collect()
}

fn check_model(file: &str, spec: ModelSpec) {
    for path in paths() {
        check_model_on(path, file, &spec);
    }
}

fn check_model_on(path: KernelSet, file: &str, spec: &ModelSpec) {
    let f = Fixture::load(file);
    let n = f.shape("images")[0];
    let model = fixture_model(&f, spec, path);
    let plan = model.plan();
    let params = model.params().to_vec();
    let pixels: Vec<u8> = f.get("images").iter().map(|&v| v as u8).collect();
    let noise = fixture_noise(&model, n);
    let sn = StepNoise {
        buffers: &noise,
        start: 0,
    };
    let labels: Vec<u16> = f.get("labels").iter().map(|&v| v as u16).collect();
    for kind in ["hard", "soft"] {
        let mut w = Worker::new(plan, n, true);
        w.load_input(&pixels);
        w.forward(plan, &params, n, Some(&sn));
        assert_close(
            &format!("{file} logits ({kind}, {path:?})"),
            w.logits(plan, n),
            f.get(&format!("logits_{kind}")),
        );
        let t = if kind == "hard" {
            BatchTargets::Hard(&labels)
        } else {
            BatchTargets::Soft(f.get("soft"))
        };
        let loss = w.loss(plan, n, t, 1.0 / n as f32);
        assert_close(
            &format!("{file} loss ({kind})"),
            &[(loss / n as f64) as f32],
            f.get(&format!("loss_{kind}")),
        );
        w.backward(plan, &params, n, Some(&sn), false);
        for p in &plan.params {
            let got = p.export_torch(&w.pgrad[p.offset..p.offset + p.len]);
            assert_close(
                &format!("{file} grad of {} ({kind}, {path:?})", p.name),
                &got,
                f.get(&format!("grad_{kind}.{}", p.name)),
            );
        }
    }
    // One Adam step on PyTorch's hard-target gradients. Not on ours: Adam's first step moves a
    // parameter by lr * g / (|g| + eps), so a gradient that is exactly 0 in PyTorch and 2e-10
    // here (the rounding of a Winograd convolution, far inside the 1e-4 checked above) moves it
    // by 2e-6, above this check's 1e-6.
    let mut grads_hard = vec![0.0; params.len()];
    for p in &plan.params {
        let torch = f.get(&format!("grad_hard.{}", p.name));
        grads_hard[p.offset..p.offset + p.len].copy_from_slice(&p.import_torch(torch));
    }
    let mut stepped = params.clone();
    let (mut m, mut v) = (vec![0.0; params.len()], vec![0.0; params.len()]);
    let cfg = AdamConfig {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-7,
    };
    Plain.adam_step_sum(
        cfg.at_step(1),
        &params,
        &mut stepped,
        Gradients::summed(&[ChunkGradient::ready(grads_hard.clone(), vec![])]),
        0,
        &mut m,
        &mut v,
    );
    for p in &plan.params {
        let got = p.export_torch(&stepped[p.offset..p.offset + p.len]);
        let want = f.get(&format!("adam1.{}", p.name));
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-6 + 1e-6 * w.abs(),
                "{file} adam step {}[{i}]: {g} vs {w}",
                p.name
            );
        }
    }
    // Eval-mode probabilities through the public API.
    let images = nstudent_core::ImagesRef::new(&pixels, spec.input).unwrap();
    let probs = model.predict_proba(images).unwrap();
    assert_close(&format!("{file} eval probs"), &probs, f.get("eval_probs"));
}

#[test]
fn cnn_forward_gradients_and_adam_match_pytorch() {
    let mut spec = ModelSpec::cnn(ImageShape::new(8, 12, 3), 5);
    spec.width = 0.25;
    check_model("model_cnn.safetensors", spec);
}

#[test]
fn cnn_with_dropout_matches_pytorch() {
    let mut spec = ModelSpec::cnn(ImageShape::new(8, 8, 1), 4);
    spec.width = 0.25;
    spec.dropout = 0.5;
    check_model("model_cnn_dropout.safetensors", spec);
}

#[test]
fn residual_cnn_with_stochastic_depth_matches_pytorch() {
    let spec = ModelSpec {
        arch: Arch::ResCnn,
        input: ImageShape::new(8, 12, 2),
        num_classes: 3,
        width: 0.25,
        dropout: 0.0,
        survival: 0.6,
    };
    check_model("model_rescnn.safetensors", spec);
}

/// The study's models at full width, on both kernel paths: the same logits, loss and every
/// parameter gradient to the PyTorch tolerance. The PyTorch fixtures are models at width 0.25,
/// whose channel counts keep most layers off the AVX-512 path's Winograd and pooled kernels;
/// at full width every one of them runs (the input layer fused with its pool, Winograd for the
/// second convolution and the residual blocks, the implicit GEMM for the stem of `res-cnn`),
/// and the portable path they are compared with is the one the fixtures check.
#[test]
fn full_width_models_agree_on_both_kernel_paths() {
    let Some(cpu) = avx512_for_test("the two kernel paths on full-width models") else {
        return;
    };
    let mut mnist = ModelSpec::cnn(ImageShape::new(28, 28, 1), 10);
    mnist.dropout = 0.5;
    let cifar = ModelSpec::cnn(ImageShape::new(32, 32, 3), 10);
    let residual = ModelSpec {
        arch: Arch::ResCnn,
        survival: 0.8,
        ..ModelSpec::cnn(ImageShape::new(28, 28, 1), 10)
    };
    let n = 16;
    for (name, spec) in [
        ("cnn 28x28x1", mnist),
        ("cnn 32x32x3", cifar),
        ("res-cnn", residual),
    ] {
        let portable = NativeClassifier::on(KernelSet::Plain(Plain), &spec, 5).unwrap();
        let wide = NativeClassifier::on(KernelSet::portable(), &spec, 5).unwrap();
        let avx512 = NativeClassifier::on(KernelSet::Avx512(cpu), &spec, 5).unwrap();
        let model = &portable;
        let pixels: Vec<u8> = (0..n * spec.input.len())
            .map(|i| ((i * 7919) % 251) as u8)
            .collect();
        let labels: Vec<u16> = (0..n).map(|i| (i % 10) as u16).collect();
        let soft: Vec<f32> = (0..n * 10)
            .map(|i| {
                if i % 10 == (i / 10 + 3) % 10 {
                    0.7
                } else {
                    0.3 / 9.0
                }
            })
            .collect();
        let noise = fixture_noise(model, n);
        let sn = StepNoise {
            buffers: &noise,
            start: 0,
        };
        let run = |model: &NativeClassifier, hard: bool| {
            let (plan, params) = (model.plan(), model.params());
            let mut w = Worker::new(plan, n, true);
            w.load_input(&pixels);
            w.forward(plan, params, n, Some(&sn));
            let logits = w.logits(plan, n).to_vec();
            let t = if hard {
                BatchTargets::Hard(&labels)
            } else {
                BatchTargets::Soft(&soft)
            };
            let loss = w.loss(plan, n, t, 1.0 / n as f32);
            w.backward(plan, params, n, Some(&sn), false);
            (logits, loss as f32, w.pgrad.clone())
        };
        for hard in [true, false] {
            let (logits_p, loss_p, grad_p) = run(&portable, hard);
            let (logits_w, loss_w, grad_w) = run(&wide, hard);
            let (logits_a, loss_a, grad_a) = run(&avx512, hard);
            let what = |t: &str| format!("{name} ({}) {t}", if hard { "hard" } else { "soft" });
            // The portable loops compiled for AVX-512 give the portable build's bits.
            assert_eq!(
                bits_of(&logits_w),
                bits_of(&logits_p),
                "{}",
                what("wide logits")
            );
            assert_eq!(loss_w.to_bits(), loss_p.to_bits(), "{}", what("wide loss"));
            assert_eq!(
                bits_of(&grad_w),
                bits_of(&grad_p),
                "{}",
                what("wide gradients")
            );
            assert_close(&what("logits"), &logits_a, &logits_p);
            assert_close(&what("loss"), &[loss_a], &[loss_p]);
            for p in &model.plan().params {
                let r = p.offset..p.offset + p.len;
                assert_close(&what(&p.name), &grad_a[r.clone()], &grad_p[r]);
            }
        }
    }
}

/// A fit that computes the dense layers' weight gradients in Adam's step (the AVX-512 set's
/// `Plan::deferred`) ends with the same bits as one that writes them in the backward pass:
/// on 1 and 2 threads, hard and soft targets, batches of 1, 2 and 3 chunks (the last short),
/// dropout, and the residual model.
#[test]
fn deferred_weight_gradients_change_no_bit() {
    let Some(cpu) = avx512_for_test("deferred dense weight gradients") else {
        return;
    };
    let mut mnist = ModelSpec::cnn(ImageShape::new(28, 28, 1), 10);
    mnist.dropout = 0.5;
    let mut cifar = ModelSpec::cnn(ImageShape::new(32, 32, 3), 10);
    cifar.width = 0.5;
    let residual = ModelSpec {
        arch: Arch::ResCnn,
        survival: 0.8,
        width: 0.5,
        ..ModelSpec::cnn(ImageShape::new(28, 28, 1), 10)
    };
    let n = 40;
    for (name, spec) in [
        ("cnn 28x28x1", mnist),
        ("cnn 32x32x3", cifar),
        ("res-cnn", residual),
    ] {
        let pixels: Vec<u8> = (0..n * spec.input.len())
            .map(|i| ((i * 7919) % 251) as u8)
            .collect();
        let images = nstudent_core::ImagesRef::new(&pixels, spec.input).unwrap();
        let labels: Vec<u16> = (0..n).map(|i| (i % 10) as u16).collect();
        let soft: Vec<f32> = (0..n * 10)
            .map(|i| if i % 10 == (i / 10) % 10 { 0.64 } else { 0.04 })
            .collect();
        for (batch, threads, hard) in [(40, 2, true), (40, 1, false), (32, 2, false), (16, 1, true)]
        {
            let fit = |defer: bool| {
                let mut model = NativeClassifier::on(KernelSet::Avx512(cpu), &spec, 5).unwrap();
                assert!(!model.plan.deferred.is_empty(), "{name}: fc1 is deferred");
                if !defer {
                    model.plan.deferred.clear();
                }
                let targets = if hard {
                    crate::Targets::Hard(&labels)
                } else {
                    crate::Targets::Soft {
                        probs: &soft,
                        classes: 10,
                    }
                };
                let opts = crate::FitOptions {
                    epochs: 2,
                    batch_size: batch,
                    seed: 3,
                    threads: crate::Threads::resolve(threads),
                    ..Default::default()
                };
                model.fit(images, targets, &opts, &mut |_| {}).unwrap();
                model.params
            };
            let (deferred, written) = (fit(true), fit(false));
            let what = format!("{name}, batch {batch}, {threads} threads, hard {hard}");
            assert_ne!(
                bits_of(&deferred),
                bits_of(
                    &NativeClassifier::on(KernelSet::Avx512(cpu), &spec, 5)
                        .unwrap()
                        .params
                ),
                "{what}: trained"
            );
            assert_eq!(bits_of(&deferred), bits_of(&written), "{what}");
        }
    }
}

/// A step shared by two threads (chunks claimed from a counter, then Adam's tasks as soon as
/// the chunks publish what they read) gives one thread's bits: on the portable kernels with the
/// dense layer deferred by hand, so that the tasks on its weights start before the last chunk
/// ends; batches of 2 chunks, of 3 (the last short), and a last batch of 1 chunk (one thread
/// has none).
#[test]
fn a_step_shared_by_two_threads_gives_one_threads_bits() {
    let spec = ModelSpec {
        width: 0.25,
        ..ModelSpec::cnn(ImageShape::new(4, 4, 1), 3)
    };
    let n = 40;
    let pixels: Vec<u8> = (0..n * spec.input.len())
        .map(|i| ((i * 7919) % 251) as u8)
        .collect();
    let images = nstudent_core::ImagesRef::new(&pixels, spec.input).unwrap();
    let labels: Vec<u16> = (0..n).map(|i| (i % 3) as u16).collect();
    let fit = |threads: usize, batch: usize| {
        let mut model = NativeClassifier::on(KernelSet::Plain(Plain), &spec, 5).unwrap();
        let plan = &mut model.plan;
        plan.deferred = plan.dense_layers(8);
        assert_eq!(plan.deferred.len(), 1, "fc1 is deferred");
        let opts = crate::FitOptions {
            epochs: 1,
            batch_size: batch,
            seed: 3,
            threads: crate::Threads::resolve(threads),
            ..Default::default()
        };
        let hard = crate::Targets::Hard(&labels);
        model.fit(images, hard, &opts, &mut |_| {}).unwrap();
        bits_of(&model.params)
    };
    let untrained = NativeClassifier::on(KernelSet::Plain(Plain), &spec, 5).unwrap();
    for batch in [32, 40] {
        let one = fit(1, batch);
        assert_ne!(one, bits_of(&untrained.params), "batch {batch}: trained");
        assert_eq!(one, fit(2, batch), "batch {batch}");
    }
}

/// The bit patterns of `params`, for comparisons that must be exact.
fn bits_of(params: &[f32]) -> Vec<u32> {
    params.iter().map(|x| x.to_bits()).collect()
}
