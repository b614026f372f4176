//! IDX arrays (raw): any bytes parse or fail with an error, never panic; an accepted array's
//! values are exactly the bytes after its header.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::idx::run(data));
