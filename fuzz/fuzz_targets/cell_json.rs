//! Cell files and checkpoints, as a results directory holds them: any bytes read or are
//! refused, never panic; an accepted cell round-trips through its writer exactly.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::cell_json::run(data));
