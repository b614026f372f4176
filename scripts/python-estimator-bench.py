#!/usr/bin/env python3
"""The Python estimator's cost and standing, on one Fashion-MNIST split:

1. overhead: `NoisyStudentClassifier.fit` + `save` against `nstudent train` on the same data,
   settings and seed (the model files are compared byte for byte), runs interleaved;
2. against scikit-learn: Baseline and Noisy Student against `SelfTrainingClassifier` around an
   `MLPClassifier`, and the MLP on the labeled rows alone: test accuracy and seconds.

The split: the first TRAIN images of the official training set (LABELED of them keep their
label: the first LABELED rows of a seeded permutation, stratification left to chance; the rest
are unlabeled, y = -1) and the first TEST images of the official test set.

Usage: scripts/python-estimator-bench.py [FASHION_MNIST_DIR] > raw-output.txt
(the directory of the four IDX .gz files; default ../shared/datasets/fashion-mnist), with the
package installed (pip install "./python[sklearn]") and target/release/nstudent built.
"""

import gzip
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("NSTUDENT_BIN", str(REPO / "target" / "release" / "nstudent"))
TRAIN, LABELED, TEST, REPEATS = 6000, 600, 2000, 3
SETTINGS = dict(epochs=5, num_students=2, seed=1)  # every other setting: nstudent's default


def idx(path):
    """An IDX file (gzip) as a numpy array."""
    data = gzip.open(path).read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder):
    f = pathlib.Path(folder)
    x = idx(f / "train-images-idx3-ubyte.gz")[:TRAIN]
    y = idx(f / "train-labels-idx1-ubyte.gz")[:TRAIN].astype(np.int64)
    xt = idx(f / "t10k-images-idx3-ubyte.gz")[:TEST]
    yt = idx(f / "t10k-labels-idx1-ubyte.gz")[:TEST].astype(np.int64)
    return x, y, xt, yt


def write_csv(path, x, y):
    with open(path, "w") as f:
        for label, img in zip(y, x.reshape(len(x), -1)):
            f.write(f"{label}," + ",".join(map(str, img.tolist())) + "\n")


