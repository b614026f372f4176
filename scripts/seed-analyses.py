#!/usr/bin/env python3
"""The numbers of docs/seed-run.md's pre-registered analyses for one finished `seed` run.

    scripts/seed-analyses.py DIR [ORIGINAL_CSV] [PLANNED_CORE_HOURS]

DIR is a run's directory (docs/results/seed-TASK). Prints, from DIR's files only:

1. completion: cell files, claim files, config hashes, threads and kernels of the cells, and
   that metrics_table.csv's accuracies equal the cells';
2. beside the original table (ORIGINAL_CSV, default ../shared/reference/original_metrics_table.csv):
   per algorithm each side's mean and sd over folds, the difference and the verdict of the
   pre-registration (agree when |difference| <= the larger sd), unrounded;
3. the chosen hyperparameters, fold by fold and counted, on both sides;
4. the planned pairs from DIR/stats.json ("paired"): mean A - B, folds A better, the corrected
   t-test and the Bayesian probabilities, and the verdict;
5. compute: per algorithm cells, trainings, reused trainings and core-seconds
   (cell_seconds x threads), the Ensemble's reuse of the Noisy Student search, and the
   measured core-hours against PLANNED_CORE_HOURS (the pre-registered `--plan` figure);
and, descriptive, the median training throughput of the epochs in metrics.jsonl per algorithm.

Standard library only.
"""
import collections
import csv
import glob
import json
import os
import statistics as st
import sys

D = sys.argv[1].rstrip("/")
ORIGINAL = sys.argv[2] if len(sys.argv) > 2 else "../shared/reference/original_metrics_table.csv"
PLANNED = float(sys.argv[3]) if len(sys.argv) > 3 else None
ALG = ["baseline", "noisy-student", "baseline-ensemble", "ensemble"]
TABLE_NAME = {"baseline": "Baseline", "noisy-student": "Noisy Student",
              "baseline-ensemble": "Baseline Ensemble", "ensemble": "Ensemble Noisy Student"}
ORIGINAL_NAME = {"Baseline": "Baseline", "Noisy Student": "Noisy Student",
                 "Ensemble Noisy Student": "Improved Noisy Student"}

cells = [json.load(open(f)) for f in sorted(glob.glob(D + "/cells/*/*/*.json"))]
claims = glob.glob(D + "/cells/**/*.claim", recursive=True)
by = {(c["fold"], c["algorithm"]): c for c in cells}

print("## 1. Completion")
print(f"cell files: {len(cells)} | claim files: {len(claims)}")
print("config hashes:", sorted({c["config_hash"] for c in cells}), "| threads:",
      sorted({c["threads"] for c in cells}), "| kernels:",
      sorted({(c["kernels"], c["kernel_revision"]) for c in cells}))
table = list(csv.DictReader(open(D + "/metrics_table.csv")))
back = {v: k for k, v in TABLE_NAME.items()}
worst = max(abs(float(r["Accuracy"]) - by[(int(r["Cross Validation [1-10]"]),
                                            back[r["Algorithm Name"]])]["metrics"]["accuracy"])
            for r in table)
tasks = sorted({r["Dataset Name"] for r in table})
print(f"metrics_table.csv: {len(table)} rows, task(s) {tasks}; max |table - cell| accuracy {worst}")
for a in ALG:
    acc = [by[(f, a)]["metrics"]["accuracy"] for f in range(1, 11) if (f, a) in by]
    print(f"accuracy {a:18} n={len(acc)} mean {st.mean(acc):.6f} sd {st.stdev(acc):.6f}  "
          + " ".join(f"{x:.4f}" for x in acc))

print("\n## 2. Beside the original table")
orig = [r for r in csv.DictReader(open(ORIGINAL)) if r["Dataset Name"] in tasks]
for name, oname in ORIGINAL_NAME.items():
    a = [float(r["Accuracy"]) for r in table if r["Algorithm Name"] == name]
    b = [float(r["Accuracy"]) for r in orig if r["Algorithm Name"] == oname]
    d = st.mean(a) - st.mean(b)
    spread = max(st.stdev(a), st.stdev(b))
    verdict = "agree" if abs(d) <= spread else "DISAGREE"
    print(f"{name:24} ours {st.mean(a):.6f} ± {st.stdev(a):.6f}  original {st.mean(b):.6f} ± "
          f"{st.stdev(b):.6f}  diff {d:+.6f}  larger sd {spread:.6f}  {verdict}  |d|/sd {abs(d)/spread:.3f}")
    of = {int(r["Cross Validation [1-10]"]): float(r["Accuracy"]) for r in orig if r["Algorithm Name"] == oname}
    ours = {int(r["Cross Validation [1-10]"]): float(r["Accuracy"]) for r in table if r["Algorithm Name"] == name}
    print("   fold by fold (ours / original):",
          "  ".join(f"{f}: {ours[f]:.4f}/{of[f]:.4f}" for f in range(1, 11) if f in ours and f in of))

print("\n## 3. Chosen hyperparameters")
N = [by[(f, "noisy-student")] for f in range(1, 11)]
E = [by[(f, "ensemble")] for f in range(1, 11)]
for f, (n, e) in enumerate(zip(N, E), start=1):
    hn, he = n["hyperparameters"], e["hyperparameters"]
    same = all(hn[k] == he[k] for k in ("unl_factor", "threshold", "num_students"))
    print(f"  fold {f:2}: noisy-student u{hn['unl_factor']} t{hn['threshold']} s{hn['num_students']} | "
          f"ensemble u{he['unl_factor']} t{he['threshold']} s{he['num_students']} "
          f"size {he['ensemble_size']} | shared values equal: {same}")
