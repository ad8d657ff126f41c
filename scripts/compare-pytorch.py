#!/usr/bin/env python3
"""Speed and memory: one epoch of the reference configuration (or, with --model dcgan, the small
DCGAN) in PyTorch and with `gan train`.

Not run by CI. Needs PyTorch and numpy in a virtual environment outside the repository (several
GB; plain PyPI, whose Linux wheel also carries CUDA libraries we do not use):

    python3 -m venv /work/torch-venv && /work/torch-venv/bin/pip install torch numpy

and cargo on PATH (honours CARGO_TARGET_DIR). Run with that environment's python, from anywhere:

    /work/torch-venv/bin/python scripts/compare-pytorch.py [--batches 32,64,128] [--epochs 1]
        [--threads 2] [--omp-wait-policy unset|passive|active] [--seed 0] [--digits all]
        [--model mlp|dcgan] [--limit N] [--max-load 0.5] [--allow-busy] [--json FILE]

It refuses to measure when the 1-minute load average is above --max-load before it starts
(--allow-busy measures anyway and marks the table NOT IDLE); the ratio of two programs on a busy
2-core machine says more about the other work than about either of them.

For each batch size B, in one invocation, each side in its own child process (so that each
one's peak resident memory is measured on its own, with wait4):
  - PyTorch (torch.set_num_threads(--threads), float32, CPU): the reference configuration, with
    G 100→256→512→784 LeakyReLU(0.2) tanh and D 784→512→256→1 LeakyReLU(0.2), nn.Linear's default
    initialisation, BCEWithLogitsLoss, the non-saturating generator loss, Adam lr 2e-4
    betas (0.5, 0.999) for both; MNIST read from data/mnist/*.gz with numpy and gzip, kept as
    uint8 and scaled to [-1, 1] batch by batch; shuffled each epoch, the last batch smaller.
    The step is the one `gan` takes (crates/gan/src/train.rs): G(z) without gradients; D on real
    and fake as one concatenated batch of 2B, d_loss = BCE(D(x),1) + BCE(D(G(z)),0), Adam step;
    then, with D's parameters frozen, g_loss = BCE(D(G(z)),1) on the same z, Adam step.
  - gan: `gan train --epochs E --batch B` (release build, `cargo build --release -p gan-cli`)
    into a temporary runs folder; the seconds are read from its metrics.csv.

PyTorch's CPU threads are OpenMP (libgomp) threads, which by default spin while they wait for
each other. On a busy machine (more runnable processes than cores) a spinning thread can hold a
core that the thread it waits for needs, and every parallel region then waits for the scheduler:
measured here, with a load average near 10 on 2 cores, one epoch on the digit 1 at batch 64 took
48-55 s with 2 threads, 34 s with OMP_WAIT_POLICY=ACTIVE, and 5.0 s with OMP_WAIT_POLICY=PASSIVE
(5.0 s with 1 thread too): PASSIVE, the analogue of rayon's workers going to sleep when idle,
helps on a busy machine. On an idle machine, though, spinning
is PyTorch's default and its fastest setting (PASSIVE made it 1.6-1.9x slower here), so the
default is PyTorch's own (unset); --omp-wait-policy passive|active sets it, and the table says
which policy was in force.

Both sides time only the training loop (seconds per epoch, the mean over --epochs): reading the
data, building the networks and process start-up are excluded, and so are gan's per-epoch
sample grid, plots and checkpoint, written after the loop. Peak RSS is of the whole process
(data and, for PyTorch, the library itself included). Prints a table, batch | PyTorch s/epoch |
gan s/epoch | ratio PyTorch/gan | peak RSS of each, and the mean losses of each side as a sanity
check that both trained alike; --json FILE writes the same figures.
"""

import argparse
import csv
import gzip
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_HINT = (
    "python3 -m venv /work/torch-venv && /work/torch-venv/bin/pip install torch numpy, "
    "then run this script with /work/torch-venv/bin/python"
)


# ---------------------------------------------------------------------------------------------
# The PyTorch side (runs in a child process: `compare-pytorch.py --torch-worker ...`).


