//! `nstudent train`: Baseline, Noisy Student or Ensemble Noisy Student on one dataset.

use crate::failure::Failure;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use nstudent_algo::{
    AlgoConfig, Algorithm, Balance, CheckedConfig, Event, Flip, LabelKind, LabeledSplitMode,
    MetricsLog, Observer, Overrides, PoolOrigin, Trainer, UnlabeledSchedule,
};
use nstudent_engine::{Arch, Threads};

use crate::failure::usage;
use crate::outputs::spec_input;

mod messages;
use messages::{first_models_name, overlap_warning, print_event, settings_line};

/// Train a model with Baseline, Noisy Student or Ensemble Noisy Student and save it.
///
/// Flags override the values of `--config` (a TOML file of the same knobs; print one with
/// `--print-config`), which override the defaults.
#[derive(clap::Args)]
pub struct Args {
    /// Training data: a source (fashion-mnist), a task (mnist:0-4) or a path. Its train split
    /// is used.
    #[arg(long, required_unless_present = "print_config")]
    data: Option<String>,
    /// Measure every teacher and student on this data: `test` (the official test split of
    /// --data), a source, a task or a path (its test split if it has one).
    #[arg(long)]
    eval: Option<String>,
    /// Where sources are looked up (default: $NSTUDENT_DATA or the platform data directory).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// How --data and --eval are read when they are CSV files or CIFAR-100.
    #[command(flatten)]
    read: super::read_args::ReadArgs,
    /// Where to save the model: a safetensors file, or a directory for an ensemble.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also save every student of the chain as OUT-student-<i> (files or directories).
    #[arg(long)]
    save_students: bool,
    /// Write the run's reports (split, teacher, every iteration) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write one JSON line per epoch (loss, images per second, elapsed time) and per Noisy
    /// Student iteration (pseudo-labels kept per class, the share above the threshold, and,
    /// for a pool drawn from --data, the pseudo-labels' accuracy and per-class precision: a
    /// diagnostic that never reaches training) to this file.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    /// TOML file with any of the knobs below (see --print-config).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    print_config: bool,

    /// Algorithm: the Baseline, its controls (augmented Baseline, Baseline ensemble), Noisy
    /// Student, or Ensemble Noisy Student.
    #[arg(long, value_enum)]
    algo: Option<Algorithm>,
    /// Training engine.
    #[arg(long, value_enum, default_value_t)]
    engine: nstudent_engine::EngineName,
    /// Fraction of the training data that keeps its labels, in (0, 1].
    #[arg(long)]
    teacher_factor: Option<f64>,
    /// How the labeled part is chosen: a seeded stratified sample, or the first rows (as the
    /// original study).
    #[arg(long, value_enum)]
    labeled_split: Option<LabeledSplitMode>,
    /// A separate unlabeled set, as the paper trains with: a source, a task, a path, or a
    /// folder of images with no class folders; any labels it has are dropped. Without it, the
    /// pool is the training rows outside the labeled part.
    #[arg(long, value_name = "SOURCE|PATH")]
    unlabeled: Option<String>,
    /// Fraction each iteration adds under the slice schedule, in (0, 1]: of the training data,
    /// or of the --unlabeled set.
    #[arg(long)]
    unl_factor: Option<f64>,
    /// Unlabeled rows per iteration: the whole pool (paper, default) or the next --unl-factor
    /// slice (the original study).
    #[arg(long, value_enum)]
    unlabeled_schedule: Option<UnlabeledSchedule>,
    /// Keep pseudo-labels whose top probability exceeds this, in [0, 1] (1 keeps none).
    #[arg(long)]
    threshold: Option<f64>,
    /// Noisy Student iterations.
    #[arg(long)]
    num_students: Option<usize>,
    /// Pseudo-labels: argmax class or probability vector.
    #[arg(long, value_enum)]
    labels: Option<LabelKind>,
    /// Temperature of soft pseudo-labels (< 1 sharpens), > 0.
    #[arg(long)]
    temperature: Option<f64>,
    /// Class balancing of pseudo-labels.
    #[arg(long, value_enum)]
    balance: Option<Balance>,
    /// Pseudo-labeled rows per class after balancing (default: the mean kept per class).
    #[arg(long)]
    balance_target: Option<usize>,
    /// Relabel all unlabeled rows used so far with each new teacher (default true).
    #[arg(long, value_name = "BOOL")]
    relabel: Option<bool>,
    /// Teachers and students per iteration of the ensemble, >= 1.
    #[arg(long)]
    ensemble_size: Option<usize>,
    /// Teacher (baseline) architecture.
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// Teacher width multiplier.
    #[arg(long)]
    width: Option<f32>,
    /// Student architecture (res-cnn enables stochastic depth).
    #[arg(long, value_enum)]
    student_arch: Option<Arch>,
    /// Student width multiplier (> 1 for a larger student).
    #[arg(long)]
    student_width: Option<f32>,
    /// Student dropout before the classifier, in [0, 1); 0 disables it.
    #[arg(long)]
    dropout: Option<f64>,
    /// Student stochastic depth survival at the last block, in (0, 1]; 1 disables it.
    #[arg(long)]
    survival: Option<f64>,
    /// Student input noise (RandAugment) on or off.
    #[arg(long, value_name = "BOOL")]
    augment: Option<bool>,
    /// RandAugment operations per image.
    #[arg(long)]
    augment_ops: Option<usize>,
    /// RandAugment magnitude, 0-30.
    #[arg(long)]
    magnitude: Option<f64>,
    /// Horizontal flips in augmentation.
    #[arg(long, value_enum)]
    flip: Option<Flip>,
    /// Turn every student noise off (augmentation, dropout, stochastic depth), after the
    /// other flags.
    #[arg(long)]
    no_noise: bool,
    /// Passes over the training data of every model (teacher, each student).
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size.
    #[arg(long)]
    batch: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Threads in total, shared by an ensemble's members; 0 or none uses every core. A speed
    /// setting only: the model is the same bits for any thread count.
    #[arg(long)]
    threads: Option<usize>,
    /// Train ensemble members one after the other, each with every thread, instead of side
    /// by side.
    #[arg(long)]
    sequential_members: bool,
    /// Root of every random choice (labeled rows, initial weights, batch order, noise).
    #[arg(long)]
    seed: Option<u64>,
}

