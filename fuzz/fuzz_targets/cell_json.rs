//! Cell files and checkpoints, as a results directory holds them: any bytes read or are
//! refused, never panic; an accepted cell round-trips through its writer exactly.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nstudent_experiment::cell::{read_record, write_record};
use nstudent_experiment::checkpoint::{self, Owner};
use nstudent_experiment::{Algorithm, Cell};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell { index: 0, task: "mnist:0-4".into(), fold: 2, algorithm: Algorithm::NoisyStudent };
    let path = dir.path().join(cell.relative_path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, data).unwrap();
    if let Ok(Some(record)) = read_record(dir.path(), &cell) {
        write_record(dir.path(), &cell, &record).unwrap();
        assert_eq!(read_record(dir.path(), &cell).unwrap(), Some(record));
    }
    std::fs::write(checkpoint::path(dir.path(), &cell), data).unwrap();
    let owner = Owner { config_hash: "abc".into(), seed: 1 };
    let steps = checkpoint::read(dir.path(), &cell, &owner);
    checkpoint::write(dir.path(), &cell, &owner, &steps).unwrap();
    assert_eq!(checkpoint::read(dir.path(), &cell, &owner), steps);
});
