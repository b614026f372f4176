use super::*;
use std::path::Path;

const HEADER: &str = ",Dataset Name,Algorithm Name,Cross Validation [1-10],Hyper-Parameters Values,Accuracy,TPR,FPR,Precision,AUC,PR-Curve,Training Time,Inference Time\n";

/// A table from (dataset, algorithm, accuracy) triples, folds numbered per pair.
fn table(rows: &[(&str, &str, &str)]) -> MetricsTable {
    let mut csv = HEADER.to_string();
    for (i, (d, a, acc)) in rows.iter().enumerate() {
        let fold = 1 + rows[..i]
            .iter()
            .filter(|(d2, a2, _)| d2 == d && a2 == a)
            .count();
        csv.push_str(&format!(
            "{i},{d},{a},{fold},None,{acc},0.5,0.1,0.5,0.9,0.8,3.0,0.2\n"
        ));
    }
    MetricsTable::from_reader(csv.as_bytes(), Path::new("t.csv")).unwrap()
}

#[test]
fn ranks_follow_the_metric_direction() {
    let m = vec![vec![0.9, 0.8, 0.8], vec![0.7, 0.9, 0.6]];
    assert_eq!(ranks(&m, false).unwrap()[0], vec![1.0, 2.5, 2.5]);
    assert_eq!(ranks(&m, true).unwrap()[1], vec![2.0, 3.0, 1.0]);
    assert_eq!(mean_ranks(&m, false).unwrap(), vec![1.5, 1.75, 2.75]);
}

#[test]
fn holm_steps_down_and_stays_monotone() {
    let adj = holm(&[0.01, 0.04, 0.03, 0.5]);
    assert_eq!(adj, vec![0.04, 0.09, 0.09, 0.5]);
    assert_eq!(holm(&[0.6, 0.6]), vec![1.0, 1.0]);
}

#[test]
fn identical_algorithms_are_not_different() {
    let w = wilcoxon(&[0.1, 0.2, 0.3], &[0.1, 0.2, 0.3]).unwrap();
    assert_eq!((w.statistic, w.p_value), (0.0, 1.0));
    let f = friedman(&[vec![1.0, 1.0, 1.0], vec![2.0, 2.0, 2.0]]).unwrap();
    assert_eq!((f.statistic, f.p_value), (0.0, 1.0));
}

#[test]
fn averages_folds_per_dataset_and_algorithm() {
    let t = table(&[
        ("d1", "A", "0.5"),
        ("d1", "A", "0.7"),
        ("d1", "B", "0.4"),
        ("d1", "B", "0.4"),
        ("d2", "B", "0.9"),
        ("d2", "A", "0.1"),
    ]);
    let FoldMeans {
        datasets: d,
        algorithms: a,
        means: m,
    } = fold_means(&t, "Accuracy").unwrap();
    assert_eq!(
        (d, a),
        (
            vec!["d1".to_string(), "d2".into()],
            vec!["A".to_string(), "B".into()]
        )
    );
    assert!((m[0][0] - 0.6).abs() < 1e-15);
    assert_eq!(m[1], vec![0.1, 0.9]);
}

#[test]
fn refuses_tables_it_cannot_test_with_a_reason() {
    let err = |t: &MetricsTable, metric: &str| analyze(t, metric, 0.05).unwrap_err().to_string();
    let three = [("d1", "A", "0.5"), ("d1", "B", "0.6"), ("d1", "C", "0.7")];
    let e = err(&table(&three), "Accuracy");
    assert!(
        e.contains("only one dataset") && e.contains("at least 2 datasets"),
        "{e}"
    );
    let mut missing = three.to_vec();
    missing.extend([("d2", "A", "0.5"), ("d2", "C", "0.4")]);
    let e = err(&table(&missing), "Accuracy");
    assert!(
        e.contains("\"d2\" has no result for algorithm \"B\""),
        "{e}"
    );
    let one = [("d1", "A", "0.5"), ("d2", "A", "0.6")];
    let e = err(&table(&one), "Accuracy");
    assert!(e.contains("only one algorithm"), "{e}");
    let e = err(&table(&three), "Recall");
    assert!(
        e.contains("unknown metric \"Recall\"") && e.contains("PR-Curve"),
        "{e}"
    );
    let nan = [
        ("d1", "A", "nan"),
        ("d1", "B", "0.6"),
        ("d2", "A", "0.5"),
        ("d2", "B", "0.4"),
    ];
    let e = err(&table(&nan), "Accuracy");
    assert!(e.contains("Accuracy of A on \"d1\" fold 1 is NaN"), "{e}");
    let twice = [("d1", "A", "0.5"), ("d1", "B", "0.6"), ("d1", "A", "0.4")];
    let mut twice = table(&twice);
    twice.rows[2].fold = 1;
    let e = err(&twice, "Accuracy");
    assert!(e.contains("fold 1 of A on \"d1\" appears twice"), "{e}");
    let percent = format!("{HEADER}0,d1,A,1,None,87,0.5,0.1,0.5,0.9,0.8,3.0,0.2\n");
    let e = MetricsTable::from_reader(percent.as_bytes(), Path::new("t.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 2: column \"Accuracy\" holds 87, outside [0, 1]"),
        "{e}"
    );
    let negative = format!("{HEADER}0,d1,A,1,None,0.8,0.5,0.1,0.5,0.9,0.8,-3.0,0.2\n");
    let e = MetricsTable::from_reader(negative.as_bytes(), Path::new("t.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"Training Time\" holds -3.0, outside [0, inf)"),
        "{e}"
    );
    // In memory, a bounded metric out of range is refused by the analysis too.
    let mut big = table(&three);
    big.rows[0].metrics.accuracy = 1.7;
    let e = err(&big, "Accuracy");
    assert!(e.contains("is 1.7, outside [0, 1]"), "{e}");
    let unequal = [
        ("d1", "A", "0.5"),
        ("d1", "A", "0.7"),
        ("d1", "B", "0.6"),
        ("d2", "A", "0.5"),
        ("d2", "B", "0.4"),
    ];
    let e = err(&table(&unequal), "Accuracy");
    assert!(e.contains("has 2 folds of \"A\" but 1 of \"B\""), "{e}");
    let e = analyze(&table(&three), "Accuracy", 1.5)
        .unwrap_err()
        .to_string();
    assert!(e.contains("alpha"), "{e}");
    assert!(Error::Invalid(e).kind().is_users());
}

#[test]
fn two_algorithms_get_the_wilcoxon_test_only() {
    let rows: Vec<(String, &str, String)> = (0..6)
        .flat_map(|d| {
            [
                (format!("d{d}"), "A", format!("0.{}", 50 + d)),
                (format!("d{d}"), "B", format!("0.{}", 60 + 2 * d)),
            ]
        })
        .collect();
    let rows: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(d, a, v)| (d.as_str(), *a, v.as_str()))
        .collect();
    let a = analyze(&table(&rows), "Accuracy", 0.05).unwrap();
    assert!(a.friedman.is_none() && a.nemenyi.is_none());
    assert_eq!(a.wilcoxon_holm.len(), 1);
    // B wins on all 6 datasets: exact two-sided p = 2 / 2^6.
    assert_eq!(a.wilcoxon_holm[0].p_value, 2.0 / 64.0);
    assert_eq!(a.mean_ranks, vec![("A".into(), 2.0), ("B".into(), 1.0)]);
    let json = serde_json::to_value(&a).unwrap();
    assert!(json["friedman"].is_null());
    assert_eq!(json["mean_ranks"]["B"], 1.0);
}
