//! The "Beside another table" section: which tasks and algorithms it matches, its agreement
//! verdicts, its hyperparameter counts and its tests across tasks, on hand-made tables with
//! known numbers.

use nstudent_report::{agreements, render_html, Beside, Error, ReportOptions};
use nstudent_stats::compare;
use nstudent_stats::metrics::Scores;
use nstudent_stats::table::{MetricsTable, Row};

fn row(dataset: &str, algorithm: &str, fold: usize, accuracy: f64, hyper: &str) -> Row {
    Row {
        dataset: dataset.to_string(),
        algorithm: algorithm.to_string(),
        fold,
        hyperparameters: hyper.to_string(),
        metrics: Scores {
            accuracy,
            tpr: accuracy,
            fpr: (1.0 - accuracy) / 4.0,
            precision: accuracy,
            auc: 0.9,
            pr_curve: 0.8,
        },
        training_time: 1.0,
        inference_time: 0.1,
    }
}

/// Three tasks x (Baseline, Noisy Student, `ensemble`) x 4 folds: accuracy `base + step * a`
/// with fold offsets -0.003, -0.001, +0.001, +0.003 (sd 0.002582). Noisy Student chose
/// threshold 0.7 in folds 1-3 and 0.8 in fold 4.
fn table(tasks: &[&str], ensemble: &str, base: f64, step: f64) -> MetricsTable {
    let mut rows = Vec::new();
    for (t, task) in tasks.iter().enumerate() {
        for (a, algorithm) in ["Baseline", "Noisy Student", ensemble].iter().enumerate() {
            for fold in 1..=4 {
                let offset = [-0.003, -0.001, 0.001, 0.003][fold - 1];
                let hyper = match (a, fold) {
                    (0, _) => "None",
                    (_, 4) => "unl_factor: 0.2, threshold: 0.8, num_of_students: 2",
                    _ => "unl_factor: 0.2, threshold: 0.7, num_of_students: 3",
                };
                let acc = base + 0.01 * t as f64 + step * a as f64 + offset;
                rows.push(row(task, algorithm, fold, acc, hyper));
            }
        }
    }
    MetricsTable { rows }
}

fn options(beside: MetricsTable) -> ReportOptions {
    ReportOptions {
        beside: Some(Beside {
            name: "the original study".to_string(),
            table: beside,
        }),
        ..ReportOptions::default()
    }
}

