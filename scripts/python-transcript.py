#!/usr/bin/env python3
"""Replays a new user's first Python session line by line in an interactive console, printing
each line after its prompt as the interpreter would show it, with the real output.

    python scripts/python-transcript.py > docs/results/python-estimator/transcript.txt
"""

import code
import sys
import warnings

SESSION = [
    "import numpy as np",
    "from sklearn.datasets import load_digits",
    "from nstudent import NoisyStudentClassifier",
    "digits = load_digits()",
    "X, y = digits.images, digits.target",
    "X.shape, X.dtype, X.max()",
    "clf = NoisyStudentClassifier(seed=0)",
    "clf.fit(X[:1400], y[:1400])",
    "clf.set_params(max_value=16, verbose=1).fit(X[:1400], y[:1400])",
    "clf.set_params(epochs=40).fit(X[:1400], y[:1400])",
    "clf.score(X[1400:], y[1400:])",
    "clf.pseudo_label_stats_[-1]['kept_per_class']",
    "clf.predict(X[1400:1410]), y[1400:1410]",
    "clf.save('digits.safetensors')",
    "NoisyStudentClassifier.load('digits.safetensors', max_value=16).score(X[1400:], y[1400:])",
    "NoisyStudentClassifier(algo='noisy_student').fit(X, y)",
]


def main():
    warnings.simplefilter("always")  # as an interactive session shows every warning
    console = code.InteractiveConsole()
    for line in SESSION:
        print(f">>> {line}", flush=True)
        sys.stdout.flush()
        console.push(line)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
