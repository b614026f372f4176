#!/usr/bin/env python3
"""Wall time and core-seconds of finished studies, from what each study directory records.

    scripts/study-compute.py DIR [DIR ...]

- cells and core-seconds: what the study's merge recorded in DIR/stats.json (`compute`: each
  algorithm's cells and the sum of its cells' `cell_seconds` x threads);
- wall: the sum, over the runs in DIR/nstudent.log that computed cells, of the time from a run's
  `start:` line to its last line (a study resumed across sittings is several runs; the pauses
  between them are not counted), with the first and last timestamps.

Prints a Markdown table. Standard library only.
"""
import json
import os
import sys
from datetime import datetime


def stamp(line):
    return datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%SZ")


def runs(log_path):
    """(start, end, computed) per run of the log, a run being the lines of one process id."""
    by_pid = {}
    for line in open(log_path, encoding="utf-8"):
        parts = line.split()
        if len(parts) < 3 or not parts[1].startswith("["):
            continue
        pid = parts[1]
        if "start:" in line and " start: " in line:
            by_pid[pid] = [stamp(line), stamp(line), 0]
        elif pid in by_pid:
            by_pid[pid][1] = stamp(line)
            if " done: " in line:
                by_pid[pid][2] += 1
    return [tuple(r) for r in by_pid.values()]


def summary(directory):
    compute = json.load(open(os.path.join(directory, "stats.json"), encoding="utf-8"))["compute"]
    cells = sum(c["cells"] for c in compute)
    core = sum(c["core_seconds"] for c in compute)
    worked = [r for r in runs(os.path.join(directory, "nstudent.log")) if r[2] > 0]
    wall = sum((end - start).total_seconds() for start, end, _ in worked)
    first = min((r[0] for r in worked), default=None)
    last = max((r[1] for r in worked), default=None)
    return cells, core, wall, len(worked), first, last


def main(dirs):
    print("| study | cells | runs | wall (s) | first to last (UTC) | core-seconds |")
    print("|---|---|---|---|---|---|")
    total_core = total_wall = 0.0
    for d in dirs:
        n, core, wall, nruns, first, last = summary(d)
        total_core += core
        total_wall += wall
        span = f"{first:%Y-%m-%d %H:%M:%S} to {last:%H:%M:%S}" if first else ""
        print(f"| {os.path.basename(os.path.normpath(d))} | {n} | {nruns} | {wall:,.0f} | {span} | {core:,.0f} |")
    print(f"| all | | | {total_wall:,.0f} | | {total_core:,.0f} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: scripts/study-compute.py DIR [DIR ...]")
    for d in sys.argv[1:]:
        missing = [f for f in ("nstudent.log", "stats.json") if not os.path.isfile(os.path.join(d, f))]
        if missing:
            print(f"study-compute: {d} has no {missing[0]}; pass the directories of finished `nstudent run`s", file=sys.stderr)
            sys.exit(2)
    main(sys.argv[1:])
