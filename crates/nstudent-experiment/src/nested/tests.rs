use super::*;
use crate::StudyConfig;
use std::sync::atomic::{AtomicUsize, Ordering};

use nstudent_engine::{Classifier, ModelSpec, NativeEngine};

use crate::checkpoint;
use crate::runner::{cell_seed, run_study, RunOptions};
use crate::{Shard, StudyDir};

/// The native engine, counting the models it builds, and failing the `fail_at`-th build
/// as a kill in the middle of a cell would.
struct Counting {
    builds: Arc<AtomicUsize>,
    fail_at: Option<usize>,
}

impl Engine for Counting {
    fn name(&self) -> &'static str {
        "native"
    }

    fn build(&self, spec: &ModelSpec, seed: u64) -> nstudent_engine::Result<Box<dyn Classifier>> {
        let n = self.builds.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at == Some(n) {
            return Err(nstudent_engine::Error::Invalid("killed".into()));
        }
        NativeEngine::default().build(spec, seed)
    }

    fn load(&self, path: &std::path::Path) -> nstudent_engine::Result<Box<dyn Classifier>> {
        NativeEngine::default().load(path)
    }
}

/// A 3-class task of 8x8 grey images (a bright row band per class, in noise), as CSV.
fn tiny_task(dir: &std::path::Path) -> String {
    let mut state: u32 = 99;
    let mut csv = String::new();
    for i in 0..240usize {
        let class = (i * 5 + i / 7) % 3;
        csv.push_str(&class.to_string());
        for px in 0..64usize {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = state >> 26;
            let band = px / 8 / 3 == class;
            csv.push_str(&format!(",{}", if band { 120 + noise } else { noise }));
        }
        csv.push('\n');
    }
    let path = dir.join("bands.csv");
    std::fs::write(&path, csv).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_cell_killed_in_its_search_resumes_from_its_checkpoint_with_the_same_result() {
    let data = tempfile::tempdir().unwrap();
    let mut c = StudyConfig::preset("quick").unwrap();
    c.tasks = vec![tiny_task(data.path())];
    c.algorithms = vec![Algorithm::NoisyStudent];
    c.outer_folds = 2;
    c.inner_folds = 2;
    c.space.unl_factor = vec![0.3];
    c.space.threshold = vec![0.5, 0.7];
    c.space.num_students = vec![1, 2];
    c.base.fit.epochs = 2;
    c.base.fit.batch_size = 16;
    c.epochs_by_source.clear();
    c.base.teacher_factor = 0.3;
    let options = RunOptions {
        shard: Shard::ALL,
        observer: Default::default(),
        max_cells: Some(1),
        skip_tasks: Vec::new(),
        only_cells: None,
        worker: false,
        claim_timeout: crate::runner::CLAIM_TIMEOUT,
    };
    let run = |dir: &std::path::Path, fail_at: Option<usize>| {
        let builds = Arc::new(AtomicUsize::new(0));
        let engine = Counting {
            builds: Arc::clone(&builds),
            fail_at,
        };
        let study =
            StudyDir::create(dir, &crate::study::tests_support::study(&c, 1, 1), false).unwrap();
        let work = NestedCv::with_engine(
            &crate::study::tests_support::study(&c, 1, 1),
            Box::new(engine),
        );
        let result = run_study(&study, &work, &options);
        (result, builds.load(Ordering::SeqCst))
    };
    let cell = &crate::plan::cells(&c)[0];

    let whole = tempfile::tempdir().unwrap();
    let (done, builds_whole) = run(whole.path(), None);
    done.unwrap();
    assert!(!checkpoint::path(whole.path(), cell).exists());

    // Each inner fold trains 1 teacher and 2 chains of 2 students: the 7th model is the
    // second fold's first student.
    let parts = tempfile::tempdir().unwrap();
    let (killed, _) = run(parts.path(), Some(7));
    assert!(killed.is_err());
    let owner = checkpoint::Owner {
        config_hash: c.hash(),
        seed: cell_seed(c.seed, cell),
    };
    let steps = checkpoint::read(parts.path(), cell, &owner);
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!((steps[0].inner_fold, steps[0].trainings), (0, 5));
    assert_eq!(steps[0].chains.len(), 2);

    let (resumed, builds_resumed) = run(parts.path(), None);
    resumed.unwrap();
    assert_eq!(builds_resumed, builds_whole - 5);
    assert!(!checkpoint::path(parts.path(), cell).exists());
    // The same cell file, to the last digit, but for the times.
    let text = |dir: &std::path::Path| {
        std::fs::read_to_string(dir.join(cell.relative_path()))
            .unwrap()
            .lines()
            .filter(|l| !l.contains("_seconds") && !l.contains("\"checksum\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (a, b) = (text(whole.path()), text(parts.path()));
    assert!(
        a.contains("\"search\"") && a.contains("inner_accuracy"),
        "{a}"
    );
    assert_eq!(a, b);
    let log = std::fs::read_to_string(parts.path().join(crate::store::LOG_FILE)).unwrap();
    assert!(
        log.contains("1 inner-search steps from the checkpoint"),
        "{log}"
    );
}

/// One training as the engine saw it.
#[derive(Debug, Clone, PartialEq)]
struct Fit {
    /// Training images.
    images: usize,
    dropout: f32,
    augment: Option<nstudent_data::augment::RandAugment>,
    /// FNV-1a over the bits of the trained model's probabilities on its training images.
    digest: u64,
}

impl Fit {
    /// Teachers train clean: no dropout, no augmentation.
    fn is_teacher(&self) -> bool {
        self.dropout == 0.0 && self.augment.is_none()
    }
}

/// The native engine, recording every training it does.
struct Recording {
    fits: Arc<Mutex<Vec<Fit>>>,
}

struct RecordingClassifier {
    inner: Box<dyn Classifier>,
    fits: Arc<Mutex<Vec<Fit>>>,
}

impl Engine for Recording {
    fn name(&self) -> &'static str {
        "native"
    }

    fn build(&self, spec: &ModelSpec, seed: u64) -> nstudent_engine::Result<Box<dyn Classifier>> {
        Ok(Box::new(RecordingClassifier {
            inner: NativeEngine::default().build(spec, seed)?,
            fits: Arc::clone(&self.fits),
        }))
    }

    fn load(&self, path: &std::path::Path) -> nstudent_engine::Result<Box<dyn Classifier>> {
        NativeEngine::default().load(path)
    }
}

impl Classifier for RecordingClassifier {
    fn spec(&self) -> &ModelSpec {
        self.inner.spec()
    }

    fn fit(
        &mut self,
        images: nstudent_data::ImagesRef<'_>,
        targets: nstudent_engine::Targets<'_>,
        options: &nstudent_engine::FitOptions,
        progress: &mut dyn FnMut(nstudent_engine::FitProgress),
    ) -> nstudent_engine::Result<nstudent_engine::FitReport> {
        let report = self.inner.fit(images, targets, options, progress)?;
        let probs = self.inner.predict_proba(images)?;
        let digest = probs.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, p| {
            (h ^ u64::from(p.to_bits())).wrapping_mul(0x0000_0100_0000_01b3)
        });
        self.fits.lock().unwrap().push(Fit {
            images: images.len(),
            dropout: self.inner.spec().dropout,
            augment: options.augment.clone(),
            digest,
        });
        Ok(report)
    }

    fn predict_proba(
        &self,
        images: nstudent_data::ImagesRef<'_>,
    ) -> nstudent_engine::Result<Vec<f32>> {
        self.inner.predict_proba(images)
    }

    fn save(&self, path: &std::path::Path) -> nstudent_engine::Result<()> {
        self.inner.save(path)
    }
}

/// Runs `cell` of `study` with a recording engine: its trainings.
fn run_cell(study: &StudyDir, c: &StudyConfig, cell: &Cell) -> Vec<Fit> {
    let fits = Arc::new(Mutex::new(Vec::new()));
    let engine = Recording {
        fits: Arc::clone(&fits),
    };
    let work = NestedCv::with_engine(
        &crate::study::tests_support::study(c, 1, 1),
        Box::new(engine),
    );
    let options = RunOptions {
        shard: Shard::ALL,
        observer: Default::default(),
        max_cells: None,
        skip_tasks: Vec::new(),
        only_cells: Some(vec![cell.index]),
        worker: false,
        claim_timeout: crate::runner::CLAIM_TIMEOUT,
    };
    run_study(study, &work, &options).unwrap();
    let fits = fits.lock().unwrap().clone();
    fits
}

/// A small searched config on the tiny task.
fn searched_config(data: &std::path::Path) -> StudyConfig {
    let mut c = StudyConfig::preset("quick").unwrap();
    c.tasks = vec![tiny_task(data)];
    c.outer_folds = 2;
    c.inner_folds = 2;
    c.space.unl_factor = vec![0.3];
    c.space.threshold = vec![0.5, 0.7];
    c.space.num_students = vec![1];
    c.space.ensemble_size = vec![2];
    c.base.fit.epochs = 1;
    c.base.fit.batch_size = 16;
    c.epochs_by_source.clear();
    c.base.teacher_factor = 0.3;
    c
}

#[test]
fn every_fold_pseudo_labels_the_separate_unlabeled_set_and_records_its_size() {
    let data = tempfile::tempdir().unwrap();
    let mut c = searched_config(data.path());
    c.algorithms = vec![Algorithm::NoisyStudent];
    // Threshold 0 and no balancing keep every pseudo-label, whatever the one-epoch
    // teacher predicts (balancing would drop rows by the teacher's class counts, which
    // depend on its last bits).
    c.space.threshold = vec![0.0, 0.7];
    c.base.balance = crate::config::Balance::None;
    c.base.unlabeled = crate::config::UnlabeledSchedule::All;
    let other = data.path().join("unlabeled");
    std::fs::create_dir(&other).unwrap();
    c.data.unlabeled = Some(tiny_task(&other));
    let dir = tempfile::tempdir().unwrap();
    let study = StudyDir::create(
        dir.path(),
        &crate::study::tests_support::study(&c, 1, 1),
        false,
    )
    .unwrap();
    for cell in crate::plan::cells(&c) {
        let fits = run_cell(&study, &c, &cell);
        let outcome = study.finished(&cell).unwrap().unwrap().outcome;
        assert_eq!(outcome.unlabeled_size, Some(240));
        // Cross-validation splits only the task: 120 training rows, 36 of them labeled.
        assert_eq!(outcome.train_size, 120);
        let teachers: Vec<usize> = fits
            .iter()
            .filter(|f| f.is_teacher())
            .map(|f| f.images)
            .collect();
        assert!(teachers.iter().all(|&n| n <= 36), "{teachers:?}");
        // Students see pseudo-labels from the 240-image set: more images than the 120 of
        // a training part could give.
        let most = fits
            .iter()
            .filter(|f| !f.is_teacher())
            .map(|f| f.images)
            .max();
        assert!(most.unwrap() > 120, "{fits:?}");
    }
}

#[test]
fn scrambled_test_fold_labels_change_no_choice_and_no_model() {
    let data = tempfile::tempdir().unwrap();
    let mut c = searched_config(data.path());
    c.algorithms = vec![Algorithm::NoisyStudent];
    let csv = std::path::PathBuf::from(&c.tasks[0]);
    let run = || {
        let dir = tempfile::tempdir().unwrap();
        let study = StudyDir::create(
            dir.path(),
            &crate::study::tests_support::study(&c, 1, 1),
            false,
        )
        .unwrap();
        let cell = &crate::plan::cells(&c)[0];
        let fits = run_cell(&study, &c, cell);
        (fits, study.finished(cell).unwrap().unwrap().outcome)
    };
    let (fits, clean) = run();
    // Fold 1's test rows are the first half (unshuffled 2-fold): give every one of them
    // another class, keeping the file the same task (its name seeds the cell).
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    let half = rows.len() / 2;
    let scrambled: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let (label, pixels) = row.split_once(',').unwrap();
            if i < half {
                let l: u32 = label.parse().unwrap();
                format!("{},{pixels}", (l + 1) % 3)
            } else {
                row.to_string()
            }
        })
        .collect();
    std::fs::write(&csv, scrambled.join("\n") + "\n").unwrap();
    let (fits_scrambled, leaked) = run();
    assert!(fits.len() > 3, "{fits:?}");
    assert_eq!(
        fits, fits_scrambled,
        "every model trained is the same, bit for bit"
    );
    assert_eq!(clean.hyperparameters, leaked.hyperparameters);
    assert_eq!(clean.search, leaked.search);
    // The labels did change what the test fold scores.
    assert_ne!(clean.metrics, leaked.metrics);
}

