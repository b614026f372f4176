//! Image files (PNG and JPEG) in an image folder: any bytes read or fail with an error, never
//! panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::image::run(data));
