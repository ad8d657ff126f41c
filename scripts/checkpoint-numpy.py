#!/usr/bin/env python3
"""Interop check: a numpy user can load our checkpoints and get our generator's outputs.

Needs: python3 >= 3.11 (tomllib) with numpy, idx2numpy and safetensors
(`pip install -r scripts/requirements-ci.txt`; CI installs it into a virtual environment), and
cargo on PATH. Honours CARGO_TARGET_DIR if set. No PyTorch. Run from anywhere:

    python3 scripts/checkpoint-numpy.py

For each of three short trainings with our binary (`gan train --epochs 1 --digits 1`, about
6,700 digits, a few seconds each, into a temporary folder):
  - reference: the default architecture (G 100→256→512→784, LeakyReLU(0.2), tanh);
  - relu-sigmoid: a smaller one with ReLU and a sigmoid output (from a --config TOML file);
  - conditional-dcgan-ema: the DCGAN, class-conditional, with a moving average of its weights
    (640 digits): rebuilt with numpy's own transposed convolutions and batch norm in evaluation
    mode from PyTorch's names (`generator.layers.1.running_mean`, int64 `num_batches_tracked`,
    the average under `ema.generator.*`), the trained digits cycling as `gan sample` draws them,
it reads `checkpoints/latest.safetensors` with `safetensors.numpy`, checks that the metadata
says `format = gan-checkpoint-v1` and holds the run's configuration, prints the tensor names and
shapes, rebuilds the generator in numpy from `generator.layers.{0,2,4,...}.weight` (`[out, in]`,
as `nn.Linear` keeps them) and `.bias`, with the hidden activation and the output activation read
from the run's `config.toml`, feeds it noise written by idx2numpy, and compares with what
`gan sample RUN --noise z.idx --raw` writes for the same noise. Agreement means a maximum absolute
difference of at most 1e-5 on every pixel (numpy computes in float64; ours is float32).

Prints a summary `checkpoint-numpy: N passed, M failed`; exits 1 on any failure, saying what
differed.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    sys.exit("checkpoint-numpy: needs Python 3.11 or newer (for tomllib)")

import idx2numpy
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parent.parent
FORMAT = "gan-checkpoint-v1"
TOLERANCE = 1e-5
SAMPLES = 256
PIXELS = 28 * 28


class Mismatch(Exception):
    """A check failed; the message says what was expected and what was found."""


def gan_binary():
    """Builds the `gan` binary (dev profile, optimised) and returns its path."""
    subprocess.run(["cargo", "build", "-q", "-p", "gan-cli"], cwd=ROOT, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    binary = Path(json.loads(meta.stdout)["target_directory"]) / "debug" / "gan"
    if not binary.is_file():
        raise Mismatch(f"cargo build succeeded but {binary} does not exist")
    return binary


def run_gan(binary, *args):
    """Runs `gan ARGS`; on failure raises with its stderr."""
    p = subprocess.run([str(binary)] + [str(a) for a in args], capture_output=True, text=True)
    if p.returncode != 0:
        raise Mismatch(
            f"`gan {' '.join(map(str, args))}` exited {p.returncode}: {p.stderr.strip()}"
        )
    return p.stdout


def activation(name, slope):
    """The hidden activation named in config.toml, as a numpy function."""
    if name == "leaky-relu":
        return lambda x: np.where(x >= 0, x, slope * x)
    if name == "relu":
        return lambda x: np.maximum(x, 0)
    raise Mismatch(f"config.toml: unknown activation {name!r} (expected leaky-relu or relu)")


def output_activation(name):
    """The output activation named in config.toml, as a numpy function."""
    if name == "tanh":
        return np.tanh
    if name == "sigmoid":
        return lambda x: 1 / (1 + np.exp(-x))
    raise Mismatch(f"config.toml: unknown output {name!r} (expected tanh or sigmoid)")


def generator_layers(tensors, latent):
    """[(weight, bias)] of `generator.layers.{0,2,4,...}`, shapes checked as a chain
    latent → ... → 784."""
    indices = sorted(
        int(name.split(".")[2])
        for name in tensors
        if name.startswith("generator.layers.") and name.endswith(".weight")
    )
    if not indices:
        raise Mismatch("the checkpoint has no generator.layers.N.weight tensor")
    if indices != list(range(0, 2 * len(indices), 2)):
        raise Mismatch(f"generator linear layers at indices {indices}, expected 0, 2, 4, ...")
    layers, width = [], latent
    for i in indices:
        w = tensors[f"generator.layers.{i}.weight"]
        b = tensors.get(f"generator.layers.{i}.bias")
        if b is None:
            raise Mismatch(f"the checkpoint has no generator.layers.{i}.bias")
        if w.ndim != 2 or w.shape[1] != width or b.shape != (w.shape[0],):
            raise Mismatch(
                f"generator.layers.{i}: weight {w.shape}, bias {b.shape}; expected weight "
                f"[out, {width}] ([out, in] as nn.Linear keeps it) and bias [out]"
            )
        if w.dtype != np.float32 or b.dtype != np.float32:
            raise Mismatch(f"generator.layers.{i}: dtype {w.dtype}/{b.dtype}, expected float32")
        layers.append((w, b))
        width = w.shape[0]
    if width != PIXELS:
        raise Mismatch(f"the generator's last layer has {width} outputs, expected {PIXELS}")
    return layers


def numpy_generator(layers, hidden, output, z):
    """The generator's forward pass in float64: Linear, hidden activation, ..., Linear, output."""
    x = z.astype(np.float64)
    for k, (w, b) in enumerate(layers):
        x = x @ w.astype(np.float64).T + b.astype(np.float64)
        x = hidden(x) if k + 1 < len(layers) else output(x)
    return x


