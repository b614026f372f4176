#!/usr/bin/env python3
"""Checks of the `standard` study, version 2 (docs/results/standard-v2), printed as markdown:

1. its Baseline, Noisy Student and Ensemble cells against version 1's run on the same kernels
   (docs/results/standard-avx512): equal in every field but the config hash, the times, the
   thread count and the pseudo-label record that version 2 adds;
2. the share of Noisy Student cells per task whose refit kept pseudo-labels in every iteration
   (the pre-registration asks for at least 90%);
3. each control's pairing with its fold's Baseline (the teacher record equals the Baseline's
   metrics; the Baseline ensemble equals the Ensemble's teacher ensemble);
4. compute per algorithm (models trained, core-seconds) and the run's wall time from its log.

Usage: scripts/standard-v2-checks.py [V2_DIR] [V1_DIR]  (standard library only)
"""
import collections
import glob
import json
import os
import re
import sys
from datetime import datetime

v2 = sys.argv[1] if len(sys.argv) > 1 else "docs/results/standard-v2"
v1 = sys.argv[2] if len(sys.argv) > 2 else "docs/results/standard-avx512"


def cells(root):
    out = {}
    for path in glob.glob(os.path.join(root, "cells", "*", "*", "*.json")):
        rel = os.path.relpath(path, os.path.join(root, "cells"))
        out[rel] = json.load(open(path))
    return out


new, old = cells(v2), cells(v1)
ignored = {"config_hash", "threads", "pseudo_labels", "reused_trainings"}


def comparable(c):
    return {k: v for k, v in c.items() if k not in ignored and not k.endswith("_seconds")}


same = differ = 0
for rel, c in sorted(new.items()):
    if rel in old:
        if comparable(c) == comparable(old[rel]):
            same += 1
        else:
            differ += 1
            print(f"- differs: {rel}")
print(f"1. Cells also in {v1}: {same} equal, {differ} different "
      f"(every field but the config hash, times, threads and the pseudo-label record).\n")

print("2. Noisy Student cells whose refit kept pseudo-labels in every iteration:\n")
print("| task | cells | kept pseudo-labels | share | pseudo-labels kept per cell (mean) |")
print("|---|---|---|---|---|")
by_task = collections.defaultdict(list)
for rel, c in new.items():
    if c["algorithm"] == "noisy-student":
        by_task[c["task"]].append(c)
for task in sorted(by_task):
    cs = by_task[task]
    ok = [c for c in cs if c.get("pseudo_labels") and all(it["kept"] > 0 for it in c["pseudo_labels"])]
    kept = [sum(it["kept"] for it in c.get("pseudo_labels", [])) for c in cs]
    print(f"| {task} | {len(cs)} | {len(ok)} | {len(ok) / len(cs):.0%} | {sum(kept) / len(kept):.0f} |")
print()

paired = unpaired = 0
for rel, c in new.items():
    task_fold = os.path.dirname(rel)
    base = new.get(os.path.join(task_fold, "baseline.json"))
    if base is None or c["algorithm"] not in ("noisy-student", "ensemble", "baseline-ensemble"):
        continue
    if c["teacher"]["metrics"] == base["metrics"]:
        paired += 1
    else:
        unpaired += 1
        print(f"- not paired: {rel}")
be_eq = sum(
    1 for rel, c in new.items() if c["algorithm"] == "baseline-ensemble"
    and new.get(os.path.join(os.path.dirname(rel), "ensemble.json"), {}).get("teacher", {}).get("ensemble_metrics") == c["metrics"]
)
print(f"3. Pairing: {paired} cells' first teacher equals their fold's Baseline, {unpaired} do not; "
      f"{be_eq} Baseline-ensemble cells equal their fold's Ensemble teacher ensemble.\n")

print("4. Compute per algorithm:\n")
print("| algorithm | cells | models per cell | core-seconds | core-hours |")
print("|---|---|---|---|---|")
order = ["baseline", "augmented-baseline", "noisy-student", "baseline-ensemble", "ensemble"]
total = 0.0
for a in order:
    cs = [c for c in new.values() if c["algorithm"] == a]
    if not cs:
        continue
    core = sum(c["cell_seconds"] * c["threads"] for c in cs)
    total += core
    models = sum(c["trainings"] for c in cs) / len(cs)
    print(f"| {a} | {len(cs)} | {models:.1f} | {core:,.0f} | {core / 3600:.2f} |")
print(f"| all | {len(new)} | | {total:,.0f} | {total / 3600:.2f} |\n")

log = os.path.join(v2, "nstudent.log")
if os.path.exists(log):
    stamps = []
    for line in open(log):
        m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", line)
        if m and "merge" not in line:
            stamps.append(datetime.fromisoformat(m.group(1)))
    if stamps:
        print(f"Log: first line {stamps[0]}, last cell line {stamps[-1]} "
              f"({(stamps[-1] - stamps[0]).total_seconds() / 3600:.2f} h between them, all sittings).")