/// `train`'s command with every flag's default in its help, taken from
/// [`AlgoConfig::default`], the one place the defaults are declared (the flags are options,
/// so that a `--config` file can set what a flag leaves unset).
pub fn with_defaults(cmd: clap::Command) -> clap::Command {
    let d = AlgoConfig::default();
    let name = |v: &dyn Fn() -> Option<clap::builder::PossibleValue>| {
        v().map_or_else(String::new, |p| p.get_name().to_string())
    };
    let defaults: Vec<(&str, String)> = vec![
        ("algo", name(&|| d.algorithm.to_possible_value())),
        (
            "teacher_factor",
            format!("{} (1 with --unlabeled)", d.teacher_factor),
        ),
        (
            "labeled_split",
            name(&|| d.labeled_split.to_possible_value()),
        ),
        ("unl_factor", d.unl_factor.to_string()),
        (
            "unlabeled_schedule",
            name(&|| d.unlabeled.to_possible_value()),
        ),
        ("threshold", d.threshold.to_string()),
        ("num_students", d.num_students.to_string()),
        ("labels", name(&|| d.labels.to_possible_value())),
        ("temperature", d.temperature.to_string()),
        ("balance", name(&|| d.balance.to_possible_value())),
        ("relabel", d.relabel.to_string()),
        ("ensemble_size", d.ensemble_size.to_string()),
        ("arch", name(&|| d.teacher.arch.to_possible_value())),
        ("width", d.teacher.width.to_string()),
        ("student_arch", name(&|| d.student.arch.to_possible_value())),
        ("student_width", d.student.width.to_string()),
        ("dropout", d.student.dropout.to_string()),
        ("survival", d.student.survival.to_string()),
        ("augment", d.augment.enabled.to_string()),
        ("augment_ops", d.augment.num_ops.to_string()),
        ("magnitude", d.augment.magnitude.to_string()),
        ("epochs", d.fit.epochs.to_string()),
        ("batch", d.fit.batch_size.to_string()),
        ("lr", d.fit.learning_rate.to_string()),
        ("seed", d.seed.to_string()),
    ];
    defaults.into_iter().fold(cmd, |cmd, (id, value)| {
        cmd.mut_arg(id, |arg| {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            arg.help(format!("{help} [default: {value}]"))
        })
    })
}

