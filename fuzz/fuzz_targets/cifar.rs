//! CIFAR binary records (10 and 100, fine and coarse labels): any member bytes decode or fail
//! with an error, never panic; a decoded split has one 32x32x3 image per record.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nstudent_data::read::cifar::{from_members, Member};
use nstudent_data::Cifar100Labels;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let name = ["data_batch_1.bin", "test_batch.bin", "train.bin", "test.bin"][usize::from(which % 4)];
    let labels = if which & 4 == 0 { Cifar100Labels::Fine } else { Cifar100Labels::Coarse };
    let member = Member { origin: format!("fuzz/{name}"), name: name.into(), bytes: bytes.to_vec() };
    if let Ok((splits, _)) = from_members(vec![member], Path::new("fuzz"), labels, "fuzz") {
        let d = &splits.train;
        assert_eq!(d.images.len(), d.len() * 32 * 32 * 3);
        assert!(d.images.len() <= bytes.len());
    }
});
