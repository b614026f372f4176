//! The three algorithms of the study: Baseline, Noisy Student and Ensemble Noisy Student.
