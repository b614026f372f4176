//! The algorithms end to end with the real native engine, on a small generated task.

use nstudent_algo::{
    AlgoConfig, Algorithm, LabeledSplitMode, Model, Silent, Trainer, UnlabeledSchedule,
};
use nstudent_data::{Dataset, ImageShape};
use nstudent_engine::{NativeEngine, Threads};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` 12x12 grey images of 4 shapes (horizontal bar, vertical bar, diagonal, square ring) at
/// random positions and brightness, with strong pixel noise.
fn shapes(n: usize, seed: u64) -> Dataset {
    let shape = ImageShape::new(12, 12, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut images = Vec::with_capacity(n * shape.len());
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let c: u16 = rng.gen_range(0..4);
        let (oy, ox) = (rng.gen_range(0..5i32), rng.gen_range(0..5i32));
        let bright = rng.gen_range(120.0..255.0f32);
        let mut img = [0f32; 144];
        for i in 0..8i32 {
            let points: Vec<(i32, i32)> = match c {
                0 => vec![(3, i)],
                1 => vec![(i, 3)],
                2 => vec![(i, i)],
                _ => vec![(0, i), (7, i), (i, 0), (i, 7)],
            };
            for (y, x) in points {
                let (y, x) = (y + oy, x + ox);
                if (0..12).contains(&y) && (0..12).contains(&x) {
                    img[(y * 12 + x) as usize] = bright;
                }
            }
        }
        for v in img {
            let noisy = v + rng.gen_range(-60.0..60.0f32);
            images.push(noisy.clamp(0.0, 255.0) as u8);
        }
        labels.push(c);
    }
    let names = ["horizontal", "vertical", "diagonal", "ring"];
    Dataset::new(
        images,
        labels,
        shape,
        names.map(String::from).to_vec(),
        "shapes",
    )
    .unwrap()
}

fn config(algorithm: Algorithm) -> AlgoConfig {
    let mut c = AlgoConfig {
        algorithm,
        teacher_factor: 0.03,
        labeled_split: LabeledSplitMode::Stratified,
        unlabeled: UnlabeledSchedule::All,
        threshold: 0.5,
        num_students: 2,
        ensemble_size: 2,
        seed: 3,
        ..AlgoConfig::default()
    };
    c.augment.magnitude = 5.0;
    c
}

#[test]
fn noisy_student_beats_the_baseline_on_a_generated_task() {
    // 90 labeled images: the teacher sees 15 gradient steps and stays weak (~83%); the
    // students learn from ~2,900 pseudo-labeled images.
    let train = shapes(3000, 1);
    let test = shapes(1000, 2);
    let engine = NativeEngine::default();
    let base = Trainer::new(&engine, config(Algorithm::Baseline))
        .map(|t| t.threads(Threads::ONE))
        .unwrap()
        .train(&train, &mut Silent)
        .unwrap();
    let base_acc = base.final_model().accuracy(&test).unwrap();
    let ns = Trainer::new(&engine, config(Algorithm::NoisyStudent))
        .map(|t| t.threads(Threads::ONE))
        .unwrap()
        .eval(&test)
        .train(&train, &mut Silent)
        .unwrap();
    let ns_acc = ns.final_model().accuracy(&test).unwrap();
    let chain = ns.chain.as_ref().unwrap();
    eprintln!(
        "baseline {base_acc:.4}, noisy student {:?}",
        chain
            .iterations
            .iter()
            .map(|r| r.eval_accuracy)
            .collect::<Vec<_>>()
    );
    // The NS teacher is the baseline of the same seed.
    assert_eq!(ns.teacher_eval_accuracy, Some(base_acc));
    assert!(
        ns_acc > base_acc + 0.05,
        "noisy student {ns_acc:.4} does not beat baseline {base_acc:.4}"
    );
}

#[test]
fn scrambled_pool_labels_give_bit_identical_native_models() {
    let data = shapes(300, 4);
    let mut scrambled = data.clone();
    let c = AlgoConfig {
        labeled_split: LabeledSplitMode::First,
        num_students: 1,
        threshold: 0.0,
        fit: nstudent_algo::FitConfig {
            epochs: 1,
            ..Default::default()
        },
        ..config(Algorithm::NoisyStudent)
    };
    let labeled = (c.teacher_factor * data.len() as f64).round() as usize;
    for l in scrambled.labels[labeled..].iter_mut() {
        *l = 3 - *l;
    }
    let engine = NativeEngine::default();
    let trainer = Trainer::new(&engine, c).unwrap().threads(Threads::ONE);
    let a = trainer.train(&data, &mut Silent).unwrap();
    let kept: usize = a.chain.as_ref().unwrap().iterations[0]
        .kept_per_class
        .iter()
        .sum();
    assert_eq!(
        kept,
        data.len() - labeled,
        "threshold 0 pseudo-labels the whole pool"
    );
    let a = a.into_final_model();
    let b = trainer
        .train(&scrambled, &mut Silent)
        .unwrap()
        .into_final_model();
    let bits = |m: &Model| -> Vec<u32> {
        let p = m.predict_proba(data.view()).unwrap();
        p.iter().map(|v| v.to_bits()).collect()
    };
    // Identical weights give identical probabilities, bit for bit, on every image.
    assert!(
        bits(&a) == bits(&b),
        "scrambling the pool's labels changed the model"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.safetensors");
    a.save(&path).unwrap();
    let loaded = Model::load(&engine, &path).unwrap();
    assert!(
        bits(&loaded) == bits(&a),
        "the saved model predicts differently"
    );
}

/// Probabilities of `model` on `data`, as bits.
fn proba_bits(model: &Model, data: &Dataset) -> Vec<u32> {
    let p = model.predict_proba(data.view()).unwrap();
    p.iter().map(|v| v.to_bits()).collect()
}

/// The labeled rows a training chose, from its split event.
fn trained(c: AlgoConfig, data: &Dataset) -> (nstudent_algo::TrainOutcome, Vec<usize>) {
    let engine = NativeEngine::default();
    let mut rows = Vec::new();
    let outcome = Trainer::new(&engine, c)
        .unwrap()
        .threads(Threads::ONE)
        .train(data, &mut |e: &nstudent_algo::Event| {
            if let nstudent_algo::Event::Split { labeled_rows, .. } = e {
                rows = labeled_rows.to_vec();
            }
        })
        .unwrap();
    (outcome, rows)
}

fn one_epoch(algorithm: Algorithm) -> AlgoConfig {
    AlgoConfig {
        fit: nstudent_algo::FitConfig {
            epochs: 1,
            ..Default::default()
        },
        teacher_factor: 0.2,
        ..config(algorithm)
    }
}

#[test]
fn the_augmented_baseline_is_the_baseline_plus_exactly_the_students_noise() {
    let data = shapes(200, 8);
    let (baseline, base_rows) = trained(one_epoch(Algorithm::Baseline), &data);
    let (augmented, aug_rows) = trained(one_epoch(Algorithm::AugmentedBaseline), &data);
    // Paired: the same labeled rows, no pool work, one model.
    assert_eq!(aug_rows, base_rows);
    assert!(augmented.chain.is_none() && augmented.teacher.len() == 1);
    // It carries the student's model noise, and its training saw the student's input noise:
    // with both turned off it is the Baseline, bit for bit; with either one on, it is not.
    assert_eq!(augmented.teacher.spec().dropout, 0.3);
    assert_eq!(baseline.teacher.spec().dropout, 0.0);
    let quiet = one_epoch(Algorithm::AugmentedBaseline).without_noise();
    let (silent, _) = trained(quiet.clone(), &data);
    assert_eq!(
        proba_bits(&silent.teacher, &data),
        proba_bits(&baseline.teacher, &data)
    );
    let mut augment_only = quiet.clone();
    augment_only.augment.enabled = true;
    let mut dropout_only = quiet;
    dropout_only.student.dropout = 0.3;
    for (what, c) in [("augmentation", augment_only), ("dropout", dropout_only)] {
        let (noised, _) = trained(c, &data);
        assert_ne!(
            proba_bits(&noised.teacher, &data),
            proba_bits(&baseline.teacher, &data),
            "{what} did not reach the augmented Baseline's training"
        );
    }
}

#[test]
fn the_baseline_ensemble_averages_baselines_whose_member_0_is_the_baseline() {
    let data = shapes(200, 9);
    let (baseline, base_rows) = trained(one_epoch(Algorithm::Baseline), &data);
    let (ensemble, rows) = trained(one_epoch(Algorithm::BaselineEnsemble), &data);
    assert_eq!(rows, base_rows);
    assert!(ensemble.chain.is_none());
    assert_eq!(ensemble.teacher.len(), 2);
    let members: Vec<Model> = ensemble
        .teacher
        .members()
        .iter()
        .map(|m| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("m");
            m.save(&p).unwrap();
            Model::single(nstudent_engine::Engine::load(&NativeEngine::default(), &p).unwrap())
        })
        .collect();
    assert_eq!(
        proba_bits(&members[0], &data),
        proba_bits(&baseline.teacher, &data),
        "member 0 is the Baseline"
    );
    assert_ne!(
        proba_bits(&members[1], &data),
        proba_bits(&members[0], &data),
        "members are seeded independently"
    );
    // The Ensemble's teachers are the same models: the control is its teacher ensemble.
    let (ens_ns, _) = trained(one_epoch(Algorithm::Ensemble), &data);
    assert_eq!(
        proba_bits(&ens_ns.teacher, &data),
        proba_bits(ensemble.final_model(), &data)
    );
    // Probabilities averaged.
    let avg = ensemble.final_model().predict_proba(data.view()).unwrap();
    let p0 = members[0].predict_proba(data.view()).unwrap();
    let p1 = members[1].predict_proba(data.view()).unwrap();
    for ((a, x), y) in avg.iter().zip(&p0).zip(&p1) {
        assert!((a - (x + y) / 2.0).abs() < 1e-6);
    }
}

/// A stop flag that stays down changes nothing: the same bits as a trainer without one.
#[test]
fn a_stop_flag_left_down_gives_the_same_model() {
    let data = shapes(200, 5);
    let c = AlgoConfig {
        num_students: 1,
        fit: nstudent_algo::FitConfig {
            epochs: 1,
            ..Default::default()
        },
        ..config(Algorithm::Ensemble)
    };
    let engine = NativeEngine::default();
    let flag = std::sync::atomic::AtomicBool::new(false);
    let plain = Trainer::new(&engine, c.clone()).unwrap();
    let watched = Trainer::new(&engine, c).unwrap().stop_on(&flag);
    let a = plain.train(&data, &mut Silent).unwrap().into_final_model();
    let b = watched
        .train(&data, &mut Silent)
        .unwrap()
        .into_final_model();
    assert!(proba_bits(&a, &data) == proba_bits(&b, &data));
}

/// Raised during a fit, the flag ends the training at the next batch with `Interrupted`: at
/// once for a single model (the flag is read right after the batch callback). Ensemble members
/// training side by side stop at their next batch too, but their progress reaches the observer
/// through a channel, so the batches they did before the observer raised the flag still
/// arrive: the test asks for far fewer than the 50 epochs.
#[test]
fn a_raised_stop_flag_interrupts_training_within_a_batch() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let data = shapes(400, 6);
    for algorithm in [Algorithm::NoisyStudent, Algorithm::Ensemble] {
        let c = AlgoConfig {
            fit: nstudent_algo::FitConfig {
                epochs: 50,
                batch_size: 8,
                ..Default::default()
            },
            ..config(algorithm)
        };
        let engine = NativeEngine::default();
        let flag = AtomicBool::new(false);
        let trainer = Trainer::new(&engine, c)
            .unwrap()
            .threads(Threads::new(2).unwrap())
            .stop_on(&flag);
        let (mut batches, mut after, mut per_epoch) = (0usize, 0usize, 0usize);
        let result = trainer.train(&data, &mut |e: &nstudent_algo::Event| {
            if let nstudent_algo::Event::Fit { progress, .. } = e {
                batches += 1;
                per_epoch = progress.batches_per_epoch;
                if flag.load(Ordering::Relaxed) {
                    after += 1;
                }
                if progress.epoch == 1 {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        });
        assert!(
            matches!(result, Err(nstudent_algo::Error::Interrupted)),
            "{algorithm:?}: {result:?}"
        );
        match algorithm {
            Algorithm::NoisyStudent => assert_eq!(after, 0, "batches after the stop"),
            _ => assert!(
                batches < 10 * 2 * per_epoch,
                "{batches} batches of 2 members, {per_epoch} per epoch, stopped in epoch 2 of 50"
            ),
        }
    }
}

/// A flag raised before training stops it before the first batch.
#[test]
fn a_stop_flag_raised_before_training_trains_nothing() {
    let data = shapes(100, 7);
    let engine = NativeEngine::default();
    let flag = std::sync::atomic::AtomicBool::new(true);
    let mut batches = 0usize;
    let result = Trainer::new(&engine, config(Algorithm::NoisyStudent))
        .unwrap()
        .stop_on(&flag)
        .train(&data, &mut |e: &nstudent_algo::Event| {
            if let nstudent_algo::Event::Fit { .. } = e {
                batches += 1;
            }
        });
    assert!(matches!(result, Err(nstudent_algo::Error::Interrupted)));
    assert_eq!(batches, 0);
}
