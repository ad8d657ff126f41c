#!/usr/bin/env python3
"""Interop check: the mnist-idx crate against idx2numpy and numpy, both directions.

Needs: python3 with numpy and idx2numpy (`pip install numpy idx2numpy`; CI installs
scripts/requirements-ci.txt into a virtual environment), and cargo on PATH. Honours
CARGO_TARGET_DIR if set. Run from anywhere:

    python3 scripts/idx-interop.py

1. Python writes files of every dtype with idx2numpy (raw, and gzip-compressed with Python's
   gzip module; half of them under a misleading name, a gzipped file without `.gz` or a raw
   file named `.gz`), then the Rust reader (`idx-roundtrip dump`) reads them and the values are
   compared bit for bit (NaN with NaN).
2. The Rust writer (`idx-roundtrip write`) makes files of every dtype, raw and gzipped, and
   idx2numpy reads them; they must hold the pattern documented in
   crates/mnist-idx/examples/idx-roundtrip.rs.
3. A truncated file must make the Rust reader fail with a message that says so.

Prints one line per failure and a summary `idx-interop: N passed, M failed`; exits 1 on any
failure.
"""

import gzip
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import idx2numpy
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DTYPES = ["u8", "i8", "i16", "i32", "f32", "f64"]
NUMPY = {
    "u8": np.uint8,
    "i8": np.int8,
    "i16": np.int16,
    "i32": np.int32,
    "f32": np.float32,
    "f64": np.float64,
}
CARGO = ["cargo", "run", "-q", "-p", "mnist-idx", "--example", "idx-roundtrip", "--"]


def rust(*args):
    """Runs the Rust side from the repository root; returns (exit code, stdout, stderr)."""
    p = subprocess.run(CARGO + [str(a) for a in args], cwd=ROOT, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def same(a, b):
    """Same shape, dtype and values; floats compared by bits, NaN equal to NaN. (idx2numpy
    returns big-endian dtypes: compare in native byte order.)"""
    a = a.astype(a.dtype.newbyteorder("="))
    b = b.astype(b.dtype.newbyteorder("="))
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if not np.array_equal(nan_a, nan_b):
            return False
        bits = np.uint32 if a.dtype == np.float32 else np.uint64
        return np.array_equal(a[~nan_a].view(bits), b[~nan_b].view(bits))
    return np.array_equal(a, b)


def sample(dtype, shape, seed):
    """Random values covering each type's range; floats with inf, -inf, NaN and -0.0."""
    rng = np.random.default_rng(seed)
    t = NUMPY[dtype]
    if np.issubdtype(t, np.integer):
        info = np.iinfo(t)
        a = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=t)
        flat = a.reshape(-1)
        flat[0] = info.min
        flat[-1] = info.max
        return a
    a = (rng.standard_normal(size=shape) * 1e3).astype(t)
    flat = a.reshape(-1)
    specials = [np.inf, -np.inf, np.nan, -0.0, np.finfo(t).max, np.finfo(t).tiny]
    flat[: len(specials)] = np.array(specials[: flat.size], dtype=t)
    return a


def pattern(dtype, dims):
    """The values `idx-roundtrip write` writes (see examples/idx-roundtrip.rs)."""
    n = int(np.prod(dims, dtype=np.int64))
    i = np.arange(n, dtype=np.uint64)
    if dtype == "u8":
        v = ((i * 37 + 11) % 256).astype(np.uint8)
    elif dtype == "i8":
        v = (((i * 37 + 11) % 256).astype(np.int16) - 128).astype(np.int8)
    elif dtype == "i16":
        v = (((i * 4099 + 7) % 65536).astype(np.int32) - 32768).astype(np.int16)
    elif dtype == "i32":
        v = (((i * 2654435761 + 13) % 2**32).astype(np.int64) - 2**31).astype(np.int32)
    else:
        f = np.arange(n, dtype=np.float64) * 0.1 - 1.5
        for k, s in zip(range(1, 5), [np.inf, -np.inf, np.nan, -0.0]):
            if k < n:
                f[k] = s
        v = f.astype(NUMPY[dtype])
    return v.reshape(dims)


def parse_dump(text):
    """Parses `idx-roundtrip dump` output into a numpy array."""
    lines = text.splitlines()
    dtype, dims = lines[0].split()
    dims = () if dims == "-" else tuple(int(d) for d in dims.split(","))
    t = NUMPY[dtype]
    conv = float if np.issubdtype(t, np.floating) else int
    values = np.array([conv(x) for x in lines[1:]], dtype=t)
    return values.reshape(dims)


def main():
    passed, failed = 0, 0

    def report(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {what}")

    build = subprocess.run(
        ["cargo", "build", "-q", "-p", "mnist-idx", "--example", "idx-roundtrip"], cwd=ROOT
    )
    if build.returncode != 0:
        print("idx-interop: 0 passed, 1 failed (cargo build failed)")
        return 1

    shapes = [(3, 4, 5), (7,), (2, 3), (2, 1, 3, 2), (60,), (1, 28, 28)]
    with tempfile.TemporaryDirectory(prefix="idx-interop-") as tmp:
        tmp = Path(tmp)

        # 1. idx2numpy writes, Rust reads.
        for k, dtype in enumerate(DTYPES):
            for gz in (False, True):
                want = sample(dtype, shapes[k], seed=k * 2 + gz)
                raw = idx2numpy.convert_to_string(want)
                misleading = k % 2 == 1
                if gz:
                    name = f"py-{dtype}.idx" if misleading else f"py-{dtype}.idx.gz"
                    data = gzip.compress(raw)
                else:
                    name = f"py-{dtype}.gz" if misleading else f"py-{dtype}.idx"
                    data = raw
                path = tmp / name
                path.write_bytes(data)
                what = f"python->rust {dtype} {'gzip' if gz else 'raw'} as {name} {shapes[k]}"
                code, out, err = rust("dump", path)
                if code != 0:
                    report(False, f"{what}: exit {code}: {err.strip()}")
                    continue
                got = parse_dump(out)
                report(same(got, want), f"{what}: values differ")

        # 2. Rust writes, idx2numpy reads.
        cases = [(d, "3,4,5") for d in DTYPES] + [("f64", "-"), ("u8", "0,5"), ("i16", "9")]
        for dtype, dims in cases:
            for gz in (False, True):
                path = tmp / f"rs-{dtype}-{dims.replace(',', 'x')}{'.gz' if gz else ''}"
                what = f"rust->python {dtype} dims {dims} {'gzip' if gz else 'raw'}"
                args = ["write", dtype, path, "--dims", dims] + (["--gzip"] if gz else [])
                code, _, err = rust(*args)
                if code != 0:
                    report(False, f"{what}: exit {code}: {err.strip()}")
                    continue
                data = path.read_bytes()
                if (data[:2] == b"\x1f\x8b") != gz:
                    report(False, f"{what}: gzip magic {'missing' if gz else 'unexpected'}")
                    continue
                if gz:
                    data = gzip.decompress(data)
                got = idx2numpy.convert_from_string(data)
                want = pattern(dtype, () if dims == "-" else tuple(int(d) for d in dims.split(",")))
                report(same(got, want), f"{what}: values differ")

        # 3. A truncated file fails, saying so.
        path = tmp / "truncated.idx"
        path.write_bytes(idx2numpy.convert_to_string(sample("i32", (4, 5), seed=99))[:-3])
        code, _, err = rust("dump", path)
        report(
            code == 1 and "truncated: header promises 4 items of 5 i32 (80 bytes), found 77" in err,
            f"truncated file: exit {code}, stderr {err.strip()!r}",
        )

    print(f"idx-interop: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
