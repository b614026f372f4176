//! CIFAR binary records (10 and 100, fine and coarse labels): any member bytes decode or fail
//! with an error, never panic; a decoded split has one 32x32x3 image per record.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::cifar::run(data));
