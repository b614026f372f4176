#!/usr/bin/env python3
"""An nstudent study set beside the original study's table, fold by fold (markdown).

For every task the two tables share (by "Dataset Name"; "CIFAR10 (JPEG copy) 0-4" is matched
with the original's "CIFAR10 0-4", and so on), it prints:

1. accuracy fold by fold: ours and the original's, per algorithm, and the difference;
2. per task: each side's mean and sd over folds, and whether the difference of the means is
   larger than the folds' spread (|difference| > the larger sd);
3. the chosen hyperparameters' distribution on each side;
4. across the shared tasks: each side's mean ranks, Friedman p and Wilcoxon-Holm p-values,
   computed by `nstudent stats` on each side's rows of those tasks;
5. paired by fold, for tasks whose folds are the same test images on both sides (MNIST and
   Fashion-MNIST: the train split in file order, unshuffled KFold(10), as `seed` runs them):
   the mean and sd of ours - original over the folds, the folds where ours is higher and lower,
   the paired t statistic and the two-sided sign test's p. Descriptive; it says nothing about
   tasks whose folds differ (the A-Z tasks were shuffled without a seed).

Usage: scripts/compare-original.py RESULTS_DIR [ORIGINAL_CSV] [NSTUDENT]
  defaults: ../shared/reference/original_metrics_table.csv, target/release/nstudent
Standard library only (the tests run by `nstudent stats`).
"""
import collections
import csv
import json
import math
import os
import statistics as st
import subprocess
import sys
import tempfile

results = sys.argv[1]
original = sys.argv[2] if len(sys.argv) > 2 else "../shared/reference/original_metrics_table.csv"
nstudent = sys.argv[3] if len(sys.argv) > 3 else "target/release/nstudent"

ALIASES = {"Improved Noisy Student": "Ensemble Noisy Student", "CIFAR10 5_9": "CIFAR10 5-9"}


def task_key(name):
    name = ALIASES.get(name, name).replace(" (JPEG copy)", "")
    return name.replace("A-Z Handwritten", "A-Z")


def read(path):
    rows = []
    for r in csv.DictReader(open(path)):
        r["Dataset Name"] = task_key(r["Dataset Name"])
        r["Algorithm Name"] = ALIASES.get(r["Algorithm Name"], r["Algorithm Name"])
        rows.append(r)
    return rows


ours = read(os.path.join(results, "metrics_table.csv"))
theirs = read(original)
algorithms = ["Baseline", "Noisy Student", "Ensemble Noisy Student"]
tasks = [t for t in dict.fromkeys(r["Dataset Name"] for r in ours)
         if any(r["Dataset Name"] == t for r in theirs)]


def acc(rows, task, algorithm):
    return {int(r["Cross Validation [1-10]"]): float(r["Accuracy"]) for r in rows
            if r["Dataset Name"] == task and r["Algorithm Name"] == algorithm}


print("## Fold by fold (accuracy: ours / original / difference)\n")
for task in tasks:
    print(f"**{task}**\n")
    print("| fold | " + " | ".join(algorithms) + " |")
    print("|---|" + "---|" * len(algorithms))
    folds = sorted(set().union(*[acc(ours, task, a).keys() for a in algorithms]))
    for f in folds:
        cells = []
        for a in algorithms:
            o, t = acc(ours, task, a).get(f), acc(theirs, task, a).get(f)
            if o is None or t is None:
                cells.append("–")
            else:
                cells.append(f"{o:.4f} / {t:.4f} / {o - t:+.4f}")
        print(f"| {f} | " + " | ".join(cells) + " |")
    print()

print("## Per task: mean ± sd over folds, ours and the original's\n")
print("| task | algorithm | ours | original | difference | larger than the folds' spread |")
print("|---|---|---|---|---|---|")
for task in tasks:
    for a in algorithms:
        o, t = list(acc(ours, task, a).values()), list(acc(theirs, task, a).values())
        if len(o) < 2 or len(t) < 2:
            continue
        d = st.mean(o) - st.mean(t)
        spread = max(st.stdev(o), st.stdev(t))
        print(f"| {task} | {a} | {st.mean(o):.4f} ± {st.stdev(o):.4f} | {st.mean(t):.4f} ± {st.stdev(t):.4f} "
              f"| {d:+.4f} | {'yes' if abs(d) > spread else 'no'} |")
