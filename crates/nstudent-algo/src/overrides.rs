//! Settings given one by one over a base config: `nstudent train`'s flags and the Python
//! estimator's parameters. Both build their config here, so that the same settings give the
//! same config, and so the same model, bit for bit.

use std::collections::BTreeSet;

use nstudent_engine::Arch;

use crate::config::{
    AlgoConfig, Algorithm, Balance, CheckedConfig, LabelKind, LabeledSplitMode, PoolOrigin,
    UnlabeledSchedule,
};
use crate::Result;

/// Horizontal flips in augmentation, as `--flip` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Flip {
    /// On for colour images, off for grey ones.
    #[default]
    Auto,
    On,
    Off,
}

impl Flip {
    /// The config's value: `None` decides by the image's channels.
    pub fn horizontal_flip(self) -> Option<bool> {
        match self {
            Flip::Auto => None,
            Flip::On => Some(true),
            Flip::Off => Some(false),
        }
    }
}

/// Every knob of `nstudent train` that shapes the model; `None` keeps the base config's value.
/// The names are the flags' (`--student-arch` is `student_arch`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub algo: Option<Algorithm>,
    pub teacher_factor: Option<f64>,
    pub labeled_split: Option<LabeledSplitMode>,
    pub unl_factor: Option<f64>,
    pub unlabeled_schedule: Option<UnlabeledSchedule>,
    pub threshold: Option<f64>,
    pub num_students: Option<usize>,
    pub labels: Option<LabelKind>,
    pub temperature: Option<f64>,
    pub balance: Option<Balance>,
    pub balance_target: Option<usize>,
    pub relabel: Option<bool>,
    pub ensemble_size: Option<usize>,
    pub arch: Option<Arch>,
    pub width: Option<f32>,
    pub student_arch: Option<Arch>,
    pub student_width: Option<f32>,
    pub dropout: Option<f64>,
    pub survival: Option<f64>,
    pub augment: Option<bool>,
    pub augment_ops: Option<usize>,
    pub magnitude: Option<f64>,
    pub flip: Option<Flip>,
    /// Turns every student noise off after the other settings.
    pub no_noise: bool,
    pub epochs: Option<usize>,
    pub batch: Option<usize>,
    pub lr: Option<f64>,
    pub seed: Option<u64>,
}

impl Overrides {
    /// `base` with these settings over it, checked for a pool of `origin`. `base_keys` are the
    /// top-level keys a config file set (empty without one).
    ///
    /// With a separate unlabeled set, the labels given are all meant to be used: hiding 90% of
    /// them is the study's protocol for simulating scarcity, not a default for own data. So
    /// `teacher_factor` becomes 1 unless it is set here or by the file.
    pub fn apply(
        &self,
        mut c: AlgoConfig,
        base_keys: &BTreeSet<String>,
        origin: PoolOrigin,
    ) -> Result<CheckedConfig> {
        set(&mut c.algorithm, self.algo);
        if origin == PoolOrigin::Separate
            && self.teacher_factor.is_none()
            && !base_keys.contains("teacher_factor")
        {
            c.teacher_factor = 1.0;
        }
        set(&mut c.teacher_factor, self.teacher_factor);
        set(&mut c.labeled_split, self.labeled_split);
        set(&mut c.unl_factor, self.unl_factor);
        set(&mut c.unlabeled, self.unlabeled_schedule);
        set(&mut c.threshold, self.threshold);
        set(&mut c.num_students, self.num_students);
        set(&mut c.labels, self.labels);
        set(&mut c.temperature, self.temperature);
        set(&mut c.balance, self.balance);
        if self.balance_target.is_some() {
            c.balance_target = self.balance_target;
        }
        set(&mut c.relabel, self.relabel);
        set(&mut c.ensemble_size, self.ensemble_size);
        set(&mut c.teacher.arch, self.arch);
        set(&mut c.teacher.width, self.width);
        set(&mut c.student.arch, self.student_arch);
        set(&mut c.student.width, self.student_width);
        set(&mut c.student.dropout, self.dropout);
        set(&mut c.student.survival, self.survival);
        set(&mut c.augment.enabled, self.augment);
        set(&mut c.augment.num_ops, self.augment_ops);
        set(&mut c.augment.magnitude, self.magnitude);
        if let Some(flip) = self.flip {
            c.augment.horizontal_flip = flip.horizontal_flip();
        }
        if self.no_noise {
            c = c.without_noise();
        }
        set(&mut c.fit.epochs, self.epochs);
        set(&mut c.fit.batch_size, self.batch);
        set(&mut c.fit.learning_rate, self.lr);
        set(&mut c.seed, self.seed);
        c.check(origin)
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_settings_give_the_default_config() {
        let c = Overrides::default()
            .apply(
                AlgoConfig::default(),
                &BTreeSet::new(),
                PoolOrigin::TrainingData,
            )
            .unwrap();
        assert_eq!(*c, AlgoConfig::default());
    }

    #[test]
    fn a_separate_pool_keeps_every_label_unless_told_otherwise() {
        let none = BTreeSet::new();
        let base = AlgoConfig::default();
        let o = Overrides::default();
        let c = o.apply(base.clone(), &none, PoolOrigin::Separate).unwrap();
        assert_eq!(c.teacher_factor, 1.0);
        let file: BTreeSet<String> = ["teacher_factor".to_string()].into();
        let c = o.apply(base.clone(), &file, PoolOrigin::Separate).unwrap();
        assert_eq!(c.teacher_factor, base.teacher_factor);
        let given = Overrides {
            teacher_factor: Some(0.5),
            ..Overrides::default()
        };
        let c = given.apply(base, &none, PoolOrigin::Separate).unwrap();
        assert_eq!(c.teacher_factor, 0.5);
    }

    #[test]
    fn no_noise_wins_over_the_noise_settings() {
        let o = Overrides {
            dropout: Some(0.3),
            augment: Some(true),
            no_noise: true,
            flip: Some(Flip::On),
            ..Overrides::default()
        };
        let c = o
            .apply(
                AlgoConfig::default(),
                &BTreeSet::new(),
                PoolOrigin::TrainingData,
            )
            .unwrap();
        assert_eq!(c.student.dropout, 0.0);
        assert!(!c.augment.enabled);
        assert_eq!(c.student.survival, 1.0);
        assert_eq!(c.augment.horizontal_flip, Some(true));
    }

    #[test]
    fn an_out_of_range_setting_is_refused_with_its_key() {
        let o = Overrides {
            threshold: Some(1.5),
            ..Overrides::default()
        };
        let e = o
            .apply(
                AlgoConfig::default(),
                &BTreeSet::new(),
                PoolOrigin::TrainingData,
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                crate::Error::OutOfRange {
                    key: "threshold",
                    ..
                }
            ),
            "{e}"
        );
    }
}
