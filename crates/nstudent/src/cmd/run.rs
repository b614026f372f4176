//! `nstudent run`: the study, resolved from a preset, a config file and flags, then planned or run.

use crate::failure::Failure;
use std::path::{Path, PathBuf};

use nstudent_experiment::{
    config::{Algorithm, StudyConfig},
    merge as merging, plan, Budget, MergeOptions, NestedCv, Preset, RunOptions, Shard, Study,
    StudyDir,
};

use super::format::{print_json, Format};
use super::study_json;
use crate::failure::usage;

/// Run the study: nested cross-validation of the algorithms over tasks.
///
/// With no arguments, runs the `quick` preset (the embedded Fashion-MNIST-10k, 5 outer folds,
/// all three algorithms, a small search) into ./nstudent-results. Rerunning the same command
/// resumes: finished cells are skipped.
#[derive(clap::Args)]
pub struct Args {
    /// Study config (TOML). Keys it leaves out take the --preset's values (`quick` if no
    /// preset is given). See `--print-config` for every key.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Built-in study; `quick` is the default without --config. docs/presets.md says what each
    /// one is.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Results directory (cells, table, statistics, report, log).
    #[arg(long, value_name = "DIR", default_value = "nstudent-results")]
    pub out: PathBuf,
    /// Tasks to run instead of the config's, comma-separated (e.g. mnist:0-4,cifar10:0-4).
    #[arg(long, value_delimiter = ',', value_name = "TASKS")]
    pub tasks: Option<Vec<String>>,
    /// Your own data as the one task (a folder of class folders, a CSV, or anything `train`
    /// reads); the same as --tasks with one path. Its training images are split into folds;
    /// a test split, if it has one, is not used (the folds are the evaluation).
    #[arg(long, value_name = "DATA", conflicts_with = "tasks")]
    pub data: Option<String>,
    /// A separate set of unlabeled images (a folder of images, a source or a path) that every
    /// fold pseudo-labels instead of the hidden labels of its training part ([data] unlabeled).
    /// With it, every training image keeps its label (pseudo.teacher_factor 1) unless --config
    /// sets pseudo.teacher_factor.
    #[arg(long, value_name = "DATA")]
    pub unlabeled: Option<String>,
    /// How --data and --unlabeled are read (the [data] table of the config).
    #[command(flatten)]
    pub read: super::read_args::ReadArgs,
    /// Algorithms to run instead of the config's, comma-separated (baseline,noisy-student,ensemble).
    #[arg(long, value_delimiter = ',', value_name = "ALGOS")]
    pub algorithms: Option<Vec<String>>,
    /// Outer cross-validation folds.
    #[arg(long, value_name = "K")]
    pub folds: Option<usize>,
    /// Epochs of every training (overrides training.epochs and epochs_by_source).
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Root seed of every random choice.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Threads in total; 0 or none uses every core. A speed setting only: the results are the
    /// same bits for any thread count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Cells trained side by side; 0 or none picks min(threads, 2). Each gets threads/jobs
    /// threads.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Training engine (burn only when compiled in).
    #[arg(long, value_enum)]
    pub engine: Option<nstudent_engine::EngineName>,
    /// Where named datasets are read from (default: $NSTUDENT_DATA or the platform's data dir).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Run only shard I of N (cells whose index % N == I). Without it, the shard is read from
    /// SLURM_ARRAY_TASK_ID/COUNT, JOB_COMPLETION_INDEX (with --shard-count) or
    /// AWS_BATCH_JOB_ARRAY_INDEX/SIZE when set.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Number of shards of an array job whose environment does not say it (Kubernetes).
    #[arg(long, value_name = "N")]
    pub shard_count: Option<usize>,
    /// Print the cells and the model trainings they need (vs the original protocol), then exit.
    #[arg(long)]
    pub plan: bool,
    /// Output format of --plan.
    #[arg(long, value_enum, default_value_t, requires = "plan")]
    pub format: Format,
    /// Print the resolved config as TOML, every key documented, then exit.
    #[arg(long)]
    pub print_config: bool,
    /// Start over in a directory made by a different config (its cells are moved aside).
    #[arg(long)]
    pub force: bool,
    /// Stop after computing this many cells (rerun to continue).
    #[arg(long, value_name = "N")]
    pub max_cells: Option<usize>,
    /// No progress bars or per-cell lines.
    #[arg(long, short)]
    pub quiet: bool,
    /// Refuse to start when a task's data is missing, instead of running the other tasks.
    #[arg(long)]
    pub strict: bool,
    /// Work until every cell is finished: besides the free cells, wait for the cells other
    /// processes hold and take over those whose holder stops (its heartbeat is older than
    /// --claim-timeout). Start any number of workers on one directory, on one machine or on
    /// many sharing a file system; the last one merges. Without it, cells that another process
    /// holds are left to it.
    #[arg(long)]
    pub worker: bool,
    /// Seconds without a heartbeat after which a cell's claim is stale and another process
    /// takes the cell over (resuming it from its checkpoint). Claims of processes that are gone
    /// from this machine are stale at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub claim_timeout: u64,
}

