#!/usr/bin/env python3
"""Recomputes, from committed run directories only, the figures that README.md and docs/*.md
quote but that no run's own README or output file states directly (docs/results/provenance).

Usage: scripts/provenance-checks.py [NSTUDENT]   (standard library only; NSTUDENT, default
target/release/nstudent, is used for the ablation's Wilcoxon tests through `nstudent stats`)

1. docs/results/standard (version 1): Digits self-training cells without pseudo-labels, the
   teachers' pairing, the teacher ensemble against the Ensemble per task, the Ensemble against
   Noisy Student (Wilcoxon-Holm, Bayesian signed-rank across tasks), per-task gains.
2. docs/results/standard-v2: the differences the README's "What it says" quotes.
3. docs/results/ablation (version 1, 5 folds): mean ± sd per rung and task, and the paired
   Wilcoxon p-values as `scripts/ablation.sh` of 36b3d5b computed them (`nstudent stats`).
4. The original study's table, when `../shared/reference/original_metrics_table.csv` is there.
"""
import collections
import csv
import glob
import json
import os
import statistics as st
import subprocess
import sys
import tempfile

nstudent = sys.argv[1] if len(sys.argv) > 1 else "target/release/nstudent"


def table(path):
    acc = collections.defaultdict(dict)
    for r in csv.DictReader(open(path)):
        acc[(r["Dataset Name"], r["Algorithm Name"])][int(r["Cross Validation [1-10]"])] = float(r["Accuracy"])
    return acc


def cells(root):
    return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(root, "cells", "*", "*", "*.json")))]


def mean(d):
    return st.mean(d.values())


# 1. Version 1
print("## 1. docs/results/standard (version 1)\n")
v1 = cells("docs/results/standard")
digits = [c for c in v1 if c["task"].startswith("sklearn-digits") and c["algorithm"] != "baseline"]
none = [c for c in digits if any("no pseudo-label passed the threshold" in n for n in c.get("notes", []))]
print(f"Digits self-training cells (Noisy Student and Ensemble): {len(digits)}; "
      f"with a refit iteration where no pseudo-label passed the threshold: {len(none)}")
ns = [c for c in v1 if c["algorithm"] == "noisy-student" and not c["task"].startswith("sklearn-digits")]
ns_none = [c for c in ns if any("no pseudo-label passed the threshold" in n for n in c.get("notes", []))]
print(f"Noisy Student cells of the 6 other tasks: {len(ns)}; with an iteration without pseudo-labels: {len(ns_none)}")
base = {(c["task"], c["fold"]): c["metrics"] for c in v1 if c["algorithm"] == "baseline"}
paired = [c for c in v1 if c["algorithm"] != "baseline"]
same = sum(c["teacher"]["metrics"] == base[(c["task"], c["fold"])] for c in paired)
print(f"Noisy Student and Ensemble cells: {len(paired)}; teacher.metrics equal to the fold's Baseline: {same}")
ens = collections.defaultdict(list)
teach = collections.defaultdict(list)
for c in v1:
    if c["algorithm"] == "ensemble":
        ens[c["task"]].append(c["metrics"]["accuracy"])
        teach[c["task"]].append(c["teacher"]["ensemble_metrics"]["accuracy"])
beat = [t for t in sorted(ens) if st.mean(teach[t]) > st.mean(ens[t])]
print(f"tasks where the Ensemble's teacher ensemble (2 Baselines averaged) has the higher mean accuracy: "
      f"{len(beat)} of {len(ens)} ({', '.join(beat)})")
acc1 = table("docs/results/standard/metrics_table.csv")
print("\n| task | Baseline | Noisy Student | Ensemble NS | NS - Baseline (points) | Ensemble - NS (points) |")
print("|---|---|---|---|---|---|")
for t in sorted({t for t, _ in acc1}):
    b, n, e = (mean(acc1[(t, a)]) for a in ("Baseline", "Noisy Student", "Ensemble Noisy Student"))
    print(f"| {t} | {b:.4f} | {n:.4f} | {e:.4f} | {100 * (n - b):+.2f} | {100 * (e - n):+.2f} |")
s1 = json.load(open("docs/results/standard/stats.json"))
a1 = next(a for a in s1["analyses"] if a["metric"] == "Accuracy")
w = next(x for x in a1["wilcoxon_holm"] if {x["a"], x["b"]} == {"Noisy Student", "Ensemble Noisy Student"})
print(f"\nWilcoxon-Holm, Noisy Student vs Ensemble over the 8 tasks: p = {w['p_value']:.4f}, adjusted {w['p_adjusted']:.4f}")
p = next(x for x in s1["paired"] if {x["first"], x["second"]} == {"Noisy Student", "Ensemble Noisy Student"})
print(f"Bayesian signed-rank across the 8 tasks, {p['first']} vs {p['second']}: {p['across_tasks']['probabilities']}, "
      f"verdict {p['across_tasks']['verdict']}")