def conv_transpose2d(x, w, b, stride=2, padding=1):
    """PyTorch's ConvTranspose2d: x [N, Cin, H, W], w [Cin, Cout, k, k] -> [N, Cout, Ho, Wo]
    with Ho = (H - 1) * stride - 2 * padding + k, in float64."""
    n, cin, h, wd = x.shape
    k = w.shape[2]
    full = np.zeros((n, w.shape[1], (h - 1) * stride + k, (wd - 1) * stride + k))
    for i in range(k):
        for j in range(k):
            full[:, :, i : i + stride * h : stride, j : j + stride * wd : stride] += np.einsum(
                "nchw,cd->ndhw", x, w[:, :, i, j]
            )
    out = full[:, :, padding : full.shape[2] - padding, padding : full.shape[3] - padding]
    return out + b[None, :, None, None]


def batch_norm_eval(x, tensors, module, eps=1e-5):
    """BatchNorm1d/2d in evaluation mode, from `module.{weight,bias,running_mean,running_var}`
    (and a `num_batches_tracked` int64 buffer, checked to be there as PyTorch expects)."""
    t = lambda what: tensors[f"{module}.{what}"].astype(np.float64)
    if tensors[f"{module}.num_batches_tracked"].dtype != np.int64:
        raise Mismatch(f"{module}.num_batches_tracked is not int64")
    shape = (1, -1) + (1,) * (x.ndim - 2)
    scale = t("weight") / np.sqrt(t("running_var") + eps)
    return (x - t("running_mean").reshape(shape)) * scale.reshape(shape) + t("bias").reshape(shape)


def numpy_dcgan(tensors, prefix, output, z, labels):
    """The DCGAN generator of `gan::model` in float64 (`nn.Sequential` indices 0, 1, 4, 5, 7),
    from the tensors named `{prefix}generator.layers.N.*` (parameters) and
    `generator.layers.N.*` (batch-norm buffers); `labels` (or None) are one-hot concatenated to
    the noise."""
    p = lambda name: tensors[f"{prefix}generator.layers.{name}"].astype(np.float64)
    x = z.astype(np.float64)
    if labels is not None:
        x = np.concatenate([x, np.eye(10)[labels]], axis=1)
    bn = {k: v for k, v in tensors.items() if k.startswith("generator.")}
    bn.update({k[len(prefix):]: v for k, v in tensors.items() if prefix and k.startswith(prefix)})
    x = x @ p("0.weight").T + p("0.bias")
    x = np.maximum(batch_norm_eval(x, bn, "generator.layers.1"), 0)
    x = x.reshape(len(z), 128, 7, 7)
    x = conv_transpose2d(x, p("4.weight"), p("4.bias"))
    x = np.maximum(batch_norm_eval(x, bn, "generator.layers.5"), 0)
    x = conv_transpose2d(x, p("7.weight"), p("7.bias"))
    return output(x).reshape(len(z), PIXELS)


