//! Orchestration of the algorithms, checked with a tiny deterministic engine.

mod common;

use common::{bars, CentroidEngine};
use nstudent_algo::{
    split_labeled, split_labeled_at, AlgoConfig, Algorithm, Event, LabelKind, LabeledSplitMode,
    Model, Silent, Stage, Trainer, UnlabeledSchedule,
};
use nstudent_data::{Dataset, ImagesRef};
use nstudent_engine::{
    Classifier, Engine, FitOptions, FitProgress, FitReport, ModelSpec, Targets, Threads,
};

fn engine() -> CentroidEngine {
    CentroidEngine { scale: 20.0 }
}

fn config() -> AlgoConfig {
    AlgoConfig {
        labeled_split: LabeledSplitMode::First,
        teacher_factor: 0.1,
        unl_factor: 0.2,
        unlabeled: UnlabeledSchedule::Slice,
        num_students: 3,
        threshold: 0.5,
        ..AlgoConfig::default()
    }
}

fn bits(model: &Model, data: &Dataset) -> Vec<u32> {
    model
        .predict_proba(data.view())
        .unwrap()
        .iter()
        .map(|p| p.to_bits())
        .collect()
}

#[test]
fn slice_schedule_adds_one_slice_per_iteration_and_returns_every_student() {
    let data = bars(200, 3, 60.0, 1);
    let engine = engine();
    let outcome = Trainer::new(&engine, config())
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap();
    let chain = outcome.chain.as_ref().unwrap();
    assert_eq!(chain.students.len(), 3);
    assert!(chain.stopped_early.is_none());
    let used: Vec<usize> = chain.iterations.iter().map(|r| r.unlabeled_rows).collect();
    assert_eq!(used, vec![40, 80, 120]);
    // Relabeling (the default) predicts every used row again.
    let predicted: Vec<usize> = chain.iterations.iter().map(|r| r.predicted_rows).collect();
    assert_eq!(predicted, vec![40, 80, 120]);
    assert_eq!(outcome.labeled_rows, 20);
    assert_eq!(outcome.unlabeled_rows, 180);
    assert!(std::ptr::eq(outcome.final_model(), &chain.students[2]));

    let keep = AlgoConfig {
        relabel: false,
        ..config()
    };
    let chain = Trainer::new(&engine, keep)
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap()
        .chain
        .unwrap();
    let predicted: Vec<usize> = chain.iterations.iter().map(|r| r.predicted_rows).collect();
    assert_eq!(predicted, vec![40, 40, 40]);

    let all = AlgoConfig {
        unlabeled: UnlabeledSchedule::All,
        ..config()
    };
    let chain = Trainer::new(&engine, all)
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap()
        .chain
        .unwrap();
    let used: Vec<usize> = chain.iterations.iter().map(|r| r.unlabeled_rows).collect();
    assert_eq!(used, vec![180, 180, 180]);

    // The whole pool without relabeling: labeled once, then reused.
    let all_kept = AlgoConfig {
        unlabeled: UnlabeledSchedule::All,
        relabel: false,
        ..config()
    };
    let chain = Trainer::new(&engine, all_kept)
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap()
        .chain
        .unwrap();
    let predicted: Vec<usize> = chain.iterations.iter().map(|r| r.predicted_rows).collect();
    assert_eq!(predicted, vec![180, 0, 0]);
    assert_eq!(
        chain.iterations[0].kept_per_class,
        chain.iterations[2].kept_per_class
    );
}

