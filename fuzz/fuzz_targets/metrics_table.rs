//! Metrics tables: any text reads or fails with an error, never panics; an accepted table
//! writes and reads back the same, and its analysis either runs or says why not.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nstudent_stats::table::MetricsTable;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = MetricsTable::from_reader(data, Path::new("fuzz.csv")) else { return };
    let mut out = Vec::new();
    table.write(&mut out).unwrap();
    let back = MetricsTable::from_reader(out.as_slice(), Path::new("back.csv")).unwrap();
    assert_eq!(back.rows.len(), table.rows.len());
    for (a, b) in back.rows.iter().zip(&table.rows) {
        assert_eq!(a.dataset, b.dataset);
        assert_eq!(a.accuracy.to_bits(), b.accuracy.to_bits());
    }
    let _ = nstudent_stats::compare::analyze(&table, "Accuracy", 0.05);
});
