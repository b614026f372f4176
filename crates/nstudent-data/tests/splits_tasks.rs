//! K-fold splits (checked against scikit-learn), stratified sampling, and tasks.

use nstudent_data::split::{stratified_sample, Fold, KFold, StratifiedKFold};
use nstudent_data::tasks::{original_study, select_classes, Task};
use nstudent_data::{Dataset, ImageShape};

#[test]
fn kfold_matches_scikit_learn_unshuffled() {
    // sklearn.model_selection.KFold(3).split(range(7)): test folds [0 1 2], [3 4], [5 6].
    let folds = KFold::new(3).split(7).unwrap();
    let tests: Vec<Vec<usize>> = folds.iter().map(|f| f.test.clone()).collect();
    assert_eq!(tests, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
    assert_eq!(folds[1].train, vec![0, 1, 2, 5, 6]);
    // 10 folds of 103: the first 3 hold 11 items, the rest 10, consecutive.
    let folds = KFold::new(10).split(103).unwrap();
    let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
    assert_eq!(sizes, [11, 11, 11, 10, 10, 10, 10, 10, 10, 10]);
    assert_eq!(folds[3].test.first(), Some(&33));
    for f in &folds {
        assert_eq!(f.train.len() + f.test.len(), 103);
        assert!(f.test.windows(2).all(|w| w[1] == w[0] + 1));
    }
}

#[test]
fn kfold_shuffled_is_seeded_and_a_partition() {
    let a = KFold::new(4).shuffled(7).split(50).unwrap();
    let b = KFold::new(4).shuffled(7).split(50).unwrap();
    let c = KFold::new(4).shuffled(8).split(50).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let mut all: Vec<usize> = a.iter().flat_map(|f: &Fold| f.test.clone()).collect();
    all.sort();
    assert_eq!(all, (0..50).collect::<Vec<_>>());
    assert_eq!(
        a.iter().map(|f| f.test.len()).collect::<Vec<_>>(),
        [13, 13, 12, 12]
    );
}

#[test]
fn kfold_rejects_bad_k() {
    assert!(KFold::new(1).split(10).unwrap_err().kind().is_users());
    let e = KFold::new(11).split(10).unwrap_err();
    assert!(e.to_string().contains("11 folds from 10 items"), "{e}");
    assert!(StratifiedKFold::new(5, 0).split(&[0, 1, 0]).is_err());
}

#[test]
fn stratified_kfold_balances_every_class() {
    let labels: Vec<u16> = (0..90)
        .map(|i| {
            if i < 60 {
                0
            } else if i < 80 {
                1
            } else {
                2
            }
        })
        .collect();
    let folds = StratifiedKFold::new(5, 3).split(&labels).unwrap();
    for f in &folds {
        let count = |c| f.test.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!((count(0), count(1), count(2)), (12, 4, 2));
        assert_eq!(f.train.len() + f.test.len(), 90);
    }
    assert_eq!(folds, StratifiedKFold::new(5, 3).split(&labels).unwrap());
    assert_ne!(folds, StratifiedKFold::new(5, 4).split(&labels).unwrap());
}

#[test]
fn stratified_sample_keeps_class_proportions() {
    let labels: Vec<u16> = (0..1000).map(|i| (i % 4 == 0) as u16).collect();
    let (chosen, rest) = stratified_sample(&labels, 0.1, 1).unwrap();
    assert_eq!(chosen.len(), 100);
    assert_eq!(chosen.iter().filter(|&&i| labels[i] == 1).count(), 25);
    assert_eq!(rest.len(), 900);
    assert!(chosen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        (chosen.clone(), rest),
        stratified_sample(&labels, 0.1, 1).unwrap()
    );
    assert_ne!(chosen, stratified_sample(&labels, 0.1, 2).unwrap().0);
    assert!(stratified_sample(&labels, 0.0, 1).is_err());
    assert!(stratified_sample(&labels, 1.0, 1).is_err());
    assert!(stratified_sample(&[0, 1], 0.1, 1).is_err());
}

#[test]
fn stratified_sample_labels_every_class() {
    // 997 items of classes 0 and 1, 3 of class 2: 10% alone would round class 2 to 0 items.
    let labels: Vec<u16> = (0..1000)
        .map(|i| if i < 3 { 2 } else { (i % 2) as u16 })
        .collect();
    let (chosen, _) = stratified_sample(&labels, 0.1, 5).unwrap();
    let count = |c: u16| chosen.iter().filter(|&&i| labels[i] == c).count();
    assert_eq!(chosen.len(), 100);
    assert_eq!(count(2), 1);
    assert_eq!(count(0) + count(1), 99);
    assert!(count(0).abs_diff(count(1)) <= 1);
    // A fraction too small for one item per class is raised to one per class.
    let (tiny, rest) = stratified_sample(&labels, 0.001, 5).unwrap();
    assert_eq!(
        (0..3)
            .map(|c| tiny.iter().filter(|&&i| labels[i] == c).count())
            .collect::<Vec<_>>(),
        [1, 1, 1]
    );
    assert_eq!(rest.len(), 997);
}

#[test]
fn original_study_has_the_twenty_tasks_of_the_table() {
    let tasks = original_study();
    let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), 20);
    assert_eq!(
        &names[..6],
        [
            "Fashion MNIST",
            "MNIST 0-4",
            "MNIST 5-9",
            "CIFAR10 0-4",
            "CIFAR10 5-9",
            "CIFAR100 0-9"
        ]
    );
    assert_eq!(names[14], "CIFAR100 90-99");
    assert_eq!(
        &names[15..],
        ["A-Z 0-4", "A-Z 5-9", "A-Z 10-14", "A-Z 15-19", "A-Z 20-25"]
    );
    assert_eq!(tasks[1].spec, "mnist:0-4");
    assert_eq!(tasks[19].num_classes(), Some(6));
    assert_eq!(tasks[0].classes, None);
    for t in &tasks {
        assert_eq!(&Task::parse(&t.spec).unwrap().spec, &t.spec);
    }
}

#[test]
fn task_parse_forms() {
    let t = Task::parse("cifar100:30-39").unwrap();
    assert_eq!(t.source, "cifar100");
    assert_eq!(t.classes, Some((30..40).collect()));
    assert_eq!(t.name, "CIFAR100 30-39");
    let t = Task::parse("az:0,2,4-5").unwrap();
    assert_eq!(t.source, "az-handwritten");
    assert_eq!(t.classes, Some(vec![0, 2, 4, 5]));
    assert!(Task::parse("mnist:1,1").is_err());
    assert!(Task::parse("nope:1-2")
        .unwrap_err()
        .to_string()
        .contains("nstudent data list"));
}

#[test]
fn select_classes_remaps_labels_and_keeps_names() {
    let d = Dataset::new(
        (0..6).collect(),
        vec![0, 1, 2, 3, 2, 1],
        ImageShape::new(1, 1, 1),
        vec!["a".into(), "b".into(), "c".into(), "d".into()],
        "toy",
    )
    .unwrap();
    let s = select_classes(&d, &[2, 1], "toy:2,1").unwrap();
    assert_eq!(s.labels, vec![1, 0, 0, 1]);
    assert_eq!(s.images, vec![1, 2, 4, 5]);
    assert_eq!(s.class_names, ["c", "b"]);
    assert_eq!(s.source, "toy:2,1");
}
