#!/usr/bin/env python3
"""The original study's baseline, trained by PyTorch, on the study's outer folds.

Answers one question: is a gap between nstudent's baseline and the original study's table a
property of nstudent's engine or of the protocol? It trains the study's CNN with Keras's
defaults (Glorot-uniform weights, zero biases, Adam lr 1e-3 and eps 1e-7, batch 32, 5 epochs)
on the first 10% of each training part of the unshuffled 10-fold split, exactly as
`nstudent run --preset original` does for the Baseline, and prints each fold's test accuracy
and the mean, to compare with the Baseline rows of nstudent's `metrics_table.csv`.

    python bench/baseline_folds.py ../shared/datasets/fashion-mnist [FOLD ...]

DIR holds the IDX files of an MNIST-format source (train-images-idx3-ubyte.gz, ...).
Needs only torch (and numpy, which torch brings). One thread, seeded per fold.
"""

import gzip
import statistics
import sys

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with gzip.open(path) as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def cnn(classes):
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, classes),
    )
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    torch.set_num_threads(1)
    src = sys.argv[1]
    x = read_idx(f"{src}/train-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
    y = read_idx(f"{src}/train-labels-idx1-ubyte.gz").astype(np.int64)
    n, k = len(y), 10
    # scikit-learn's KFold(10) without shuffling: the first n % k folds one item larger.
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    starts = np.cumsum([0] + sizes)
    folds = [int(f) for f in sys.argv[2:]] or range(1, k + 1)
    accuracies = []
    for fold in folds:
        test = np.arange(starts[fold - 1], starts[fold])
        train = np.setdiff1d(np.arange(n), test)
        labeled = train[: int(0.1 * len(train))]
        torch.manual_seed(fold)
        model = cnn(int(y.max()) + 1)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        xl, yl = torch.tensor(x[labeled]), torch.tensor(y[labeled])
        order = torch.Generator().manual_seed(fold)
        for _ in range(5):
            perm = torch.randperm(len(labeled), generator=order)
            for i in range(0, len(labeled), 32):
                batch = perm[i : i + 32]
                opt.zero_grad()
                nn.functional.cross_entropy(model(xl[batch]), yl[batch]).backward()
                opt.step()
        with torch.no_grad():
            predicted = model(torch.tensor(x[test])).argmax(1).numpy()
        accuracies.append(float((predicted == y[test]).mean()))
        print(f"fold {fold}: {accuracies[-1]:.4f}", flush=True)
    if len(accuracies) > 1:
        print(f"mean {statistics.mean(accuracies):.4f} sd {statistics.stdev(accuracies):.4f}")


if __name__ == "__main__":
    main()
