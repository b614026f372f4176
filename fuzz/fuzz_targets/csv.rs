//! Image CSVs under every option the readers take: any text reads or fails with an error,
//! never panics; an accepted dataset holds one label and one image per data row.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nstudent_data::read::csv::read_from;
use nstudent_data::{CsvOptions, ImageShape, LabelColumn};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, text)) = data.split_first() else { return };
    let options = CsvOptions {
        label_column: match flags % 4 {
            0 => None,
            1 => Some(LabelColumn::First),
            2 => Some(LabelColumn::Last),
            _ => Some(LabelColumn::Index(usize::from(flags >> 5))),
        },
        shape: (flags & 4 != 0).then(|| ImageShape::new(2, 2, 1)),
        max_value: (flags & 8 != 0).then_some(16.0),
        header: match (flags >> 4) % 3 {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        },
        ..CsvOptions::default()
    };
    if let Ok(d) = read_from(text, Path::new("fuzz.csv"), &options, "fuzz") {
        assert_eq!(d.images.len(), d.len() * d.shape.len());
        assert!(d.labels.iter().all(|&l| usize::from(l) < d.num_classes()));
        // Never more rows than lines.
        assert!(d.len() <= text.split(|&b| b == b'\n').count());
    }
});
