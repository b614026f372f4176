//! `nstudent train`: Baseline, Noisy Student or Ensemble Noisy Student on one dataset.

use crate::failure::Failure;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use nstudent_algo::{
    AlgoConfig, Algorithm, Balance, CheckedConfig, Event, Flip, LabelKind, LabeledSplitMode,
    MetricsLog, Observer, Overrides, PoolOrigin, Stage, Trainer, UnlabeledSchedule,
};
use nstudent_engine::{Arch, Threads};

use crate::failure::usage;
use crate::outputs::spec_input;

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
    check_out(&out, config.members())?;
    let mut outputs = vec![("--out", out.as_path())];
    if let Some(report) = &args.report {
        crate::outputs::check_file("--report", report)?;
        outputs.push(("--report", report));
    }
    if let Some(metrics) = &args.metrics {
        crate::outputs::check_file("--metrics", metrics)?;
        outputs.push(("--metrics", metrics));
    }
    let inputs: Vec<_> = [
        spec_input("--data", Some(data)),
        spec_input("--eval", args.eval.as_deref()),
        spec_input("--unlabeled", args.unlabeled.as_deref()),
        args.config.as_deref().map(|c| ("--config", c)),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::outputs::check_distinct(&inputs, &outputs)?;
    let engine = args.engine.engine()?;
    let mut trainer = Trainer::checked(engine.as_ref(), config.clone())
        .threads(Threads::resolve(args.threads.unwrap_or(0)));
    if let Some(u) = &unlabeled {
        trainer = trainer
            .unlabeled(u.view(), &u.source)
            .map_err(Failure::flat)?;
    }
    if args.sequential_members {
        trainer = trainer.members_one_by_one();
    }
    if let Some(e) = &eval {
        trainer = trainer.eval(e);
    }
    eprintln!(
        "{} on {} ({} images of {}, {} classes), seed {}",
        config.algorithm.name(),
        crate::failure::escape_controls(&train.source),
        train.len(),
        train.shape,
        train.num_classes(),
        config.seed
    );
    if let Some(u) = &unlabeled {
        for note in &u.notes {
            eprintln!("note: {}", crate::failure::escape_controls(note));
        }
        if let Some(warning) = overlap_warning(&train, u) {
            eprintln!("{warning}");
        }
        eprintln!(
            "unlabeled set: {} ({} images of {}; its labels, if any, are dropped)",
            crate::failure::escape_controls(&u.source),
            u.len(),
            u.shape
        );
    }
    eprintln!("{}", settings_line(&config));
    let mut log = MetricsLog::new(Default::default()).with_train_labels(&train.labels);
    let first_models = first_models_name(trainer.config().algorithm);
    let members = config.members();
    let outcome = trainer
        .train(&train, &mut |e: &Event<'_>| {
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
    // The report is staged first, so that the model and the report appear together.
    let mut staged = crate::outputs::Staged::default();
    if let Some(path) = &args.report {
        staged.write(
            path,
            report_json(&config, &outcome, args.unlabeled.as_deref())?.as_bytes(),
        )?;
    }
    if let Some(path) = &args.metrics {
        let mut text = log.lines().join("\n");
        text.push('\n');
        staged.write(path, text.as_bytes())?;
    }
    outcome.final_model().save(&out).map_err(Failure::flat)?;
    if args.save_students {
        if let Some(chain) = &outcome.chain {
            for (i, s) in chain.students.iter().enumerate() {
                s.save(&student_path(&out, i + 1)).map_err(Failure::flat)?;
            }
        }
    }
    staged.commit()?;
    println!(
        "done in {:.1} s; model saved to {}{}",
        outcome.seconds,
        out.display(),
        match outcome.final_model().len() {
            1 => String::new(),
            n => format!(" (ensemble of {n})"),
        }
    );
    if let (Some(e), Some(chain)) = (&eval, &outcome.chain) {
        if !chain.students.is_empty() {
            print!(
                "{}",
                gain_text(&outcome.teacher, outcome.final_model(), e, config.seed)?
            );
        }
    }
    Ok(())
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

/// What the models trained on the labeled part are called in progress lines.
fn first_models_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Baseline => "baseline",
        Algorithm::AugmentedBaseline => "augmented baseline",
        Algorithm::BaselineEnsemble => "baseline ensemble",
        Algorithm::NoisyStudent | Algorithm::Ensemble => "teacher",
    }
}

