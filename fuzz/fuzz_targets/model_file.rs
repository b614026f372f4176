//! Model files (safetensors with nstudent's metadata) and ensemble manifests: any bytes load
//! or fail with an error, never panic. A model that loads predicts rows summing to 1, and
//! saving it again gives a file that loads to the same probabilities.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nstudent_fuzz::model_file::run(data));
