//! Any bytes given to the reader: a value or an error, never a panic, a hang or a huge
//! allocation; and whatever reads, writes back to bytes that read the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mnist_idx::{read_dyn_from, Compression, Dtype, IdxElement, IdxReader, IdxSummary, Limits};

/// 1 MiB of data at most, so a header cannot make the fuzzer run out of memory legitimately.
fn limits() -> Limits {
    Limits::max_bytes(1 << 20)
}

fn stream<T: IdxElement>(data: &[u8]) {
    let Ok(mut reader) = IdxReader::with_limits(data, limits()) else {
        return;
    };
    let item_len = reader.header().item_len();
    // A 20-byte header may promise 2^32 - 1 empty items (dims like 4294967295x0): legal, cheap
    // each, but billions of calls. Stream at most this many of them.
    let mut budget: u32 = if item_len == 0 { 1 << 12 } else { u32::MAX };
    let mut item = Vec::new();
    while budget > 0 {
        budget -= 1;
        match reader.next_item_into::<T>(&mut item) {
            Ok(true) => assert_eq!(item.len(), item_len),
            Ok(false) => break,
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Whole, dynamic; then write back and read again.
    match IdxReader::with_limits(data, limits()).and_then(|r| {
        let (gzip, len) = (r.is_gzip(), r.header().len());
        r.read_all_dyn().map(|d| (d, gzip, len))
    }) {
        Ok((d, gzip, len)) => {
            assert_eq!(d.len(), len);
            let raw = d.write_to(Vec::new(), Compression::None).expect("write");
            if !gzip {
                assert_eq!(raw, data, "raw input must write back byte for byte");
            }
            let again = read_dyn_from(&raw[..]).expect("read what we wrote");
            let raw2 = again
                .write_to(Vec::new(), Compression::None)
                .expect("write again");
            assert_eq!(raw, raw2);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    // Streamed item by item, typed.
    match IdxReader::with_limits(data, limits()).map(|r| r.dtype()) {
        Ok(Dtype::U8) => stream::<u8>(data),
        Ok(Dtype::I8) => stream::<i8>(data),
        Ok(Dtype::I16) => stream::<i16>(data),
        Ok(Dtype::I32) => stream::<i32>(data),
        Ok(Dtype::F32) => stream::<f32>(data),
        Ok(Dtype::F64) => stream::<f64>(data),
        Err(_) => {}
    }

    // Summarised.
    if let Ok(reader) = IdxReader::with_limits(data, limits()) {
        match IdxSummary::from_reader(reader) {
            Ok(s) => {
                let _ = s.to_string();
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
