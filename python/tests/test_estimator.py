"""NoisyStudentClassifier: the same config and model bits as `nstudent train`, scikit-learn's
conventions, bad input as ValueError, the GIL released and Ctrl-C honoured.

Needs the package installed with its extension and scikit-learn
(`pip install "./python[sklearn]"`) and a built nstudent (`target/release/nstudent`, or
$NSTUDENT_BIN). Run from the repository root: python -m unittest discover python/tests
"""

import inspect
import os
import pathlib
import pickle
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _support import BIN, REPO, banded_images, cli, write_csv  # noqa: E402

import nstudent  # noqa: E402
from nstudent import NoisyStudentClassifier, _native  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402

# Small and quick: 12x12 grey images of 3 classes, one student, two epochs.
QUICK = dict(epochs=2, num_students=1, batch=16, seed=7)


def quick_data(n=180, shape=(12, 12, 1), classes=3, seed=1):
    return banded_images(n, shape, classes, seed)


class DefaultsAreTrainsDefaults(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(BIN), f"no nstudent at {BIN}: cargo build --release")

    def test_every_train_parameter_is_a_flag_of_nstudent_train(self):
        help_text = cli("train", "--help")
        for name in nstudent.estimator.TRAIN_PARAMS:
            flag = "--" + name.replace("_", "-")
            self.assertRegex(help_text, rf"{re.escape(flag)}\b", f"{name} is not a flag")

    def test_the_signature_holds_the_rust_defaults(self):
        sig = inspect.signature(NoisyStudentClassifier.__init__).parameters
        for name, value in _native.defaults().items():
            self.assertEqual(sig[name].default, value, name)
        self.assertEqual(NoisyStudentClassifier().get_params()["algo"], "noisy-student")

    def test_the_default_config_is_print_configs(self):
        params = {k: v for k, v in NoisyStudentClassifier().get_params().items()
                  if k in nstudent.estimator.TRAIN_PARAMS}
        self.assertEqual(_native.config_toml(params, False), cli("train", "--print-config"))
        # With an unlabeled set every label is used, as with --unlabeled.
        with_pool = cli("train", "--unlabeled", "pool.csv", "--print-config")
        self.assertEqual(_native.config_toml(params, True), with_pool)
        self.assertIn("teacher_factor = 1.0", with_pool)

    def test_settings_give_the_config_of_the_same_flags(self):
        est = NoisyStudentClassifier(algo="ensemble", ensemble_size=3, width=1.3,
                                     student_arch="res-cnn", flip="on", no_noise=True,
                                     epochs=3, lr=0.002, seed=11, balance_target=40)
        params = {k: v for k, v in est.get_params().items()
                  if k in nstudent.estimator.TRAIN_PARAMS}
        flags = ["--algo", "ensemble", "--ensemble-size", "3", "--width", "1.3",
                 "--student-arch", "res-cnn", "--flip", "on", "--no-noise", "--epochs", "3",
                 "--lr", "0.002", "--seed", "11", "--balance-target", "40"]
        self.assertEqual(_native.config_toml(params, False),
                         cli("train", *flags, "--print-config"))