def check_run(binary, tmp, name, train_args, seed):
    """Trains one run, rebuilds its generator in numpy, compares; raises Mismatch on failure."""
    runs = tmp / "runs"
    run_gan(
        binary,
        "train",
        "--epochs",
        "1",
        "--digits",
        "1",
        "--data",
        ROOT / "data" / "mnist",
        "--runs",
        runs,
        "--name",
        name,
        *train_args,
    )
    run = runs / name
    config = tomllib.loads((run / "config.toml").read_text())
    checkpoint = run / "checkpoints" / "latest.safetensors"

    with safe_open(str(checkpoint), framework="numpy") as f:
        metadata = f.metadata() or {}
    if metadata.get("format") != FORMAT:
        raise Mismatch(
            f"{checkpoint}: metadata format is {metadata.get('format')!r}, expected {FORMAT!r}"
        )
    if "config" in metadata and tomllib.loads(metadata["config"]) != config:
        raise Mismatch(f"{checkpoint}: the configuration in its metadata differs from config.toml")
    tensors = load_file(str(checkpoint))
    print(f"  {checkpoint.relative_to(tmp)}: format {metadata['format']}, {len(tensors)} tensors")
    for tname in sorted(tensors):
        print(f"    {tname:<66} {str(list(tensors[tname].shape)):<11} {tensors[tname].dtype}")

    latent = config["latent"]
    output = output_activation(config["output"])
    dcgan = config.get("model", "mlp") == "dcgan"
    conditional = config.get("conditional", False)
    # A run with a moving average draws with the averaged weights, saved as `ema.generator.*`.
    prefix = "ema." if config.get("ema", 0) > 0 else ""
    # `gan sample` cycles through the digits the run was trained on.
    spec = config.get("digits", "all")
    digits = list(range(10)) if spec == "all" else sorted({int(d) for d in spec.split(",")})
    labels = np.array(digits)[np.arange(SAMPLES) % len(digits)] if conditional else None
    if dcgan:
        print(f"  numpy DCGAN generator ({prefix or 'live '}weights, "
              f"{'conditional' if conditional else 'unconditional'}), {config['output']} output")
    else:
        layers = generator_layers(tensors, latent)
        hidden = activation(config["activation"], config["leaky_slope"])
        sizes = " → ".join(str(n) for n in [latent] + [w.shape[0] for w, _ in layers])
        slope = f"({config['leaky_slope']:.6g})" if config["activation"] == "leaky-relu" else ""
        print(f"  numpy generator: {sizes}, {config['activation']}{slope}, {config['output']} output")

    z = np.random.default_rng(seed).standard_normal((SAMPLES, latent)).astype(np.float32)
    noise_file, raw_file = tmp / f"{name}-z.idx", tmp / f"{name}-raw.idx"
    idx2numpy.convert_to_file(str(noise_file), z)
    run_gan(binary, "sample", run, "--noise", noise_file, "--raw", "--out", raw_file)
    ours = idx2numpy.convert_from_file(str(raw_file))
    if ours.shape != (SAMPLES, 28, 28) or ours.dtype.kind != "f" or ours.itemsize != 4:
        raise Mismatch(
            f"gan sample --raw wrote {ours.dtype} {ours.shape}, "
            f"expected float32 ({SAMPLES}, 28, 28)"
        )
    ours = ours.astype(np.float64).reshape(SAMPLES, PIXELS)
    if dcgan:
        theirs = numpy_dcgan(tensors, prefix, output, z, labels)
    else:
        theirs = numpy_generator(layers, hidden, output, z)
    diff = np.abs(ours - theirs)
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    print(
        f"  {SAMPLES} digits: max |gan - numpy| = {diff.max():.3g} (digit {worst[0]}, pixel "
        f"{worst[1]}), mean {diff.mean():.3g}; tolerance {TOLERANCE:g}"
    )
    if not diff.max() <= TOLERANCE:
        raise Mismatch(
            f"our generator and the numpy rebuild from the checkpoint disagree by {diff.max():.3g} "
            f"(> {TOLERANCE:g}) at digit {worst[0]}, pixel {worst[1]}: gan {ours[worst]:.7f}, "
            f"numpy {theirs[worst]:.7f}"
        )
    if np.std(theirs) < 1e-3:
        raise Mismatch(
            "the generator's outputs hardly vary with the noise: the check would prove little"
        )


def main():
    passed, failed = 0, 0
    with tempfile.TemporaryDirectory(prefix="checkpoint-numpy-") as tmp:
        tmp = Path(tmp)
        config = tmp / "relu-sigmoid.toml"
        config.write_text(
            'activation = "relu"\noutput = "sigmoid"\nlatent = 16\ng_hidden = [32, 64]\n'
            "d_hidden = [64, 32]\n"
        )
        dcgan = tmp / "dcgan.toml"
        dcgan.write_text('model = "dcgan"\nconditional = true\nema = 0.9\n')
        # (run name, extra `gan train` arguments, noise seed)
        cases = [
            ("reference", [], 1),
            ("relu-sigmoid", ["--config", config], 2),
            ("conditional-dcgan-ema", ["--config", dcgan, "--limit", "640"], 3),
        ]
        try:
            binary = gan_binary()
        except (subprocess.CalledProcessError, Mismatch) as e:
            print(f"FAIL cannot build the gan binary: {e}")
            print("checkpoint-numpy: 0 passed, 1 failed")
            return 1
        for name, args, seed in cases:
            print(f"-- {name}")
            try:
                check_run(binary, tmp, name, args, seed)
                passed += 1
            except Mismatch as e:
                failed += 1
                print(f"FAIL {name}: {e}")
    print(f"checkpoint-numpy: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
