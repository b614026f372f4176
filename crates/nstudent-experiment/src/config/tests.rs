use std::path::Path;

use super::toml_file::doc;
use super::*;

fn keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
    if let toml::Value::Table(t) = v {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if !key.ends_with("epochs_by_source") {
                keys(&key, v, out);
            }
            out.push(key);
        }
    }
}

#[test]
fn every_key_is_documented_and_the_printed_config_round_trips() {
    for name in PRESETS {
        let c = StudyConfig::preset(name).unwrap();
        c.validate().unwrap();
        let mut all = Vec::new();
        keys("", &toml::Value::try_from(&c).unwrap(), &mut all);
        for k in &all {
            assert!(doc(k).is_some(), "key {k} has no documentation");
        }
        let text = c.to_commented_toml();
        let back = StudyConfig::from_toml(&text, Path::new("x.toml")).unwrap();
        assert_eq!(back, c, "{text}");
        assert_eq!(back.hash(), c.hash());
    }
}

#[test]
fn original_preset_is_the_original_protocol() {
    let c = StudyConfig::preset("original").unwrap();
    assert_eq!(c.tasks.len(), 20);
    assert_eq!(c.outer_folds, 10);
    assert_eq!(c.inner_folds, 3);
    assert_eq!(c.space.threshold, vec![0.4, 0.5, 0.6, 0.7, 0.8]);
    assert_eq!(c.space.unl_factor, vec![0.05, 0.1, 0.2]);
    assert_eq!(c.space.num_students, vec![1, 2, 3]);
    assert_eq!(c.space.ensemble_size, vec![2, 3]);
    assert_eq!(c.epochs_for("cifar100:30-39"), 2);
    assert_eq!(c.epochs_for("cifar10:0-4"), 5);
    assert_eq!(c.base.fit.batch_size, 32);
    assert_eq!(c.search, SearchStrategy::Grid);
    assert_eq!(
        StudyConfig::preset("quick").unwrap().tasks,
        ["fashion-mnist-10k"]
    );
}

