//! Whole files through `nstudent_data::open`, as a user passes them: gzip'd IDX pairs, gzip'd
//! and zipped CSVs and CIFAR archives (.tar.gz). Any bytes open or fail with an error.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::files::run(data));