/// The study the arguments describe, checked and resolved.
pub fn resolve(args: &Args) -> crate::failure::Result<Study> {
    let preset = match (args.preset, &args.config) {
        (Some(p), _) => p,
        (None, _) => Preset::Quick,
    };
    let base = preset.config().map_err(Failure::flat)?;
    let mut c = match &args.config {
        Some(path) => StudyConfig::read_over(path, &base).map_err(Failure::flat)?,
        None => base,
    };
    if let Some(tasks) = &args.tasks {
        c.tasks = tasks
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
    }
    if let Some(data) = &args.data {
        c.tasks = vec![data.trim().to_string()];
    }
    if let Some(unlabeled) = &args.unlabeled {
        c.data.unlabeled = Some(unlabeled.trim().to_string());
        // With a separate unlabeled set the user's labels are all meant to be used, as in
        // `train --unlabeled`; a config that sets the fraction keeps it.
        let config_sets = match &args.config {
            Some(path) => {
                StudyConfig::file_sets(path, "pseudo.teacher_factor").map_err(Failure::flat)?
            }
            None => false,
        };
        if !config_sets {
            c.base.teacher_factor = 1.0;
        }
    }
    apply_read_args(&args.read, &mut c.data)?;
    if let Some(algos) = &args.algorithms {
        let mut list = Vec::new();
        for a in algos {
            match Algorithm::parse(a) {
                Some(a) => list.push(a),
                None => usage!(
                    "--algorithms: unknown algorithm \"{a}\"; use baseline, noisy-student, ensemble"
                ),
            }
        }
        c.algorithms = list;
    }
    if let Some(k) = args.folds {
        c.outer_folds = k;
    }
    if let Some(e) = args.epochs {
        c.base.fit.epochs = e;
        c.epochs_by_source.clear();
    }
    if let Some(s) = args.seed {
        c.seed = s;
    }
    if let Some(t) = args.threads {
        c.execution.threads = t;
    }
    if let Some(j) = args.jobs {
        c.execution.jobs = j;
    }
    if let Some(e) = args.engine {
        c.engine = e.name().to_string();
    }
    if let Some(d) = &args.data_dir {
        c.execution.data_dir = d.display().to_string();
    }
    let study = c.resolve().map_err(Failure::flat)?;
    // A task that names neither a source nor an existing path is a typo, not missing data.
    for t in &c.tasks {
        nstudent_data::Task::parse(t)?;
    }
    Ok(study)
}