/// The section's HTML.
fn section(html: &str) -> &str {
    let start = html.find("<section id=\"beside\">").expect("the section");
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

#[test]
fn matches_tasks_and_algorithms_by_the_original_tables_names() {
    // Ours names the ensemble "Ensemble Noisy Student" and the CIFAR task by its JPEG copy;
    // theirs names them "Improved Noisy Student" and "CIFAR10 0-4", and has a task ours lacks.
    let ours = table(
        &["MNIST 0-4", "CIFAR10 (JPEG copy) 0-4"],
        "Ensemble Noisy Student",
        0.9,
        0.002,
    );
    let theirs = table(
        &["MNIST 0-4", "CIFAR10 0-4", "A-Z 0-4"],
        "Improved Noisy Student",
        0.9,
        0.002,
    );
    let rows = agreements(&ours, &theirs, "Accuracy");
    let keys: Vec<(&str, &str)> = rows
        .iter()
        .map(|(t, a, _)| (t.as_str(), a.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("MNIST 0-4", "Baseline"),
            ("MNIST 0-4", "Noisy Student"),
            ("MNIST 0-4", "Ensemble Noisy Student"),
            ("CIFAR10 0-4", "Baseline"),
            ("CIFAR10 0-4", "Noisy Student"),
            ("CIFAR10 0-4", "Ensemble Noisy Student"),
        ]
    );
    // The same numbers on both sides: every difference 0, every pair agrees.
    assert!(rows
        .iter()
        .all(|(_, _, g)| g.difference().abs() < 1e-12 && g.within_spread()));
    let html = render_html(&ours, &options(theirs)).unwrap();
    let s = section(&html);
    assert!(s.contains("2 task(s) and 3 algorithm(s)"), "{s}");
    assert!(
        !s.contains("A-Z 0-4"),
        "a task only theirs has is not shown"
    );
}

#[test]
fn a_difference_beyond_the_folds_spread_is_a_disagreement() {
    let tasks = ["MNIST 0-4", "MNIST 5-9", "Fashion MNIST"];
    let theirs = table(&tasks, "Improved Noisy Student", 0.9, 0.002);
    // Ours: 0.002 higher everywhere (within the sd 0.002582), except the ensemble, 0.003 more
    // per algorithm step: 0.002 + 0.002 = 0.004 above theirs (beyond it).
    let mut ours = table(&tasks, "Ensemble Noisy Student", 0.902, 0.002);
    for r in &mut ours.rows {
        if r.algorithm == "Ensemble Noisy Student" {
            r.metrics.accuracy += 0.002;
        }
    }
    let rows = agreements(&ours, &theirs, "Accuracy");
    assert_eq!(rows.len(), 9);
    for (task, algorithm, g) in &rows {
        let expected = if algorithm == "Ensemble Noisy Student" {
            0.004
        } else {
            0.002
        };
        assert!(
            (g.difference() - expected).abs() < 1e-12,
            "{task} {algorithm}"
        );
        assert!((g.spread() - 0.002_581_988_897_471_611).abs() < 1e-12);
        assert_eq!(
            g.within_spread(),
            algorithm != "Ensemble Noisy Student",
            "{task} {algorithm}"
        );
    }
    let html = render_html(&ours, &options(theirs)).unwrap();
    let s = section(&html);
    assert_eq!(s.matches("<b>disagree</b>").count(), 3, "{s}");
    assert_eq!(s.matches("<td>agree</td>").count(), 6, "{s}");
    assert!(s.contains("+0.0040"), "{s}");
}

#[test]
fn counts_the_chosen_hyperparameters_of_each_side() {
    let tasks = ["MNIST 0-4", "MNIST 5-9"];
    let ours = table(&tasks, "Ensemble Noisy Student", 0.9, 0.002);
    let mut theirs = table(&tasks, "Improved Noisy Student", 0.9, 0.002);
    for r in &mut theirs.rows {
        if r.algorithm == "Noisy Student" {
            r.hyperparameters = "unl_factor: 0.05, threshold: 0.6, num_of_students: 2".to_string();
        }
    }
    let html = render_html(&ours, &options(theirs)).unwrap();
    let s = section(&html);
    let threshold = s
        .split("<tr>")
        .find(|tr| tr.starts_with("<td>Noisy Student</td><td>threshold</td>"))
        .expect("a threshold row for Noisy Student");
    // Ours: 0.7 in 3 of 4 folds of 2 tasks, 0.8 in 1; theirs: 0.6 in all 8.
    assert!(
        threshold.contains(
            "<td><code>0.7</code> (6), <code>0.8</code> (2)</td><td><code>0.6</code> (8)</td>"
        ),
        "{threshold}"
    );
    assert!(
        !s.contains("<tr><td>Baseline</td>"),
        "the Baseline chose nothing: {s}"
    );
}

#[test]
fn the_tests_across_tasks_are_each_sides_own() {
    let tasks = [
        "MNIST 0-4",
        "MNIST 5-9",
        "Fashion MNIST",
        "CIFAR10 0-4",
        "CIFAR10 5-9",
    ];
    let ours = table(&tasks, "Ensemble Noisy Student", 0.9, 0.002);
    // Theirs: the algorithms in the opposite order of accuracy, except on MNIST 0-4, where
    // the ensemble is best.
    let mut theirs = table(&tasks, "Improved Noisy Student", 0.95, -0.002);
    for r in &mut theirs.rows {
        if r.dataset == "MNIST 0-4" && r.algorithm == "Improved Noisy Student" {
            r.metrics.accuracy += 0.01;
        }
    }
    let html = render_html(&ours, &options(theirs.clone())).unwrap();
    let s = section(&html);
    let ours_p = compare::analyze(&ours, "Accuracy", 0.05)
        .unwrap()
        .friedman
        .unwrap()
        .p_value;
    let renamed = MetricsTable {
        rows: theirs
            .rows
            .iter()
            .map(|r| Row {
                algorithm: nstudent_report::algorithm_key(&r.algorithm),
                ..r.clone()
            })
            .collect(),
    };
    let theirs_analysis = compare::analyze(&renamed, "Accuracy", 0.05).unwrap();
    let theirs_p = theirs_analysis.friedman.unwrap().p_value;
    assert!(
        s.contains(&format!("<td class=\"num\">{:.4}</td>", ours_p)),
        "{s}"
    );
    assert!(
        s.contains(&format!("<td class=\"num\">{:.4}</td>", theirs_p)),
        "{s}"
    );
    assert_ne!(ours_p, theirs_p);
    // Ours ranks the ensemble first on every task; theirs last on 4 of 5.
    assert!(s.contains("<td>This study</td><td>Baseline 3.00, Noisy Student 2.00, Ensemble Noisy Student 1.00</td>"), "{s}");
    assert!(s.contains("<td>the original study</td><td>Baseline 1.20, Noisy Student 2.20, Ensemble Noisy Student 2.60</td>"), "{s}");
    assert_eq!(s.matches(" vs ").count(), 3, "three Wilcoxon pairs: {s}");
}

#[test]
fn a_table_that_shares_no_task_is_refused() {
    let ours = table(&["MNIST 0-4"], "Ensemble Noisy Student", 0.9, 0.002);
    let theirs = table(&["A-Z 0-4"], "Improved Noisy Student", 0.9, 0.002);
    match render_html(&ours, &options(theirs)) {
        Err(Error::Invalid(m)) => {
            assert!(
                m.contains("shares no task") && m.contains("A-Z 0-4") && m.contains("MNIST 0-4"),
                "{m}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
