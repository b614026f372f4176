//! `nstudent report`: inputs, defaults, outputs and one-line errors with exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nstudent(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nstudent"))
        .args(args)
        .output()
        .expect("the nstudent binary runs")
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nstudent-report/tests/fixtures/sample_metrics_table.csv")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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
fn a_results_directory_gets_report_and_spreadsheet_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(), dir.path().join("metrics_table.csv")).unwrap();
    std::fs::write(dir.path().join("study.toml"), "seed = 11 # <config>\n").unwrap();
    let out = nstudent(&["report".as_ref(), dir.path().as_os_str()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        entries(dir.path()),
        vec![
            "metrics_table.csv",
            "metrics_table.xlsx",
            "report.html",
            "study.toml"
        ]
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let name = dir.path().file_name().unwrap().to_string_lossy();
    assert!(html.contains(&format!("<h1>nstudent study: {name}</h1>")));
    assert!(
        html.contains("seed = 11 # &lt;config&gt;"),
        "study.toml is shown"
    );
    assert!(html.contains("Friedman χ²"));
    let xlsx = std::fs::read(dir.path().join("metrics_table.xlsx")).unwrap();
    assert!(xlsx.starts_with(b"PK\x03\x04"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("report.html") && stdout.contains("metrics_table.xlsx"));
}

#[test]
fn a_table_with_out_title_metric_and_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("fpr.html");
    let out = nstudent(&[
        "report".as_ref(),
        fixture().as_os_str(),
        "--out".as_ref(),
        html_path.as_os_str(),
        "--title".as_ref(),
        "My study".as_ref(),
        "--metric".as_ref(),
        "fpr".as_ref(),
        "--alpha".as_ref(),
        "0.1".as_ref(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(entries(dir.path()), vec!["fpr.html", "metrics_table.xlsx"]);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<title>My study</title>"));
    assert!(html.contains("Statistical comparison (FPR)"));
    assert!(html.contains("α = 0.1"));
}

#[test]
fn bad_inputs_fail_with_one_line_and_exit_2_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let missing = d.join("nope");
    let out = nstudent(&["report".as_ref(), missing.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim().lines().count(), 1);

    let empty_dir = d.join("results");
    std::fs::create_dir(&empty_dir).unwrap();
    let out = nstudent(&["report".as_ref(), empty_dir.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no metrics_table.csv"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir(empty_dir.join("cells")).unwrap();
    let out = nstudent(&["report".as_ref(), empty_dir.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nstudent merge"), "{}", stderr(&out));

    let bad = d.join("bad.csv");
    std::fs::write(
        &bad,
        "Dataset Name,Algorithm Name,Accuracy\nMNIST 0-4,Baseline,0.9\n",
    )
    .unwrap();
    let out = nstudent(&["report".as_ref(), bad.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("missing column") && err.contains("bad.csv"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let header_only = d.join("empty.csv");
    let header = std::fs::read_to_string(fixture()).unwrap();
    std::fs::write(&header_only, header.lines().next().unwrap()).unwrap();
    let out = nstudent(&["report".as_ref(), header_only.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no rows"), "{}", stderr(&out));

    let out = nstudent(&[
        "report".as_ref(),
        fixture().as_os_str(),
        "--out".as_ref(),
        d.join("missing/dir/r.html").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));

    let out = nstudent(&[
        "report".as_ref(),
        fixture().as_os_str(),
        "--metric".as_ref(),
        "speed".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'speed' for '--metric <METRIC>'"),
        "{}",
        stderr(&out)
    );

    // Nothing was written anywhere: only the inputs remain.
    assert_eq!(entries(d), vec!["bad.csv", "empty.csv", "results"]);
    assert_eq!(entries(&empty_dir), vec!["cells"]);
}

#[test]
fn another_tools_wide_or_long_table_gets_a_comparison_page() {
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.csv");
    std::fs::write(
        &wide,
        "dataset,A,B,C\nd1,0.5,0.6,0.7\nd2,0.4,0.6,0.5\nd3,0.3,0.35,0.5\nd4,0.8,0.9,0.85\nd5,0.7,0.75,0.8\n",
    )
    .unwrap();
    let out = nstudent(&[std::ffi::OsStr::new("report"), wide.as_os_str()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    for needle in [
        "<h2>Accuracy per dataset</h2>",
        "<td class=\"num\"><b>0.7000</b></td>",
        "Friedman",
        "<svg",
        "<section id=\"effects\">",
        "Cohen's d",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    // No spreadsheet: there are no folds or times to put in one.
    assert!(!dir.path().join("metrics_table.xlsx").exists());

    let long = dir.path().join("long.csv");
    std::fs::write(
        &long,
        "task,method,err\nd1,A,0.5\nd1,B,0.4\nd2,A,0.3\nd2,B,0.35\nd3,A,0.2\nd3,B,0.1\n",
    )
    .unwrap();
    let page = dir.path().join("long.html");
    let words = [
        "report",
        long.to_str().unwrap(),
        "--dataset-col",
        "task",
        "--algorithm-col",
        "method",
        "--value-col",
        "err",
        "--lower-is-better",
        "--out",
        page.to_str().unwrap(),
    ];
    let args: Vec<&std::ffi::OsStr> = words.iter().map(std::ffi::OsStr::new).collect();
    let out = nstudent(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<h2>err per dataset</h2>") && html.contains("lower is better"));
}

#[test]
fn beside_sets_another_studys_table_next_to_this_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The original study's spelling of the same table: "Improved Noisy Student".
    let theirs = d.join("original.csv");
    let text = std::fs::read_to_string(fixture()).unwrap();
    std::fs::write(
        &theirs,
        text.replace("Ensemble Noisy Student", "Improved Noisy Student"),
    )
    .unwrap();
    let out = nstudent(&[
        "report".as_ref(),
        fixture().as_os_str(),
        "--out".as_ref(),
        d.join("r.html").as_os_str(),
        "--beside".as_ref(),
        theirs.as_os_str(),
        "--beside-name".as_ref(),
        "the original study".as_ref(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(d.join("r.html")).unwrap();
    let at = html.find("<section id=\"beside\">").expect("the section");
    let section = &html[at..at + html[at..].find("</section>").unwrap()];
    assert!(
        section.contains("<h2>Beside the original study (Accuracy)</h2>"),
        "{section}"
    );
    assert!(
        section.contains("Ensemble Noisy Student"),
        "matched by its alias"
    );
    assert!(
        !section.contains("disagree"),
        "a table beside itself agrees: {section}"
    );
    assert!(html.contains("<a href=\"#beside\">"));
}

#[test]
fn a_bad_beside_fails_with_one_line_and_exit_2_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let report = d.join("r.html");
    let table = fixture();
    let run = |extra: &[&std::ffi::OsStr]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "report".as_ref(),
            table.as_os_str(),
            "--out".as_ref(),
            report.as_os_str(),
        ];
        args.extend_from_slice(extra);
        nstudent(&args)
    };
    let missing = d.join("nope.csv");
    let out = run(&["--beside".as_ref(), missing.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--beside") && stderr(&out).contains("no such file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).trim().lines().count(), 1);

    // A table of other tasks: every row's dataset (the second field) renamed.
    let other = d.join("other.csv");
    let text = std::fs::read_to_string(fixture()).unwrap();
    let mut lines = text.lines();
    let mut other_text = format!("{}\n", lines.next().unwrap());
    for line in lines {
        let mut fields = line.splitn(3, ',');
        let (index, task, rest) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        other_text.push_str(&format!("{index},Other {task},{rest}\n"));
    }
    std::fs::write(&other, other_text).unwrap();
    let out = run(&["--beside".as_ref(), other.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("shares no task"), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));

    // A study directory: refused before its table is merged again (this one's cells/ and
    // study.toml are not a study's, so a merge would fail with another message).
    let study = d.join("study");
    std::fs::create_dir_all(study.join("cells")).unwrap();
    std::fs::copy(fixture(), study.join("metrics_table.csv")).unwrap();
    std::fs::write(study.join("study.toml"), "not a study\n").unwrap();
    let out = nstudent(&[
        "report".as_ref(),
        study.as_os_str(),
        "--beside".as_ref(),
        other.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("shares no task"), "{}", stderr(&out));
    assert_eq!(
        entries(&study),
        vec!["cells", "metrics_table.csv", "study.toml"]
    );

    let out = run(&["--beside-name".as_ref(), "x".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--beside"), "{}", stderr(&out));

    // The report may not replace the table beside it.
    let keep = d.join("keep.csv");
    std::fs::copy(fixture(), &keep).unwrap();
    let out = nstudent(&[
        "report".as_ref(),
        fixture().as_os_str(),
        "--out".as_ref(),
        keep.as_os_str(),
        "--beside".as_ref(),
        keep.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&keep).unwrap(),
        std::fs::read(fixture()).unwrap()
    );

    assert_eq!(entries(d), vec!["keep.csv", "other.csv", "study"]);
}