def read_idx_u8(path):
    """An IDX file of u8 (gzipped) as a numpy array, with numpy and gzip only."""
    import numpy as np

    data = gzip.decompress(Path(path).read_bytes())
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not a u8 IDX file")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def torch_worker(a):
    """Trains the reference configuration for --epochs; writes the figures as JSON to --result."""
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    images = read_idx_u8(Path(a.data) / "train-images-idx3-ubyte.gz").reshape(-1, 784)
    if a.digits != "all":
        labels = read_idx_u8(Path(a.data) / "train-labels-idx1-ubyte.gz")
        images = images[np.isin(labels, [int(x) for x in a.digits.split(",")])]
    if a.limit > 0:
        images = images[: a.limit]
    images = torch.from_numpy(images.copy())  # uint8, scaled batch by batch as gan does
    n, latent, b = images.shape[0], 100, a.batch

    def mlp(sizes, out):
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out))
            layers.append(nn.LeakyReLU(0.2) if i + 2 < len(sizes) else out)
        return nn.Sequential(*[m for m in layers if m is not None])

    if a.model == "dcgan":
        # gan's DCGAN (crates/gan/src/model/dcgan.rs), layer for layer.
        g = nn.Sequential(
            nn.Linear(latent, 128 * 7 * 7),
            nn.BatchNorm1d(128 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1),
            nn.Tanh(),
            nn.Flatten(),
        )
        d = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),
        )
    else:
        g = mlp([latent, 256, 512, 784], nn.Tanh())
        d = mlp([784, 512, 256, 1], None)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    targets_d = {}
    shuffle = torch.Generator().manual_seed(a.seed)

    def step(real):
        bb = real.shape[0]
        if bb not in targets_d:
            targets_d[bb] = (
                torch.cat([torch.ones(bb, 1), torch.zeros(bb, 1)]),
                torch.ones(bb, 1),
            )
        t_d, t_g = targets_d[bb]
        z = torch.randn(bb, latent)
        if a.model == "dcgan":
            # As gan does for a discriminator with batch norm: G(z) once, kept for G's update;
            # D sees real and generated digits in two passes (their statistics never mix).
            fake = g(z)
            opt_d.zero_grad(set_to_none=True)
            d_loss = bce(d(real), t_g) + bce(d(fake.detach()), torch.zeros(bb, 1))
            d_loss.backward()
            opt_d.step()
            for p in d.parameters():
                p.requires_grad_(False)
            opt_g.zero_grad(set_to_none=True)
            g_loss = bce(d(fake), t_g)
            g_loss.backward()
            opt_g.step()
            for p in d.parameters():
                p.requires_grad_(True)
            return d_loss.item(), g_loss.item()
        # 1. D on real and fake as one batch of 2B; G forward-only.
        with torch.no_grad():
            fake = g(z)
        opt_d.zero_grad(set_to_none=True)
        d_loss = 2 * bce(d(torch.cat([real, fake])), t_d)  # mean over 2B, doubled: the sum
        d_loss.backward()
        opt_d.step()
        # 2. G through the updated D, whose parameters are frozen.
        for p in d.parameters():
            p.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        g_loss = bce(d(g(z)), t_g)
        g_loss.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
        return d_loss.item(), g_loss.item()

    seconds, losses = [], []
    for _ in range(a.epochs):
        started = time.perf_counter()
        order = torch.randperm(n, generator=shuffle)
        sums, count = [0.0, 0.0], 0
        for start in range(0, n, b):
            real = images[order[start : start + b]].to(torch.float32).mul_(2 / 255).sub_(1)
            dl, gl = step(real)
            k = real.shape[0]
            sums[0] += dl * k
            sums[1] += gl * k
            count += k
        seconds.append(time.perf_counter() - started)
        losses.append((sums[0] / count, sums[1] / count))
    result = {
        "seconds_per_epoch": sum(seconds) / len(seconds),
        "epoch_seconds": seconds,
        "d_loss": losses[-1][0],
        "g_loss": losses[-1][1],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
    }
    Path(a.result).write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# The driver.


def run_child(cmd, log, env=None):
    """Runs `cmd` with stdout and stderr into `log`; returns (exit code, peak RSS in MiB) of that
    one child, from wait4."""
    with open(log, "w") as out:
        p = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    scale = 1 if platform.system() == "Darwin" else 1024
    return p.returncode, usage.ru_maxrss * scale / 2**20


def fail(what, log):
    """Stops with the child's last lines of output."""
    tail = "".join(Path(log).read_text(errors="replace").splitlines(keepends=True)[-15:])
    raise SystemExit(f"compare-pytorch: {what} failed; its last output:\n{tail}")


def gan_binary():
    """Builds the release `gan` binary and returns its path."""
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "gan-cli"], cwd=ROOT, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(meta.stdout)["target_directory"]) / "release" / "gan"


