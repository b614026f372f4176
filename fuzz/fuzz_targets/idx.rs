//! IDX arrays (raw): any bytes parse or fail with an error, never panic; an accepted array's
//! values are exactly the bytes after its header.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = nstudent_data::read::idx::parse(data.to_vec(), Path::new("fuzz-idx3-ubyte")) {
        let cells: usize = array.dims.iter().product();
        assert_eq!(array.data.len(), cells, "{:?}", array.dims);
        assert!(array.data.len() <= data.len());
    }
});
