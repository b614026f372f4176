"""`NoisyStudentClassifier`: nstudent's algorithms as a scikit-learn estimator, trained by the
Rust engine (the `nstudent._native` extension).

The parameters are `nstudent train`'s flags (`--student-arch` is `student_arch`) with its
defaults, read from the Rust config (`_native.defaults()`), and the same data, settings and
seed give the model file `nstudent train` saves, bit for bit.

Pixels: uint8 arrays (and integer arrays) hold 0-255; float arrays hold [0, 1] (scaled by 255
and rounded, as `nstudent train --max-value 1` reads a CSV); other ranges take `max_value`,
the largest pixel value (16 for scikit-learn's digits, 255 for floats in 0-255).
"""

import json
import os
import sys
import tempfile
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted

from . import _native

_D = _native.defaults()

#: The parameters that are `nstudent train` flags, in the flags' order.
TRAIN_PARAMS = tuple(_native.MODEL_PARAMS) + tuple(_native.RUN_PARAMS)


class NoisyStudentClassifier(ClassifierMixin, BaseEstimator):
    """Baseline, Noisy Student or Ensemble Noisy Student on images, as `nstudent train`.

    Every parameter but the last four is the `nstudent train` flag of the same name, with its
    default; `nstudent train --help` describes them. `algo` is one of `baseline`,
    `augmented-baseline`, `baseline-ensemble`, `noisy-student`, `ensemble`.

    `fit(X, y)` follows scikit-learn's semi-supervised convention: rows with `y == -1` are
    unlabeled, and `X_unlabeled` adds more. With unlabeled rows, every given label is used
    (`teacher_factor` defaults to 1, as `nstudent train --unlabeled`). With every row labeled
    and no `X_unlabeled`, `teacher_factor` (default 0.1) keeps that fraction of the labels and
    hides the others, the study's protocol for simulating scarcity, as `nstudent train
    --data` does.

    `threads`: None or -1 use every core, -2 all but one, n > 0 uses n; a speed setting only
    (the model is the same bits for any count).

    Python-only parameters:
    - `image_shape`: `(height, width)` or `(height, width, channels)` of flat `(n, h*w*c)`
      rows; without it a flat row is a square grey image, else a square RGB one.
    - `max_value`: the largest pixel value of non-uint8 input (default: 1 for floats, 255 for
      integers); pixels are scaled to 0-255 by `round(v * 255 / max_value)`.
    - `verbose`: 0 silent, 1 a line per teacher and per iteration, 2 also per epoch.
    - `callback`: called with a dict per event (`split`, `epoch`, `teacher`, `iteration`,
      `stopped`) during `fit`; an exception it raises stops the training and is raised.

    Fitted attributes: `classes_`, `n_features_in_` (pixels per image, `h*w*c`),
    `image_shape_`, `model_` (the trained `nstudent._native.Model`), `pseudo_label_stats_` (one
    dict per Noisy Student iteration: rows pseudo-labeled, kept and trained on per class),
    `labeled_rows_`, `unlabeled_rows_`, `fit_seconds_`.
    """

    def __init__(
        self,
        algo=_D["algo"],
        teacher_factor=_D["teacher_factor"],
        labeled_split=_D["labeled_split"],
        unl_factor=_D["unl_factor"],
        unlabeled_schedule=_D["unlabeled_schedule"],
        threshold=_D["threshold"],
        num_students=_D["num_students"],
        labels=_D["labels"],
        temperature=_D["temperature"],
        balance=_D["balance"],
        balance_target=_D["balance_target"],
        relabel=_D["relabel"],
        ensemble_size=_D["ensemble_size"],
        arch=_D["arch"],
        width=_D["width"],
        student_arch=_D["student_arch"],
        student_width=_D["student_width"],
        dropout=_D["dropout"],
        survival=_D["survival"],
        augment=_D["augment"],
        augment_ops=_D["augment_ops"],
        magnitude=_D["magnitude"],
        flip=_D["flip"],
        no_noise=_D["no_noise"],
        epochs=_D["epochs"],
        batch=_D["batch"],
        lr=_D["lr"],
        seed=_D["seed"],
        engine=_D["engine"],
        threads=_D["threads"],
        sequential_members=_D["sequential_members"],
        image_shape=None,
        max_value=None,
        verbose=0,
        callback=None,
    ):
        self.algo = algo
        self.teacher_factor = teacher_factor
        self.labeled_split = labeled_split
        self.unl_factor = unl_factor
        self.unlabeled_schedule = unlabeled_schedule
        self.threshold = threshold
        self.num_students = num_students
        self.labels = labels
        self.temperature = temperature
        self.balance = balance
        self.balance_target = balance_target
        self.relabel = relabel
        self.ensemble_size = ensemble_size
        self.arch = arch
        self.width = width
        self.student_arch = student_arch
        self.student_width = student_width
        self.dropout = dropout
        self.survival = survival
        self.augment = augment
        self.augment_ops = augment_ops
        self.magnitude = magnitude
        self.flip = flip
        self.no_noise = no_noise
        self.epochs = epochs
        self.batch = batch
        self.lr = lr
        self.seed = seed
        self.engine = engine
        self.threads = threads
        self.sequential_members = sequential_members
        self.image_shape = image_shape
        self.max_value = max_value
        self.verbose = verbose
        self.callback = callback

    def fit(self, X, y, X_unlabeled=None):
        """Trains on images `X` with labels `y` (`-1`: unlabeled) and, optionally, the
        unlabeled images `X_unlabeled`. Returns self."""
        params = {name: getattr(self, name) for name in TRAIN_PARAMS if name != "threads"}
        _native.config_toml(params, False)  # the settings' errors first, before the data's
        threads = _threads(self.threads)
        y = _labels(y)
        unlabeled_rows = _unlabeled_mask(y)
        labeled = ~unlabeled_rows
        if not labeled.any():
            raise ValueError("y holds no labeled row (every label is -1): label some rows")
        classes = np.unique(y[labeled])
        if len(classes) < 2:
            raise ValueError(
                f"y has one class only ({classes[0]!r}): a classifier needs labeled rows of "
                "two or more classes")
        images = self._images(X, "X")
        if len(y) != len(images):
            raise ValueError(f"y holds {len(y)} labels for {len(images)} images: give one per image")
        pools = [images[unlabeled_rows]] if unlabeled_rows.any() else []
        if X_unlabeled is not None:
            extra = self._images(X_unlabeled, "X_unlabeled", shape=images.shape[1:])
            if len(extra):
                pools.append(extra)
        pool = np.concatenate(pools) if pools else None
        codes = np.searchsorted(classes, y[labeled]).astype(np.int64)
        names = [str(c) for c in classes]
        model, report = _native.train(
            np.ascontiguousarray(images[labeled]), codes, names, pool, params, threads,
            self._on_event())
        report = json.loads(report)
        self.model_ = model
        self.classes_ = classes
        self.image_shape_ = tuple(images.shape[1:])
        self.n_features_in_ = int(np.prod(self.image_shape_))
        self.pseudo_label_stats_ = [_stats(it) for it in report["iterations"] or []]
        self.labeled_rows_ = report["labeled_rows"]
        self.unlabeled_rows_ = report["unlabeled_rows"]
        self.fit_seconds_ = report["seconds"]
        self.stopped_early_ = report["stopped_early"]
        _warn_labeled_only(self.pseudo_label_stats_)
        return self

    def predict_proba(self, X):
        """Class probabilities, `(n, len(classes_))`, columns in `classes_` order."""
        check_is_fitted(self, "model_")
        images = self._images(X, "X", shape=self.image_shape_)
        return self.model_.predict_proba(images, _threads(self.threads))

    def predict(self, X):
        """The most probable class of every image (the first on ties)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def save(self, path):
        """Saves the model as `nstudent train --out` does: a safetensors file, or a directory
        for an ensemble; `nstudent predict --model path` uses it."""
        check_is_fitted(self, "model_")
        self.model_.save(os.fspath(path))

    @classmethod
    def load(cls, path, **params):
        """A fitted estimator of a model saved by `save` or `nstudent train`. Its classes are
        the saved class names (as integers when they all are). `params` set the other
        parameters (`max_value` for non-uint8 input, `threads`)."""
        est = cls(**params)
        model = _native.Model.load(os.fspath(path))
        est.model_ = model
        est.classes_ = _classes_from_names(model.class_names, model.num_classes)
        est.image_shape_ = tuple(model.input_shape)
        est.n_features_in_ = int(np.prod(est.image_shape_))
        return est

    def __getstate__(self):
        state = self.__dict__.copy()
        if "model_" in state:
            state["model_"] = _model_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if "model_" in state:
            state = dict(state, model_=_model_from_bytes(state["model_"]))
        self.__dict__.update(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # pixels
        return tags

    def _images(self, X, name, shape=None):
        """`X` as C-ordered uint8 `(n, h, w, c)` images; `shape` is the `(h, w, c)` they must
        have (the fitted one)."""
        # scikit-learn's own checks and messages: dense, numeric, finite, not empty.
        x = check_array(X, accept_sparse=False, allow_nd=True, dtype="numeric",
                        ensure_all_finite=True, input_name=name)
        if x.dtype.kind not in "uif":
            raise ValueError(
                f"{name} holds {x.dtype} values: give numbers (uint8 0-255, or floats in [0, 1])")
        if x.size and x.min() < 0:
            raise ValueError(f"Negative values in data passed to {name}: pixels are 0 or more")
        x = self._as_4d(x, name, shape)
        if shape is not None and tuple(x.shape[1:]) != tuple(shape):
            raise ValueError(
                f"{name} holds images of {tuple(x.shape[1:])} (h, w, c); the model takes "
                f"{tuple(shape)}: reshape them or fit again")
        if x.dtype == np.uint8 and self.max_value is None:
            return np.ascontiguousarray(x)
        max_value = self.max_value
        if max_value is None and x.dtype.kind == "f":
            max_value = 1.0
        flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
        return _native.pixels_to_bytes(flat, max_value).reshape(x.shape)

    def _as_4d(self, x, name, shape):
        if x.ndim == 2:
            want = self._flat_shape(x.shape[1], name, shape)
            return x.reshape((x.shape[0],) + want)
        if x.ndim == 3:
            return x[..., None]
        if x.ndim == 4:
            return x
        raise ValueError(
            f"{name} has {x.ndim} dimensions, shape {x.shape}: give images (n, h, w) or "
            "(n, h, w, c), or flat rows (n, h*w*c) with image_shape")

    def _flat_shape(self, pixels, name, fitted):
        """The `(h, w, c)` of flat rows of `pixels` values."""
        if self.image_shape is not None:
            s = tuple(int(v) for v in self.image_shape)
            s = s + (1,) if len(s) == 2 else s
            if len(s) != 3 or int(np.prod(s)) != pixels:
                raise ValueError(
                    f"image_shape {tuple(self.image_shape)} does not make {pixels} pixels per "
                    f"row of {name}: give (height, width) or (height, width, channels)")
            return s
        if fitted is not None and int(np.prod(fitted)) == pixels:
            return tuple(fitted)
        s = _native.infer_image_shape(pixels)
        if s is None:
            raise ValueError(
                f"{name} has {pixels} feature(s) per row, not the pixels of a square grey or "
                "RGB image: pass image_shape=(height, width[, channels]) or give (n, h, w[, c]) "
                "arrays")
        return tuple(s)

    def _on_event(self):
        """The event handler `fit` passes to the engine, or None when nothing listens."""
        if not self.verbose and self.callback is None:
            return None
        verbose, callback = self.verbose, self.callback

        def on_event(text):
            event = json.loads(text)
            if verbose:
                line = _progress_line(event, verbose)
                if line:
                    print(line, file=sys.stdout, flush=True)
            if callback is not None:
                callback(event)

        return on_event


def _labels(y):
    """`y` as a 1-D array of class labels (`-1`: unlabeled), or ValueError."""
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y has shape {y.shape}: y should be a 1d array, one label per image")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("y holds NaN or infinite labels: mark unlabeled rows with -1")
    if y.dtype == object:
        y = y.astype(str)
    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"Unknown label type: {kind}: y must hold one class label per image")
    return y


def _unlabeled_mask(y):
    """Rows marked unlabeled: `-1`, as in `sklearn.semi_supervised` (numeric labels only)."""
    if y.dtype.kind in "iuf":
        return y == -1
    return np.zeros(len(y), dtype=bool)


def _threads(threads):
    """scikit-learn's `n_jobs` meaning as nstudent's thread count (0: every core)."""
    if threads is None or threads == -1:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads == 0:
        raise ValueError(
            f"threads={threads!r}: give a positive count, -1 (every core) or -2 (all but one)")
    if threads < 0:
        return max(1, (os.cpu_count() or 1) + 1 + int(threads))
    return int(threads)


def _stats(it):
    kept = sum(it["kept_per_class"])
    return {
        "iteration": it["iteration"],
        "unlabeled_rows": it["unlabeled_rows"],
        "predicted_rows": it["predicted_rows"],
        "kept": kept,
        "kept_fraction": kept / it["unlabeled_rows"] if it["unlabeled_rows"] else 0.0,
        "kept_per_class": it["kept_per_class"],
        "trained_per_class": it["trained_per_class"],
        "labeled_rows": it["labeled_rows"],
        "labeled_only": it["labeled_only"],
        "seconds": it["seconds"],
    }


def _warn_labeled_only(stats):
    """Warns, as `nstudent train` does, when no pseudo-label passed the threshold in an
    iteration: its student learned from the labeled rows alone."""
    empty = [s["iteration"] for s in stats if s["labeled_only"]]
    if empty:
        warnings.warn(
            f"iteration(s) {empty}: no pseudo-label passed the threshold, so the student "
            "trained on the labeled rows alone; train the teacher longer (epochs) or on more "
            "labels (teacher_factor), or lower threshold", UserWarning, stacklevel=3)


def _progress_line(event, verbose):
    kind = event["event"]
    if kind == "split":
        pool = "the unlabeled images" if event["separate_pool"] else "the hidden-label rows"
        return f"labels: {event['labeled']} labeled images; {event['unlabeled']} in the pool ({pool})"
    if kind == "epoch" and verbose >= 2:
        who = "teacher" if event["iteration"] == 0 else f"student {event['iteration']}"
        return f"  {who} member {event['member'] + 1} epoch {event['epoch']}: mean loss {event['loss']:.4f}"
    if kind == "teacher":
        return f"teacher ({event['models']} model{'s' if event['models'] > 1 else ''}): {event['seconds']:.1f} s"
    if kind == "iteration":
        kept = sum(event["kept_per_class"])
        trained = sum(event["trained_per_class"])
        only = (" (no pseudo-label passed the threshold: labeled data only)"
                if event["labeled_only"] else "")
        return (f"iteration {event['iteration']}: {event['unlabeled_rows']} unlabeled rows, kept "
                f"{kept}, trained on {event['labeled_rows']} labeled + {trained} pseudo-labeled"
                f"{only}, {event['seconds']:.1f} s")
    if kind == "stopped":
        return f"stopped early: {event['message']}"
    return None


def _classes_from_names(names, k):
    names = list(names) or [str(i) for i in range(k)]
    try:
        return np.array([int(n) for n in names])
    except ValueError:
        return np.array(names)


def _model_bytes(model):
    """A model as `{file name: bytes}` (one file, or an ensemble directory's files)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model")
        model.save(path)
        if os.path.isdir(path):
            files = {f: open(os.path.join(path, f), "rb").read() for f in os.listdir(path)}
            return {"ensemble": files}
        with open(path, "rb") as f:
            return {"file": f.read()}


def _model_from_bytes(saved):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model")
        if "ensemble" in saved:
            os.mkdir(path)
            for name, data in saved["ensemble"].items():
                with open(os.path.join(path, os.path.basename(name)), "wb") as f:
                    f.write(data)
        else:
            with open(path, "wb") as f:
                f.write(saved["file"])
        return _native.Model.load(path)
