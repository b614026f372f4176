#!/usr/bin/env python3
"""The headline table of a study: per task, mean ± sd of the fold accuracies of each algorithm,
with the original study's 10-fold means where the task is the same, as Markdown.

Usage: scripts/results-table.py docs/results/standard/metrics_table.csv

Only the standard library: it reads the CSV nstudent writes.
"""
import csv
import statistics
import sys

# The original study's table (mean accuracy over its 10 folds): baseline, NS, ensemble NS.
ORIGINAL = {
    "Fashion MNIST": (0.8741, 0.8830, 0.8830),
    "MNIST 0-4": (0.9845, 0.9885, 0.9881),
    "MNIST 5-9": (0.9779, 0.9815, 0.9832),
    "CIFAR10 0-4": (0.6202, 0.6375, 0.6380),
    "CIFAR10 5-9": (0.7126, 0.7385, 0.7341),
}
ALGORITHMS = ["Baseline", "Noisy Student", "Ensemble Noisy Student"]


def main(path):
    acc = {}
    tasks = []
    for row in csv.DictReader(open(path, newline="")):
        task = row["Dataset Name"]
        if task not in tasks:
            tasks.append(task)
        acc.setdefault((task, row["Algorithm Name"]), []).append(float(row["Accuracy"]))
    print("| task | Baseline | Noisy Student | Ensemble NS | NS - Baseline, folds won | original study (B / NS / E) |")
    print("|---|---|---|---|---|---|")
    for task in tasks:
        cells = []
        means = {}
        for a in ALGORITHMS:
            v = acc.get((task, a), [])
            if not v:
                cells.append("")
                continue
            means[a] = statistics.mean(v)
            sd = statistics.stdev(v) if len(v) > 1 else 0.0
            cells.append(f"{means[a]:.4f} ± {sd:.4f}")
        best = max(means.values()) if means else None
        cells = [f"**{c}**" if a in means and means[a] == best else c for a, c in zip(ALGORITHMS, cells)]
        b, n = acc.get((task, "Baseline"), []), acc.get((task, "Noisy Student"), [])
        won = sum(x > y for x, y in zip(n, b))
        gain = f"{100 * (statistics.mean(n) - statistics.mean(b)):+.2f} points, {won}/{len(n)}" if b and n else ""
        original = ORIGINAL.get(task.replace(" (JPEG copy)", ""))
        orig = " / ".join(f"{x:.4f}" for x in original) if original else ""
        if original and "JPEG" in task:
            orig += " (the exact images)"
        print(f"| {task} | " + " | ".join(cells) + f" | {gain} | {orig} |")


if __name__ == "__main__":
    main(sys.argv[1])