/// A note for each task that is an image folder with a test split: the study never reads it,
/// since its outer folds come from the training images and are its evaluation.
fn unused_test_splits(config: &StudyConfig) -> Vec<String> {
    config
        .tasks
        .iter()
        .filter_map(|spec| {
            let task = nstudent_data::Task::parse(spec).ok()?;
            let test = nstudent_data::read::image_folder::test_split_dir(Path::new(&task.source))?;
            Some(format!(
                "{spec}: the study does not use its test split ({}): its outer folds are drawn \
                 from the training images and are the evaluation; score a trained model on the \
                 test split with `nstudent compare` or `nstudent train --eval test`",
                test.display()
            ))
        })
        .collect()
}

/// The read flags (`--label-column`, `--resize`, ...) as the config's `[data]` keys, which
/// the study records and hashes.
fn apply_read_args(
    read: &super::read_args::ReadArgs,
    data: &mut nstudent_experiment::config::DataConfig,
) -> crate::failure::Result<()> {
    use nstudent_experiment::config::ColourMode;
    if read.coarse {
        usage!(
            "--coarse is for `train` and `predict`; a study's CIFAR-100 tasks use the 100 fine \
             labels, so leave --coarse out"
        );
    }
    let set = |slot: &mut Option<String>, value: &Option<String>| {
        if let Some(v) = value {
            *slot = Some(v.trim().to_string());
        }
    };
    set(&mut data.label_column, &read.label_column);
    set(&mut data.shape, &read.shape);
    set(&mut data.resize, &read.resize);
    if let Some(m) = read.max_value {
        data.max_value = Some(m);
    }
    if read.header || read.no_header {
        data.header = Some(read.header);
    }
    if read.grayscale {
        data.colour = Some(ColourMode::Grey);
    } else if read.rgb {
        data.colour = Some(ColourMode::Rgb);
    }
    Ok(())
}

fn shard_of(args: &Args) -> crate::failure::Result<Shard> {
    // Workers share every cell: an array job's index does not split them.
    if args.worker && args.shard.is_none() {
        return Ok(Shard::ALL);
    }
    if let Some(s) = &args.shard {
        return Shard::parse(s).map_err(Failure::flat);
    }
    let env = |k: &str| std::env::var(k).ok();
    match Shard::from_env(&env, args.shard_count).map_err(Failure::flat)? {
        Some(s) => Ok(s),
        None if args.shard_count.is_some() => usage!(
            "--shard-count needs an array-job index (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX) or use --shard I/N"
        ),
        None => Ok(Shard::ALL),
    }
}

pub fn run(args: Args) -> crate::failure::Result<()> {
    let resolved = resolve(&args)?;
    let config = resolved.config();
    if args.print_config {
        out(config.to_commented_toml().trim_end());
        return Ok(());
    }
    if args.out.exists() && !args.out.is_dir() {
        usage!(
            "--out {} is a file; --out names a results directory (new, or of an earlier run to resume)",
            args.out.display()
        );
    }
    let shard = shard_of(&args)?;
    if !args.quiet {
        for note in unused_test_splits(config) {
            eprintln!("note: {}", crate::failure::escape_controls(&note));
        }
    }
    if args.plan {
        return print_plan(&args, &resolved, shard);
    }
    let missing_data =
        nstudent_experiment::tasks_to_skip(&resolved, args.strict).map_err(Failure::flat)?;
    let skipped: Vec<String> = missing_data.iter().map(|(t, _)| t.clone()).collect();
    let work = NestedCv::new(&resolved).map_err(Failure::flat)?;
    check_data_fits(&args, config, &work, &skipped)?;
    let study = StudyDir::create(&args.out, &resolved, args.force).map_err(Failure::flat)?;
    for (task, why) in &missing_data {
        let line = format!("skipping task {task}: its data is missing: {why}");
        study.log(&line);
        eprintln!("nstudent: {line}");
    }
    let Budget { threads, jobs } = resolved.budget();
    if !args.quiet {
        eprintln!(
            "nstudent: study {} -> {} (config hash {}, shard {shard}, {threads} threads, {jobs} cells side by side)",
            describe_config(config),
            args.out.display(),
            study.hash()
        );
    }
    let options = RunOptions {
        shard,
        observer: match args.quiet {
            true => nstudent_experiment::ObserverHandle::default(),
            false => nstudent_experiment::ObserverHandle(std::sync::Arc::new(
                crate::progress::Bars::new(),
            )),
        },
        max_cells: args.max_cells,
        skip_tasks: skipped.clone(),
        only_cells: None,
        worker: args.worker,
        claim_timeout: std::time::Duration::from_secs(args.claim_timeout.max(1)),
    };
    let summary = nstudent_experiment::run_study(&study, &work, &options).map_err(Failure::flat)?;
    if !args.quiet {
        eprintln!(
            "nstudent: {} cells computed, {} were already finished{}",
            summary.computed,
            summary.skipped,
            if summary.remaining > 0 {
                format!(
                    ", {} left in this shard (rerun to continue)",
                    summary.remaining
                )
            } else {
                String::new()
            }
        );
    }
    if !summary.held_elsewhere.is_empty() && !args.quiet {
        let (cell, by) = &summary.held_elsewhere[0];
        eprintln!(
            "nstudent: {} cells are being computed by other processes (cell {} by {by}{}); they merge when they finish, or rerun with --worker to wait for them",
            summary.held_elsewhere.len(),
            cell.index,
            if summary.held_elsewhere.len() > 1 { ", ..." } else { "" }
        );
    }
    merge_when_done(&args, config, &study, &summary, &skipped)
}