def check_torch(python, tmp):
    """Stops with a hint when `python` cannot import torch; returns torch's version and the peak
    RSS (MiB) of a process that only imports torch and numpy and runs one small product."""
    log = tmp / "import-torch.log"
    code, rss = run_child(
        [
            python,
            "-c",
            "import torch, numpy; print(torch.__version__); "
            "torch.randn(64, 100) @ torch.randn(100, 256)",
        ],
        log,
    )
    text = log.read_text(errors="replace").strip()
    if code != 0:
        raise SystemExit(
            f"compare-pytorch: {python} cannot import torch and numpy "
            f"({text.splitlines()[-1] if text else 'no output'}).\n"
            f"Create the environment with: {VENV_HINT}"
        )
    return text.splitlines()[-1], rss


def driver(a):
    """Runs both sides for every batch size; prints the table and writes --json."""
    batches = [int(x) for x in a.batches.split(",") if x.strip()]
    if not batches or min(batches) < 1 or a.epochs < 1:
        raise SystemExit(
            "compare-pytorch: --batches needs positive sizes (e.g. 32,64,128) and --epochs >= 1"
        )
    data = Path(a.data).resolve()
    if not (data / "train-images-idx3-ubyte.gz").is_file():
        raise SystemExit(f"compare-pytorch: no {data / 'train-images-idx3-ubyte.gz'} (--data)")
    torch_env = dict(os.environ)
    if a.omp_wait_policy != "unset":
        torch_env["OMP_WAIT_POLICY"] = a.omp_wait_policy.upper()
    omp = torch_env.get("OMP_WAIT_POLICY", "unset (PyTorch's default: libgomp spins)")
    load = os.getloadavg()[0]
    busy = load > a.max_load
    if busy and not a.allow_busy:
        raise SystemExit(
            f"compare-pytorch: the load average is {load:.2f} (> {a.max_load}): the machine is not "
            "idle, so the ratio would say more about the other work than about either side. Wait "
            "for it to be idle, or pass --allow-busy (the table is then marked NOT IDLE)."
        )
    rows = []
    with tempfile.TemporaryDirectory(prefix="compare-pytorch-") as tmp:
        tmp = Path(tmp)
        torch_version, import_rss = check_torch(a.torch_python, tmp)
        binary = gan_binary()
        for b in batches:
            print(f"batch {b}: PyTorch ...", end="", flush=True)
            result = tmp / f"torch-{b}.json"
            log = tmp / f"torch-{b}.log"
            code, torch_rss = run_child(
                [
                    a.torch_python,
                    Path(__file__).resolve(),
                    "--torch-worker",
                    "--batch",
                    b,
                    "--epochs",
                    a.epochs,
                    "--threads",
                    a.threads,
                    "--seed",
                    a.seed,
                    "--digits",
                    a.digits,
                    "--model",
                    a.model,
                    "--limit",
                    a.limit,
                    "--data",
                    data,
                    "--result",
                    result,
                ],
                log,
                env=torch_env,
            )
            if code != 0:
                fail(f"PyTorch at batch {b}", log)
            t = json.loads(result.read_text())
            print(f" {t['seconds_per_epoch']:.1f} s/epoch; gan ...", end="", flush=True)

            log = tmp / f"gan-{b}.log"
            code, gan_rss = run_child(
                [
                    binary,
                    "train",
                    "--epochs",
                    a.epochs,
                    "--batch",
                    b,
                    "--seed",
                    a.seed,
                    "--digits",
                    a.digits,
                    "--model",
                    a.model,
                    "--limit",
                    a.limit,
                    "--data",
                    data,
                    "--runs",
                    tmp / "runs",
                    "--name",
                    f"b{b}",
                ],
                log,
            )
            if code != 0:
                fail(f"gan train at batch {b}", log)
            with open(tmp / "runs" / f"b{b}" / "metrics.csv", newline="") as f:
                metrics = list(csv.DictReader(f))
            gan_seconds = [float(m["seconds"]) for m in metrics]
            g = {
                "seconds_per_epoch": sum(gan_seconds) / len(gan_seconds),
                "epoch_seconds": gan_seconds,
                "d_loss": float(metrics[-1]["d_loss"]),
                "g_loss": float(metrics[-1]["g_loss"]),
            }
            print(f" {g['seconds_per_epoch']:.1f} s/epoch")
            load_now = os.getloadavg()[0]
            busy = busy or load_now > a.max_load + 2.0  # the two sides themselves add up to 2
            rows.append(
                {
                    "batch": b,
                    "pytorch": dict(t, peak_rss_mib=torch_rss),
                    "gan": dict(g, peak_rss_mib=gan_rss),
                    "ratio_pytorch_over_gan": t["seconds_per_epoch"] / g["seconds_per_epoch"],
                }
            )

    print()
    if busy:
        print(f"NOT IDLE: the load average was above {a.max_load} before or during the runs.")
    digits = "all digits" if a.digits == "all" else f"digits {a.digits} only"
    what = "the small DCGAN" if a.model == "dcgan" else "the reference configuration"
    limit = f", the first {a.limit} of them" if a.limit else ""
    print(
        f"One epoch of {what} on {digits}{limit} ({a.epochs} epoch(s) per side, "
        "mean s/epoch);"
    )
    print("time of the training loop only: data loading and start-up excluded on both sides.")
    print(
        f"PyTorch {torch_version} with {a.threads} threads, OMP_WAIT_POLICY {omp}; gan release "
        f"build; {os.cpu_count()} CPUs."
    )
    print()
    header = [
        "batch",
        "PyTorch s/epoch",
        "gan s/epoch",
        "ratio PyTorch/gan",
        "PyTorch peak RSS",
        "gan peak RSS",
    ]
    table = [header] + [
        [
            str(r["batch"]),
            f"{r['pytorch']['seconds_per_epoch']:.2f}",
            f"{r['gan']['seconds_per_epoch']:.2f}",
            f"{r['ratio_pytorch_over_gan']:.2f}",
            f"{r['pytorch']['peak_rss_mib']:.0f} MiB",
            f"{r['gan']['peak_rss_mib']:.0f} MiB",
        ]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for k, row in enumerate(table):
        print(" | ".join(cell.rjust(w) for cell, w in zip(row, widths)))
        if k == 0:
            print("-+-".join("-" * w for w in widths))
    print(
        f"(PyTorch's peak includes {import_rss:.0f} MiB that a process importing torch and numpy "
        "reaches before any training.)"
    )
    print()
    print("mean losses of the last epoch (sanity: both sides should be alike):")
    for r in rows:
        print(
            f"  batch {r['batch']:>4}: PyTorch d_loss {r['pytorch']['d_loss']:.3f} "
            f"g_loss {r['pytorch']['g_loss']:.3f}; gan d_loss {r['gan']['d_loss']:.3f} "
            f"g_loss {r['gan']['g_loss']:.3f}"
        )
    if a.json:
        report = {
            "what": f"one epoch of {what}, training loop only",
            "model": a.model,
            "limit": a.limit,
            "idle": not busy,
            "load_average_before": load,
            "epochs": a.epochs,
            "digits": a.digits,
            "threads": a.threads,
            "omp_wait_policy": omp,
            "cpus": os.cpu_count(),
            "torch": torch_version,
            "pytorch_import_peak_rss_mib": import_rss,
            "rows": rows,
        }
        Path(a.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {a.json}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", default="32,64,128", help="batch sizes, comma-separated")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per side and batch size")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument(
        "--omp-wait-policy",
        choices=["passive", "active", "unset"],
        default="unset",
        help="OMP_WAIT_POLICY of the PyTorch process (default: unset, PyTorch's own default)",
    )
    ap.add_argument("--model", choices=["mlp", "dcgan"], default="mlp", help="which network")
    ap.add_argument(
        "--limit", type=int, default=0, help="train on the first N digits only (0: all)"
    )
    ap.add_argument(
        "--max-load",
        type=float,
        default=0.5,
        help="refuse to measure when the 1-minute load average is above this (default 0.5)",
    )
    ap.add_argument(
        "--allow-busy",
        action="store_true",
        help="measure anyway on a busy machine; the table is marked NOT IDLE",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--digits",
        default="all",
        help="train on these digits only (e.g. 1 or 3,5), for a quick check; default all",
    )
    ap.add_argument(
        "--data", default=str(ROOT / "data" / "mnist"), help="folder of the MNIST .gz files"
    )
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument(
        "--torch-python",
        default=sys.executable,
        help="python with torch and numpy (default: this one)",
    )
    # The child process's own flags.
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_worker:
        torch_worker(a)
    else:
        driver(a)


if __name__ == "__main__":
    main()
