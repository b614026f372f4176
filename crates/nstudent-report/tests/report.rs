//! The report's HTML and spreadsheet on the sample table and on small hand-made tables.

mod common;

use std::io::Read;
use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::sample::{sample_csv, sample_table};
use nstudent_report::{
    render_html, write_report, ChosenSettings, Error, ReportOptions, SearchScore, Setting,
    SettingValue, Settings, StudyContext, METRICS_SHEET, SUMMARY_SHEET, XLSX_NAME,
};
use nstudent_stats::metrics::Scores;
use nstudent_stats::table::{MetricsTable, Row};

fn row(dataset: &str, algorithm: &str, fold: usize, accuracy: f64, seconds: f64) -> Row {
    Row {
        dataset: dataset.to_string(),
        algorithm: algorithm.to_string(),
        fold,
        hyperparameters: "None".to_string(),
        metrics: Scores {
            accuracy,
            tpr: accuracy,
            fpr: (1.0 - accuracy) / 4.0,
            precision: accuracy,
            auc: 0.9,
            pr_curve: 0.8,
        },
        training_time: seconds,
        inference_time: seconds / 10.0,
    }
}

/// 4 tasks x 3 algorithms x 2 folds with known means: on task t, algorithm a has accuracy
/// 0.5 + 0.1 t + 0.01 a (+/- 0.005 over the folds) except that "B" wins "task 3".
fn small_table() -> MetricsTable {
    let mut rows = Vec::new();
    for t in 0..4 {
        for (a, name) in ["A", "B", "C"].iter().enumerate() {
            for fold in 1..=2 {
                let mut acc = 0.5 + 0.1 * t as f64 + 0.01 * a as f64;
                if t == 3 && a == 1 {
                    acc += 0.05;
                }
                acc += if fold == 1 { -0.005 } else { 0.005 };
                rows.push(row(&format!("task {t}"), name, fold, acc, 1.0 + a as f64));
            }
        }
    }
    MetricsTable { rows }
}

/// The `<tr>` of `task` in the results table of `metric`.
fn results_row<'a>(html: &'a str, metric: &str, task: &str) -> &'a str {
    let start = html
        .find(&format!("data-metric=\"{metric}\""))
        .unwrap_or_else(|| panic!("no table for {metric}"));
    let table = &html[start..];
    let table = &table[..table.find("</table>").unwrap()];
    let at = table
        .find(&format!("<tr><td>{task}</td>"))
        .unwrap_or_else(|| panic!("no row for {task} in {metric}"));
    let tr = &table[at..];
    &tr[..tr.find("</tr>").unwrap()]
}

fn cells(tr: &str) -> Vec<&str> {
    tr.split("<td").skip(1).collect()
}

#[test]
fn bolds_the_best_mean_in_each_direction() {
    let html = render_html(&small_table(), &ReportOptions::default()).unwrap();
    // Accuracy: higher is better; C (0.52 + ...) is best on task 0, B on task 3.
    let tr = results_row(&html, "Accuracy", "task 0");
    let c = cells(tr);
    assert_eq!(c.len(), 4, "{tr}");
    assert!(!c[1].contains("best") && !c[2].contains("best"), "{tr}");
    assert!(c[3].contains("class=\"num best\""), "{tr}");
    assert!(
        c[3].contains(">0.5200<span class=\"sd\"> ± 0.0071</span></td>"),
        "{tr}"
    );
    let tr = results_row(&html, "Accuracy", "task 3");
    assert!(
        cells(tr)[2].contains("best") && cells(tr)[2].contains("0.8600"),
        "{tr}"
    );
    // FPR and times: lower is better, so C (lowest FPR on task 0) and A (fastest) are bold.
    let tr = results_row(&html, "FPR", "task 0");
    assert!(
        cells(tr)[3].contains("best") && cells(tr)[3].contains("0.1200"),
        "{tr}"
    );
    assert!(!cells(tr)[1].contains("best"), "{tr}");
    let tr = results_row(&html, "Training Time", "task 1");
    assert!(
        cells(tr)[1].contains("best") && cells(tr)[1].contains("1.00"),
        "{tr}"
    );
    assert!(!cells(tr)[3].contains("best"), "{tr}");
    // Tied AUC: every algorithm is bold.
    let tr = results_row(&html, "AUC", "task 2");
    assert_eq!(tr.matches("num best").count(), 3, "{tr}");
}

