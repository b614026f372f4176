//! The fuzz crate is a workspace of its own. CI builds its replay test into the main
//! workspace's target directory, where it reuses the crates the workspace's tests compiled only
//! if both release profiles are the same: otherwise every dependency is compiled again (about
//! two more minutes of a CI run that must stay under thirty).

use std::path::Path;

fn release_profile(rel: &str) -> toml::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc.get("profile")
        .and_then(|p| p.get("release"))
        .cloned()
        .unwrap_or_else(|| panic!("{rel} has no [profile.release]"))
}

#[test]
fn the_fuzz_workspace_builds_with_the_main_release_profile() {
    assert_eq!(
        release_profile("fuzz/Cargo.toml"),
        release_profile("Cargo.toml"),
        "fuzz/Cargo.toml's [profile.release] must equal Cargo.toml's"
    );
}