class SameBitsAsTheCli(unittest.TestCase):
    """The model file of `fit` + `save` is the file `nstudent train` writes, byte for byte."""

    def setUp(self):
        self.assertTrue(os.path.exists(BIN), f"no nstudent at {BIN}: cargo build --release")
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = pathlib.Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def assert_same_files(self, a, b):
        if a.is_dir():
            self.assertEqual(sorted(p.name for p in a.iterdir()),
                             sorted(p.name for p in b.iterdir()))
            for p in a.iterdir():
                self.assert_same_files(p, b / p.name)
            return
        self.assertEqual(a.read_bytes(), b.read_bytes(), f"{a} and {b} differ")

    def test_noisy_student_on_hidden_labels(self):
        x, y = quick_data()
        write_csv(self.tmp / "d.csv", x, y)
        cli("train", "--data", self.tmp / "d.csv", "--teacher-factor", "0.3", "--epochs", "2",
            "--num-students", "1", "--batch", "16", "--seed", "7", "--threads", "1",
            "--out", self.tmp / "cli.safetensors")
        est = NoisyStudentClassifier(teacher_factor=0.3, threads=2, **QUICK).fit(x, y)
        est.save(self.tmp / "py.safetensors")
        self.assert_same_files(self.tmp / "cli.safetensors", self.tmp / "py.safetensors")
        self.assertEqual(len(est.pseudo_label_stats_), 1)

    def test_a_separate_unlabeled_set_as_x_unlabeled_or_minus_one_labels(self):
        x, y = quick_data(n=90)
        u, _ = quick_data(n=120, seed=5)
        write_csv(self.tmp / "d.csv", x, y)
        # --unlabeled drops the file's labels; it refuses a file of one label, so it gets some.
        write_csv(self.tmp / "u.csv", u, np.arange(len(u)) % 3)
        cli("train", "--data", self.tmp / "d.csv", "--unlabeled", self.tmp / "u.csv",
            "--epochs", "2", "--num-students", "1", "--batch", "16", "--seed", "7",
            "--threshold", "0.5", "--out", self.tmp / "cli.safetensors")
        est = NoisyStudentClassifier(threshold=0.5, **QUICK)
        est.fit(x, y, X_unlabeled=u).save(self.tmp / "py.safetensors")
        self.assert_same_files(self.tmp / "cli.safetensors", self.tmp / "py.safetensors")
        # The same pool given as rows labeled -1.
        xs = np.concatenate([x, u])
        ys = np.concatenate([y, -np.ones(len(u), dtype=int)])
        clone(est).fit(xs, ys).save(self.tmp / "minus-one.safetensors")
        self.assert_same_files(self.tmp / "cli.safetensors", self.tmp / "minus-one.safetensors")

    def test_float_pixels_in_0_1_as_a_csv_read_with_max_value_1(self):
        x, y = quick_data(n=120, shape=(8, 8, 3))
        xf = x.astype(np.float64) / 255.0
        write_csv(self.tmp / "f.csv", xf, y, fmt=repr)
        cli("train", "--data", self.tmp / "f.csv", "--max-value", "1", "--shape", "8x8x3",
            "--algo", "baseline", "--teacher-factor", "0.5", "--epochs", "2", "--batch", "16",
            "--seed", "3", "--out", self.tmp / "cli.safetensors")
        est = NoisyStudentClassifier(algo="baseline", teacher_factor=0.5, epochs=2, batch=16,
                                     seed=3)
        est.fit(xf, y).save(self.tmp / "py.safetensors")
        self.assert_same_files(self.tmp / "cli.safetensors", self.tmp / "py.safetensors")

    def test_an_ensemble_directory(self):
        x, y = quick_data(n=120)
        write_csv(self.tmp / "d.csv", x, y)
        cli("train", "--data", self.tmp / "d.csv", "--algo", "ensemble", "--ensemble-size",
            "2", "--teacher-factor", "0.4", "--epochs", "1", "--num-students", "1", "--batch",
            "16", "--seed", "7", "--out", self.tmp / "cli")
        est = NoisyStudentClassifier(algo="ensemble", ensemble_size=2, teacher_factor=0.4,
                                     **dict(QUICK, epochs=1))
        est.fit(x, y).save(self.tmp / "py")
        self.assert_same_files(self.tmp / "cli", self.tmp / "py")


