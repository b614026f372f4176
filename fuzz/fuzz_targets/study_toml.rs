//! Study configs: any text parses (and validates) or fails with a one-line error, never
//! panics; an accepted config prints as TOML that parses back to the same config and hash.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::study_toml::run(data));