#[test]
fn students_train_on_labeled_plus_balanced_pseudo_labels() {
    let data = bars(300, 3, 60.0, 2);
    let engine = engine();
    let c = AlgoConfig {
        num_students: 1,
        threshold: 0.0,
        ..config()
    };
    let outcome = Trainer::new(&engine, c.clone())
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap();
    let report = &outcome.chain.as_ref().unwrap().iterations[0];
    let kept: usize = report.kept_per_class.iter().sum();
    assert_eq!(kept, 60, "threshold 0 keeps every row of the slice");
    // Balancing to the mean, 20 per class: a class with more rows keeps 20, a class with
    // k < 20 rows repeats each row 20 / k times or once more (a seeded draw), and a class with
    // no row stays empty.
    let mut rare = 0;
    for (&k, &t) in report.kept_per_class.iter().zip(&report.trained_per_class) {
        match k {
            0 => assert_eq!(t, 0),
            k if k >= 20 => assert_eq!(t, 20),
            k => {
                rare += 1;
                let copies = 20 / k;
                assert!(
                    (k * copies..=k * (copies + 1)).contains(&t),
                    "{k} rows duplicated to {t}"
                );
                if 20 % k == 0 {
                    assert_eq!(t, 20, "{k} rows divide 20 evenly");
                }
            }
        }
    }
    assert!(
        report.kept_per_class.iter().any(|&k| k >= 20),
        "the task has a frequent class: {report:?}"
    );
    assert!(
        rare > 0,
        "the slice has a class of fewer than 20 rows: {report:?}"
    );
    let unbalanced = AlgoConfig {
        balance: nstudent_algo::Balance::None,
        ..c
    };
    let outcome = Trainer::new(&engine, unbalanced)
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap();
    let report = &outcome.chain.unwrap().iterations[0];
    assert_eq!(report.trained_per_class, report.kept_per_class);
}

#[test]
fn no_confident_rows_means_a_labeled_only_student() {
    let data = bars(100, 3, 60.0, 3);
    // A very flat softmax: no probability comes near 0.99.
    let engine = CentroidEngine { scale: 1e6 };
    let c = AlgoConfig {
        threshold: 0.99,
        num_students: 1,
        ..config()
    };
    let outcome = Trainer::new(&engine, c)
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap();
    let report = &outcome.chain.unwrap().iterations[0];
    assert!(report.labeled_only);
    assert_eq!(report.trained_per_class, vec![0, 0, 0]);
}

#[test]
fn a_pool_that_runs_out_stops_the_chain_with_a_message() {
    // 5 classes x 2 rows: a stratified 10% still takes one row per class, so half the data is
    // labeled and the 0.3 slices run out after two iterations.
    let images = (0..10 * 36).map(|i| (i % 200) as u8).collect();
    let labels = vec![0, 1, 2, 3, 4, 0, 1, 2, 3, 4];
    let names = (0..5).map(|c| c.to_string()).collect();
    let data = Dataset::new(
        images,
        labels,
        nstudent_data::ImageShape::new(6, 6, 1),
        names,
        "x",
    )
    .unwrap();
    let c = AlgoConfig {
        labeled_split: LabeledSplitMode::Stratified,
        unl_factor: 0.3,
        num_students: 3,
        threshold: 0.0,
        ..config()
    };
    let engine = engine();
    let mut stops = Vec::new();
    let outcome = Trainer::new(&engine, c)
        .unwrap()
        .train(&data, &mut |e: &Event<'_>| {
            if let Event::Stopped { message } = e {
                stops.push(message.to_string());
            }
        })
        .unwrap();
    let chain = outcome.chain.unwrap();
    assert_eq!(chain.students.len(), 2);
    let message = chain.stopped_early.unwrap();
    assert!(message.contains("2 of 3 iterations ran"), "{message}");
    assert_eq!(stops, vec![message]);
}

#[test]
fn invalid_hyperparameters_are_rejected_before_training() {
    let engine = engine();
    for bad in [
        AlgoConfig {
            threshold: -0.5,
            ..config()
        },
        AlgoConfig {
            unl_factor: 0.0,
            ..config()
        },
        AlgoConfig {
            num_students: 5,
            ..config()
        },
        AlgoConfig {
            algorithm: Algorithm::Ensemble,
            ensemble_size: 0,
            ..config()
        },
    ] {
        let err = Trainer::new(&engine, bad).err().expect("rejected");
        assert!(err.kind().is_users());
    }
}

