#!/usr/bin/env python3
"""One metrics table of several finished runs (by default the three `seed` runs of
docs/seed-run.md), rows in the runs' order, renumbered: for `nstudent stats`, `nstudent report
--beside` and scripts/compare-original.py across the runs' tasks.

    scripts/seed-set.py OUT.csv [RUN_DIR ...]

Refuses an existing OUT.csv (it never replaces a file) and a run without metrics_table.csv.
Standard library only.
"""
import csv
import os
import sys

out = sys.argv[1]
runs = sys.argv[2:] or ["docs/results/seed-mnist-5-9", "docs/results/seed-mnist-0-4",
                        "docs/results/seed-fashion-mnist"]
if os.path.exists(out):
    sys.exit(f"seed-set.py: {out} exists; remove it first or give another name")
header, rows = None, []
for run in runs:
    path = os.path.join(run, "metrics_table.csv")
    if not os.path.isfile(path):
        sys.exit(f"seed-set.py: {path} does not exist; is {run} a finished run?")
    table = list(csv.reader(open(path, newline="")))
    if header is None:
        header = table[0]
    elif table[0] != header:
        sys.exit(f"seed-set.py: {path} has other columns than {runs[0]}'s")
    rows += table[1:]
with open(out, "x", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    for i, r in enumerate(rows):
        w.writerow([i] + r[1:])
print(f"{out}: {len(rows)} rows from {len(runs)} runs")
