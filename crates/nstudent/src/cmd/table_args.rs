//! How `stats` and `report` read a results table: nstudent's own, or another tool's wide or
//! long table, and which effect size they report.

use std::path::Path;

use nstudent_stats::effect::{self, EffectSize};
use nstudent_stats::table::{Metric, MetricsTable};
use nstudent_stats::{compare, layouts};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EffectArg {
    Auto,
    CohenD,
    AkinshinGamma,
    CliffDelta,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// nstudent's table when it has its columns; long when --value-col is given; else wide.
    Auto,
    /// nstudent's metrics table (Dataset Name, Algorithm Name, Cross Validation, ...).
    Nstudent,
    /// A dataset column, then one column per algorithm, one row per dataset (as autorank
    /// and scikit-posthocs take).
    Wide,
    /// One value per row, in the columns --dataset-col, --algorithm-col, --value-col and
    /// optionally --fold-col.
    Long,
}

#[derive(clap::Args, Clone)]
pub struct TableArgs {
    /// How the table is laid out.
    #[arg(long, value_enum, default_value_t = Layout::Auto)]
    pub layout: Layout,
    /// Long tables: the column naming the dataset.
    #[arg(long, value_name = "COLUMN", default_value = "dataset")]
    pub dataset_col: String,
    /// Long tables: the column naming the algorithm.
    #[arg(long, value_name = "COLUMN", default_value = "algorithm")]
    pub algorithm_col: String,
    /// Long tables: the column of values compared (its name is the metric's in the output).
    #[arg(long, value_name = "COLUMN")]
    pub value_col: Option<String>,
    /// Long tables: the fold column; each pair's folds are averaged. Without it, one row per
    /// dataset and algorithm.
    #[arg(long, value_name = "COLUMN")]
    pub fold_col: Option<String>,
    /// Wide and long tables: what the values are, when they are none of the eight metrics of
    /// --metric (e.g. F1); the output names them so. Such values may be any finite number,
    /// where a metric's must lie in its range (fractions in [0, 1], times >= 0).
    #[arg(long, value_name = "NAME")]
    pub value_name: Option<String>,
    /// Wide and long tables: smaller values are better (errors, times).
    #[arg(long)]
    pub lower_is_better: bool,
    /// Effect size of every pair: as autorank chooses (Cohen's d when every algorithm's
    /// scores pass Shapiro-Wilk, else Akinshin's gamma), or the one named.
    #[arg(long, value_enum, default_value_t = EffectArg::Auto)]
    pub effect_size: EffectArg,
}

impl TableArgs {
    /// The layout of the table: as given, or guessed from its header and the flags.
    pub fn layout(&self, table: &Path) -> crate::failure::Result<Layout> {
        if self.layout != Layout::Auto {
            return Ok(self.layout);
        }
        if self.value_col.is_some() {
            return Ok(Layout::Long);
        }
        let io = |source| nstudent_stats::Error::Io {
            path: table.to_path_buf(),
            source,
        };
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(std::fs::File::open(table).map_err(io)?),
            &mut first,
        )
        .map_err(io)?;
        Ok(
            if first.contains("Dataset Name") && first.contains("Algorithm Name") {
                Layout::Nstudent
            } else {
                Layout::Wide
            },
        )
    }

    /// Reads the table in its layout and runs the tests.
    pub fn analysis(
        &self,
        table: &Path,
        metric: Metric,
        alpha: f64,
    ) -> crate::failure::Result<compare::Analysis> {
        // The tests' errors say what is wrong with the numbers; the file is named here.
        let in_table = |e: nstudent_stats::Error| {
            crate::failure::Failure::from(e).context(format!("{}", table.display()))
        };
        Ok(match self.layout(table)? {
            Layout::Nstudent | Layout::Auto => {
                if self.value_col.is_some()
                    || self.fold_col.is_some()
                    || self.lower_is_better
                    || self.value_name.is_some()
                {
                    crate::failure::usage!(
                        "--value-col, --fold-col, --value-name and --lower-is-better are for \
                         wide and long tables; nstudent's table names its metric with --metric"
                    );
                }
                let table = MetricsTable::read(table)?;
                // One task: its outer folds are the blocks (an indication, said by `stats`).
                let table = match table.datasets().len() {
                    1 => table.folds_as_datasets(),
                    _ => table,
                };
                compare::analyze(&table, metric.name(), alpha).map_err(in_table)?
            }
            Layout::Wide => {
                let name = self.value_name.as_deref().unwrap_or(metric.name());
                // Named values (--value-name) may be anything finite; a metric has its range.
                let range = match &self.value_name {
                    Some(_) => None,
                    None => nstudent_stats::table::value_range(name),
                };
                let means = layouts::read_wide(table, range)?;
                compare::analyze_means(means, name, self.lower_is_better, alpha)
                    .map_err(in_table)?
            }
            Layout::Long => {
                let Some(value) = self.value_col.clone() else {
                    crate::failure::usage!(
                        "--layout long needs --value-col, the column of values to compare"
                    );
                };
                let columns = layouts::LongColumns {
                    dataset: self.dataset_col.clone(),
                    algorithm: self.algorithm_col.clone(),
                    value: value.clone(),
                    fold: self.fold_col.clone(),
                };
                let range = match &self.value_name {
                    Some(_) => None,
                    None => nstudent_stats::table::value_range(&value),
                };
                let means = layouts::read_long(table, &columns, range)?;
                let name = self.value_name.as_deref().unwrap_or(&value);
                compare::analyze_means(means, name, self.lower_is_better, alpha)
                    .map_err(in_table)?
            }
        })
    }

    /// Every pair's effect size and each algorithm's interval, by `--effect-size`.
    pub fn effects(&self, analysis: &compare::Analysis) -> crate::failure::Result<effect::Effects> {
        let method = match self.effect_size {
            EffectArg::Auto => None,
            EffectArg::CohenD => Some(EffectSize::CohenD),
            EffectArg::AkinshinGamma => Some(EffectSize::AkinshinGamma),
            EffectArg::CliffDelta => Some(EffectSize::CliffDelta),
        };
        Ok(effect::effects(
            &analysis.means,
            &analysis.algorithms,
            analysis.alpha,
            method,
        )?)
    }
}