def cli_train(data, out):
    """Wall seconds of the `nstudent train` process, and its training seconds ("done in")."""
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SETTINGS.items()]
    start = time.perf_counter()
    run = subprocess.run([BIN, "train", "--data", data, *flags, "--out", out],
                         capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode:
        sys.exit(run.stderr)
    return seconds, float(re.search(r"done in ([0-9.]+) s", run.stdout).group(1))


def py_train(x, y, out):
    from nstudent import NoisyStudentClassifier

    start = time.perf_counter()
    est = NoisyStudentClassifier(**SETTINGS)
    est.fit(x, y).save(out)
    return time.perf_counter() - start, est.fit_seconds_


def overhead(x, y):
    """CLI and Python on the same task, interleaved: wall and training seconds of each run."""
    print("## 1. Overhead: nstudent train against NoisyStudentClassifier.fit + save")
    print(f"task: noisy-student (every other setting nstudent's default: teacher_factor 0.1, "
          f"stratified), first {TRAIN} Fashion-MNIST training images (all labeled), {SETTINGS}")
    print("wall: the whole `nstudent train` process (reads the CSV, trains, checks, saves) and "
          "fit + save from numpy arrays in memory; training: the run's own training seconds "
          "(the CLI's `done in`, the estimator's fit_seconds_)")
    runs = []
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        write_csv(d / "train.csv", x, y)
        for r in range(REPEATS):
            cli_wall, cli_fit = cli_train(d / "train.csv", d / "cli.safetensors")
            py_wall, py_fit = py_train(x, y, d / "py.safetensors")
            runs.append((cli_wall, cli_fit, py_wall, py_fit))
            same = (d / "cli.safetensors").read_bytes() == (d / "py.safetensors").read_bytes()
            print(f"run {r + 1}: nstudent train wall {cli_wall:.2f} s, training {cli_fit:.2f} s; "
                  f"python wall {py_wall:.2f} s, training {py_fit:.2f} s; model files "
                  f"identical: {same}")
            if not same:
                sys.exit("the model files differ")
    med = [statistics.median(col) for col in zip(*runs)]
    cli_wall, cli_fit, py_wall, py_fit = med
    print(f"medians: nstudent train wall {cli_wall:.2f} s, training {cli_fit:.2f} s; python "
          f"wall {py_wall:.2f} s, training {py_fit:.2f} s")
    print(f"python wall / nstudent train wall = {py_wall / cli_wall:.4f} "
          f"({100 * (py_wall / cli_wall - 1):+.2f}%)")
    print(f"python training / nstudent train training = {py_fit / cli_fit:.4f} "
          f"({100 * (py_fit / cli_fit - 1):+.2f}%)")
    print(f"outside training: python {py_wall - py_fit:.2f} s (array copy, checks, save), "
          f"nstudent train {cli_wall - cli_fit:.2f} s (start, CSV read, checks, save)")
    return med


def against_sklearn(x, y, xt, yt):
    from sklearn.neural_network import MLPClassifier
    from sklearn.semi_supervised import SelfTrainingClassifier

    from nstudent import NoisyStudentClassifier

    print()
    print("## 2. Against scikit-learn on the same split")
    rng = np.random.default_rng(0)
    labeled = rng.permutation(len(x))[:LABELED]
    y_semi = np.full(len(x), -1)
    y_semi[labeled] = y[labeled]
    flat, flat_t = x.reshape(len(x), -1) / 255.0, xt.reshape(len(xt), -1) / 255.0
    print(f"split: first {TRAIN} training images, {LABELED} labeled (seeded permutation), "
          f"{TRAIN - LABELED} unlabeled (y = -1); test: first {TEST} official test images")
    # scikit-learn's defaults but one hidden layer of 128 units (nstudent's CNN ends in a dense
    # layer of 128); max_iter 200 (its default) epochs of Adam.
    mlp = dict(hidden_layer_sizes=(128,), max_iter=200, random_state=0)
    models = [
        ("nstudent baseline", NoisyStudentClassifier(algo="baseline", **SETTINGS), x, xt, y_semi),
        ("nstudent noisy-student", NoisyStudentClassifier(**SETTINGS), x, xt, y_semi),
        ("nstudent baseline, 20 epochs",
         NoisyStudentClassifier(algo="baseline", **dict(SETTINGS, epochs=20)), x, xt, y_semi),
        ("nstudent noisy-student, 20 epochs",
         NoisyStudentClassifier(**dict(SETTINGS, epochs=20)), x, xt, y_semi),
        ("sklearn MLP (labeled rows only)", MLPClassifier(**mlp), flat[labeled], flat_t,
         y[labeled]),
        ("sklearn SelfTrainingClassifier(MLP)",
         SelfTrainingClassifier(MLPClassifier(**mlp), threshold=0.75), flat, flat_t, y_semi),
    ]
    rows = []
    for name, est, train_x, test_x, train_y in models:
        start = time.perf_counter()
        est.fit(train_x, train_y)
        seconds = time.perf_counter() - start
        acc = float((est.predict(test_x) == yt).mean())
        rows.append((name, acc, seconds))
        print(f"{name}: test accuracy {acc:.4f}, fit {seconds:.1f} s")
    return rows


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else str(REPO.parent / "shared" / "datasets" /
                                                       "fashion-mnist")
    import sklearn

    print(f"# scripts/python-estimator-bench.py, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
          f"{sklearn.__version__}")
    x, y, xt, yt = load(folder)
    overhead(x, y)
    rows = against_sklearn(x, y, xt, yt)
    print()
    print(json.dumps({"against_sklearn": [dict(zip(("model", "accuracy", "seconds"), r))
                                          for r in rows]}))


if __name__ == "__main__":
    main()
