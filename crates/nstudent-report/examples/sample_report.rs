//! Writes the sample metrics table (20 tasks x 3 algorithms x 10 folds, deterministic) and its
//! report into a directory, to look at the report without running a study:
//!
//! ```sh
//! cargo run -p nstudent-report --example sample_report -- /tmp/sample
//! ```
//!
//! The directory then holds `metrics_table.csv`, `report.html` and `metrics_table.xlsx`.

#[path = "../tests/common/sample.rs"]
mod sample;

use std::path::PathBuf;

use nstudent_report::{write_report, ReportOptions, StudyContext};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: sample_report OUT_DIR")?,
    );
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("metrics_table.csv");
    std::fs::write(&csv, sample::sample_csv())?;
    let options = ReportOptions {
        title: "Sample study: Noisy Student on 20 tasks".to_string(),
        source: Some(csv.display().to_string()),
        context: StudyContext {
            config_text: Some(
                "# sample configuration\nseed = 2020\nouter_folds = 10\ninner_folds = 3\n\
                 algorithms = [\"baseline\", \"noisy-student\", \"ensemble-noisy-student\"]\n"
                    .to_string(),
            ),
            config_hash: Some("sample-0000".to_string()),
            ..StudyContext::default()
        },
        ..ReportOptions::default()
    };
    let files = write_report(&sample::sample_table(), &options, &dir.join("report.html"))?;
    println!("{}\n{}", files.html.display(), files.xlsx.display());
    Ok(())
}