/// Opens `--unlabeled`. `slices` and `all` were the schedule's values before the flag named a
/// set: when no such data exists, the message points to `--unlabeled-schedule`.
fn open_unlabeled_set(
    spec: &str,
    data_dir: &Path,
    read: &nstudent_data::OpenOptions,
) -> crate::failure::Result<nstudent_data::UnlabeledImages> {
    if matches!(spec, "slices" | "all") && !Path::new(spec).exists() {
        usage!(
            "--unlabeled names an unlabeled set (a source or a path); the schedule is now \
             --unlabeled-schedule {spec}"
        );
    }
    Ok(nstudent_data::open_unlabeled(spec, data_dir, read)?)
}

pub fn run(args: Args) -> crate::failure::Result<()> {
    let config = config(&args)?;
    if args.print_config {
        print!("{}", config.to_toml().map_err(Failure::flat)?);
        return Ok(());
    }
    let Some(out) = args.out.clone() else {
        usage!("--out is required: where to save the model (a directory for an ensemble)");
    };
    let inputs = open_inputs(&args)?;
    check_outputs(&args, &out, config.members())?;
    let engine = args.engine.engine()?;
    let mut trainer = Trainer::checked(engine.as_ref(), config.clone())
        .threads(Threads::resolve(args.threads.unwrap_or(0)));
    if let Some(u) = &inputs.unlabeled {
        trainer = trainer
            .unlabeled(u.view(), &u.source)
            .map_err(Failure::flat)?;
    }
    if args.sequential_members {
        trainer = trainer.members_one_by_one();
    }
    if let Some(e) = &inputs.eval {
        trainer = trainer.eval(e);
    }
    print_header(&config, &inputs);
    let train = &inputs.train;
    let mut log = MetricsLog::new(Default::default()).with_train_labels(&train.labels);
    let first_models = first_models_name(trainer.config().algorithm);
    let members = config.members();
    let outcome = trainer
        .train(train, &mut |e: &Event<'_>| {
            print_event(e, first_models, train.len(), members);
            if args.metrics.is_some() {
                log.on_event(e);
            }
        })
        .map_err(Failure::flat)?;
    outcome
        .final_model()
        .check_finite_outputs(train.view(), config.fit.learning_rate)
        .map_err(Failure::flat)?;
    save_outputs(&args, &out, &config, &outcome, &log)?;
    print_done(&out, &outcome);
    if let (Some(e), Some(chain)) = (&inputs.eval, &outcome.chain) {
        if !chain.students.is_empty() {
            print!(
                "{}",
                gain_text(&outcome.teacher, outcome.final_model(), e, config.seed)?
            );
        }
    }
    Ok(())
}

/// What `train` reads: the training data, the evaluation data and the separate unlabeled set.
struct Inputs {
    train: nstudent_core::Dataset,
    eval: Option<nstudent_core::Dataset>,
    unlabeled: Option<nstudent_data::UnlabeledImages>,
}

/// Opens --data, --eval and --unlabeled, and checks that --eval matches --data.
fn open_inputs(args: &Args) -> crate::failure::Result<Inputs> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(nstudent_data::default_data_dir);
    let read = args.read.open_options()?;
    let Some(data) = args.data.as_deref() else {
        usage!("--data is required: the training data (a source, a task or a path)");
    };
    let splits = super::read_args::open_noted(data, &data_dir, &read)?;
    let eval = match args.eval.as_deref() {
        None => None,
        Some("test") => match splits.test.clone() {
            Some(t) => Some(t),
            None => usage!(
                "--eval test: {} has no test split; name the data instead",
                data
            ),
        },
        Some(spec) => {
            let s = super::read_args::open_noted(spec, &data_dir, &read)?;
            Some(s.test.unwrap_or(s.train))
        }
    };
    let train = splits.train;
    if let Some(e) = &eval {
        if e.shape != train.shape || e.num_classes() != train.num_classes() {
            usage!(
                "--eval data has {} images of {} classes, --data has {} of {}",
                e.shape,
                e.num_classes(),
                train.shape,
                train.num_classes()
            );
        }
    }
    let unlabeled = match args.unlabeled.as_deref() {
        None => None,
        Some(spec) => Some(open_unlabeled_set(spec, &data_dir, &read)?),
    };
    Ok(Inputs {
        train,
        eval,
        unlabeled,
    })
}