/// The settings that shape the models, in one line: what `--report` records, for the reader
/// of the terminal.
fn settings_line(c: &AlgoConfig) -> String {
    let noise = |m: &nstudent_algo::ModelConfig| {
        let augment = if c.augment.enabled {
            format!(
                "RandAugment {} ops at magnitude {}",
                c.augment.num_ops, c.augment.magnitude
            )
        } else {
            "no augmentation".to_string()
        };
        format!(
            "{augment}, dropout {}, stochastic-depth survival {}",
            m.dropout, m.survival
        )
    };
    let fit = format!(
        "{} epochs, batch {}, learning rate {}",
        c.fit.epochs, c.fit.batch_size, c.fit.learning_rate
    );
    let ensemble = if c.algorithm.is_ensemble() {
        format!(", {} models per generation", c.ensemble_size)
    } else {
        String::new()
    };
    match c.algorithm {
        Algorithm::NoisyStudent | Algorithm::Ensemble => format!(
            "settings: threshold {}, {} students, {fit}{ensemble}; student noise: {}",
            c.threshold,
            c.num_students,
            noise(&c.student)
        ),
        Algorithm::AugmentedBaseline => {
            format!("settings: {fit}; noise: {}", noise(&c.student))
        }
        Algorithm::Baseline | Algorithm::BaselineEnsemble => {
            format!("settings: {fit}{ensemble}; no noise")
        }
    }
}

/// Prints a training event; `first` names the models trained on the labeled part.
/// One progress line per event; `total` is the number of training images, `members` the
/// models per generation (named only when there are several).
fn print_event(e: &Event<'_>, first: &str, total: usize, members: usize) {
    match e {
        Event::Split {
            labeled,
            unlabeled,
            pool_origin,
            ..
        } => match pool_origin {
            PoolOrigin::TrainingData => eprintln!(
                "labels: {labeled} of the {total} training images keep their label \
                 (--teacher-factor); the labels of the other {unlabeled} are hidden, as the \
                 study's protocol does to simulate scarcity (--teacher-factor 1 keeps them all)"
            ),
            PoolOrigin::Separate if *labeled == total => eprintln!(
                "labels: all {labeled} training images keep their label; {unlabeled} images of \
                 --unlabeled are the pool"
            ),
            PoolOrigin::Separate => eprintln!(
                "labels: {labeled} of the {total} training images keep their label \
                 (--teacher-factor), the others are left out; {unlabeled} images of --unlabeled \
                 are the pool (--teacher-factor 1 keeps every label)"
            ),
        },
        Event::Fit {
            stage,
            member,
            progress,
        } => {
            if let Some(loss) = progress.epoch_loss {
                let who = match stage {
                    Stage::Teacher => first.to_string(),
                    Stage::Student { iteration } => format!("student {iteration}"),
                };
                let member = if members > 1 {
                    format!(" member {}", member + 1)
                } else {
                    String::new()
                };
                eprintln!(
                    "  {who}{member} epoch {}: mean loss {loss:.4}",
                    progress.epoch + 1
                );
            }
        }
        Event::Teacher {
            model,
            seconds,
            eval_accuracy,
        } => {
            println!(
                "{first} ({} model{}): {seconds:.1} s{}",
                model.len(),
                if model.len() == 1 { "" } else { "s" },
                eval_text(*eval_accuracy)
            );
        }
        Event::Iteration { report, .. } => {
            let kept: usize = report.kept_per_class.iter().sum();
            let trained: usize = report.trained_per_class.iter().sum();
            println!(
                "iteration {}: {} unlabeled rows, kept {kept} {:?}, trained on {} labeled + \
                 {trained} pseudo-labeled {:?}{}, {:.1} s{}",
                report.iteration,
                report.unlabeled_rows,
                report.kept_per_class,
                report.labeled_rows,
                report.trained_per_class,
                if report.labeled_only {
                    " (no pseudo-label passed the threshold: labeled data only)"
                } else {
                    ""
                },
                report.seconds,
                eval_text(report.eval_accuracy)
            );
            if let Some(warning) = collapse_warning(report.iteration, &report.kept_per_class) {
                eprintln!("{warning}");
            }
        }
        Event::Stopped { message } => println!("stopped early: {message}"),
    }
    let _ = std::io::stdout().flush();
}