for k in ("unl_factor", "threshold", "num_students"):
    print(f"ours {k}:", sorted(collections.Counter(c["hyperparameters"][k] for c in N).items()))
print("ours ensemble_size:", sorted(collections.Counter(c["hyperparameters"]["ensemble_size"] for c in E).items()))
for oname in ("Noisy Student", "Improved Noisy Student"):
    counts = collections.Counter()
    for r in orig:
        if r["Algorithm Name"] == oname:
            for part in r["Hyper-Parameters Values"].split(","):
                if ":" in part:
                    key, value = (x.strip() for x in part.split(":", 1))
                    counts[(key, value)] += 1
    print(f"original {oname}:", "; ".join(f"{k} {v}: {n}" for (k, v), n in sorted(counts.items())))

print("\n## 4. Within the task: the planned pairs (stats.json)")
stats = json.load(open(D + "/stats.json"))
s = stats["paired_settings"]
print(f"settings: rope {s['rope']}, decision {s['decision']}, samples {s['samples']}, seed {s['seed']}")
for want in [("Noisy Student", "Baseline"), ("Ensemble Noisy Student", "Baseline Ensemble"),
             ("Ensemble Noisy Student", "Noisy Student")]:
    p = next(p for p in stats["paired"] if {p["first"], p["second"]} == set(want))
    flip = p["first"] == want[0]  # stats.json reports second - first
    for t in p["per_task"]:
        x = t["test"]
        pr = x["probabilities"]
        mean = -x["mean"] if flip else x["mean"]
        wins = t["first_wins"] if flip else t["second_wins"]
        pa, pb = (pr["first_better"], pr["second_better"]) if flip else (pr["second_better"], pr["first_better"])
        tt = -x["t"] if flip else x["t"]
        print(f"{want[0] + ' vs ' + want[1]:46} mean A-B {mean:+.4f}  A better {wins}/{t['folds']}  "
              f"t {tt:+.3f} (df {x['df']:.0f}) p {x['p_value']:.4f}  P(A better) {pa:.4f}  "
              f"P(equivalent) {pr['equivalent']:.4f}  P(B better) {pb:.4f}  {t['verdict']}")

print("\n## 5. Compute")
total_core, total_tr, total_ru = 0.0, 0, 0
for a in ALG:
    cs = [c for c in cells if c["algorithm"] == a]
    core = sum(c["cell_seconds"] * c["threads"] for c in cs)
    tr = sum(c["trainings"] for c in cs)
    ru = sum(c.get("reused_trainings", 0) for c in cs)
    longest = max(cs, key=lambda c: c["cell_seconds"])
    print(f"{a:18} cells {len(cs):2}  trainings {tr:5}  reused {ru:5}  core-s {core:9.1f}  core-h {core/3600:6.3f}  "
          f"mean cell {st.mean(c['cell_seconds'] for c in cs):8.1f} s  longest {longest['cell_seconds']:.1f} s "
          f"(fold {longest['fold']})  trainings per cell {sorted({c['trainings'] for c in cs})}")
    total_core += core
    total_tr += tr
    total_ru += ru
print(f"{'task':18} cells {len(cells):2}  trainings {total_tr:5}  reused {total_ru:5}  core-s {total_core:9.1f}  "
      f"core-h {total_core/3600:6.3f}")
trained = total_tr - total_ru
print(f"trained (not reused): {trained}, {total_core/trained:.2f} core-s each")
ecore = sum(c["cell_seconds"] * c["threads"] for c in E)
etr = sum(c["trainings"] for c in E)
eru = sum(c["reused_trainings"] for c in E)
rate = ecore / (etr - eru)
print(f"Ensemble: {etr} trainings, {eru} reused (per cell {sorted({c['reused_trainings'] for c in E})}), "
      f"{etr - eru} trained in {ecore:.1f} core-s = {rate:.3f} core-s each -> the reused would have cost "
      f"{eru * rate:.0f} core-s = {eru * rate / 3600:.3f} core-h; without sharing {(total_core + eru * rate) / 3600:.3f} core-h")
ns_rate = sum(c["cell_seconds"] * c["threads"] for c in N) / sum(c["trainings"] for c in N)
print(f"  at the Noisy Student cells' rate ({ns_rate:.3f} core-s per training) the reused would have cost "
      f"{eru * ns_rate / 3600:.3f} core-h")
if PLANNED:
    print(f"pre-registered --plan: at most {PLANNED} core-hours; measured/predicted {total_core / 3600 / PLANNED:.3f}")

print("\n## Descriptive: median training images/s of the epochs (metrics.jsonl)")
speeds = collections.defaultdict(list)
if os.path.exists(D + "/metrics.jsonl"):
    for line in open(D + "/metrics.jsonl"):
        r = json.loads(line)
        if r.get("event") == "epoch" and r.get("images_per_second"):
            speeds[r["algorithm"]].append(r["images_per_second"])
print({a: (len(v), round(st.median(v))) for a, v in sorted(speeds.items())})
