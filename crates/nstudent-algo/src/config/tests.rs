use super::*;

fn rejects(change: impl FnOnce(&mut AlgoConfig), needle: &str) {
    let mut c = AlgoConfig::default();
    change(&mut c);
    let err = c.checked().expect_err(needle);
    assert!(err.kind().is_users());
    assert!(err.to_string().contains(needle), "{err}");
}

#[test]
fn defaults_are_valid() {
    AlgoConfig::default().checked().unwrap();
    for algorithm in [Algorithm::Baseline, Algorithm::Ensemble] {
        AlgoConfig {
            algorithm,
            ..AlgoConfig::default()
        }
        .checked()
        .unwrap();
    }
}

#[test]
fn out_of_range_hyperparameters_are_rejected() {
    rejects(|c| c.threshold = f64::NAN, "threshold");
    rejects(|c| c.threshold = -0.1, "threshold");
    rejects(|c| c.teacher_factor = 0.0, "teacher_factor");
    rejects(|c| c.teacher_factor = 1.5, "teacher_factor");
    rejects(|c| c.teacher_factor = 1.0, "no unlabeled data");
    rejects(|c| c.unl_factor = 0.0, "unl_factor");
    rejects(|c| c.unl_factor = 1.01, "unl_factor");
    rejects(|c| c.ensemble_size = 0, "ensemble_size");
    rejects(|c| c.num_students = 0, "num_students");
    rejects(|c| c.temperature = 0.0, "temperature");
    // Sizes that would abort on an allocation or run for ever.
    rejects(
        |c| c.num_students = 1 << 32,
        "num_students 4294967296 is more than",
    );
    rejects(
        |c| c.ensemble_size = 100_000,
        "ensemble_size 100000 is more than",
    );
    rejects(
        |c| c.fit.epochs = u32::MAX as usize,
        "epochs 4294967295 is more than",
    );
    rejects(
        |c| c.fit.batch_size = 1 << 20,
        "batch size 1048576 is more than",
    );
    rejects(
        |c| c.augment.num_ops = 1_000_000_000,
        "operations per image",
    );
    rejects(|c| c.balance_target = Some(usize::MAX), "balance target");
    let mut at_limits = AlgoConfig {
        algorithm: Algorithm::Ensemble,
        ensemble_size: MAX_ENSEMBLE_SIZE,
        unlabeled: UnlabeledSchedule::All,
        num_students: MAX_STUDENTS,
        balance_target: Some(MAX_BALANCE_TARGET),
        ..AlgoConfig::default()
    };
    at_limits.fit.epochs = MAX_EPOCHS;
    at_limits.fit.batch_size = MAX_BATCH_SIZE;
    at_limits.augment.num_ops = MAX_AUGMENT_OPS;
    at_limits.checked().unwrap();
    rejects(|c| c.student.dropout = 1.0, "dropout");
    rejects(|c| c.student.survival = 0.0, "survival");
    rejects(|c| c.student.survival = 0.8, "no residual blocks");
    let mut residual = AlgoConfig::default();
    residual.student.arch = Arch::ResCnn;
    residual.student.survival = 0.8;
    residual.checked().unwrap();
    rejects(|c| c.fit.epochs = 0, "epochs");
    rejects(
        |c| {
            c.unlabeled = UnlabeledSchedule::Slice;
            c.num_students = 5;
            c.unl_factor = 0.2;
        },
        "exceeds the training data",
    );
}

#[test]
fn a_checked_config_checks_a_candidates_values_and_names_the_key() {
    let base = AlgoConfig::default().checked().unwrap();
    let c = base.clone().with_candidate(Some(0.3), 0.7, 3, 2).unwrap();
    assert_eq!(
        (c.unl_factor, c.threshold, c.num_students, c.ensemble_size),
        (0.3, 0.7, 3, 2)
    );
    assert_eq!(c.fit, base.fit, "the rest is the base's");
    for (candidate, key) in [
        ((Some(0.3), -1.0, 3, 2), "threshold"),
        ((Some(1.5), 0.7, 3, 2), "unl_factor"),
        ((None, 0.7, 0, 2), "num_students"),
        ((None, 0.7, 1, 0), "ensemble_size"),
    ] {
        let (u, t, n, e) = candidate;
        match base.clone().with_candidate(u, t, n, e) {
            Err(Error::OutOfRange { key: k, .. }) => assert_eq!(k, key),
            other => panic!("{candidate:?}: {other:?}"),
        }
    }
    assert!(base.clone().with_epochs(0).is_err());
    // The slice budget is a candidate's: 0.1 + 4 x 0.3 exceeds the training data, but
    // not a separate set.
    let slices = AlgoConfig {
        unlabeled: UnlabeledSchedule::Slice,
        ..AlgoConfig::default()
    };
    let on_training = slices.clone().checked().unwrap();
    assert!(on_training.with_candidate(Some(0.3), 0.5, 4, 1).is_err());
    let on_separate = slices.check(PoolOrigin::Separate).unwrap();
    assert!(on_separate.with_candidate(Some(0.25), 0.5, 4, 1).is_ok());
}

#[test]
fn slice_budget_only_applies_to_the_slice_schedule() {
    let mut c = AlgoConfig {
        num_students: 5,
        unl_factor: 0.2,
        unlabeled: UnlabeledSchedule::Slice,
        ..AlgoConfig::default()
    };
    assert!(c.clone().checked().is_err());
    c.unlabeled = UnlabeledSchedule::All;
    c.clone().checked().unwrap();
    // Exactly filling the data is allowed despite floating-point rounding.
    let c = AlgoConfig {
        num_students: 3,
        unl_factor: 0.3,
        unlabeled: UnlabeledSchedule::Slice,
        ..AlgoConfig::default()
    };
    c.clone().checked().unwrap();
}

#[test]
fn toml_round_trip_and_partial_files_take_defaults() {
    let c = AlgoConfig {
        algorithm: Algorithm::Ensemble,
        balance_target: Some(40),
        ..AlgoConfig::default()
    };
    let text = toml::to_string(&c).unwrap();
    let back: AlgoConfig = toml::from_str(&text).unwrap();
    assert_eq!(back, c);
    let partial: AlgoConfig =
        toml::from_str("threshold = 0.8\n[augment]\nenabled = false\n").unwrap();
    assert_eq!(partial.threshold, 0.8);
    assert!(!partial.augment.enabled);
    assert_eq!(partial.unl_factor, AlgoConfig::default().unl_factor);
    assert!(toml::from_str::<AlgoConfig>("thresold = 0.8").is_err());
}

#[test]
fn without_noise_switches_every_noise_off() {
    let c = AlgoConfig::default().without_noise();
    assert!(!c.augment.enabled);
    assert_eq!(c.student.dropout, 0.0);
    assert_eq!(c.student.survival, 1.0);
    let shape = ImageShape::new(32, 32, 3);
    assert!(c.augment.for_shape(shape).is_none());
    let on = AugmentConfig::default();
    assert!(on.for_shape(shape).unwrap().horizontal_flip);
    assert!(
        !on.for_shape(ImageShape::new(28, 28, 1))
            .unwrap()
            .horizontal_flip
    );
}