#[test]
fn has_every_section_and_the_test_results() {
    let html = render_html(&sample_table(), &ReportOptions::default()).unwrap();
    for id in [
        "summary",
        "results",
        "accuracy",
        "tests",
        "folds",
        "time",
        "hyperparameters",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(!html.contains("<section id=\"study\">"), "no context given");
    for metric in nstudent_stats::table::METRICS {
        assert!(
            html.contains(&format!("data-metric=\"{metric}\"")),
            "{metric}"
        );
    }
    // A row in each of the 8 metric tables and one per fold in the hyperparameter table.
    assert_eq!(html.matches("<tr><td>CIFAR100 40-49</td>").count(), 8 + 10);
    assert!(html.contains("Friedman χ²"));
    assert!(html.contains("Iman-Davenport F"));
    assert!(html.contains("class=\"nemenyi\""));
    assert!(html.contains("Critical-difference diagram"));
    assert!(html.contains("Wilcoxon signed-rank tests with Holm"));
    // Charts are inline SVG; the CD diagram too; no external resources at all.
    assert!(html.matches("<svg").count() >= 4);
    assert!(!html.contains("<?xml"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    // The summary names the best algorithm by mean rank; the study's hyperparameters counted.
    assert!(html.contains("<b>Noisy Student</b> has the best mean rank"));
    assert!(html.contains("ensemble_size"));
    assert!(html.contains("<h3>Noisy Student <span class=\"note\">(200 folds)</span></h3>"));
}

#[test]
fn the_test_numbers_are_those_of_the_stats_crate() {
    let table = sample_table();
    let html = render_html(&table, &ReportOptions::default()).unwrap();
    let analysis = nstudent_stats::compare::analyze(&table, "Accuracy", 0.05).unwrap();
    let friedman = analysis.friedman.as_ref().unwrap();
    let stat = format!("{:.4}", friedman.statistic);
    let stat = stat.trim_end_matches('0').trim_end_matches('.');
    assert!(
        html.contains(&format!("<td class=\"num\">{stat}</td>")),
        "{stat}"
    );
    for (name, rank) in &analysis.mean_ranks {
        assert!(
            html.contains(&format!(
                "<tr><td>{name}</td><td class=\"num\">{rank:.3}</td>"
            )),
            "{name} {rank}"
        );
    }
}

#[test]
fn escapes_text_from_the_table() {
    let mut table = small_table();
    for r in &mut table.rows {
        if r.algorithm == "B" {
            r.algorithm = "<script>alert(1)</script>".to_string();
        }
        if r.dataset == "task 0" {
            r.dataset = "a&b \"q\" <i>".to_string();
            r.hyperparameters = "lr: <b>1</b>".to_string();
        }
    }
    let options = ReportOptions {
        title: "<img src=x onerror=alert(1)>".to_string(),
        context: StudyContext {
            config_text: Some("name = \"</pre><script>\"".to_string()),
            inner_search: vec![SearchScore {
                task: "<u>x</u>".to_string(),
                fold: 1,
                algorithm: "A".to_string(),
                candidate: Settings(vec![Setting::new(
                    "<u>n</u>",
                    SettingValue::Text("<u>v</u>".to_string()),
                )]),
                epochs: 1,
                val_accuracy: 0.5,
            }],
            ..StudyContext::default()
        },
        ..ReportOptions::default()
    };
    let html = render_html(&table, &options).unwrap();
    assert!(!html.contains("<script>alert"), "unescaped algorithm name");
    assert!(!html.contains("<img"), "unescaped title");
    assert!(!html.contains("<i>") && !html.contains("<b>1</b>") && !html.contains("<u>"));
    assert!(!html.contains("</pre><script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a&amp;b &quot;q&quot; &lt;i&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // Exactly one script element: the report's own sorting code.
    assert_eq!(html.matches("<script>").count(), 1);
}

#[test]
fn says_which_tests_do_not_apply() {
    // Two algorithms: Wilcoxon only.
    let mut two = small_table();
    two.rows.retain(|r| r.algorithm != "C");
    let html = render_html(&two, &ReportOptions::default()).unwrap();
    assert!(html.contains("With 2 algorithms the Friedman and Iman-Davenport tests"));
    assert!(!html.contains("class=\"nemenyi\""));
    assert!(html.contains("Wilcoxon signed-rank tests with Holm"));

    // One task: the tests across tasks do not apply; the algorithms are ranked over its
    // folds, said to be an indication, and the pairs' corrected t-tests are pointed to.
    let mut one = small_table();
    one.rows.retain(|r| r.dataset == "task 0");
    let folds = one.folds_as_datasets().datasets().len();
    assert!(folds >= 2);
    let html = render_html(&one, &ReportOptions::default()).unwrap();
    assert!(!html.contains("The tests across tasks do not apply to this table"));
    assert!(
        html.contains("<b>One task (task 0):</b> the algorithms are ranked over its outer folds")
    );
    assert!(html.contains(&format!(
        "One task: ranked over {folds} outer folds (an indication"
    )));
    assert!(
        html.contains("Friedman"),
        "the rank tests over the folds are shown"
    );
    assert!(html.contains("<section id=\"folds\">"));

    // A task without one algorithm: the report says which pair is missing.
    let mut gap = small_table();
    gap.rows
        .retain(|r| !(r.dataset == "task 2" && r.algorithm == "A"));
    let html = render_html(&gap, &ReportOptions::default()).unwrap();
    assert!(html.contains("The tests across tasks do not apply"));
    assert!(html.contains("1 (task, algorithm) pairs have no rows: task 2 / A"));
    assert!(results_row(&html, "Accuracy", "task 2").contains("—"));
}

#[test]
fn renders_degenerate_tables_without_failing() {
    // One algorithm, one fold per cell, a NaN accuracy and an infinite time.
    let mut table = small_table();
    table.rows.retain(|r| r.algorithm == "A" && r.fold == 1);
    table.rows[0].metrics.accuracy = f64::NAN;
    table.rows[1].training_time = f64::INFINITY;
    let html = render_html(&table, &ReportOptions::default()).unwrap();
    assert!(html.contains("The tests across tasks do not apply"));
    assert!(html.contains("not a finite number"), "names the reason");
    assert!(html.contains("2 metric values are not finite numbers"));
    // One fold: no std is shown; the NaN mean is n/a and not bold.
    let tr = results_row(&html, "Accuracy", "task 0");
    assert!(tr.contains(">n/a</td>") && !tr.contains("best"), "{tr}");
    let tr = results_row(&html, "Accuracy", "task 1");
    assert!(tr.contains(">0.5950</td>") && !tr.contains("±"), "{tr}");
    let book = nstudent_report::render_xlsx(&table).unwrap();
    assert!(book.starts_with(b"PK"));

    table.rows[0].metrics.accuracy = 0.5;
    let html = render_html(&table, &ReportOptions::default()).unwrap();
    assert!(html.contains("only one algorithm"), "names the reason");
}

#[test]
fn shows_hyperparameters_only_when_the_table_has_them() {
    let html = render_html(&small_table(), &ReportOptions::default()).unwrap();
    assert!(!html.contains("<section id=\"hyperparameters\">"));
    let mut table = small_table();
    table.rows[0].hyperparameters = "threshold: 0.8, unl_factor: 0.1".to_string();
    table.rows[1].hyperparameters = "threshold: 0.7, unl_factor: 0.1".to_string();
    let html = render_html(&table, &ReportOptions::default()).unwrap();
    assert!(html.contains("<section id=\"hyperparameters\">"));
    assert!(html.contains("<tr><td>unl_factor</td><td><code>0.1</code> (2)</td></tr>"));
    assert!(html.contains("<code>0.8</code> (1)") && html.contains("<code>0.7</code> (1)"));
}

#[test]
fn counts_a_studys_chosen_hyperparameters_from_typed_values() {
    // The table's text of a name or a value with a comma in it comes apart when read back;
    // the study's typed values do not.
    let settings = |threshold: f64| {
        Settings(vec![
            Setting::new("unl_factor", SettingValue::Text("all".to_string())),
            Setting::new("a, b", SettingValue::Number(threshold)),
            Setting::new("mode", SettingValue::Text("x, y".to_string())),
            Setting::new("num_of_students", SettingValue::Count(2)),
        ])
    };
    let mut table = small_table();
    let mut chosen = Vec::new();
    for r in &mut table.rows {
        let s = (r.algorithm == "B").then(|| settings(if r.fold == 2 { 0.8 } else { 0.7 }));
        r.hyperparameters = s.as_ref().map_or("None".to_string(), Settings::to_string);
        chosen.push(ChosenSettings {
            dataset: r.dataset.clone(),
            algorithm: r.algorithm.clone(),
            fold: r.fold,
            settings: s,
        });
    }
    assert_eq!(
        table.rows[3].hyperparameters,
        "unl_factor: all, a, b: 0.8, mode: x, y, num_of_students: 2"
    );
    let typed = ReportOptions {
        context: StudyContext {
            chosen,
            ..StudyContext::default()
        },
        ..ReportOptions::default()
    };
    let html = render_html(&table, &typed).unwrap();
    let section = &html[html.find("<section id=\"hyperparameters\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("<h3>B <span class=\"note\">(8 folds)</span></h3>"));
    assert!(section.contains("<tr><td>unl_factor</td><td><code>all</code> (8)</td></tr>"));
    assert!(section
        .contains("<tr><td>a, b</td><td><code>0.7</code> (4), <code>0.8</code> (4)</td></tr>"));
    assert!(section.contains("<tr><td>mode</td><td><code>x, y</code> (8)</td></tr>"));
    assert!(section.contains("<tr><td>num_of_students</td><td><code>2</code> (8)</td></tr>"));
    // The per-fold table shows the same text as the table's column.
    assert!(section.contains("<td>unl_factor: all, a, b: 0.8, mode: x, y, num_of_students: 2</td>"));
    // The context has nothing for the study section.
    assert!(!html.contains("<section id=\"study\">"));

    // The same table without its study: the text column is read, and comes apart.
    let html = render_html(&table, &ReportOptions::default()).unwrap();
    assert!(html.contains("<tr><td>value</td><td><code>a</code> (8), <code>y</code> (8)</td></tr>"));
    assert!(html.contains("<tr><td>mode</td><td><code>x</code> (8)</td></tr>"));
    assert!(html.contains("<tr><td>unl_factor</td><td><code>all</code> (8)</td></tr>"));
}

#[test]
fn shows_the_study_context() {
    let options = ReportOptions {
        context: StudyContext {
            config_text: Some("seed = 7\n".to_string()),
            config_hash: Some("abc123".to_string()),
            dependence: Default::default(),
            inner_search: [(1, 0.8, 0.91234), (2, 0.7, 0.9)]
                .into_iter()
                .map(|(fold, threshold, val_accuracy)| SearchScore {
                    task: "task 0".to_string(),
                    fold,
                    algorithm: "B".to_string(),
                    candidate: Settings(vec![
                        Setting::new("unl_factor", SettingValue::Text("all".to_string())),
                        Setting::new("threshold", SettingValue::Number(threshold)),
                        Setting::new("num_of_students", SettingValue::Count(2)),
                    ]),
                    epochs: 3,
                    val_accuracy,
                })
                .collect(),
            chosen: Vec::new(),
            pseudo_labels: nstudent_report::pseudo_label_rows(concat!(
                r#"{"event":"iteration","phase":"refit","task":"task 0","algorithm":"noisy-student","iteration":1,"kept":900,"share_above_threshold":0.9,"pseudo_label_accuracy":0.8}"#,
                "\n",
                r#"{"event":"iteration","phase":"refit","task":"task 0","algorithm":"noisy-student","iteration":2,"kept":950,"share_above_threshold":0.95,"pseudo_label_accuracy":0.75}"#,
            )),
        },
        ..ReportOptions::default()
    };
    let html = render_html(&small_table(), &options).unwrap();
    assert!(html.contains("<section id=\"study\">"));
    assert!(html.contains("<code>abc123</code>"));
    assert!(html.contains("<pre>seed = 7\n</pre>"));
    assert!(html.contains("Inner-search scores (2 entries)"));
    assert!(html.contains(">val_accuracy</th>"));
    assert!(html.contains(">0.9123</td>"));
    // One column per hyperparameter; numbers sort as numbers, text stays text.
    assert!(html.contains("<th>unl_factor</th><th>threshold</th><th>num_of_students</th>"));
    assert!(html.contains(
        "<td>all</td><td class=\"num\" data-v=\"0.8\">0.8</td>\
         <td class=\"num\" data-v=\"2\">2</td><td class=\"num\" data-v=\"3\">3</td>"
    ));
    // metrics.jsonl's iterations: a chart and a table.
    assert!(html.contains("<section id=\"pseudo-labels\">"));
    assert!(html.contains("<a href=\"#pseudo-labels\">"));
    assert!(html.contains("task 0 · noisy-student"));
    assert!(html.contains("<td>2</td><td>1</td><td>950</td><td>0.950</td><td>0.7500</td>"));
}

fn read_sheet(path: &Path, name: &str) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    let range = book.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

#[test]
fn the_workbook_is_the_same_bytes_whenever_it_is_written() {
    // A finished study is merged again when a run resumes: its spreadsheet must not change.
    let table = sample_table();
    let first = nstudent_report::render_xlsx(&table).unwrap();
    // The creation time has a resolution of one second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = nstudent_report::render_xlsx(&table).unwrap();
    assert!(first == second, "two writes of one table differ");
}

#[test]
fn writes_the_report_and_a_two_sheet_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let table = sample_table();
    let files = write_report(&table, &ReportOptions::default(), &out).unwrap();
    assert_eq!(files.html, out);
    assert_eq!(files.xlsx, dir.path().join(XLSX_NAME));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));

    // A zip (xlsx) with exactly the two sheets, in order.
    let mut magic = [0u8; 4];
    std::fs::File::open(&files.xlsx)
        .unwrap()
        .read_exact(&mut magic)
        .unwrap();
    assert_eq!(&magic, b"PK\x03\x04");
    let book: Xlsx<_> = open_workbook(&files.xlsx).unwrap();
    assert_eq!(book.sheet_names(), vec![METRICS_SHEET, SUMMARY_SHEET]);

    let raw = read_sheet(&files.xlsx, METRICS_SHEET);
    assert_eq!(raw.len(), table.rows.len() + 1);
    assert_eq!(raw[0][0], Data::String("Dataset Name".into()));
    assert_eq!(raw[0][11], Data::String("Inference Time".into()));
    let last = table.rows.last().unwrap();
    let r = raw.last().unwrap();
    assert_eq!(r[0], Data::String(last.dataset.clone()));
    assert_eq!(r[1], Data::String(last.algorithm.clone()));
    assert_eq!(r[2], Data::Float(last.fold as f64));
    assert_eq!(r[3], Data::String(last.hyperparameters.clone()));
    assert_eq!(r[4], Data::Float(last.metrics.accuracy));
    assert_eq!(r[11], Data::Float(last.inference_time));

    let summary = read_sheet(&files.xlsx, SUMMARY_SHEET);
    assert_eq!(summary.len(), 20 * 3 + 1);
    assert_eq!(summary[0][3], Data::String("Accuracy mean".into()));
    assert_eq!(summary[0][4], Data::String("Accuracy std".into()));
    // Row 2 is (Fashion MNIST, Noisy Student): its mean and std over the 10 folds.
    let folds: Vec<f64> = table
        .rows
        .iter()
        .filter(|r| r.dataset == "Fashion MNIST" && r.algorithm == "Noisy Student")
        .map(|r| r.metrics.accuracy)
        .collect();
    let mean = folds.iter().sum::<f64>() / 10.0;
    let std = (folds.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
    assert_eq!(summary[2][0], Data::String("Fashion MNIST".into()));
    assert_eq!(summary[2][1], Data::String("Noisy Student".into()));
    assert_eq!(summary[2][2], Data::Float(10.0));
    let (Data::Float(m), Data::Float(s)) = (&summary[2][3], &summary[2][4]) else {
        panic!("{:?}", &summary[2]);
    };
    assert!((m - mean).abs() < 1e-12 && (s - std).abs() < 1e-12);
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn errors_leave_no_files_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");

    let e = write_report(&MetricsTable::default(), &ReportOptions::default(), &out).unwrap_err();
    assert!(
        e.kind().is_users() && e.to_string().contains("no rows"),
        "{e}"
    );
    let bad_alpha = ReportOptions {
        alpha: 1.5,
        ..ReportOptions::default()
    };
    let e = write_report(&small_table(), &bad_alpha, &out).unwrap_err();
    assert!(
        matches!(e, Error::Invalid(_)) && e.to_string().contains("alpha"),
        "{e}"
    );
    let bad_metric = ReportOptions {
        metric: "Accuracyy".to_string(),
        ..ReportOptions::default()
    };
    let e = write_report(&small_table(), &bad_metric, &out).unwrap_err();
    assert!(e.to_string().contains("unknown metric"), "{e}");
    let e = write_report(&small_table(), &ReportOptions::default(), dir.path()).unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

    let missing = dir.path().join("no/such/dir/report.html");
    let e = write_report(&small_table(), &ReportOptions::default(), &missing).unwrap_err();
    assert!(
        e.kind().is_users() && e.to_string().contains("does not exist"),
        "{e}"
    );
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn a_failed_write_leaves_old_files_and_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    std::fs::write(&out, "old report").unwrap();
    // A non-empty directory where the spreadsheet goes: renaming onto it fails, even as root.
    let blocker = dir.path().join(XLSX_NAME);
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("keep"), "x").unwrap();
    let e = write_report(&small_table(), &ReportOptions::default(), &out).unwrap_err();
    assert!(e.kind().is_users(), "{e}");
    assert!(e.to_string().contains(XLSX_NAME), "names the file: {e}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old report");
    assert_eq!(entries(dir.path()), vec![XLSX_NAME, "report.html"]);
}

#[test]
fn replaces_an_existing_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    std::fs::write(&out, "old").unwrap();
    write_report(&small_table(), &ReportOptions::default(), &out).unwrap();
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
    assert_eq!(entries(dir.path()), vec![XLSX_NAME, "r.html"]);
}

#[test]
fn the_committed_fixture_is_the_generated_sample() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample_metrics_table.csv");
    let committed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        committed,
        sample_csv(),
        "regenerate with: cargo run -p nstudent-report --example sample_report -- DIR \
         && cp DIR/metrics_table.csv {}",
        path.display()
    );
    let table = MetricsTable::read(&path).unwrap();
    assert_eq!(table.rows.len(), 20 * 3 * 10);
    assert_eq!(table.datasets().len(), 20);
}