class ScikitLearnConventions(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = pathlib.Path(self.dir.name)
        self.x, self.y = quick_data()

    def tearDown(self):
        self.dir.cleanup()

    def test_the_constructor_stores_parameters_and_clone_keeps_them(self):
        est = NoisyStudentClassifier(epochs=3, algo="baseline", image_shape=(12, 12))
        self.assertFalse(hasattr(est, "classes_"))
        copy = clone(est.set_params(seed=5))
        self.assertEqual(copy.get_params(), est.get_params())
        self.assertEqual(copy.seed, 5)

    def test_any_label_values_come_back_from_predict(self):
        names = np.array(["cat", "dog", "emu"])[self.y]
        est = NoisyStudentClassifier(algo="baseline", teacher_factor=0.5, epochs=4, seed=1)
        est.fit(self.x, names)
        self.assertEqual(list(est.classes_), ["cat", "dog", "emu"])
        pred = est.predict(self.x)
        self.assertTrue(set(pred) <= {"cat", "dog", "emu"})
        self.assertGreater(est.score(self.x, names), 0.8)
        self.assertEqual(est.n_features_in_, 144)
        self.assertEqual(est.image_shape_, (12, 12, 1))
        proba = est.predict_proba(self.x)
        self.assertEqual(proba.shape, (len(self.x), 3))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)

    def test_sparse_integer_labels_are_mapped_like_scikit_learn(self):
        labels = np.array([3, 10, 42])[self.y]
        est = NoisyStudentClassifier(**QUICK).fit(self.x, labels)
        self.assertEqual(list(est.classes_), [3, 10, 42])
        self.assertTrue(set(est.predict(self.x[:20])) <= {3, 10, 42})

    def test_image_layouts_give_the_same_model(self):
        base = NoisyStudentClassifier(algo="baseline", teacher_factor=0.5, epochs=1, seed=2)
        p3 = clone(base).fit(self.x[..., 0], self.y).predict_proba(self.x)
        p4 = clone(base).fit(self.x, self.y).predict_proba(self.x[..., 0])
        flat = self.x.reshape(len(self.x), -1)
        pf = clone(base).set_params(image_shape=(12, 12)).fit(flat, self.y).predict_proba(flat)
        pfl = clone(base).fit(self.x / 255.0, self.y).predict_proba(self.x / 255.0)
        np.testing.assert_array_equal(p3, p4)
        np.testing.assert_array_equal(p3, pf)
        np.testing.assert_array_equal(p3, pfl)

    def test_pseudo_label_stats_describe_every_iteration(self):
        est = NoisyStudentClassifier(**dict(QUICK, num_students=2, threshold=0.0))
        est.fit(self.x, self.y)
        stats = est.pseudo_label_stats_
        self.assertEqual([s["iteration"] for s in stats], [1, 2])
        for s in stats:
            self.assertEqual(len(s["kept_per_class"]), 3)
            self.assertEqual(s["kept"], sum(s["kept_per_class"]))
            # threshold 0 keeps every pool row.
            self.assertEqual(s["kept"], est.unlabeled_rows_)
        self.assertEqual(est.labeled_rows_ + est.unlabeled_rows_, len(self.x))

    def test_save_load_and_pickle_keep_the_predictions(self):
        labels = np.array([5, 6, 7])[self.y]
        est = NoisyStudentClassifier(**QUICK).fit(self.x, labels)
        want = est.predict_proba(self.x)
        est.save(self.tmp / "m.safetensors")
        loaded = NoisyStudentClassifier.load(self.tmp / "m.safetensors")
        np.testing.assert_array_equal(loaded.predict_proba(self.x), want)
        self.assertEqual(list(loaded.classes_), [5, 6, 7])
        again = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(again.predict_proba(self.x), want)

    def test_the_cli_predicts_a_python_model_and_python_loads_a_cli_model(self):
        self.assertTrue(os.path.exists(BIN), f"no nstudent at {BIN}: cargo build --release")
        write_csv(self.tmp / "d.csv", self.x, self.y)
        est = NoisyStudentClassifier(**QUICK).fit(self.x, self.y)
        est.save(self.tmp / "py.safetensors")
        cli("predict", "--model", self.tmp / "py.safetensors", "--data", self.tmp / "d.csv",
            "--out", self.tmp / "p.csv")
        rows = (self.tmp / "p.csv").read_text().splitlines()[1:]
        cli_probs = np.array([r.split(",")[1:] for r in rows], dtype=np.float64)
        np.testing.assert_allclose(cli_probs, est.predict_proba(self.x), atol=1e-6)
        cli("train", "--data", self.tmp / "d.csv", "--algo", "baseline", "--epochs", "1",
            "--out", self.tmp / "cli.safetensors")
        loaded = NoisyStudentClassifier.load(self.tmp / "cli.safetensors")
        self.assertEqual(list(loaded.classes_), [0, 1, 2])
        self.assertEqual(loaded.predict(self.x).shape, (len(self.x),))

    def test_cross_val_score_runs_the_estimator_on_folds(self):
        est = NoisyStudentClassifier(algo="baseline", teacher_factor=1.0, epochs=3, seed=1)
        scores = cross_val_score(est, self.x, self.y, cv=3)
        self.assertEqual(len(scores), 3)
        self.assertGreater(scores.mean(), 0.8)

    def test_verbose_prints_progress_and_a_callback_gets_every_event(self):
        events = []
        est = NoisyStudentClassifier(callback=events.append, verbose=1, **QUICK)
        import contextlib
        import io
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            est.fit(self.x, self.y)
        kinds = [e["event"] for e in events]
        self.assertEqual(kinds[0], "split")
        self.assertEqual(kinds.count("epoch"), 4)  # two epochs of the teacher and the student
        self.assertEqual([k for k in kinds if k != "epoch"], ["split", "teacher", "iteration"])
        self.assertIn("iteration 1:", out.getvalue())
        self.assertIn("teacher (1 model)", out.getvalue())

    def test_iterations_without_pseudo_labels_are_warned_about(self):
        est = NoisyStudentClassifier(**dict(QUICK, threshold=1.0))  # 1 keeps none
        with self.assertWarnsRegex(UserWarning, r"iteration\(s\) \[1\]: no pseudo-label passed"):
            est.fit(self.x, self.y)
        self.assertTrue(est.pseudo_label_stats_[0]["labeled_only"])

    def test_an_exception_in_the_callback_stops_training_and_is_raised(self):
        def stop(event):
            if event["event"] == "epoch":
                raise RuntimeError("enough")

        est = NoisyStudentClassifier(callback=stop, **dict(QUICK, epochs=50))
        start = time.monotonic()
        with self.assertRaisesRegex(RuntimeError, "enough"):
            est.fit(self.x, self.y)
        self.assertLess(time.monotonic() - start, 10)
        self.assertFalse(hasattr(est, "model_"))