/// The pool's labels cannot influence anything: scrambling them gives bit-identical models.
#[test]
fn scrambled_pool_labels_give_bit_identical_models() {
    let data = bars(200, 3, 80.0, 4);
    let mut scrambled = data.clone();
    let engine = engine();
    for algorithm in [Algorithm::NoisyStudent, Algorithm::Ensemble] {
        let c = AlgoConfig {
            algorithm,
            labels: LabelKind::Soft,
            ..config()
        };
        // `first` mode chooses the labeled rows without reading labels: scramble the rest.
        for l in scrambled.labels[20..].iter_mut() {
            *l = (*l + 1) % 3;
        }
        let trainer = Trainer::new(&engine, c.clone()).unwrap();
        let a = trainer.train(&data, &mut Silent).unwrap();
        let b = trainer.train(&scrambled, &mut Silent).unwrap();
        let (ca, cb) = (a.chain.unwrap(), b.chain.unwrap());
        for (sa, sb) in ca.students.iter().zip(&cb.students) {
            assert_eq!(bits(sa, &data), bits(sb, &data));
        }
        // Stratified split: the same labeled rows with the pool's labels scrambled.
        let split = split_labeled(&data, 0.1, LabeledSplitMode::Stratified, 9).unwrap();
        let mut other = data.clone();
        for (i, l) in other.labels.iter_mut().enumerate() {
            if split.labeled_rows.binary_search(&i).is_err() {
                *l = (*l + 2) % 3;
            }
        }
        let split_b = split_labeled_at(&other, split.labeled_rows.clone()).unwrap();
        assert_eq!(split.pool, split_b.pool);
        let teacher = trainer.teacher(&split.labeled, &mut Silent).unwrap();
        let ta = trainer
            .noisy_student(&split, &teacher, None, &mut Silent)
            .unwrap();
        let tb = trainer
            .noisy_student(&split_b, &teacher, None, &mut Silent)
            .unwrap();
        assert_eq!(bits(&ta.students[2], &data), bits(&tb.students[2], &data));
    }
}

#[test]
fn precomputed_teacher_probabilities_give_the_same_chain() {
    let data = bars(200, 3, 80.0, 5);
    let engine = engine();
    let trainer = Trainer::new(&engine, config()).unwrap();
    let split = split_labeled(&data, 0.1, LabeledSplitMode::Stratified, 1).unwrap();
    let teacher = trainer.teacher(&split.labeled, &mut Silent).unwrap();
    let probs = teacher.predict_proba(split.pool.view()).unwrap();
    let a = trainer
        .noisy_student(&split, &teacher, None, &mut Silent)
        .unwrap();
    let b = trainer
        .noisy_student(&split, &teacher, Some(&probs), &mut Silent)
        .unwrap();
    assert_eq!(
        a.iterations[0].kept_per_class,
        b.iterations[0].kept_per_class
    );
    assert_eq!(bits(&a.students[2], &data), bits(&b.students[2], &data));
    assert!(trainer
        .noisy_student(&split, &teacher, Some(&probs[1..]), &mut Silent)
        .is_err());
}

#[test]
fn ensembles_have_ensemble_size_members_and_save_and_load() {
    let data = bars(200, 3, 80.0, 6);
    let engine = engine();
    let c = AlgoConfig {
        algorithm: Algorithm::Ensemble,
        ensemble_size: 3,
        num_students: 2,
        ..config()
    };
    let mut fits = std::collections::BTreeSet::new();
    let outcome = Trainer::new(&engine, c.clone())
        .unwrap()
        .eval(&data)
        .train(&data, &mut |e: &Event<'_>| {
            if let Event::Fit { stage, member, .. } = e {
                fits.insert((format!("{stage:?}"), *member));
            }
        })
        .unwrap();
    assert_eq!(outcome.teacher.len(), 3);
    assert!(outcome.teacher_eval_accuracy.unwrap() > 0.5);
    let chain = outcome.chain.as_ref().unwrap();
    assert!(chain.students.iter().all(|s| s.len() == 3));
    assert_eq!(fits.len(), 9, "{fits:?}");
    assert!(fits.contains(&(format!("{:?}", Stage::Student { iteration: 2 }), 2)));
    assert!(chain
        .iterations
        .iter()
        .all(|r| r.eval_accuracy.is_some() && r.fit.len() == 3));

    // Members side by side (in waves of 2 on 2 threads, all 3 on 3) or one after the other:
    // the same models.
    for trainer in [
        Trainer::new(&engine, c.clone())
            .unwrap()
            .members_one_by_one(),
        Trainer::new(&engine, c.clone())
            .unwrap()
            .threads(Threads::resolve(2)),
        Trainer::new(&engine, c.clone())
            .unwrap()
            .threads(Threads::resolve(3)),
    ] {
        let again = trainer.train(&data, &mut Silent).unwrap();
        assert_eq!(
            bits(again.final_model(), &data),
            bits(outcome.final_model(), &data)
        );
    }

    // The ensemble averages its members.
    let model = outcome.final_model();
    let avg = model.predict_proba(data.view()).unwrap();
    let m0 = model.members()[0].predict_proba(data.view()).unwrap();
    let m1 = model.members()[1].predict_proba(data.view()).unwrap();
    let m2 = model.members()[2].predict_proba(data.view()).unwrap();
    assert!((avg[0] - (m0[0] + m1[0] + m2[0]) / 3.0).abs() < 1e-6);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ens");
    model.save(&path).unwrap();
    model.save(&path).unwrap(); // replacing an ensemble is allowed
    let loaded = Model::load(&engine, &path).unwrap();
    assert_eq!(loaded.len(), 3);
    assert_eq!(bits(&loaded, &data), bits(model, &data));
    // A single model is one file; a directory that is not an ensemble is refused.
    let single = dir.path().join("one.json");
    outcome.teacher.members()[0].save(&single).unwrap();
    assert_eq!(Model::load(&engine, &single).unwrap().len(), 1);
    std::fs::create_dir(dir.path().join("plain")).unwrap();
    assert!(model.save(&dir.path().join("plain")).is_err());
    assert!(Model::load(&engine, &dir.path().join("plain")).is_err());
    assert!(Model::load(&engine, &dir.path().join("missing")).is_err());
}

