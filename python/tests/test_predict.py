"""The numpy forward pass against `nstudent predict`, on models nstudent trains here.

Needs numpy, safetensors and a built nstudent (`target/release/nstudent`, or $NSTUDENT_BIN).
Run from the repository root: python -m unittest discover python/tests
"""

import csv
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _support  # noqa: E402,F401  (puts the package under test first)

import nstudent  # noqa: E402

BIN = os.environ.get("NSTUDENT_BIN", str(REPO / "target" / "release" / "nstudent"))


def images_csv(path, n, shape, classes, seed):
    """n images of shape (H, W, C): a bright band per class in noise, as a label-first CSV.
    Returns the uint8 images."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    labels = np.arange(n) % classes
    x = rng.integers(0, 60, size=(n, h, w, c))
    for i, label in enumerate(labels):
        rows = slice(label * h // classes, (label + 1) * h // classes)
        x[i, rows] += 150
    x = x.clip(0, 255).astype(np.uint8)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        for label, img in zip(labels, x):
            out.writerow([int(label)] + img.reshape(-1).tolist())
    return x


def nstudent_cli(*args):
    run = subprocess.run([BIN, *args], capture_output=True, text=True)
    if run.returncode != 0:
        raise AssertionError(f"nstudent {' '.join(args)}: {run.stderr}")


def predicted(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    # An id column (`row` for a dataset, `file` for images), then one column per class.
    assert rows[0][0] in ("row", "file") and rows[0][1].startswith("class "), rows[0]
    return np.array([r[1:] for r in rows[1:]], dtype=np.float64)


class PredictNumpy(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(BIN), f"no nstudent at {BIN}: cargo build --release")
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = pathlib.Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def check(self, data, model, images, extra=()):
        probs = self.tmp / "p.csv"
        nstudent_cli("predict", "--model", str(model), "--data", str(data), "--out", str(probs),
                     *extra)
        want = predicted(probs)
        got = nstudent.predict_numpy(str(model), images)
        self.assertEqual(got.shape, want.shape)
        diff = np.abs(got - want).max()
        self.assertLess(diff, 1e-5, f"max |numpy - nstudent predict| = {diff}")
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)
        # The probabilities say something: not uniform.
        self.assertGreater(got.max(axis=1).mean(), 1.0 / got.shape[1] + 0.05)

    def test_a_grey_cnn_agrees_with_predict(self):
        data = self.tmp / "grey.csv"
        images = images_csv(data, 300, (12, 12, 1), 3, seed=1)
        model = self.tmp / "m.safetensors"
        nstudent_cli("train", "--data", str(data), "--algo", "baseline", "--epochs", "2",
                     "--teacher-factor", "0.5", "--out", str(model))
        self.check(data, model, images[..., 0])

    def test_an_rgb_residual_ensemble_agrees_with_predict(self):
        data = self.tmp / "rgb.csv"
        images = images_csv(data, 240, (8, 8, 3), 4, seed=2)
        model = self.tmp / "ens"
        shape = ("--shape", "8x8x3")
        nstudent_cli("train", "--data", str(data), *shape, "--algo", "ensemble",
                     "--ensemble-size", "2", "--num-students", "1", "--student-arch", "res-cnn",
                     "--epochs", "4", "--teacher-factor", "0.3", "--out", str(model))
        self.assertTrue((model / nstudent.ENSEMBLE_MANIFEST).exists())
        self.check(data, model, images, shape)

    def test_a_file_that_is_not_a_model_is_refused(self):
        bad = self.tmp / "x.safetensors"
        bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
        with self.assertRaises(Exception):
            nstudent.predict_numpy(str(bad), np.zeros((1, 4, 4), dtype=np.uint8))


if __name__ == "__main__":
    unittest.main()