class BadInputIsAValueError(unittest.TestCase):
    def setUp(self):
        self.x, self.y = quick_data(n=60)
        self.est = NoisyStudentClassifier(**QUICK)

    def refused(self, pattern, x=None, y=None, **fit):
        with self.assertRaisesRegex(ValueError, pattern):
            self.est.fit(self.x if x is None else x, self.y if y is None else y, **fit)

    def test_shapes(self):
        self.refused(r"5 dimensions", x=self.x[..., None])
        self.refused(r"59 labels for 60 images", y=self.y[:-1])
        self.refused(r"10 feature\(s\) per row, not the pixels of a square grey or RGB image",
                     x=self.x.reshape(60, -1)[:, :10])
        est = NoisyStudentClassifier(image_shape=(5, 5))
        with self.assertRaisesRegex(ValueError, r"image_shape \(5, 5\) does not make 144"):
            est.fit(self.x.reshape(60, -1), self.y)
        u = np.zeros((4, 10, 10, 1), dtype=np.uint8)
        self.refused(r"X_unlabeled holds images of \(10, 10, 1\)", X_unlabeled=u)

    def test_values(self):
        xf = self.x / 255.0
        xf[3, 2, 2, 0] = np.nan
        self.refused(r"Input X contains NaN", x=xf)
        self.refused(r"outside 0-1: pass max_value", x=self.x.astype(np.float32))
        self.refused(r"not an integer 0-255", x=self.x.astype(np.int64) + 200)
        self.refused(r"strings", x=np.full(self.x.shape, "a"))

    def test_labels(self):
        self.refused(r"one class only", y=np.zeros(60, dtype=int))
        self.refused(r"no labeled row", y=-np.ones(60, dtype=int))
        # Stored by class: the first 10% of the rows hold one class.
        order = np.argsort(self.y, kind="stable")
        est = NoisyStudentClassifier(labeled_split="first", **QUICK)
        with self.assertRaisesRegex(ValueError, r"holds no image of 2 of the 3 classes"):
            est.fit(self.x[order], self.y[order])

    def test_settings(self):
        for params, pattern in [
            (dict(algo="nope"), r"algo='nope': expected one of baseline, .*noisy-student"),
            (dict(threshold=1.5), r"threshold"),
            (dict(epochs=-1), r"epochs=-1: expected a whole number"),
            (dict(engine="burn"), r"burn engine is not compiled"),
            (dict(threads=0), r"threads=0"),
            (dict(teacher_factor=1.0), r"teacher_factor 1 labels every row"),
        ]:
            with self.subTest(params=params):
                with self.assertRaisesRegex(ValueError, pattern):
                    NoisyStudentClassifier(**dict(QUICK, **params)).fit(self.x, self.y)

    def test_settings_are_checked_before_the_data(self):
        with self.assertRaisesRegex(ValueError, r"algo='noisy_student': expected one of"):
            NoisyStudentClassifier(algo="noisy_student").fit(np.zeros((2, 3)), [0, 1])

    def test_prediction_on_other_images(self):
        est = NoisyStudentClassifier(algo="baseline", epochs=1).fit(self.x, self.y)
        with self.assertRaisesRegex(ValueError, r"the model takes \(12, 12, 1\)"):
            est.predict(np.zeros((2, 8, 8), dtype=np.uint8))


