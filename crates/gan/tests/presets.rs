//! Every preset in `configs/` parses and passes validation.

use gan::TrainConfig;

#[test]
fn every_preset_is_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let config =
                TrainConfig::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            config
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
    }
    assert!(count >= 3, "expected the three presets, found {count}");
}
