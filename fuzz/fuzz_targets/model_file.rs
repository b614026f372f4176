//! Model files (safetensors with nstudent's metadata) and ensemble manifests: any bytes load
//! or fail with an error, never panic. A model that loads predicts rows summing to 1, and
//! saving it again gives a file that loads to the same probabilities.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nstudent_algo::Model;
use nstudent_data::ImagesRef;
use nstudent_engine::NativeEngine;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = if which & 1 == 0 {
        let p = dir.path().join("m.safetensors");
        std::fs::write(&p, bytes).unwrap();
        p
    } else {
        std::fs::write(dir.path().join(nstudent_algo::ENSEMBLE_MANIFEST), bytes).unwrap();
        dir.path().to_path_buf()
    };
    let Ok(model) = Model::load(&NativeEngine, &path) else { return };
    let shape = model.spec().input;
    if shape.len() > 1 << 16 {
        return;
    }
    let pixels = vec![128u8; shape.len()];
    let probs = model.predict_proba(ImagesRef::new(&pixels, shape).unwrap()).unwrap();
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-3, "{probs:?}");
    let again = dir.path().join("again.safetensors");
    if model.len() == 1 {
        model.save(&again).unwrap();
        let back = Model::load(&NativeEngine, &again).unwrap();
        assert_eq!(back.predict_proba(ImagesRef::new(&pixels, shape).unwrap()).unwrap(), probs);
    }
});
