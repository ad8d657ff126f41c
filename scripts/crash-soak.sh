#!/usr/bin/env bash
# Crash soak: trains a small run, kill -9s it at N random moments, resumes it each time, then
# checks that every file of the run is valid and that its final weights equal those of an
# uninterrupted run of the same configuration.
#
#     scripts/crash-soak.sh N        (CI runs N = 3)
#
# Each kill lands mid-training: the script waits until the step in the latest checkpoint has
# advanced since the previous kill, checks that the trainer is still running (the run is not
# finished), then waits a random 0-250 ms more and kills. Every other segment runs with the
# test-only switch GAN_TEST_SLOW_WRITE_MS, which pauses each checkpoint write between writing
# its temporary file and renaming it, so that some kills land during a checkpoint write (the script counts them
# by the temporary files they leave; the next resume must remove them).
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-3}
case "$kills" in '' | *[!0-9]*) echo "usage: $0 N (a number of kills)" >&2; exit 2 ;; esac

cargo build -q -p gan-cli --bin gan
bin="${CARGO_TARGET_DIR:-target}/debug/gan"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

epochs=$((20 + 4 * kills))
settings=(--limit 1000 --batch 32 --latent 16 --hidden 48 --checkpoint-every 1 --seed 7
  --epochs "$epochs" --data data/mnist)

# The step and epoch of a checkpoint (from its safetensors metadata), or "-1 -1".
position() {
  python3 - "$1" <<'PY'
import json, struct, sys
try:
    with open(sys.argv[1], "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        meta = json.loads(f.read(n))["__metadata__"]
    print(meta["step"], meta["epoch"])
except Exception:
    print(-1, -1)
PY
}

echo "crash soak: $kills kills of a $epochs-epoch run in $work"
"$bin" train --runs "$work" --name straight "${settings[@]}" > /dev/null

run="$work/soak"
last_step=-1
in_write=0
start=(train --runs "$work" --name soak "${settings[@]}")
for ((k = 1; k <= kills; k++)); do
  if ((k % 2 == 0)); then slow=150; else slow=0; fi
  if ((k == 1)); then args=("${start[@]}"); else args=(train --resume "$run"); fi
  if ((slow > 0)); then
    GAN_TEST_SLOW_WRITE_MS=$slow "$bin" "${args[@]}" > /dev/null 2>&1 &
  else
    "$bin" "${args[@]}" > /dev/null 2>&1 &
  fi
  pid=$!
  # Wait for a checkpoint past the previous kill's (at most 60 s).
  for ((t = 0; t < 600; t++)); do
    read -r step epoch < <(position "$run/checkpoints/latest.safetensors")
    ((step > last_step)) && break
    kill -0 "$pid" 2> /dev/null || { echo "FAIL: the trainer exited before kill $k" >&2; exit 1; }
    sleep 0.1
  done
  ((step > last_step)) || { echo "FAIL: no progress before kill $k" >&2; exit 1; }
  sleep "0.$(printf '%03d' $((RANDOM % 250)))"
  if ! kill -0 "$pid" 2> /dev/null; then
    echo "FAIL: the run finished before kill $k; raise the epochs" >&2
    exit 1
  fi
  kill -9 "$pid"
  wait "$pid" 2> /dev/null || true
  read -r step epoch < <(position "$run/checkpoints/latest.safetensors")
  ((epoch < epochs)) || { echo "FAIL: kill $k came after the last epoch" >&2; exit 1; }
  temps=$(find "$run" -name '.*.tmp-*' | wc -l)
  if ((temps > 0)); then in_write=$((in_write + 1)); fi
  echo "kill $k: step $step, epoch $epoch, slow writes ${slow} ms, temporary files left: $temps"
  last_step=$step
done
"$bin" train --resume "$run" > /dev/null

python3 - "$work/straight" "$run" <<'PY'
import glob, json, os, struct, sys, zlib

def tensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__")
    data = blob[8 + n:]
    out = {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()}
    sums = json.loads(meta["checksums"])
    assert set(sums) == set(out), f"{path}: checksums do not name every tensor"
    for name, raw in out.items():
        assert f"{zlib.crc32(raw):08x}" == sums[name], f"{path}: {name} fails its checksum"
    body = b"".join(k.encode() + b"\0" + meta[k].encode() + b"\0"
                    for k in sorted(meta) if k != "metadata_crc32")
    assert f"{zlib.crc32(body):08x}" == meta["metadata_crc32"], f"{path}: metadata checksum"
    return out, meta

straight, soak = sys.argv[1], sys.argv[2]
files = 0
for path in sorted(glob.glob(f"{soak}/**", recursive=True)):
    name = os.path.basename(path)
    if os.path.isdir(path):
        continue
    assert ".tmp-" not in name, f"{path}: a temporary file was left"
    files += 1
    if name.endswith(".safetensors"):
        tensors(path)
    elif name.endswith(".png"):
        blob = open(path, "rb").read()
        assert blob.startswith(b"\x89PNG") and blob[-8:-4] == b"IEND", f"{path}: bad PNG"
    elif name.endswith(".gif"):
        blob = open(path, "rb").read()
        assert blob.startswith(b"GIF89a") and blob.endswith(b";"), f"{path}: bad GIF"
    elif name == "metrics.csv":
        rows = open(path).read().splitlines()
        assert all(len(r.split(",")) == len(rows[0].split(",")) for r in rows), path
for rel in ["checkpoints/latest.safetensors"] + sorted(
        os.path.relpath(p, straight) for p in glob.glob(f"{straight}/checkpoints/epoch-*")):
    a, _ = tensors(os.path.join(straight, rel))
    b, _ = tensors(os.path.join(soak, rel))
    assert a == b, f"{rel}: weights differ from the uninterrupted run's"
for p in glob.glob(f"{straight}/samples/*.png"):
    q = os.path.join(soak, "samples", os.path.basename(p))
    assert open(p, "rb").read() == open(q, "rb").read(), f"{q} differs"
print(f"checked {files} files: all valid; every checkpoint's weights equal the uninterrupted run's")
PY
echo "crash soak passed: $kills kills, $in_write during a checkpoint write"
