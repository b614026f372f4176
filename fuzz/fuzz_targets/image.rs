//! Image files (PNG and JPEG) in an image folder: any bytes read or fail with an error, never
//! panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ext = if which & 1 == 0 { "png" } else { "jpg" };
    for class in ["a", "b"] {
        std::fs::create_dir(dir.path().join(class)).unwrap();
        std::fs::write(dir.path().join(class).join(format!("0.{ext}")), bytes).unwrap();
    }
    if let Ok(splits) = nstudent_data::read::image_folder::read(dir.path(), "fuzz") {
        let d = &splits.train;
        assert_eq!(d.len(), 2);
        assert_eq!(d.images.len(), 2 * d.shape.len());
    }
});
