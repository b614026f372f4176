//! `score`'s label and probability CSVs: any bytes read or fail with an error, never panic;
//! accepted files score or are refused with a reason.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::score_csv::run(data));
