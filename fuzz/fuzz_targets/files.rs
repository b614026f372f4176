//! Whole files through `nstudent_data::open`, as a user passes them: gzip'd IDX pairs, gzip'd
//! and zipped CSVs and CIFAR archives (.tar.gz). Any bytes open or fail with an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = match which % 4 {
        0 => {
            // An IDX pair: two bytes give the images file's length, then the images file,
            // then the labels file (both gzip'd, or not, as the input has it).
            let Some((len, rest)) = bytes.split_first_chunk::<2>() else { return };
            let cut = usize::from(u16::from_le_bytes(*len)).min(rest.len());
            std::fs::write(dir.path().join("train-labels-idx1-ubyte.gz"), &rest[cut..]).unwrap();
            let p = dir.path().join("train-images-idx3-ubyte.gz");
            std::fs::write(&p, &rest[..cut]).unwrap();
            p
        }
        1 => dir.path().join("fuzz.csv.gz"),
        2 => dir.path().join("fuzz.zip"),
        _ => dir.path().join("cifar-10-binary.tar.gz"),
    };
    if !path.exists() {
        std::fs::write(&path, bytes).unwrap();
    }
    if let Ok(splits) = nstudent_data::open(path.to_str().unwrap(), dir.path()) {
        let d = &splits.train;
        assert_eq!(d.images.len(), d.len() * d.shape.len());
    }
});