/// A warning when images of the unlabeled set are also training images (the same pixels, as
/// with `--unlabeled` naming the labeled folder itself): the pool then holds labeled images.
fn overlap_warning(
    train: &nstudent_core::Dataset,
    unlabeled: &nstudent_data::UnlabeledImages,
) -> Option<String> {
    use std::hash::{BuildHasher, RandomState};
    let side = train.shape.len();
    if unlabeled.shape != train.shape || side == 0 {
        return None;
    }
    let hasher = RandomState::new();
    let mut seen: std::collections::HashMap<u64, Vec<usize>> = Default::default();
    for (i, img) in train.images.chunks_exact(side).enumerate() {
        seen.entry(hasher.hash_one(img)).or_default().push(i);
    }
    // A hash match is checked against the pixels of that hash's images only, so a collision
    // never counts and the check stays linear.
    let shared = unlabeled
        .pixels
        .chunks_exact(side)
        .filter(|img| {
            seen.get(&hasher.hash_one(img))
                .is_some_and(|rows| rows.iter().any(|&i| train.image(i) == *img))
        })
        .count();
    (shared > 0).then(|| {
        format!(
            "warning: {shared} of the {} --unlabeled images are also in --data (the same \
             pixels): the pool holds labeled images; give images that --data does not hold",
            unlabeled.len()
        )
    })
}

/// A warning when the kept pseudo-labels all fall in one class of several: the teacher calls
/// every image the same (too few epochs or labels), and the student would learn that class.
fn collapse_warning(iteration: usize, kept_per_class: &[usize]) -> Option<String> {
    let kept: usize = kept_per_class.iter().sum();
    let classes_kept = kept_per_class.iter().filter(|&&n| n > 0).count();
    (kept > 0 && classes_kept == 1 && kept_per_class.len() > 1).then(|| {
        let class = kept_per_class.iter().position(|&n| n > 0).unwrap_or(0);
        format!(
            "warning: iteration {iteration}: all {kept} kept pseudo-labels are class {class}: \
             the teacher calls every image the same; train it longer (--epochs) or on more \
             labels (--teacher-factor), or raise --threshold"
        )
    })
}

fn eval_text(acc: Option<f64>) -> String {
    acc.map(|a| format!(", eval accuracy {a:.4}"))
        .unwrap_or_default()
}

/// The run's report: the config, the split, the teacher and every iteration, as JSON.
fn report_json(
    config: &AlgoConfig,
    outcome: &nstudent_algo::TrainOutcome,
    unlabeled_set: Option<&str>,
) -> crate::failure::Result<String> {
    let report = serde_json::json!({
        "config": config,
        // The separate unlabeled set, or null for the training rows outside the labeled part.
        "unlabeled_set": unlabeled_set,
        "labeled_rows": outcome.labeled_rows,
        "unlabeled_rows": outcome.unlabeled_rows,
        "teacher_seconds": outcome.teacher_seconds,
        "teacher_eval_accuracy": outcome.teacher_eval_accuracy,
        "iterations": outcome.chain.as_ref().map(|c| &c.iterations),
        "stopped_early": outcome.chain.as_ref().and_then(|c| c.stopped_early.clone()),
        "seconds": outcome.seconds,
    });
    Ok(serde_json::to_string_pretty(&report)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_labels_that_collapse_onto_one_class_are_warned_about() {
        let w = collapse_warning(1, &[0, 0, 300]).unwrap();
        assert!(w.contains("all 300 kept pseudo-labels are class 2"), "{w}");
        assert!(collapse_warning(1, &[5, 0, 300]).is_none());
        assert!(collapse_warning(1, &[0, 0, 0]).is_none());
        assert!(collapse_warning(1, &[7]).is_none());
    }
}
