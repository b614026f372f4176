//! The data budget: a small compressed file cannot claim gigabytes. Its own test binary, since
//! the budget is a setting of the whole process.

mod common;

use common::gz;
use nstudent_data::read::idx;
use nstudent_data::{open, set_data_budget, DEFAULT_DATA_BUDGET};

fn idx_header(dims: &[u32]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes
}

#[test]
fn declared_and_decompressed_sizes_are_checked_against_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(nstudent_data::data_budget(), DEFAULT_DATA_BUDGET);
    // 4 million 28x28 images declared, a few bytes present: refused from the header alone,
    // before anything is decompressed.
    let declared = dir.path().join("huge-idx3-ubyte.gz");
    let mut bytes = idx_header(&[4_000_000, 28, 28]);
    bytes.extend_from_slice(&[0; 100]);
    std::fs::write(&declared, gz(&bytes)).unwrap();
    let e = idx::read(&declared).unwrap_err().to_string();
    assert!(
        e.contains("its IDX header declares 3136000016 bytes, more than the data budget of 2.0 GB"),
        "{e}"
    );
    assert!(e.contains("--max-data-gb"), "{e}");

    // A budget of 1,000 bytes: a consistent 1,016-byte IDX file and a CSV of 1,280 pixels are
    // over it; raised, both read.
    set_data_budget(1000);
    let small = dir.path().join("small-idx3-ubyte.gz");
    let mut bytes = idx_header(&[10, 10, 10]);
    bytes.extend_from_slice(&[7; 1000]);
    std::fs::write(&small, gz(&bytes)).unwrap();
    let e = idx::read(&small).unwrap_err().to_string();
    assert!(e.contains("declares 1016 bytes"), "{e}");
    let csv = dir.path().join("rows.csv.gz");
    let text: String = (0..20)
        .map(|i| format!("{},{}\n", i % 2, vec!["9"; 64].join(",")))
        .collect();
    std::fs::write(&csv, gz(text.as_bytes())).unwrap();
    let e = open(csv.to_str().unwrap(), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bytes of pixels, more than the data budget"),
        "{e}"
    );
    set_data_budget(1 << 20);
    assert_eq!(idx::read(&small).unwrap().data.len(), 1000);
    assert_eq!(
        open(csv.to_str().unwrap(), dir.path()).unwrap().train.len(),
        20
    );
}
