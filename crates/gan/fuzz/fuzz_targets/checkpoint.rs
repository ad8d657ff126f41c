//! The checkpoint loader on arbitrary bytes: read and verify, then (when the configuration and
//! the checksums pass) build the networks it describes and load the weights and the position.
//! It must return an error, never panic, abort or allocate without bound.
#![no_main]

use gan::checkpoint::Checkpoint;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Once;

fuzz_target!(|data: &[u8]| {
    static LOW_LIMITS: Once = Once::new();
    // Networks of at most 200,000 parameters, so each execution stays fast; the limits' logic
    // is the same at any bound.
    LOW_LIMITS.call_once(|| std::env::set_var("GAN_MAX_PARAMETERS", "200000"));
    let Ok(ckpt) = Checkpoint::from_bytes(Path::new("fuzz.safetensors"), data.to_vec()) else {
        return;
    };
    let _ = ckpt.history();
    let Ok(config) = ckpt.config() else {
        return;
    };
    let _ = ckpt.position(config.seed);
    if let Ok(mut g) = gan::Gan::new(&config) {
        let _ = ckpt.load_params(&mut g.params);
    }
});
