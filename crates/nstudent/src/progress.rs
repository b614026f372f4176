//! The study's progress on the terminal: an overall bar of cells and one bar per job for the
//! training in progress, drawn from the runner's events ([`nstudent_experiment::Observer`]).
//! When stderr is not a terminal (a log file, a pipe), one line per finished cell instead.
//! And a download's bar ([`nstudent_data::fetch::DownloadProgress`]).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use nstudent_experiment::{CellDone, Observer};

/// Progress bars on stderr.
pub struct Bars {
    /// One line per finished cell (stderr is not a terminal).
    lines: bool,
    state: Mutex<Option<State>>,
}

/// The bars of the run in progress.
struct State {
    /// Draws the bars; kept until they are cleared.
    _multi: MultiProgress,
    overall: ProgressBar,
    jobs: Vec<ProgressBar>,
}

impl Bars {
    pub fn new() -> Self {
        Self {
            lines: !std::io::stderr().is_terminal(),
            state: Mutex::new(None),
        }
    }

    /// Runs `f` on the bars, if the run has started.
    fn with(&self, f: impl FnOnce(&State)) {
        if let Some(state) = self
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            f(state);
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Observer for Bars {
    fn started(&self, cells: usize, jobs: usize) {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(cells as u64));
        overall.set_style(style(
            "{prefix:>8} [{elapsed_precise}] {wide_bar} {pos}/{len} cells  ETA {eta_precise}  {msg}",
        ));
        overall.set_prefix("study");
        let jobs = (0..jobs)
            .map(|j| {
                let b = multi.add(ProgressBar::new(1));
                b.set_style(style("{prefix:>8} {msg:<48} {bar:30} {pos}/{len} steps"));
                b.set_prefix(format!("job {}", j + 1));
                b
            })
            .collect();
        overall.enable_steady_tick(Duration::from_millis(500));
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Some(State {
            _multi: multi,
            overall,
            jobs,
        });
    }

    fn cell_started(&self, job: usize, name: &str) {
        self.with(|s| {
            if let Some(b) = s.jobs.get(job) {
                b.set_message(name.to_string());
            }
        });
    }

    fn training(&self, job: usize, label: &str, steps: u64) {
        self.with(|s| {
            if let Some(b) = s.jobs.get(job) {
                b.set_message(label.to_string());
                b.set_length(steps.max(1));
                b.set_position(0);
            }
        });
    }

    fn step(&self, job: usize, done: u64) {
        self.with(|s| {
            if let Some(b) = s.jobs.get(job) {
                b.set_position(done);
            }
        });
    }

    fn cell_done(&self, _job: usize, done: &CellDone<'_>) {
        self.with(|s| {
            if self.lines {
                s.overall.suspend(|| eprintln!("{}", done.line));
            }
            s.overall.set_message(format!("last: {}", done.name));
            s.overall.inc(1);
        });
    }

    fn finished(&self) {
        if let Some(s) = self.state.lock().unwrap_or_else(|p| p.into_inner()).take() {
            for b in &s.jobs {
                b.finish_and_clear();
            }
            s.overall.finish_and_clear();
        }
    }
}

/// A download's progress bar on stderr: bytes, speed, time left.
#[derive(Default)]
pub struct DownloadBar {
    bar: Mutex<Option<ProgressBar>>,
}

impl nstudent_data::fetch::DownloadProgress for DownloadBar {
    fn started(&self, name: &str, start: u64, total: Option<u64>) {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        bar.set_style(
            style("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .progress_chars("=> "),
        );
        bar.set_message(name.to_string());
        bar.set_position(start);
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar);
    }

    fn advanced(&self, got: u64) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            b.set_position(got);
        }
    }

    fn ended(&self, completed: bool) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
            match completed {
                true => b.finish_and_clear(),
                false => b.abandon(),
            }
        }
    }
}