#[test]
fn shows_the_pairs_tests_the_source_blocks_and_the_compute() {
    use nstudent_stats::paired::{compare_pair, PairSettings};
    let table = small_table();
    let settings = PairSettings::default();
    // Tasks 0 and 1 are one block.
    let block_of = |t: &str| (t == "task 0" || t == "task 1").then(|| "first <two>".to_string());
    let pair = compare_pair(&table, "Accuracy", "A", "C", &block_of, &settings).unwrap();
    let dependence = nstudent_report::Dependence {
        settings: Some(settings),
        paired: vec![pair.clone()],
        blocks: vec![
            ("first <two>".into(), vec!["task 0".into(), "task 1".into()]),
            ("task 2".into(), vec!["task 2".into()]),
        ],
        block_friedman_p: Some(0.1234),
        block_mean_ranks: vec![("A".into(), 2.5)],
        compute: vec![("A".into(), 8, 1.0, 0.25), ("C".into(), 8, 4.0, 1.5)],
    };
    let options = ReportOptions {
        context: StudyContext {
            dependence,
            ..StudyContext::default()
        },
        ..ReportOptions::default()
    };
    let html = render_html(&table, &options).unwrap();
    assert!(html.contains("<a href=\"#dependence\">Pairs and compute</a>"));
    assert!(
        html.contains("<tr><td>C</td><td>8</td><td>4.0</td><td>1.50</td></tr>"),
        "{html}"
    );
    assert!(html.contains("first &lt;two&gt;") && !html.contains("first <two>"));
    assert!(html.contains("Friedman p = 0.1234"));
    assert!(html.contains("<h4>C against A</h4>"));
    // C is 0.02 above A on every task and fold: +0.0200, 2 of 2 folds, and the per-task test
    // the stats crate computed.
    let t0 = &pair.per_task[0];
    assert!(html.contains(&format!(
        "<tr><td>task 0</td><td>+0.0200</td><td>2 of 2</td><td>{:.4}</td>",
        t0.test.p_value
    )));
    assert!(
        html.contains("<em>across 4 tasks</em>")
            && html.contains("<em>across 3 source blocks</em>")
    );
    // Without it, no section.
    let plain = render_html(&table, &ReportOptions::default()).unwrap();
    assert!(!plain.contains("id=\"dependence\""));
}
