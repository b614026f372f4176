//! Study configs: any text parses (and validates) or fails with a one-line error, never
//! panics; an accepted config prints as TOML that parses back to the same config and hash.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nstudent_experiment::StudyConfig;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let quick = StudyConfig::preset("quick").unwrap();
    for parsed in [
        StudyConfig::from_toml(text, Path::new("fuzz.toml")),
        StudyConfig::from_toml_over(text, Path::new("fuzz.toml"), &quick),
    ] {
        match parsed {
            Ok(c) => {
                let back = StudyConfig::from_toml(&c.to_commented_toml(), Path::new("back.toml")).unwrap();
                assert_eq!(back, c);
                assert_eq!(back.hash(), c.hash());
            }
            Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
        }
    }
});
