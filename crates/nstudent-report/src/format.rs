//! Text for the HTML: escaping and number formats.

use std::fmt::Write;

pub use nstudent_stats::markup::escape as esc;

/// True for the table's time columns (seconds).
pub fn is_time(metric: &str) -> bool {
    matches!(metric, "Training Time" | "Inference Time")
}

/// A metric value: 4 decimals for scores, a few significant digits for seconds; "n/a" when the
/// value is not finite.
pub fn metric_value(metric: &str, v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    if is_time(metric) {
        seconds(v)
    } else {
        format!("{v:.4}")
    }
}

/// Seconds with about three significant digits (no unit).
pub fn seconds(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.001 || a == 0.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

/// A p-value: 4 decimals, or scientific notation below 0.001.
pub fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "n/a".to_string()
    } else if p == 0.0 {
        "0".to_string()
    } else if p < 1e-3 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// A statistic or degrees of freedom: at most 4 decimals, trailing zeros dropped (`22.8`,
/// `2`, `25.186`).
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let text = if v.abs() >= 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    };
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A duration in seconds for a human: `4.2 s`, `3 min 20 s`, `2 h 05 min`.
pub fn duration(s: f64) -> String {
    if !s.is_finite() {
        return "n/a".to_string();
    }
    if s < 60.0 {
        return format!("{} s", seconds(s));
    }
    let total = s.round() as u64;
    let mut out = String::new();
    if total >= 3600 {
        let _ = write!(out, "{} h {:02} min", total / 3600, (total % 3600) / 60);
    } else {
        let _ = write!(out, "{} min {:02} s", total / 60, total % 60);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(metric_value("Accuracy", 0.98451), "0.9845");
        assert_eq!(metric_value("Training Time", 21.46), "21.5");
        assert_eq!(metric_value("Inference Time", 0.3012), "0.301");
        assert_eq!(metric_value("AUC", f64::NAN), "n/a");
        assert_eq!(p_value(0.000_012_3), "1.23e-5");
        assert_eq!(p_value(0.0412), "0.0412");
        assert_eq!(duration(200.0), "3 min 20 s");
        assert_eq!(number(22.8), "22.8");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(25.186_04), "25.186");
        assert_eq!(number(0.0), "0");
        assert_eq!(duration(7500.0), "2 h 05 min");
    }
}