class PythonKeepsRunning(unittest.TestCase):
    def test_training_releases_the_gil(self):
        x, y = quick_data(n=600, shape=(16, 16, 1))
        ticks = []
        done = threading.Event()

        def tick():
            while not done.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.01)

        t = threading.Thread(target=tick)
        t.start()
        start = time.monotonic()
        NoisyStudentClassifier(algo="baseline", teacher_factor=1.0, epochs=16, threads=1,
                               seed=1).fit(x, y)
        seconds = time.monotonic() - start
        done.set()
        t.join()
        during = [s for s in ticks if start <= s <= start + seconds]
        # A thread that sleeps 10 ms per tick ticks about 100 times a second when the GIL is
        # free; held by the fit, it would not tick at all.
        self.assertGreater(seconds, 0.3, "the fit was too short to measure")
        self.assertGreater(len(during), 0.5 * seconds / 0.011, (len(during), seconds))

    def test_ctrl_c_raises_keyboard_interrupt_within_a_second_and_saves_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            out = pathlib.Path(d) / "m.safetensors"
            script = textwrap.dedent(f"""
                import faulthandler, signal, sys, time
                faulthandler.register(signal.SIGUSR1, all_threads=True)
                # Ctrl-C as in a terminal, even where this test runs as a background job: a
                # shell starts those with SIGINT ignored, and Python then leaves it ignored.
                signal.signal(signal.SIGINT, signal.default_int_handler)
                sys.path.insert(0, {str(REPO / "python" / "tests")!r})
                import _support
                from nstudent import NoisyStudentClassifier
                x, y = _support.banded_images(3000, (28, 28, 1), 10, 1)
                def started(event):
                    if event["event"] == "epoch":
                        print("training", flush=True)
                est = NoisyStudentClassifier(epochs=1000, threads=1, callback=started)
                try:
                    est.fit(x, y)
                    est.save({str(out)!r})
                except KeyboardInterrupt:
                    print("interrupted", time.monotonic(), flush=True)
            """)
            with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) as child:
                try:
                    self.assertEqual(child.stdout.readline().strip(), "training")
                    sent = time.monotonic()
                    child.send_signal(signal.SIGINT)
                    # Both pipes read to the end while waiting (a child blocked on a full
                    # pipe could never exit), and what it wrote kept for the failure message.
                    try:
                        rest, errors = child.communicate(timeout=60)
                    except subprocess.TimeoutExpired:
                        child.send_signal(signal.SIGUSR1)  # its threads' stacks, to stderr
                        time.sleep(1)
                        child.kill()
                        rest, errors = child.communicate()
                        self.fail(f"still running 60 s after Ctrl-C: {rest[-500:]!r} {errors[-4000:]!r}")
                finally:
                    child.kill()
            lines = rest.splitlines()
            # Epochs that ended before the signal was handled may still say "training".
            ends = [line.split() for line in lines if line != "training"]
            self.assertEqual(len(ends), 1, (lines, errors))
            self.assertEqual(ends[0][:1], ["interrupted"], (lines, errors))
            # The child's monotonic clock is the machine's: the same as this process's.
            self.assertLess(float(ends[0][1]) - sent, 1.0)
            self.assertFalse(out.exists())
            self.assertEqual(child.returncode, 0)


if __name__ == "__main__":
    unittest.main()
