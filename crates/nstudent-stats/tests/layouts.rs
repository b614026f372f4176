//! The same numbers give the same analysis whichever table carries them: nstudent's own table,
//! a wide table (one row per dataset) or a long table (one row per value, with or without a
//! fold column). Checked on the committed standard study.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nstudent_stats::compare::{analyze, analyze_means, fold_means};
use nstudent_stats::layouts::{read_long, read_wide, LongColumns};
use nstudent_stats::table::MetricsTable;

fn standard_table() -> MetricsTable {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/standard/metrics_table.csv");
    MetricsTable::read(&path).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn wide_long_and_nstudent_tables_give_identical_analyses() {
    let table = standard_table();
    let own = analyze(&table, "Accuracy", 0.05).unwrap();
    assert!(own.friedman.is_some());
    let dir = tempfile::tempdir().unwrap();

    // Long, one row per fold, in another column order and with extra columns.
    let mut long = String::from("run,fold,method,task,acc,notes\n");
    for (i, r) in table.rows.iter().enumerate() {
        writeln!(
            long,
            "{i},{},\"{}\",\"{}\",{},x",
            r.fold, r.algorithm, r.dataset, r.metrics.accuracy
        )
        .unwrap();
    }
    let long = write(dir.path(), "long.csv", &long);
    let columns = LongColumns {
        dataset: "task".into(),
        algorithm: "method".into(),
        value: "acc".into(),
        fold: Some("fold".into()),
    };
    let from_long = analyze_means(
        read_long(&long, &columns, None).unwrap(),
        "Accuracy",
        false,
        0.05,
    );
    assert_eq!(from_long.unwrap(), own);

    // Wide: the fold means, one row per dataset (Rust prints the shortest exact decimal).
    let means = fold_means(&table, "Accuracy").unwrap();
    let mut wide = format!("dataset,{}\n", means.algorithms.join(","));
    for (d, row) in means.datasets.iter().zip(&means.means) {
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        writeln!(wide, "\"{d}\",{}", cells.join(",")).unwrap();
    }
    let wide = write(dir.path(), "wide.csv", &wide);
    let from_wide =
        analyze_means(read_wide(&wide, None).unwrap(), "Accuracy", false, 0.05).unwrap();
    assert_eq!(from_wide, own);

    // Long without folds: the fold means, one row per pair.
    let mut pairs = String::from("d,a,v\n");
    for (d, row) in means.datasets.iter().zip(&means.means) {
        for (a, v) in means.algorithms.iter().zip(row) {
            writeln!(pairs, "\"{d}\",{a},{v}").unwrap();
        }
    }
    let pairs = write(dir.path(), "pairs.csv", &pairs);
    let columns = LongColumns {
        dataset: "d".into(),
        algorithm: "a".into(),
        value: "v".into(),
        fold: None,
    };
    let from_pairs = analyze_means(
        read_long(&pairs, &columns, None).unwrap(),
        "Accuracy",
        false,
        0.05,
    );
    assert_eq!(from_pairs.unwrap(), own);
}

#[test]
fn bad_wide_and_long_tables_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let err = |path: PathBuf, columns: Option<&LongColumns>| {
        match columns {
            Some(c) => read_long(&path, c, None),
            None => read_wide(&path, None),
        }
        .unwrap_err()
        .to_string()
    };
    let wide = write(dir.path(), "w.csv", "d,A,B\nx,0.5,abc\n");
    assert!(err(wide, None).contains("line 2, B: \"abc\" is not a finite number"));
    let wide = write(dir.path(), "w2.csv", "d,A,B\nx,0.5,0.6\nx,0.1,0.2\n");
    assert!(err(wide, None).contains("dataset \"x\" appears twice"));
    let columns = LongColumns {
        dataset: "d".into(),
        algorithm: "a".into(),
        value: "v".into(),
        fold: None,
    };
    let long = write(dir.path(), "l.csv", "d,a,v\nx,A,0.5\nx,A,0.6\n");
    assert!(err(long, Some(&columns)).contains("--fold-col"));
    let long = write(dir.path(), "l2.csv", "d,a,v\nx,A,0.5\nx,B,0.6\ny,A,0.1\n");
    assert!(err(long, Some(&columns)).contains("\"y\" has no result for algorithm \"B\""));
    // Headers without rows: an error, not a panic (found by hand).
    for (name, text) in [("h.csv", "d,A,B\n"), ("h2.csv", "d,a,v\n")] {
        let path = write(dir.path(), name, text);
        let means = if name == "h.csv" {
            read_wide(&path, None).unwrap()
        } else {
            read_long(&path, &columns, None).unwrap()
        };
        let e = analyze_means(means, "Accuracy", false, 0.05).unwrap_err();
        assert!(e.to_string().contains("no results"), "{e}");
    }
    let long = write(dir.path(), "l3.csv", "d,alg,v\nx,A,0.5\n");
    let e = err(long, Some(&columns));
    assert!(
        e.contains("no column \"a\" (--algorithm-col)") && e.contains("d, alg, v"),
        "{e}"
    );
}

#[test]
fn a_metric_out_of_its_range_is_refused_and_named_values_may_be_any_finite_number() {
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.csv");
    std::fs::write(&wide, "dataset,A,B,C\nd1,0.5,1.7,0.2\nd2,0.4,0.3,0.2\n").unwrap();
    let e = read_wide(&wide, Some((0.0, 1.0))).unwrap_err().to_string();
    assert!(e.contains("line 2, B: 1.7 is outside [0, 1]"), "{e}");
    assert!(read_wide(&wide, None).is_ok());
    std::fs::write(&wide, "dataset,A,B,C\nd1,0.5,1e308,0.2\nd2,0.4,-2,0.2\n").unwrap();
    assert!(read_wide(&wide, Some((0.0, 1.0))).is_err());
    let e = read_wide(&wide, Some((0.0, f64::INFINITY)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3, B: -2 is negative"), "{e}");
    assert!(read_wide(&wide, None).is_ok());
    std::fs::write(&wide, "dataset,A,B,C\nd1,0.5,inf,0.2\nd2,0.4,0.3,0.2\n").unwrap();
    let e = read_wide(&wide, None).unwrap_err().to_string();
    assert!(e.contains("\"inf\" is not a finite number"), "{e}");

    let long = dir.path().join("long.csv");
    std::fs::write(&long, "dataset,algorithm,acc\nd1,A,0.5\nd1,B,1.7\n").unwrap();
    let columns = LongColumns {
        dataset: "dataset".into(),
        algorithm: "algorithm".into(),
        value: "acc".into(),
        fold: None,
    };
    let e = read_long(&long, &columns, Some((0.0, 1.0)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3: 1.7 is outside [0, 1]"), "{e}");
    assert!(read_long(&long, &columns, None).is_ok());
    assert_eq!(
        nstudent_stats::table::value_range("accuracy"),
        Some((0.0, 1.0))
    );
    assert_eq!(
        nstudent_stats::table::value_range("Training Time"),
        Some((0.0, f64::INFINITY))
    );
    assert_eq!(nstudent_stats::table::value_range("F1"), None);
}
