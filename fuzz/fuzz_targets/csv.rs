//! Image CSVs under every option the readers take: any text reads or fails with an error,
//! never panics; an accepted dataset holds one label and one image per data row.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::csv::run(data));
