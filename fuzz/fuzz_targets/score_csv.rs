//! `score`'s label and probability CSVs: any bytes read or fail with an error, never panic;
//! accepted files score or are refused with a reason.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nstudent_stats::predictions::{read_labels, read_probabilities};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let labels = dir.path().join("y.csv");
    let probs = dir.path().join("p.csv");
    std::fs::write(&labels, &data[..cut]).unwrap();
    std::fs::write(&probs, data.get(cut + 1..).unwrap_or(&[])).unwrap();
    if let (Ok(y), Ok(p)) = (read_labels(&labels), read_probabilities(&probs)) {
        if y.len() * p.num_classes == p.values.len() {
            let _ = nstudent_stats::metrics::score(&y, &p.values, p.num_classes);
        }
    }
});
