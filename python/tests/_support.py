"""What the tests share: the nstudent package under test, the CLI binary, training data.

The package is the installed one (`pip install "./python[sklearn]"`, which builds the Rust
extension) when there is one; a source checkout without it tests the pure-Python parts.
"""

import csv
import os
import pathlib
import subprocess
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]

try:
    import nstudent  # noqa: F401  (the installed package, with its extension)
except ImportError:
    sys.path.insert(0, str(REPO / "python"))
    import nstudent  # noqa: F401

BIN = os.environ.get("NSTUDENT_BIN", str(REPO / "target" / "release" / "nstudent"))


def has_extension():
    """Whether the package under test has its Rust extension (`nstudent._native`)."""
    try:
        from nstudent import _native  # noqa: F401
    except ImportError:
        return False
    return True


def banded_images(n, shape, classes, seed):
    """`n` uint8 images of `shape` (H, W, C) and their labels: a bright band per class in
    noise, class `i % classes` for image `i`."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    labels = np.arange(n) % classes
    x = rng.integers(0, 60, size=(n, h, w, c))
    for i, label in enumerate(labels):
        x[i, label * h // classes:(label + 1) * h // classes] += 150
    return x.clip(0, 255).astype(np.uint8), labels


def write_csv(path, images, labels, fmt=int):
    """Images as a label-first CSV row each, as `nstudent train --data` reads them; `fmt`
    writes a pixel value (`repr` keeps floats exact)."""
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        for label, img in zip(labels, images):
            out.writerow([int(label)] + [fmt(v) for v in np.asarray(img).reshape(-1).tolist()])


def cli(*args):
    """Runs the nstudent binary; its stdout, or AssertionError with its stderr."""
    run = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if run.returncode != 0:
        raise AssertionError(f"nstudent {' '.join(map(str, args))}: {run.stderr}")
    return run.stdout