/// Refuses, before any training, an output that cannot be written or that names an input.
fn check_outputs(args: &Args, out: &Path, members: usize) -> crate::failure::Result<()> {
    check_out(out, members)?;
    let mut outputs = vec![("--out", out)];
    if let Some(report) = &args.report {
        crate::outputs::check_file("--report", report)?;
        outputs.push(("--report", report));
    }
    if let Some(metrics) = &args.metrics {
        crate::outputs::check_file("--metrics", metrics)?;
        outputs.push(("--metrics", metrics));
    }
    let inputs: Vec<_> = [
        spec_input("--data", args.data.as_deref()),
        spec_input("--eval", args.eval.as_deref()),
        spec_input("--unlabeled", args.unlabeled.as_deref()),
        args.config.as_deref().map(|c| ("--config", c)),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::outputs::check_distinct(&inputs, &outputs)?;
    Ok(())
}

/// The lines that say what runs on what, before the first epoch.
fn print_header(config: &CheckedConfig, inputs: &Inputs) {
    let train = &inputs.train;
    eprintln!(
        "{} on {} ({} images of {}, {} classes), seed {}",
        config.algorithm.name(),
        crate::failure::escape_controls(&train.source),
        train.len(),
        train.shape,
        train.num_classes(),
        config.seed
    );
    if let Some(u) = &inputs.unlabeled {
        for note in &u.notes {
            eprintln!("note: {}", crate::failure::escape_controls(note));
        }
        if let Some(warning) = overlap_warning(train, u) {
            eprintln!("{warning}");
        }
        eprintln!(
            "unlabeled set: {} ({} images of {}; its labels, if any, are dropped)",
            crate::failure::escape_controls(&u.source),
            u.len(),
            u.shape
        );
    }
    eprintln!("{}", settings_line(config));
}

/// Writes the model, the students asked for, the report and the metrics log. The report and
/// the log are staged first, so that they and the model appear together.
fn save_outputs(
    args: &Args,
    out: &Path,
    config: &AlgoConfig,
    outcome: &nstudent_algo::TrainOutcome,
    log: &MetricsLog,
) -> crate::failure::Result<()> {
    let mut staged = crate::outputs::Staged::default();
    if let Some(path) = &args.report {
        let report = TrainReport::new(config, outcome, args.unlabeled.as_deref());
        staged.write(path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    if let Some(path) = &args.metrics {
        let mut text = log.lines().join("\n");
        text.push('\n');
        staged.write(path, text.as_bytes())?;
    }
    outcome.final_model().save(out).map_err(Failure::flat)?;
    if args.save_students {
        if let Some(chain) = &outcome.chain {
            for (i, s) in chain.students.iter().enumerate() {
                s.save(&student_path(out, i + 1)).map_err(Failure::flat)?;
            }
        }
    }
    staged.commit()?;
    Ok(())
}

fn print_done(out: &Path, outcome: &nstudent_algo::TrainOutcome) {
    println!(
        "done in {:.1} s; model saved to {}{}",
        outcome.seconds,
        out.display(),
        match outcome.final_model().len() {
            1 => String::new(),
            n => format!(" (ensemble of {n})"),
        }
    );
}

/// The teacher-to-student gain on the evaluation data, paired image by image: the
/// difference with its bootstrap interval and McNemar's test, as `nstudent compare` gives it.
fn gain_text(
    teacher: &nstudent_algo::Model,
    student: &nstudent_algo::Model,
    eval: &nstudent_core::Dataset,
    seed: u64,
) -> crate::failure::Result<String> {
    use nstudent_stats::two_models::{compare_predictions, BootstrapSettings};
    let classes = |m: &nstudent_algo::Model| -> crate::failure::Result<Vec<usize>> {
        let probs = m.predict_proba(eval.view()).map_err(Failure::flat)?;
        Ok(super::compare::classes(&probs, m.num_classes()))
    };
    let settings = BootstrapSettings {
        seed,
        ..BootstrapSettings::default()
    };
    let c = compare_predictions(
        &eval.labels,
        &classes(teacher)?,
        &classes(student)?,
        settings,
    )?;
    let names = ["teacher".to_string(), "student".to_string()];
    Ok(format!(
        "student against teacher on the eval data:\n{}",
        super::compare::text(&c, &names, &eval.source)
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    ))
}

/// The config: defaults, then --config, then flags ([`Overrides::apply`], as the Python
/// estimator builds its config).
fn config(a: &Args) -> crate::failure::Result<CheckedConfig> {
    let (base, keys) = match &a.config {
        Some(p) => AlgoConfig::from_toml_file_with_keys(p).map_err(Failure::flat)?,
        None => (AlgoConfig::default(), Default::default()),
    };
    let origin = match a.unlabeled {
        Some(_) => PoolOrigin::Separate,
        None => PoolOrigin::TrainingData,
    };
    overrides(a)
        .apply(base, &keys, origin)
        .map_err(Failure::flat)
}

/// The flags that shape the model.
fn overrides(a: &Args) -> Overrides {
    Overrides {
        algo: a.algo,
        teacher_factor: a.teacher_factor,
        labeled_split: a.labeled_split,
        unl_factor: a.unl_factor,
        unlabeled_schedule: a.unlabeled_schedule,
        threshold: a.threshold,
        num_students: a.num_students,
        labels: a.labels,
        temperature: a.temperature,
        balance: a.balance,
        balance_target: a.balance_target,
        relabel: a.relabel,
        ensemble_size: a.ensemble_size,
        arch: a.arch,
        width: a.width,
        student_arch: a.student_arch,
        student_width: a.student_width,
        dropout: a.dropout,
        survival: a.survival,
        augment: a.augment,
        augment_ops: a.augment_ops,
        magnitude: a.magnitude,
        flip: a.flip,
        no_noise: a.no_noise,
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        seed: a.seed,
    }
}

/// Refuses an output path that cannot hold the model before hours of training.
fn check_out(out: &Path, members: usize) -> crate::failure::Result<()> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        usage!(
            "--out {}: the folder {} does not exist",
            out.display(),
            parent.display()
        );
    }
    if members == 1 && out.is_dir() {
        usage!(
            "--out {} is a directory; give a file name such as model.safetensors",
            out.display()
        );
    }
    if members == 1 {
        crate::outputs::check_file("--out", out)?;
    }
    if members > 1 && out.exists() && !out.join(nstudent_algo::ENSEMBLE_MANIFEST).is_file() {
        usage!(
            "--out {} exists and is not a saved ensemble; an ensemble saves to a new directory",
            out.display()
        );
    }
    Ok(())
}

fn student_path(out: &Path, i: usize) -> PathBuf {
    let stem = out.file_stem().unwrap_or_default().to_string_lossy();
    let name = match out.extension() {
        Some(ext) => format!("{stem}-student-{i}.{}", ext.to_string_lossy()),
        None => format!("{stem}-student-{i}"),
    };
    out.with_file_name(name)
}

/// The run's report (`--report`): the config, the split, the teacher and every iteration.
/// Its keys are written in alphabetical order, as they always were.
#[derive(serde::Serialize)]
struct TrainReport<'a> {
    config: &'a AlgoConfig,
    iterations: Option<&'a Vec<nstudent_algo::IterationReport>>,
    labeled_rows: usize,
    /// Seconds of the whole training (evaluation excluded).
    seconds: f64,
    stopped_early: Option<&'a String>,
    teacher_eval_accuracy: Option<f64>,
    /// Seconds of the first model(s), trained on the labeled part.
    teacher_seconds: f64,
    unlabeled_rows: usize,
    /// The separate unlabeled set, or null for the training rows outside the labeled part.
    unlabeled_set: Option<&'a str>,
}

impl<'a> TrainReport<'a> {
    fn new(
        config: &'a AlgoConfig,
        outcome: &'a nstudent_algo::TrainOutcome,
        unlabeled_set: Option<&'a str>,
    ) -> Self {
        let chain = outcome.chain.as_ref();
        TrainReport {
            config,
            iterations: chain.map(|c| &c.iterations),
            labeled_rows: outcome.labeled_rows,
            seconds: outcome.seconds,
            stopped_early: chain.and_then(|c| c.stopped_early.as_ref()),
            teacher_eval_accuracy: outcome.teacher_eval_accuracy,
            teacher_seconds: outcome.teacher_seconds,
            unlabeled_rows: outcome.unlabeled_rows,
            unlabeled_set,
        }
    }
}