#[test]
fn the_ensemble_teacher_includes_the_baseline() {
    let data = bars(150, 3, 80.0, 7);
    let engine = engine();
    let base = Trainer::new(
        &engine,
        AlgoConfig {
            algorithm: Algorithm::Baseline,
            ..config()
        },
    )
    .unwrap()
    .train(&data, &mut Silent)
    .unwrap();
    assert!(base.chain.is_none());
    let ens = Trainer::new(
        &engine,
        AlgoConfig {
            algorithm: Algorithm::Ensemble,
            ..config()
        },
    )
    .unwrap()
    .train(&data, &mut Silent)
    .unwrap();
    let single = Model::single(dyn_clone(&engine, &ens.teacher));
    assert_eq!(bits(&single, &data), bits(&base.teacher, &data));
}

/// Member 0 of a model, through a save/load round trip.
fn dyn_clone(engine: &CentroidEngine, model: &Model) -> Box<dyn nstudent_engine::Classifier> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m");
    model.members()[0].save(&p).unwrap();
    nstudent_engine::Engine::load(engine, &p).unwrap()
}

#[test]
fn a_separate_unlabeled_set_replaces_the_pool_and_is_sliced_itself() {
    let data = bars(200, 3, 60.0, 1);
    let extra = bars(100, 3, 60.0, 7);
    let engine = engine();
    // Every training row labeled: allowed only with a separate set.
    let all_labeled = AlgoConfig {
        teacher_factor: 1.0,
        unl_factor: 0.25,
        ..config()
    };
    let e = Trainer::new(&engine, all_labeled.clone()).err().unwrap();
    assert!(e.to_string().contains("no unlabeled data"), "{e}");
    let outcome = Trainer::with_unlabeled(&engine, all_labeled.clone(), extra.view(), "extra")
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap();
    assert_eq!(outcome.labeled_rows, 200);
    assert_eq!(outcome.unlabeled_rows, 100);
    let chain = outcome.chain.as_ref().unwrap();
    // unl_factor slices the unlabeled set: 25 of its 100 rows per iteration.
    let used: Vec<usize> = chain.iterations.iter().map(|r| r.unlabeled_rows).collect();
    assert_eq!(used, vec![25, 50, 75]);

    // With a labeled fraction, the other training rows are not used.
    let outcome = Trainer::with_unlabeled(&engine, config(), extra.view(), "extra")
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap();
    assert_eq!((outcome.labeled_rows, outcome.unlabeled_rows), (20, 100));

    // Slices that would need more than the set are refused before training.
    let too_many = AlgoConfig {
        unl_factor: 0.5,
        ..config()
    };
    let e = Trainer::with_unlabeled(&engine, too_many, extra.view(), "extra")
        .err()
        .unwrap();
    assert!(e.to_string().contains("exceeds the unlabeled set"), "{e}");

    // Another image size is refused, naming both shapes.
    let small = nstudent_data::ImageShape::new(2, 2, 1);
    let pixels = vec![0u8; 10 * small.len()];
    let other = nstudent_data::ImagesRef::new(&pixels, small).unwrap();
    let e = Trainer::with_unlabeled(&engine, config(), other, "tiny")
        .unwrap()
        .train(&data, &mut Silent)
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("tiny")
            && msg.contains(&small.to_string())
            && msg.contains(&data.shape.to_string()),
        "{msg}"
    );
    assert!(e.kind().is_users());
}

