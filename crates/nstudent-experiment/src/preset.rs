//! The built-in studies by name, as `--preset` takes them (see `docs/presets.md`).

use crate::config::{StudyConfig, PRESETS};
use crate::Result;

/// A built-in study: `--help` lists the values, and a typo gets a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Preset {
    /// The embedded Fashion-MNIST-10k, 5 outer folds, a small search: minutes.
    Quick,
    /// 6 tasks, 10 folds, the five algorithms, fixed hyperparameters: hours on 2 cores.
    Standard,
    /// The original study's protocol with its mistakes fixed: 20 tasks, 3-fold inner search.
    Original,
    /// The original notebook's algorithm as it ran.
    Seed,
}

impl Preset {
    /// Its name, one of [`PRESETS`].
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => PRESETS[0],
            Preset::Standard => PRESETS[1],
            Preset::Original => PRESETS[2],
            Preset::Seed => PRESETS[3],
        }
    }

    /// Its study config ([`StudyConfig::preset`]).
    pub fn config(self) -> Result<StudyConfig> {
        StudyConfig::preset(self.name())
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_preset_name_is_a_value_with_its_config() {
        let names: Vec<&str> = Preset::value_variants().iter().map(|p| p.name()).collect();
        assert_eq!(names, PRESETS);
        for p in Preset::value_variants() {
            assert_eq!(p.to_possible_value().unwrap().get_name(), p.name());
            assert_eq!(p.config().unwrap(), StudyConfig::preset(p.name()).unwrap());
        }
    }
}
