//! Metrics tables: any text reads or fails with an error, never panics; an accepted table
//! writes and reads back the same, and its analysis either runs or says why not.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::metrics_table::run(data));