#[test]
fn partial_files_take_defaults_and_bad_values_name_the_key() {
    let c = StudyConfig::from_toml(
        "outer_folds = 4\n[space]\nthreshold = [0.9]\n",
        Path::new("s.toml"),
    )
    .unwrap();
    assert_eq!(c.outer_folds, 4);
    assert_eq!(c.space.threshold, vec![0.9]);
    assert_eq!(c.space.unl_factor, vec![0.05, 0.1, 0.2]);
    let cases = [
        ("outer_folds = 1", "outer_folds"),
        ("[space]\nthreshold = [0.4, -0.1]", "threshold"),
        ("[space]\nunl_factor = [0.0]", "unl_factor"),
        ("[space]\nunl_factor = [0.5]", "exceeds the training data"),
        ("tasks = []", "tasks"),
        ("algorithms = [\"baseline\", \"baseline\"]", "twice"),
        ("algorithms = [\"teacher\"]", "unknown variant"),
        ("otuer_folds = 3", "unknown field"),
        ("[training]\nepochs = 0", "epochs"),
        (
            "seed = \"x\"",
            "s.toml line 1: seed must be a whole number, got the string \"x\"",
        ),
        ("[noise]\ndropout = 1.0", "dropout"),
        ("[noise]\nsurvival = 0.8", "no residual blocks"),
        ("[execution]\nthreads = 1\njobs = 2", "execution.jobs"),
        (
            "outer_folds = 4294967296",
            "outer_folds = 4294967296 is more than the limit",
        ),
        (
            "[training]\nepochs_by_source = { cifar1000 = 2 }",
            "\"cifar1000\" is neither a known source",
        ),
        (
            "tasks = [\"ds\\u001b[32m\"]",
            "task \"ds\\u{1b}[32m\" holds a control character",
        ),
        (
            "inner_folds = 1001",
            "inner_folds = 1001 is more than the limit 1000",
        ),
        (
            "[space]\nensemble_size = [100000]",
            "space.ensemble_size: ensemble_size 100000 is more than the limit 32",
        ),
        (
            "[space]\nnum_students = [1000]",
            "num_students 1000 is more than",
        ),
        (
            "tasks = [\"a/b.csv\", \"a_b.csv\"]",
            "tasks \"a/b.csv\" and \"a_b.csv\" would share the cell folder cells/a_b.csv",
        ),
    ];
    for (text, needle) in cases {
        let e = StudyConfig::from_toml(text, Path::new("s.toml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(needle), "{text}: {msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert!(e.kind().is_users());
    }
}

#[test]
fn folds_need_the_images_to_fill_them() {
    let c = StudyConfig::from_toml(
        "tasks = [\"a\", \"b\"]\nouter_folds = 10\ninner_folds = 3\n",
        Path::new("s.toml"),
    )
    .unwrap();
    let sizes = |a: usize| move |t: &str| (t == "a").then_some(a);
    // 10 images: 10 outer folds of 1, training parts of 9, enough for 3 inner folds.
    c.check_fold_sizes(sizes(10)).unwrap();
    let e = c.check_fold_sizes(sizes(9)).unwrap_err().to_string();
    assert!(
        e.contains("task a has 9 images, too few for outer_folds = 10"),
        "{e}"
    );
    let c = StudyConfig {
        inner_folds: 10,
        ..c
    };
    let e = c.check_fold_sizes(sizes(10)).unwrap_err().to_string();
    assert!(
        e.contains("training part has 9 images, too few for inner_folds = 10"),
        "{e}"
    );
    // A task whose size is unknown (its data is missing) is not checked.
    c.check_fold_sizes(|_| None).unwrap();
}

#[test]
fn the_study_checks_by_the_algorithms_rules_and_names_its_own_keys() {
    for (text, key) in [
        (
            "[noise]\ndropout = 1.0",
            "noise.dropout: student dropout 1 must be in [0, 1)",
        ),
        (
            "[training]\nwidth = 17.0",
            "training.width: teacher width 17 must be in (0, 16]",
        ),
        (
            "[pseudo]\ntemperature = 0.0",
            "pseudo.temperature: temperature 0 must be > 0",
        ),
        (
            "[space]\nthreshold = [-1.0]",
            "space.threshold: threshold -1 must be a probability in [0, 1]",
        ),
        (
            "[training]\nlearning_rate = 0.0",
            "training.learning_rate: learning rate 0",
        ),
    ] {
        let e = StudyConfig::from_toml(text, Path::new("s.toml")).unwrap_err();
        assert!(e.to_string().contains(key), "{text}: {e}");
    }
    // Every row labeled: nothing to pseudo-label from the training part, but a separate
    // unlabeled set is a pool of its own (the algorithms' rule, as `train` applies it).
    let all_labeled = "[pseudo]\nteacher_factor = 1.0\n";
    let e = StudyConfig::from_toml(all_labeled, Path::new("s.toml")).unwrap_err();
    assert!(e.to_string().contains("pseudo.teacher_factor"), "{e}");
    let separate = format!("{all_labeled}[data]\nunlabeled = \"mnist\"\n");
    StudyConfig::from_toml(&separate, Path::new("s.toml")).unwrap();
}

#[test]
fn a_file_overlays_a_preset() {
    let quick = StudyConfig::preset("quick").unwrap();
    let c = StudyConfig::from_toml_over(
        "seed = 5\n[space]\nthreshold = [0.9]\n",
        Path::new("s.toml"),
        &quick,
    )
    .unwrap();
    assert_eq!(c.seed, 5);
    assert_eq!(c.space.threshold, vec![0.9]);
    assert_eq!(c.space.unl_factor, quick.space.unl_factor);
    assert_eq!(c.tasks, quick.tasks);
    let e =
        StudyConfig::from_toml_over("[space]\nthreshhold = [0.9]\n", Path::new("s.toml"), &quick)
            .unwrap_err();
    assert!(e.to_string().contains("threshhold"), "{e}");
    let e = StudyConfig::from_toml_over("seed = ", Path::new("s.toml"), &quick).unwrap_err();
    assert!(e.to_string().starts_with("s.toml line 1: "), "{e}");
    let e = StudyConfig::from_toml_over(
        "seed = 3\n\n[space]\nthreshold = [0.5]\nnum_students = \"two\"\n",
        Path::new("study.toml"),
        &quick,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "study.toml line 5: num_students must be a list, e.g. [1, 2], got the string \"two\""
    );
}

#[test]
fn the_base_is_written_as_the_files_tables_and_read_back_the_same() {
    // Hashes of results directories made before the base was embedded: the quick preset's
    // on the original three algorithms (`nstudent run` before the controls), and the
    // committed standard studies' (version 1 and 2).
    let mut three = StudyConfig::preset("quick").unwrap();
    three.algorithms = Algorithm::ORIGINAL.to_vec();
    assert_eq!(three.hash(), "d40f3c320c2a1223");
    assert_eq!(
        StudyConfig::preset("quick").unwrap().hash(),
        "eace826f4559fb14"
    );
    assert_eq!(
        StudyConfig::preset("standard").unwrap().hash(),
        "1f612b521b67e733"
    );
    for name in PRESETS {
        let c = StudyConfig::preset(name).unwrap();
        let text = c.to_commented_toml();
        assert!(
            text.contains("[training]") && text.contains("[noise]") && text.contains("[pseudo]")
        );
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("base") || l.starts_with("[base")),
            "{text}"
        );
        assert_eq!(
            StudyConfig::from_toml(&text, Path::new("s.toml")).unwrap(),
            c
        );
    }
    // A base the file cannot hold is refused, not written wrong.
    let mut c = StudyConfig::preset("quick").unwrap();
    c.base.teacher.width = 2.0;
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("training.width"), "{e}");
    let mut c = StudyConfig::preset("quick").unwrap();
    c.base.teacher.dropout = 0.1;
    assert!(c.validate().is_err());
}