#[test]
fn the_noise_reaches_the_students_and_never_the_teachers() {
    let data = tempfile::tempdir().unwrap();
    let mut c = searched_config(data.path());
    c.base.augment.magnitude = 7.0;
    c.base.student.dropout = 0.25;
    for algorithm in [Algorithm::NoisyStudent, Algorithm::Ensemble] {
        c.algorithms = vec![algorithm];
        let dir = tempfile::tempdir().unwrap();
        let study = StudyDir::create(
            dir.path(),
            &crate::study::tests_support::study(&c, 1, 1),
            false,
        )
        .unwrap();
        let fits = run_cell(&study, &c, &crate::plan::cells(&c)[0]);
        let (teachers, students): (Vec<&Fit>, Vec<&Fit>) = fits
            .iter()
            .partition(|f| f.dropout == 0.0 && f.augment.is_none());
        // 2 inner folds and the refit; one model each, or two for the ensemble; one
        // student per chain (2 thresholds in the inner folds).
        let members = if algorithm == Algorithm::Ensemble {
            2
        } else {
            1
        };
        assert_eq!(teachers.len(), 3 * members, "{algorithm}: {fits:?}");
        assert_eq!(
            students.len(),
            (2 * 2 + 1) * members,
            "{algorithm}: {fits:?}"
        );
        for s in students {
            assert_eq!(s.dropout, 0.25);
            let aug = s.augment.as_ref().unwrap();
            assert_eq!((aug.num_ops, aug.magnitude), (2, 7.0));
        }
        assert!(teachers.iter().all(|t| t.is_teacher()));
    }
}

