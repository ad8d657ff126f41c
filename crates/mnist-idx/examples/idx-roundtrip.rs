//! The Rust side of `scripts/idx-interop.py`.
//!
//! ```text
//! idx-roundtrip dump FILE
//!     line 1: the dtype and the dims (`f32 2,3`; `f32 -` for no dimensions), then one value
//!     per line (floats in shortest round-trip form: `NaN`, `inf`, `-inf`, `-0.0`, `0.1`).
//! idx-roundtrip write DTYPE OUT [--dims 2,3,4] [--gzip]
//!     writes the pattern below (default dims 3,4,5), atomically.
//! ```
//!
//! The pattern, for value number `i` (row-major, from 0):
//! - u8: `(37 i + 11) mod 256`; i8: that minus 128;
//! - i16: `(4099 i + 7) mod 65536 - 32768`; i32: `(2654435761 i + 13) mod 2^32 - 2^31`;
//! - f32, f64: `i * 0.1 - 1.5` (computed in f64, then rounded to f32 for f32), except
//!   i = 1, 2, 3, 4: +inf, -inf, NaN, -0.0.

use std::process::ExitCode;

use mnist_idx::{Compression, Dtype, IdxData, IdxElement};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dump") if args.len() == 2 => dump(&args[1]),
        Some("write") if args.len() >= 3 => write(&args[1], &args[2], &args[3..]),
        _ => Err("usage: idx-roundtrip dump FILE | write DTYPE OUT [--dims 2,3,4] [--gzip]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn dump(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    let data = mnist_idx::read_dyn(path)?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let dims: Vec<String> = data.dims().iter().map(|d| d.to_string()).collect();
    let dims = if dims.is_empty() {
        "-".to_string()
    } else {
        dims.join(",")
    };
    writeln!(out, "{} {dims}", data.dtype())?;
    fn lines<T: IdxElement>(out: &mut impl Write, v: &[T]) -> std::io::Result<()> {
        v.iter().try_for_each(|x| writeln!(out, "{x:?}"))
    }
    match &data {
        IdxData::U8(a) => lines(&mut out, &a.data)?,
        IdxData::I8(a) => lines(&mut out, &a.data)?,
        IdxData::I16(a) => lines(&mut out, &a.data)?,
        IdxData::I32(a) => lines(&mut out, &a.data)?,
        IdxData::F32(a) => lines(&mut out, &a.data)?,
        IdxData::F64(a) => lines(&mut out, &a.data)?,
    }
    out.flush()?;
    Ok(())
}

fn pattern_f64(i: usize) -> f64 {
    match i {
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => f64::NAN,
        4 => -0.0,
        _ => i as f64 * 0.1 - 1.5,
    }
}

fn write(dtype: &str, out: &str, rest: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let dtype = Dtype::from_name(dtype).ok_or_else(|| format!("unknown dtype {dtype:?}"))?;
    let mut dims = vec![3, 4, 5];
    let mut compression = Compression::None;
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--gzip" => compression = Compression::Gzip,
            "--dims" => {
                let spec = rest
                    .next()
                    .ok_or("--dims needs a value such as 2,3,4 or -")?;
                dims = if spec == "-" {
                    vec![]
                } else {
                    spec.split(',').map(str::parse).collect::<Result<_, _>>()?
                };
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let n = if dims.contains(&0) {
        0
    } else {
        dims.iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or("dims too large")?
    };
    let i = 0..n;
    let u = |i: usize, a: u64, b: u64, m: u64| (i as u64).wrapping_mul(a).wrapping_add(b) % m;
    let data: IdxData = match dtype {
        Dtype::U8 => arr(&dims, i.map(|i| u(i, 37, 11, 256) as u8)),
        Dtype::I8 => arr(&dims, i.map(|i| (u(i, 37, 11, 256) as i16 - 128) as i8)),
        Dtype::I16 => arr(
            &dims,
            i.map(|i| (u(i, 4099, 7, 65536) as i32 - 32768) as i16),
        ),
        Dtype::I32 => arr(
            &dims,
            i.map(|i| (u(i, 2654435761, 13, 1 << 32) as i64 - (1 << 31)) as i32),
        ),
        Dtype::F32 => arr(&dims, i.map(|i| pattern_f64(i) as f32)),
        Dtype::F64 => arr(&dims, i.map(pattern_f64)),
    };
    data.write(out, compression)?;
    Ok(())
}

fn arr<T: IdxElement>(dims: &[usize], values: impl Iterator<Item = T>) -> IdxData {
    mnist_idx::IdxArray {
        dims: dims.to_vec(),
        data: values.collect(),
    }
    .into()
}