/// Checks, before the results directory exists, that the data of the tasks that run fits the
/// study: a separate unlabeled set has their images' shape, and every task fills its folds.
fn check_data_fits(
    args: &Args,
    config: &StudyConfig,
    work: &NestedCv,
    skipped: &[String],
) -> crate::failure::Result<()> {
    // A separate unlabeled set that cannot be read fails here, before the results directory.
    if let Some(set) = work.unlabeled_set().map_err(Failure::flat)? {
        // Its images must fit every task's model: checked here, not in the first cell.
        for task in config.tasks.iter().filter(|t| !skipped.contains(t)) {
            let data = work.dataset(task).map_err(Failure::flat)?;
            if data.shape != set.shape {
                usage!(
                    "[data] unlabeled = \"{}\" holds {} images but task {task} holds {}: use \
                     unlabeled images of the tasks' size and colour mode (or [data] resize and \
                     colour)",
                    set.source,
                    set.shape,
                    data.shape
                );
            }
        }
        if !args.quiet {
            eprintln!(
                "nstudent: unlabeled set {}: {} images of {}; every fold pseudo-labels it",
                set.source,
                set.len(),
                set.shape
            );
        }
    }
    // An impossible split fails here, before the results directory exists.
    let mut rows = std::collections::BTreeMap::new();
    for task in config.tasks.iter().filter(|t| !skipped.contains(t)) {
        rows.insert(
            task.clone(),
            work.dataset(task).map_err(Failure::flat)?.len(),
        );
    }
    config
        .check_fold_sizes(|task| rows.get(task).copied())
        .map_err(Failure::flat)?;
    Ok(())
}

/// Merges the table, the statistics and the report once every cell that can run is finished;
/// otherwise says what is missing.
fn merge_when_done(
    args: &Args,
    config: &StudyConfig,
    study: &StudyDir,
    summary: &nstudent_experiment::RunSummary,
    skipped: &[String],
) -> crate::failure::Result<()> {
    let (_, missing) = merging::collect(study).map_err(Failure::flat)?;
    let only_missing_data =
        !missing.is_empty() && missing.iter().all(|c| skipped.contains(&c.task));
    if summary.study_finished || (only_missing_data && summary.remaining == 0) {
        let merged = merging::merge(study, &MergeOptions::default()).map_err(Failure::flat)?;
        out(&format!(
            "{}\nresults: {}",
            merging::summary_text(&merged.table, &merged.stats),
            list_written(&merged.written)
        ));
        if !summary.study_finished {
            eprintln!(
                "nstudent: the results hold {} of the {} tasks: {} cells of tasks whose data is missing are not computed (see above); rerun the same command once the data is there",
                config.tasks.len() - skipped.len(),
                config.tasks.len(),
                missing.len()
            );
        }
    } else if !args.quiet {
        eprintln!(
            "nstudent: {} cells of the study are still missing; `nstudent status {}` lists them, and the last shard to finish merges",
            missing.len(),
            args.out.display()
        );
    }
    Ok(())
}