# 2. Version 2
print("\n## 2. docs/results/standard-v2: differences of task means, in points\n")
acc2 = table("docs/results/standard-v2/metrics_table.csv")
pairs = [("Augmented Baseline", "Baseline"), ("Noisy Student", "Augmented Baseline"),
         ("Ensemble Noisy Student", "Baseline Ensemble"), ("Baseline Ensemble", "Baseline"),
         ("Ensemble Noisy Student", "Noisy Student")]
print("| task | " + " | ".join(f"{a} - {b}" for a, b in pairs) + " |")
print("|---|" + "---|" * len(pairs))
for t in ["MNIST 0-4", "MNIST 5-9", "Fashion MNIST", "CIFAR10 (JPEG copy) 0-4", "CIFAR10 (JPEG copy) 5-9", "CIFAR10 subset"]:
    print(f"| {t} | " + " | ".join(f"{100 * (mean(acc2[(t, a)]) - mean(acc2[(t, b)])):+.2f}" for a, b in pairs) + " |")

# 3. Ablation, version 1
print("\n## 3. docs/results/ablation (version 1, 5 folds)\n")
root = "docs/results/ablation"
rungs = ["0-baseline", "1-seed", "2-noise", "3-balance", "4-pool", "5-soft", "6-ensemble"]
acc = {}
tasks = []
for rung in rungs:
    for r in csv.DictReader(open(os.path.join(root, rung, "metrics_table.csv"))):
        if r["Dataset Name"] not in tasks:
            tasks.append(r["Dataset Name"])
        acc.setdefault((rung, r["Dataset Name"]), {})[int(r["Cross Validation [1-10]"])] = float(r["Accuracy"])


def wilcoxon(a, b, which):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        wr = csv.writer(f)
        wr.writerow(["", "Dataset Name", "Algorithm Name", "Cross Validation [1-10]", "Hyper-Parameters Values",
                     "Accuracy", "TPR", "FPR", "Precision", "AUC", "PR-Curve", "Training Time", "Inference Time"])
        i = 0
        for task in which:
            for fold in sorted(acc[(a, task)]):
                for rung in (a, b):
                    v = acc[(rung, task)][fold]
                    wr.writerow([i, f"{task} fold {fold}", rung, 1, "None", v, v, 1 - v, v, v, v, 0, 0])
                    i += 1
    out = subprocess.run([nstudent, "stats", f.name, "--format", "json"], check=True, capture_output=True, text=True)
    os.unlink(f.name)
    return json.loads(out.stdout)["wilcoxon_holm"][0]["p_value"]


both = {}
print("| rung | " + " | ".join(tasks) + " | p vs rung before | p vs Baseline |")
print("|---|" + "---|" * len(tasks) + "---|---|")
for i, rung in enumerate(rungs):
    cols = [f"{mean(acc[(rung, t)]):.4f} ± {st.stdev(acc[(rung, t)].values()):.4f}" for t in tasks]
    if i == 0:
        print(f"| {rung} | " + " | ".join(cols) + " | | |")
        continue
    ps = []
    for col, other in (("rung before", rungs[i - 1]), ("Baseline", rungs[0])):
        per = " / ".join(f"{wilcoxon(other, rung, [t]):.3f}" for t in tasks)
        both[(rung, col, other)] = wilcoxon(other, rung, tasks)
        ps.append(f"{per} (both: {both[(rung, col, other)]:.4f})")
    print(f"| {rung} | " + " | ".join(cols) + f" | {ps[0]} | {ps[1]} |")
order = sorted(both, key=lambda k: both[k])
holm, running = {}, 0.0
for j, k in enumerate(order):
    running = max(running, min(1.0, (len(order) - j) * both[k]))
    holm[k] = running
print(f"\nHolm's correction over the table's {len(both)} p-values of both tasks together "
      "(rung 1's two columns are one test, counted twice as the table shows it):")
for k in order:
    print(f"  {k[0]} vs {k[2]} ({k[1]} column): p = {both[k]:.4f}, Holm-adjusted {holm[k]:.4f}")
print("\nPer fold (accuracy):")
for rung in rungs:
    print(f"  {rung:11} " + "  ".join(f"{t}: " + " ".join(f"{acc[(rung, t)][k]:.4f}" for k in sorted(acc[(rung, t)])) for t in tasks))

# 4. The original study's table
ref = "../shared/reference/original_metrics_table.csv"
print("\n## 4. The original study's table\n")
if os.path.exists(ref):
    o = table(ref)
    for t in sorted({t for t, _ in o}):
        if (t, "Baseline") in o and (t, "Noisy Student") in o:
            b, n = mean(o[(t, "Baseline")]), mean(o[(t, "Noisy Student")])
            e = mean(o[(t, "Improved Noisy Student")]) if (t, "Improved Noisy Student") in o else float("nan")
            print(f"{t}: Baseline {b:.4f}, Noisy Student {n:.4f} ({100 * (n - b):+.2f} points), Improved Noisy Student {e:.4f}")
else:
    print(f"{ref} is not here")
