//! Other tools' wide and long result tables: any bytes read or fail with an error, never
//! panic; an accepted table's analysis and effect sizes either run or say why not.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::layouts::run(data));