print()

print("## Chosen hyperparameters (cells per value)\n")
for a in algorithms[1:]:
    for side, rows in (("ours", ours), ("original", theirs)):
        counts = collections.Counter()
        for r in rows:
            if r["Dataset Name"] in tasks and r["Algorithm Name"] == a:
                for part in r["Hyper-Parameters Values"].split(","):
                    if ":" in part:
                        k, v = (x.strip() for x in part.split(":", 1))
                        counts[(k, v)] += 1
        text = "; ".join(f"{k} {v}: {n}" for (k, v), n in sorted(counts.items()))
        print(f"- {a}, {side}: {text or 'none'}")
print()


def tests(rows):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        w = csv.writer(f)
        w.writerow(["", "Dataset Name", "Algorithm Name", "Cross Validation [1-10]", "Hyper-Parameters Values",
                    "Accuracy", "TPR", "FPR", "Precision", "AUC", "PR-Curve", "Training Time", "Inference Time"])
        i = 0
        for r in rows:
            if r["Dataset Name"] in tasks and r["Algorithm Name"] in algorithms:
                w.writerow([i] + [r[c] for c in ["Dataset Name", "Algorithm Name", "Cross Validation [1-10]",
                                                 "Hyper-Parameters Values", "Accuracy", "TPR", "FPR", "Precision",
                                                 "AUC", "PR-Curve", "Training Time", "Inference Time"]])
                i += 1
    out = subprocess.run([nstudent, "stats", f.name, "--format", "json"], capture_output=True, text=True)
    os.unlink(f.name)
    return json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr.strip()}


if len(tasks) >= 2:
    print(f"## Across the {len(tasks)} shared tasks\n")
    for side, rows in (("ours", ours), ("original", theirs)):
        r = tests(rows)
        if "error" in r:
            print(f"- {side}: {r['error']}")
            continue
        ranks = ", ".join(f"{k} {v:.2f}" for k, v in r["mean_ranks"].items())
        fr = r.get("friedman") or {}
        wil = "; ".join(f"{w['a']} vs {w['b']} p = {w['p_value']:.4f} (Holm {w['p_adjusted']:.4f})"
                        for w in r["wilcoxon_holm"])
        print(f"- {side}: mean ranks {ranks}; Friedman p = {fr.get('p_value', float('nan')):.4f}; {wil}")


# Tasks whose folds are the same test images in both tables (see 5. above).
PAIRED_TASKS = {"MNIST 0-4", "MNIST 5-9", "Fashion MNIST"}
paired = [t for t in tasks if t in PAIRED_TASKS]
if paired:
    print("\n## Paired by fold (same test images on both sides): ours - original\n")
    print("| task | algorithm | mean | sd | ours higher | ours lower | ties | paired t (df 9) | sign test p |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task in paired:
        for a in algorithms:
            o, t = acc(ours, task, a), acc(theirs, task, a)
            folds = sorted(set(o) & set(t))
            if len(folds) < 2:
                continue
            d = [o[f] - t[f] for f in folds]
            # One test image is at least 1/7000 of accuracy: smaller differences are the
            # original CSV's rounding of the same count, a tie (left out of the sign test).
            higher, lower = sum(x > 1e-6 for x in d), sum(x < -1e-6 for x in d)
            sd = st.stdev(d)
            tstat = st.mean(d) / (sd / math.sqrt(len(d))) if sd > 0 else float("nan")
            n, k = higher + lower, min(higher, lower)
            sign_p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0
            ties = len(d) - higher - lower
            print(f"| {task} | {a} | {st.mean(d):+.4f} | {sd:.4f} | {higher} | {lower} | {ties} | {tstat:+.2f} "
                  f"| {sign_p:.3f} |")