/// Wraps the centroid engine to record, for every training, the threads it was given, and the
/// most trainings that ran at once.
struct Budgeted {
    inner: CentroidEngine,
    log: std::sync::Arc<BudgetLog>,
}

#[derive(Default)]
struct BudgetLog {
    running: std::sync::atomic::AtomicUsize,
    most_at_once: std::sync::atomic::AtomicUsize,
    threads: std::sync::Mutex<Vec<usize>>,
}

struct BudgetedModel {
    inner: Box<dyn Classifier>,
    log: std::sync::Arc<BudgetLog>,
}

impl Engine for Budgeted {
    fn name(&self) -> &'static str {
        "budgeted"
    }
    fn build(&self, spec: &ModelSpec, seed: u64) -> nstudent_engine::Result<Box<dyn Classifier>> {
        Ok(Box::new(BudgetedModel {
            inner: self.inner.build(spec, seed)?,
            log: self.log.clone(),
        }))
    }
    fn load(&self, path: &std::path::Path) -> nstudent_engine::Result<Box<dyn Classifier>> {
        self.inner.load(path)
    }
}

impl Classifier for BudgetedModel {
    fn spec(&self) -> &ModelSpec {
        self.inner.spec()
    }
    fn fit(
        &mut self,
        images: ImagesRef<'_>,
        targets: Targets<'_>,
        options: &FitOptions,
        progress: &mut dyn FnMut(FitProgress),
    ) -> nstudent_engine::Result<FitReport> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.log.running.fetch_add(1, SeqCst) + 1;
        self.log.most_at_once.fetch_max(now, SeqCst);
        self.log.threads.lock().unwrap().push(options.threads.get());
        // Long enough for side-by-side members to overlap.
        std::thread::sleep(std::time::Duration::from_millis(30));
        let report = self.inner.fit(images, targets, options, progress);
        self.log.running.fetch_sub(1, SeqCst);
        report
    }
    fn predict_proba(&self, images: ImagesRef<'_>) -> nstudent_engine::Result<Vec<f32>> {
        self.inner.predict_proba(images)
    }
    fn save(&self, path: &std::path::Path) -> nstudent_engine::Result<()> {
        self.inner.save(path)
    }
}

#[test]
fn ensemble_members_share_the_thread_budget_without_exceeding_it() {
    let data = bars(120, 3, 80.0, 6);
    let c = AlgoConfig {
        algorithm: Algorithm::Ensemble,
        ensemble_size: 3,
        num_students: 1,
        ..config()
    };
    // (budget, one by one) -> (most trainings at once, threads of each training)
    for (budget, one_by_one, at_once, each) in [
        (1, false, 1, 1),
        (2, false, 2, 1),
        (4, false, 3, 1),
        (6, false, 3, 2),
        (4, true, 1, 4),
    ] {
        let engine = Budgeted {
            inner: engine(),
            log: Default::default(),
        };
        let mut trainer = Trainer::new(&engine, c.clone())
            .unwrap()
            .threads(Threads::resolve(budget));
        if one_by_one {
            trainer = trainer.members_one_by_one();
        }
        trainer.train(&data, &mut Silent).unwrap();
        let log = &engine.log;
        let threads = log.threads.lock().unwrap().clone();
        assert_eq!(threads.len(), 6, "3 teachers and 3 students");
        assert!(threads.iter().all(|&t| t == each), "{budget}: {threads:?}");
        assert_eq!(
            log.most_at_once.load(std::sync::atomic::Ordering::SeqCst),
            at_once,
            "budget {budget}"
        );
    }
}
