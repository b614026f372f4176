//! Metrics and statistics for nstudent.
//!
//! - [`metrics`]: accuracy, TPR, FPR, precision, ROC AUC and average precision of class
//!   probabilities, as scikit-learn computes them.
//! - [`predictions`]: reading label and probability CSV files for scoring.
//! - [`table`]: the study's metrics table (the original study's CSV layout).
//! - [`compare`]: Friedman, Iman-Davenport, Nemenyi, Wilcoxon-Holm over a metrics table
//!   ([`compare::analyze`]), as SciPy and scikit-posthocs compute them.
//! - [`paired`]: two algorithms compared with the dependence of folds and tasks respected: the
//!   corrected resampled t-test, the Bayesian correlated t-test and the Bayesian signed-rank
//!   test, as baycomp computes them.
//! - [`effect`]: effect sizes, magnitudes and confidence intervals, as autorank chooses them.
//! - [`layouts`]: wide and long result tables of other tools, as the same score matrix.
//! - [`two_models`]: two models on the same test images: McNemar's test and a paired
//!   bootstrap interval of the accuracy difference, as statsmodels and SciPy compute them.
//! - [`cd_diagram`]: the critical-difference diagram of an analysis, as SVG or PNG.
//! - [`render`]: an analysis as aligned text or markdown tables.
//! - [`dist`]: the distribution tails those tests need.

pub mod cd_diagram;
pub mod compare;
pub mod describe;
pub mod dist;
pub mod effect;
mod error;
pub mod layouts;
pub mod markup;
pub mod metrics;
pub mod paired;
pub mod predictions;
pub mod render;
pub mod table;
pub mod two_models;

pub use error::{Error, Result};