#[test]
fn every_algorithm_of_a_fold_starts_from_the_same_teacher_in_every_inner_fold() {
    let data = tempfile::tempdir().unwrap();
    let c = searched_config(data.path());
    assert!(
        c.base.student.dropout > 0.0,
        "students must differ from teachers"
    );
    let dir = tempfile::tempdir().unwrap();
    let study = StudyDir::create(
        dir.path(),
        &crate::study::tests_support::study(&c, 1, 1),
        false,
    )
    .unwrap();
    // One cell per run, in study order, each with its own record of teachers.
    let mut teachers: HashMap<(usize, Algorithm), Vec<u64>> = HashMap::new();
    for cell in crate::plan::cells(&c) {
        let fits = run_cell(&study, &c, &cell);
        let digests = fits
            .iter()
            .filter(|f| f.is_teacher())
            .map(|f| f.digest)
            .collect();
        teachers.insert((cell.fold, cell.algorithm), digests);
    }
    for fold in [1, 2] {
        let baseline = &teachers[&(fold, Algorithm::Baseline)];
        let ns = &teachers[&(fold, Algorithm::NoisyStudent)];
        let ensemble = &teachers[&(fold, Algorithm::Ensemble)];
        // Baseline: the refit. Noisy Student: inner fold 1, inner fold 2, refit. Ensemble:
        // two members for each of those.
        assert_eq!((baseline.len(), ns.len(), ensemble.len()), (1, 3, 6));
        assert_eq!(ns[2], baseline[0], "fold {fold}: refit teacher = Baseline");
        assert_eq!(
            *ns,
            vec![ensemble[0], ensemble[2], ensemble[4]],
            "fold {fold}: every first teacher = the ensemble's member 0"
        );
        assert_ne!(ensemble[0], ensemble[1], "members differ");
        assert_ne!(ns[0], ns[1], "inner folds differ");
    }
    assert_ne!(
        teachers[&(1, Algorithm::Baseline)],
        teachers[&(2, Algorithm::Baseline)]
    );
}

