"""read_results on the committed standard study (needs pandas)."""

import csv
import pathlib
import sys
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _support  # noqa: E402,F401  (puts the package under test first)

import nstudent  # noqa: E402

STUDY = REPO / "docs" / "results" / "standard"


class ReadResults(unittest.TestCase):
    def test_the_standard_studys_table_reads_as_one_row_per_cell(self):
        table = nstudent.read_results(str(STUDY))
        with open(STUDY / "metrics_table.csv") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(table), len(rows))
        self.assertEqual(len(table), 240)
        for column in ["Dataset Name", "Algorithm Name", "Accuracy", "Training Time"]:
            self.assertIn(column, table.columns)
        means = table.groupby("Algorithm Name")["Accuracy"].mean()
        self.assertAlmostEqual(
            means["Baseline"],
            sum(float(r["Accuracy"]) for r in rows if r["Algorithm Name"] == "Baseline") / 80,
            places=12,
        )
        # The file itself works too.
        self.assertEqual(len(nstudent.read_results(str(STUDY / "metrics_table.csv"))), 240)


if __name__ == "__main__":
    unittest.main()
