//! The TOML configuration on arbitrary text: parse, validate, and for a valid configuration
//! check that it round-trips through `to_toml` (which must not panic).
#![no_main]

use gan::TrainConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = TrainConfig::from_toml(text) else {
        return;
    };
    if config.validate().is_ok() {
        let again = TrainConfig::from_toml(&config.to_toml()).expect("a valid config re-parses");
        // NaN fields cannot pass validation, so equality is meaningful.
        assert_eq!(again, config);
        let _ = config.differences(&TrainConfig::default());
    }
});