/// The search of one cell of `algorithm` under `c` on the tiny task: (the plan's count,
/// the models the cell trained, the models the engine built), each less the refit.
fn search_counts(c: &StudyConfig, algorithm: Algorithm) -> (usize, usize, usize) {
    let data = tempfile::tempdir().unwrap();
    let mut c = c.clone();
    c.tasks = vec![tiny_task(data.path())];
    c.algorithms = vec![algorithm];
    c.outer_folds = 2;
    c.inner_folds = 2;
    c.base.fit.batch_size = 16;
    c.epochs_by_source.clear();
    c.base.teacher_factor = 0.3;
    let builds = Arc::new(AtomicUsize::new(0));
    let engine = Counting {
        builds: Arc::clone(&builds),
        fail_at: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let study = StudyDir::create(
        dir.path(),
        &crate::study::tests_support::study(&c, 1, 1),
        false,
    )
    .unwrap();
    let work = NestedCv::with_engine(
        &crate::study::tests_support::study(&c, 1, 1),
        Box::new(engine),
    );
    let options = RunOptions {
        max_cells: Some(1),
        ..RunOptions::default()
    };
    run_study(&study, &work, &options).unwrap();
    let cell = &crate::plan::cells(&c)[0];
    let outcome = study.finished(cell).unwrap().unwrap().outcome;
    let h = outcome.hyperparameters.unwrap();
    let refit = h.ensemble_size * (1 + h.num_students);
    let plan = SearchPlan::for_cell(&c, cell);
    let (members, students, _) = plan.largest_refit(&c);
    let planned = plan.trainings(&c).nstudent as usize - members * (1 + students);
    let built = builds.load(Ordering::SeqCst) - refit;
    (planned, outcome.trainings - refit, built)
}

#[test]
fn the_plan_counts_what_the_search_trains() {
    let mut c = StudyConfig::preset("quick").unwrap();
    c.base.unlabeled = crate::config::UnlabeledSchedule::All;
    c.space.threshold = vec![0.5, 0.9];
    c.space.num_students = vec![1, 2];
    c.space.ensemble_size = vec![1, 2];
    c.base.fit.epochs = 1;
    // A grid: 2 inner folds x (teachers + every chain's 2 students), nothing stops early.
    let (planned, trained, built) = search_counts(&c, Algorithm::NoisyStudent);
    assert_eq!((planned, trained, built), (2 * (1 + 2 * 2), 2 * 5, 2 * 5));
    let (planned, trained, built) = search_counts(&c, Algorithm::Ensemble);
    assert_eq!((planned, trained), (2 * (2 + 2 * 2 + 2 * 2 * 2), 2 * 14));
    assert_eq!(built, trained);
    // Successive halving: rungs of 1, 2 and 3 epochs keep 4, 2, then 1 chains.
    c.search = crate::config::SearchStrategy::Halving;
    c.halving.eta = 2;
    c.base.fit.epochs = 3;
    c.space.threshold = vec![0.3, 0.5, 0.7, 0.9];
    c.space.num_students = vec![1];
    let (planned, trained, built) = search_counts(&c, Algorithm::NoisyStudent);
    assert_eq!(planned, 2 * ((1 + 4) + (1 + 2) + (1 + 1)));
    assert_eq!((trained, built), (planned, planned));
    // The notebook's ensemble search runs Noisy Student's inner search even when that has
    // a single candidate (2 folds x (teacher + student)), then the largest teachers once
    // and a student chain per size on the last inner fold.
    c.search = crate::config::SearchStrategy::Grid;
    c.base.fit.epochs = 1;
    c.space.threshold = vec![0.5];
    c.space.ensemble_size = vec![2, 3];
    c.space.ensemble_search = crate::config::EnsembleSearch::AfterNoisyStudent;
    let (planned, trained, built) = search_counts(&c, Algorithm::Ensemble);
    assert_eq!(planned, 2 * (1 + 1) + 3 + (2 + 3));
    assert_eq!((trained, built), (planned, planned));
}

#[test]
fn the_notebooks_ensemble_search_takes_noisy_students_choice_then_picks_a_size() {
    let data = tempfile::tempdir().unwrap();
    let mut c = StudyConfig::preset("seed").unwrap();
    c.tasks = vec![tiny_task(data.path())];
    c.outer_folds = 2;
    c.inner_folds = 2;
    c.algorithms = vec![Algorithm::NoisyStudent, Algorithm::Ensemble];
    c.space.unl_factor = vec![0.2, 0.3];
    c.space.threshold = vec![0.5, 1.0];
    c.space.num_students = vec![1, 2];
    c.space.ensemble_size = vec![2, 3];
    c.base.fit.epochs = 1;
    c.base.fit.batch_size = 16;
    c.epochs_by_source.clear();
    c.base.teacher_factor = 0.3;
    let dir = tempfile::tempdir().unwrap();
    let study = StudyDir::create(
        dir.path(),
        &crate::study::tests_support::study(&c, 1, 1),
        false,
    )
    .unwrap();
    let work = NestedCv::with_engine(
        &crate::study::tests_support::study(&c, 1, 1),
        Box::new(NativeEngine::default()),
    );
    let options = RunOptions {
        shard: Shard::ALL,
        observer: Default::default(),
        max_cells: None,
        skip_tasks: Vec::new(),
        only_cells: None,
        worker: false,
        claim_timeout: crate::runner::CLAIM_TIMEOUT,
    };
    run_study(&study, &work, &options).unwrap();
    let cells = crate::plan::cells(&c);
    for fold in [1, 2] {
        let get = |a: Algorithm| {
            let cell = cells
                .iter()
                .find(|x| x.fold == fold && x.algorithm == a)
                .unwrap();
            study.finished(cell).unwrap().unwrap().outcome
        };
        let (ns, ensemble) = (get(Algorithm::NoisyStudent), get(Algorithm::Ensemble));
        let (h_ns, h_e) = (
            ns.hyperparameters.unwrap(),
            ensemble.hyperparameters.unwrap(),
        );
        // Noisy Student's own choice, recomputed in the ensemble's cell.
        assert_eq!(
            (h_e.unl_factor, h_e.threshold, h_e.num_students),
            (h_ns.unl_factor, h_ns.threshold, h_ns.num_students)
        );
        assert!([2, 3].contains(&h_e.ensemble_size));
        // Its search holds Noisy Student's candidates, then one score per size, measured
        // on the last inner fold only.
        let n_ns = ns.search.len();
        assert_eq!(ensemble.search[..n_ns], ns.search[..]);
        let sizes = &ensemble.search[n_ns..];
        assert_eq!(sizes.len(), 2, "{sizes:?}");
        for s in sizes {
            assert_eq!(s.inner_accuracy.len(), 1);
            assert_eq!(s.hyperparameters.threshold, h_ns.threshold);
        }
        let best = sizes
            .iter()
            .find(|s| s.hyperparameters.ensemble_size == h_e.ensemble_size)
            .unwrap();
        assert!(sizes.iter().all(|s| s.mean_accuracy <= best.mean_accuracy));
        // The cell counts what it trained: the search, the sizes and the refit.
        let plan = crate::plan::trainings(&c, Algorithm::Ensemble).nstudent as usize;
        assert!(
            ensemble.trainings <= plan,
            "{} > {plan}",
            ensemble.trainings
        );
        assert!(ensemble.trainings > ns.trainings);
    }
}

#[test]
fn sharing_the_noisy_student_search_within_a_fold_changes_no_bit() {
    // A small `seed` study (every algorithm, the notebook's ensemble search) computed with
    // the fold's shared cache and without it: every cell equal in every field but the
    // times and the count of reused trainings, and the shared run trains fewer models.
    let data = tempfile::tempdir().unwrap();
    let mut c = StudyConfig::preset("seed").unwrap();
    c.tasks = vec![tiny_task(data.path())];
    c.outer_folds = 2;
    c.inner_folds = 2;
    c.space.unl_factor = vec![0.3, 0.2];
    c.space.threshold = vec![0.5, 0.7];
    c.space.num_students = vec![1, 2];
    c.space.ensemble_size = vec![2, 3];
    c.base.fit.epochs = 1;
    c.base.fit.batch_size = 16;
    c.epochs_by_source.clear();
    c.base.teacher_factor = 0.3;
    let options = RunOptions {
        shard: Shard::ALL,
        observer: Default::default(),
        max_cells: None,
        skip_tasks: Vec::new(),
        only_cells: None,
        worker: false,
        claim_timeout: crate::runner::CLAIM_TIMEOUT,
    };
    let run = |share: bool| {
        let dir = tempfile::tempdir().unwrap();
        let study = StudyDir::create(
            dir.path(),
            &crate::study::tests_support::study(&c, 1, 1),
            false,
        )
        .unwrap();
        let mut work = NestedCv::with_engine(
            &crate::study::tests_support::study(&c, 1, 1),
            Box::new(NativeEngine::default()),
        );
        if !share {
            work = work.without_sharing();
        }
        run_study(&study, &work, &options).unwrap();
        let records: Vec<_> = crate::plan::cells(&c)
            .iter()
            .map(|cell| study.finished(cell).unwrap().unwrap())
            .collect();
        (dir, records)
    };
    let (_a, shared) = run(true);
    let (_b, alone) = run(false);
    let comparable = |r: &crate::CellRecord| {
        let mut r = r.clone();
        r.outcome.training_seconds = 0.0;
        r.outcome.inference_seconds = 0.0;
        r.outcome.cell_seconds = 0.0;
        r.outcome.reused_trainings = 0;
        r.checksum = None;
        r
    };
    assert_eq!(shared.len(), 8);
    for (x, y) in shared.iter().zip(&alone) {
        assert_eq!(comparable(x), comparable(y), "{} fold {}", x.task, x.fold);
        assert_eq!(y.outcome.reused_trainings, 0);
    }
    // In each fold, one of the two cells read the search the other computed.
    for fold in [1, 2] {
        let reused: usize = shared
            .iter()
            .filter(|r| r.fold == fold)
            .map(|r| r.outcome.reused_trainings)
            .sum();
        let ns = shared
            .iter()
            .find(|r| r.fold == fold && r.algorithm == Algorithm::NoisyStudent)
            .unwrap();
        let refit = ns.outcome.hyperparameters.unwrap().num_students + 1;
        assert_eq!(reused, ns.outcome.trainings - refit, "fold {fold}");
    }
}

#[test]
fn only_label_sorted_data_counts_as_sorted() {
    assert!(sorted_by_label(&[0, 0, 1, 2, 2]));
    assert!(!sorted_by_label(&[0, 1, 0, 2]));
    assert!(!sorted_by_label(&[3, 3, 3]));
    assert!(!sorted_by_label(&[]));
}
