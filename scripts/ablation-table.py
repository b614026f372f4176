#!/usr/bin/env python3
"""The ablation's table (docs/ablation.md) from a finished OUT_DIR of scripts/ablation.sh.

    scripts/ablation-table.py OUT_DIR NSTUDENT RUNG... [--also A:B ...]

Mean ± sd per rung and task, and paired Wilcoxon p-values (nstudent stats, scipy's test)
against the rung before and against the Baseline: per task over its folds, and over the folds
of both tasks together, with Holm's correction over every p-value of the table (the
pre-registered family). `--also A:B` adds, after the table, rung B against rung A with raw
p-values only, outside the Holm family: comparisons that were not pre-registered, so marked.
Runs nothing but `nstudent stats`."""
import csv, json, os, statistics as st, subprocess, sys, tempfile

args = sys.argv[1:]
also = []
while "--also" in args:
    i = args.index("--also")
    also.append(tuple(args[i + 1].split(":")))
    del args[i:i + 2]
if len(args) < 3:
    sys.exit("usage: scripts/ablation-table.py OUT_DIR NSTUDENT RUNG... [--also A:B ...]")
out, nstudent, rungs = args[0], args[1], [r.split()[0] for r in args[2:]]
for rung in rungs + [r for pair in also for r in pair]:
    if not os.path.isfile(os.path.join(out, rung, "metrics_table.csv")):
        print(f"ablation-table: {os.path.join(out, rung)} has no metrics_table.csv; finish the rung with scripts/ablation.sh first", file=sys.stderr)
        sys.exit(2)
if any(len(pair) != 2 for pair in also):
    print("ablation-table: --also takes two rung names as A:B", file=sys.stderr)
    sys.exit(2)
acc = {}  # (rung, task) -> {fold: accuracy}
tasks = []
for rung in rungs:
    for row in csv.DictReader(open(os.path.join(out, rung, "metrics_table.csv"))):
        task = row["Dataset Name"]
        if task not in tasks:
            tasks.append(task)
        acc.setdefault((rung, task), {})[int(row["Cross Validation [1-10]"])] = float(row["Accuracy"])

def wilcoxon(a, b, which):
    """Two-sided Wilcoxon signed-rank p of rungs a and b over the folds of `which` tasks."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        w = csv.writer(f)
        w.writerow(["", "Dataset Name", "Algorithm Name", "Cross Validation [1-10]", "Hyper-Parameters Values",
                    "Accuracy", "TPR", "FPR", "Precision", "AUC", "PR-Curve", "Training Time", "Inference Time"])
        i = 0
        for task in which:
            for fold in sorted(acc[(a, task)]):
                for rung in (a, b):
                    v = acc[(rung, task)][fold]
                    w.writerow([i, f"{task} fold {fold}", rung, 1, "None", v, v, 1 - v, v, v, v, 0, 0])
                    i += 1
    res = json.loads(subprocess.run([nstudent, "stats", f.name, "--format", "json"],
                                    check=True, capture_output=True, text=True).stdout)
    os.unlink(f.name)
    return res["wilcoxon_holm"][0]["p_value"]

# Every p-value of the table, then Holm's correction over all of them (the page's family).
raw = {}
for i, rung in enumerate(rungs[1:], start=1):
    for other in (rungs[i - 1], rungs[0]):
        for which in [[t] for t in tasks] + [tasks]:
            raw[(other, rung, tuple(which))] = wilcoxon(other, rung, which)
order = sorted(raw, key=lambda k: raw[k])
holm, running = {}, 0.0
for j, k in enumerate(order):
    running = max(running, min(1.0, (len(order) - j) * raw[k]))
    holm[k] = running

print(f"p-values: two-sided paired Wilcoxon, then Holm-adjusted over all {len(raw)} tests of the table (in brackets).\n")
print("| rung | " + " | ".join(tasks) + " | p vs rung before | p vs Baseline |")
print("|---|" + "---|" * len(tasks) + "---|---|")
for i, rung in enumerate(rungs):
    cells = []
    for task in tasks:
        v = list(acc[(rung, task)].values())
        cells.append(f"{st.mean(v):.4f} ± {st.stdev(v):.4f}")
    if i == 0:
        print(f"| {rung} | " + " | ".join(cells) + " | | |")
        continue
    def ps(other):
        keys = [(other, rung, (t,)) for t in tasks] + [(other, rung, tuple(tasks))]
        per = [f"{raw[k]:.3f} [{holm[k]:.3f}]" for k in keys[:-1]]
        both = keys[-1]
        return " / ".join(per) + f" (both: {raw[both]:.4f} [{holm[both]:.4f}])"
    print(f"| {rung} | " + " | ".join(cells) + f" | {ps(rungs[i - 1])} | {ps(rungs[0])} |")

if also:
    print("\nNot pre-registered (exploratory): raw two-sided paired Wilcoxon p-values, outside the Holm family above.\n")
    print("| comparison | " + " | ".join(f"{t} (difference of means)" for t in tasks) + " | p per task | p over both tasks |")
    print("|---|" + "---|" * len(tasks) + "---|---|")
    for a, b in also:
        diffs = [st.mean(acc[(b, t)].values()) - st.mean(acc[(a, t)].values()) for t in tasks]
        per = " / ".join(f"{wilcoxon(a, b, [t]):.3f}" for t in tasks)
        print(f"| {b} against {a} | " + " | ".join(f"{d:+.4f}" for d in diffs) + f" | {per} | {wilcoxon(a, b, tasks):.4f} |")
