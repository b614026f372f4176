#!/usr/bin/env python3
"""scikit-learn's check_estimator on NoisyStudentClassifier: every check with its status, and
the reason for each expected failure (the list python/tests/test_sklearn_checks.py asserts).

    python scripts/python-estimator-checks.py > docs/results/python-estimator/check_estimator.txt
"""

import collections
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python" / "tests"))
import sklearn  # noqa: E402
from test_sklearn_checks import EXPECTED_FAILED_CHECKS, SKIPPED_CHECKS, run_checks  # noqa: E402


def main():
    results = run_checks()
    print(f"# check_estimator(NoisyStudentClassifier(epochs=1, num_students=1, threads=1)), "
          f"scikit-learn {sklearn.__version__}")
    counts = collections.Counter(r["status"] for r in results)
    names = collections.defaultdict(set)
    for r in results:
        names[r["status"]].add(r["check_name"])
    print(f"results: {dict(counts)} (a check can run more than once); distinct checks: "
          + ", ".join(f"{k} {len(v)}" for k, v in sorted(names.items())))
    for r in results:
        name = r["check_name"]
        reason = EXPECTED_FAILED_CHECKS.get(name) or SKIPPED_CHECKS.get(name) or ""
        print(f"{r['status']:7} {name}{': ' + reason if reason else ''}")


if __name__ == "__main__":
    main()
