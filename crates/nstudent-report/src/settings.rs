//! Hyperparameters as typed values: what a study hands the report (the candidates of its inner
//! search and the ones it chose), and what a metrics table's text column is read into.
//!
//! Text is made in one place, the [`std::fmt::Display`] of [`Settings`] (which the study writes
//! into the table's "Hyper-Parameters Values" column), and read in one place,
//! [`Settings::parse`] (for a table without its study, e.g. another tool's CSV).

use std::fmt;

/// One value of a hyperparameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    /// A real number (a threshold, a fraction), shown as Rust's shortest round-trip text.
    Number(f64),
    /// A whole number (students, ensemble members).
    Count(usize),
    /// Anything else (e.g. `all`, or a value read from a table's text).
    Text(String),
}

impl SettingValue {
    /// The value as a number, for sorting; `None` for text.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(v) => Some(*v),
            Self::Count(n) => Some(*n as f64),
            Self::Text(_) => None,
        }
    }
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(v) => write!(f, "{v}"),
            Self::Count(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// A named hyperparameter value, shown as `name: value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub name: String,
    pub value: SettingValue,
}

impl Setting {
    pub fn new(name: impl Into<String>, value: SettingValue) -> Self {
        Self {
            name: name.into(),
            value,
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.value)
    }
}

/// The hyperparameters of one candidate, in order; shown as `a: 1, b: 0.5` (the text of the
/// metrics table's "Hyper-Parameters Values" column).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings(pub Vec<Setting>);

impl Settings {
    /// Reads a metrics table's "Hyper-Parameters Values" text: `unl_factor: 0.2, threshold: 0.8`
    /// (also `=` and `;` and JSON-ish braces and quotes); a part without a name gets the name
    /// `value`. Values stay [`SettingValue::Text`], exactly as written. `None` for the table's
    /// "no hyperparameters" spellings (see [`is_none`]).
    ///
    /// Only for tables whose study is not at hand: the split is a guess (a name or value with a
    /// comma or a colon in it comes apart), which a study's typed values never need.
    pub fn parse(text: &str) -> Option<Self> {
        if is_none(text) {
            return None;
        }
        let settings = parse_hyperparameters(text)
            .into_iter()
            .map(|(name, value)| Setting::new(name, SettingValue::Text(value)))
            .collect();
        Some(Self(settings))
    }
}

impl fmt::Display for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

/// The hyperparameters a study chose for one row of its table: the row is found by its
/// dataset name, algorithm name and fold (the table's first three columns).
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenSettings {
    /// The table's "Dataset Name".
    pub dataset: String,
    /// The table's "Algorithm Name".
    pub algorithm: String,
    pub fold: usize,
    /// `None` for an algorithm without hyperparameters (the table's `None`).
    pub settings: Option<Settings>,
}

/// The inner search's score of one candidate in one cell of a study.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchScore {
    /// The task as the study names it (its spec).
    pub task: String,
    /// Outer fold, 1-based.
    pub fold: usize,
    /// The algorithm's display name.
    pub algorithm: String,
    pub candidate: Settings,
    /// Epochs per training at which the candidate was scored.
    pub epochs: usize,
    /// Mean validation accuracy over the inner folds it was scored on.
    pub val_accuracy: f64,
}

/// True for the table's "no hyperparameters" spellings.
fn is_none(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.eq_ignore_ascii_case("none") || t == "-" || t.eq_ignore_ascii_case("nan")
}

/// Splits `unl_factor: 0.2, threshold: 0.8` (also `=` and `;` and JSON-ish braces) into
/// (name, value) pairs; text without a name becomes one pair with the name `value`.
fn parse_hyperparameters(text: &str) -> Vec<(String, String)> {
    let inner = text
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    let mut pairs = Vec::new();
    for part in inner.split([',', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let clean = |s: &str| s.trim().trim_matches(['"', '\'']).trim().to_string();
        match part.split_once([':', '=']) {
            Some((name, value)) => pairs.push((clean(name), clean(value))),
            None => pairs.push(("value".to_string(), clean(part))),
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_show_as_the_tables_text() {
        let s = Settings(vec![
            Setting::new("unl_factor", SettingValue::Text("all".into())),
            Setting::new("threshold", SettingValue::Number(0.8)),
            Setting::new("num_of_students", SettingValue::Count(2)),
            Setting::new("lr", SettingValue::Number(1e-3)),
            Setting::new("unl_factor", SettingValue::Number(0.2)),
        ]);
        assert_eq!(
            s.to_string(),
            "unl_factor: all, threshold: 0.8, num_of_students: 2, lr: 0.001, unl_factor: 0.2"
        );
        assert_eq!(Settings::default().to_string(), "");
        assert_eq!(SettingValue::Count(3).as_f64(), Some(3.0));
        assert_eq!(SettingValue::Text("all".into()).as_f64(), None);
    }

    #[test]
    fn parses_hyperparameter_text() {
        assert_eq!(
            parse_hyperparameters("unl_factor: 0.2, threshold: 0.8"),
            vec![
                ("unl_factor".to_string(), "0.2".to_string()),
                ("threshold".to_string(), "0.8".to_string())
            ]
        );
        assert_eq!(
            parse_hyperparameters("{'lr': 0.001}"),
            vec![("lr".to_string(), "0.001".to_string())]
        );
        assert!(is_none(" None ") && is_none("") && !is_none("lr: 1"));
        let text = "unl_factor: all, threshold: 0.8, num_of_students: 2";
        let parsed = Settings::parse(text).unwrap();
        assert_eq!(parsed.0[0].value, SettingValue::Text("all".into()));
        assert_eq!(parsed.to_string(), text);
        assert_eq!(Settings::parse("None"), None);
    }
}
