//! `gan sample --noise --raw` through the built binary, on a run trained for one tiny epoch on
//! made-up digits: the raw outputs follow the given noise, agree with the u8 output, and bad
//! requests are refused with a message that says what to do.

use mnist_idx::Compression;
use std::path::Path;
use std::process::{Command, Output};

const LATENT: usize = 4;

fn gan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gan"))
        .args(args)
        .output()
        .expect("the gan binary runs")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "gan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fails_saying(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should have failed");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

/// 40 made-up training digits (labelled 1) in `dir`, and one epoch of a tiny GAN in
/// `dir/runs/tiny`.
fn tiny_run(dir: &Path) -> String {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let images: Vec<u8> = (0..40 * 784).map(|i| (i * 31 % 256) as u8).collect();
    mnist_idx::write(
        data.join("train-images-idx3-ubyte"),
        &[40, 28, 28],
        &images,
        Compression::None,
    )
    .unwrap();
    mnist_idx::write(
        data.join("train-labels-idx1-ubyte"),
        &[40],
        &[1u8; 40],
        Compression::None,
    )
    .unwrap();
    let runs = dir.join("runs");
    let latent = LATENT.to_string();
    ok(&gan(&[
        "train",
        "--epochs",
        "1",
        "--batch",
        "16",
        "--latent",
        &latent,
        "--hidden",
        "8,16",
        "--data",
        data.to_str().unwrap(),
        "--runs",
        runs.to_str().unwrap(),
        "--name",
        "tiny",
    ]));
    runs.join("tiny").to_str().unwrap().to_string()
}

#[test]
fn sample_follows_given_noise_and_writes_raw_floats() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();

    // Three noise vectors; the third repeats the first, so its digit must repeat too.
    let mut z: Vec<f32> = (0..2 * LATENT).map(|i| (i as f32 - 3.5) * 0.4).collect();
    z.extend_from_within(..LATENT);
    mnist_idx::write(p("z.idx"), &[3, LATENT], &z, Compression::None).unwrap();

    ok(&gan(&[
        "sample",
        &run,
        "--noise",
        &p("z.idx"),
        "--raw",
        "--out",
        &p("raw.idx.gz"),
    ]));
    let raw = mnist_idx::read::<f32>(p("raw.idx.gz")).unwrap();
    assert_eq!(raw.dims, [3, 28, 28]);
    assert!(
        raw.data.iter().all(|v| (-1.0..=1.0).contains(v)),
        "tanh range"
    );
    assert_eq!(
        raw.data[..784],
        raw.data[2 * 784..],
        "same noise, same digit"
    );
    assert_ne!(
        raw.data[..784],
        raw.data[784..2 * 784],
        "other noise, other digit"
    );

    ok(&gan(&[
        "sample",
        &run,
        "--noise",
        &p("z.idx"),
        "--out",
        &p("grey.idx"),
    ]));
    let grey = mnist_idx::read::<u8>(p("grey.idx")).unwrap();
    assert_eq!(grey.dims, [3, 28, 28]);
    let expected: Vec<u8> = gan::data::pixels_to_u8(&raw.data, gan::config::OutputKind::Tanh);
    assert_eq!(
        grey.data, expected,
        "u8 output is the raw output in grey levels"
    );

    // Mistakes are explained.
    let wide: Vec<f32> = vec![0.0; 2 * (LATENT + 1)];
    mnist_idx::write(p("wide.idx"), &[2, LATENT + 1], &wide, Compression::None).unwrap();
    fails_saying(
        &gan(&[
            "sample",
            &run,
            "--noise",
            &p("wide.idx"),
            "--out",
            &p("x.idx"),
        ]),
        "takes latent 4",
    );
    fails_saying(
        &gan(&["sample", &run, "--raw", "--out", &p("x.png")]),
        "--raw writes float outputs",
    );
    fails_saying(
        &gan(&[
            "sample",
            &run,
            "--noise",
            &p("z.idx"),
            "--n",
            "5",
            "--out",
            &p("x.idx"),
        ]),
        "cannot be used with",
    );
}
