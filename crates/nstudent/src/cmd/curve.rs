//! `nstudent curve`: a learning curve from studies that differ in their labeled fraction.

use std::path::PathBuf;

use crate::failure::usage;
use crate::outputs::{check_file, Staged};

#[derive(clap::Args)]
pub struct Args {
    /// Study results directories, one per labeled fraction (`[pseudo] teacher_factor`); their
    /// configs must differ in that key only.
    #[arg(value_name = "RESULTS_DIR", required = true, num_args = 2..)]
    pub dirs: Vec<PathBuf>,
    /// Prefix of the files written: PREFIX.svg (the figure), PREFIX.csv (its numbers) and
    /// PREFIX.md (the numbers and the tests per fraction, also printed).
    #[arg(long, short, value_name = "PREFIX", default_value = "curve")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> crate::failure::Result<()> {
    let with = |ext: &str| {
        let mut p = args.out.clone().into_os_string();
        p.push(format!(".{ext}"));
        PathBuf::from(p)
    };
    let (svg, csv, md) = (with("svg"), with("csv"), with("md"));
    // The studies are the inputs: nothing is written inside them (a prefix such as
    // `study/metrics_table` would replace the study's own table).
    let studies: Vec<PathBuf> = args
        .dirs
        .iter()
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .collect();
    for path in [&svg, &csv, &md] {
        check_file("--out", path)?;
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => std::path::Path::new("."),
        };
        if let Ok(folder) = std::fs::canonicalize(folder) {
            if let Some(d) = studies.iter().find(|d| folder.starts_with(d)) {
                usage!(
                    "--out {}: that is inside the study {}, an input; write the curve elsewhere",
                    path.display(),
                    d.display()
                );
            }
        }
    }
    let curve = nstudent_experiment::curve::curve(&args.dirs)?;
    if curve.points.is_empty() {
        usage!("the studies have no finished cells yet; run them first");
    }
    let markdown = curve.markdown();
    let mut staged = Staged::default();
    staged.write(&svg, curve.svg()?.as_bytes())?;
    staged.write(&csv, curve.csv().as_bytes())?;
    staged.write(&md, markdown.as_bytes())?;
    staged.commit()?;
    print!("{markdown}");
    eprintln!(
        "wrote {}, {} and {}",
        svg.display(),
        csv.display(),
        md.display()
    );
    Ok(())
}
