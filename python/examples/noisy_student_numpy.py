#!/usr/bin/env python3
"""Noisy Student on images loaded with numpy, then cross_val_score against the Baseline.

The images are the Fashion-MNIST test split that ships with nstudent
(data/fashion-mnist-10k, IDX files read here with numpy alone), or the folder of any
Fashion-MNIST/MNIST IDX .gz files given as the argument. About two minutes on two cores.

    pip install "./python[sklearn]"
    python python/examples/noisy_student_numpy.py [IDX_FOLDER]
"""

import gzip
import pathlib
import sys
import time

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

from nstudent import NoisyStudentClassifier

REPO = pathlib.Path(__file__).resolve().parents[2]
IMAGES = 3000  # of the 10,000: enough to see the gain, small enough for a couple of minutes


def read_idx(path):
    """An IDX file (gzip), the MNIST format: magic, dimensions, then uint8 values."""
    data = gzip.open(path).read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "data" / "fashion-mnist-10k")
    X = read_idx(next(folder.glob("*images-idx3-ubyte.gz")))[:IMAGES]  # (n, 28, 28) uint8
    y = read_idx(next(folder.glob("*labels-idx1-ubyte.gz")))[:IMAGES].astype(int)
    print(f"{len(X)} images of {X.shape[1:]} from {folder}, {len(np.unique(y))} classes")

    # 1. The semi-supervised convention: 10% of the training labels, the rest marked -1.
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=0)
    hidden = np.random.default_rng(0).random(len(y_train)) >= 0.1
    y_semi = np.where(hidden, -1, y_train)
    print(f"\nfit: {np.sum(~hidden)} labeled, {np.sum(hidden)} unlabeled (y == -1)")
    start = time.perf_counter()
    clf = NoisyStudentClassifier(epochs=5, seed=0, verbose=1).fit(X_train, y_semi)
    print(f"Noisy Student: test accuracy {clf.score(X_test, y_test):.3f} "
          f"({time.perf_counter() - start:.1f} s)")
    for s in clf.pseudo_label_stats_:
        print(f"  iteration {s['iteration']}: kept {s['kept']} of {s['unlabeled_rows']} "
              f"pseudo-labels, per class {s['kept_per_class']}")

    # 2. cross_val_score with every label given: teacher_factor 0.1 keeps 10% of each
    # training fold's labels (stratified, seeded) and hides the rest, as nstudent train does;
    # the Baseline trains on those 10% alone, Noisy Student also on the hidden rows' images.
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    print("\n3-fold cross_val_score, 10% of each training fold labeled:")
    for algo in ("baseline", "noisy-student"):
        start = time.perf_counter()
        scores = cross_val_score(NoisyStudentClassifier(algo=algo, epochs=5, seed=0), X, y,
                                 cv=folds)
        print(f"  {algo:14} accuracy {scores.mean():.3f} (folds {np.round(scores, 3)}), "
              f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
