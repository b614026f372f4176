//! Metrics and statistics for nstudent.
//!
//! [`table`] holds the study's metrics table (the original study's CSV layout); the scoring
//! functions and the tests across tasks read and write it.

mod error;
pub mod table;

pub use error::{Error, Result};