#[test]
fn an_empty_data_table_keeps_the_hash_of_configs_from_before_it() {
    // The hash of the committed standard study, version 1 (its study.toml has no [data]).
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/standard/study.toml");
    assert_eq!(StudyConfig::read(&v1).unwrap().hash(), "5baeb1c99ebad726");
    let standard = StudyConfig::preset("standard").unwrap();
    assert_eq!(standard.hash(), "1f612b521b67e733");
    // An unset [data] is shown commented out, and the text reads back to the same hash.
    let unset = standard.to_commented_toml();
    assert!(!unset.lines().any(|l| l.trim() == "[data]"), "{unset}");
    assert!(unset.contains("\n# [data]\n") && unset.contains("# unlabeled = "));
    let read_back = StudyConfig::from_toml(&unset, Path::new("s.toml")).unwrap();
    assert_eq!(read_back.hash(), standard.hash());
    let mut with_set = standard.clone();
    with_set.data.unlabeled = Some("mnist".into());
    assert_ne!(with_set.hash(), standard.hash());
    let text = with_set.to_commented_toml();
    assert!(
        text.contains("[data]") && text.contains("unlabeled = \"mnist\""),
        "{text}"
    );
    let back = StudyConfig::from_toml(&text, Path::new("s.toml")).unwrap();
    assert_eq!(back, with_set);
}

#[test]
fn hash_ignores_execution_only() {
    let a = StudyConfig::preset("quick").unwrap();
    let mut b = a.clone();
    b.execution.threads = 7;
    b.execution.data_dir = "/elsewhere".into();
    assert_eq!(a.hash(), b.hash());
    b.seed += 1;
    assert_ne!(a.hash(), b.hash());
    assert_eq!(a.hash().len(), 16);
}
