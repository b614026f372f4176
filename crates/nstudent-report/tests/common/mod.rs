//! Shared test helpers.

pub mod sample;