/// `run --plan`: the cells of this shard with their state, the trainings they cost, and the
/// compute the unfinished ones need, as text or JSON.
fn print_plan(args: &Args, resolved: &Study, shard: Shard) -> crate::failure::Result<()> {
    let config = resolved.config();
    let cells: Vec<_> = plan::cells(config)
        .into_iter()
        .filter(|c| shard.owns(c.index))
        .collect();
    // A directory of another study: the run would refuse it (or, with --force, start over),
    // so the plan does too instead of planning as if the directory were new.
    let existing = match StudyDir::open(&args.out) {
        Ok(s) if s.hash() == resolved.hash() => Some(s),
        Ok(s) if !args.force => {
            return Err(Failure::flat(nstudent_experiment::Error::ConfigChanged {
                dir: args.out.clone(),
                found: s.hash().to_string(),
                expected: resolved.hash().to_string(),
            }))
        }
        _ => None,
    };
    let finished = |c: &nstudent_experiment::Cell| {
        existing
            .as_ref()
            .is_some_and(|s| matches!(s.finished(c), Ok(Some(_))))
    };
    let threads = resolved.budget().threads;
    if args.format == Format::Json {
        let todo: Vec<_> = cells.iter().filter(|c| !finished(c)).cloned().collect();
        let (records, left) = match &existing {
            Some(s) => s.finished_and_todo(&cells),
            None => (Vec::new(), Vec::new()),
        };
        let computed = match todo.is_empty() {
            true => None,
            false => Some(
                nstudent_experiment::estimate::predict_study(resolved, &todo, &records)
                    .map_err(Failure::flat)?,
            ),
        };
        let predicted = computed
            .as_ref()
            .map(|(p, rates)| study_json::prediction(p, rates, threads.get()));
        let remaining = study_json::remaining(&plan::remaining(&left, &records), threads.get());
        return print_json(&study_json::plan(
            config, &cells, &finished, predicted, remaining, shard,
        ));
    }
    out(plan::describe(config, &cells, &finished).trim_end());
    let todo: Vec<_> = cells.iter().filter(|c| !finished(c)).cloned().collect();
    if !todo.is_empty() {
        let records = existing
            .as_ref()
            .map(|s| s.finished_and_todo(&cells).0)
            .unwrap_or_default();
        out(predict_compute(resolved, &todo, &records)?.trim_end());
    }
    if let Some(study) = &existing {
        let (records, todo) = study.finished_and_todo(&cells);
        if let Some(line) = plan::remaining(&todo, &records).describe(threads.get()) {
            out(&line);
        }
    }
    if shard != Shard::ALL {
        out(&format!("(shard {shard} only)"));
    }
    Ok(())
}

/// The predicted compute of the `todo` cells: the tasks' sizes read from their data, and this
/// machine's speed measured now (a second per image shape), calibrated by the finished
/// `records` when there are some.
fn predict_compute(
    study: &Study,
    todo: &[nstudent_experiment::Cell],
    records: &[nstudent_experiment::CellRecord],
) -> crate::failure::Result<String> {
    let (prediction, rates) = nstudent_experiment::estimate::predict_study(study, todo, records)
        .map_err(Failure::flat)?;
    Ok(prediction.describe(study.budget().threads.get(), &rates))
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn out(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn describe_config(c: &StudyConfig) -> String {
    format!(
        "{} task(s) x {} outer folds x {} algorithm(s)",
        c.tasks.len(),
        c.outer_folds,
        c.algorithms.len()
    )
}

pub(crate) fn list_written(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
