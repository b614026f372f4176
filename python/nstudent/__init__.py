"""nstudent's models and results in Python.

- `NoisyStudentClassifier`: Baseline, Noisy Student or Ensemble Noisy Student as a
  scikit-learn estimator, trained by the Rust engine (the `nstudent._native` extension; the
  `sklearn` extra); its model files are `nstudent train`'s;
- `predict_numpy(path, images)`: class probabilities with numpy and safetensors only;
- `load_model(path)`: the model as a `torch.nn.Module` (needs torch: the `torch` extra);
- `read_results(dir)`: a study's metrics table as a pandas DataFrame (the `pandas` extra);
- `read_images(data)`: new images decoded as `nstudent predict --data` reads them, with their
  file paths in its order (Pillow: the `images` extra).

A model file is safetensors with the weights in PyTorch's layout (`conv1.weight` is
`(out, in, 3, 3)`) and the model's spec as JSON in the metadata; an ensemble is a directory of
member files named by `ensemble.json`.
"""

import json
import os

import numpy as np

from ._extras import require
from .images import image_files, read_images

__all__ = ["NoisyStudentClassifier", "predict_numpy", "load_model", "read_results", "read_model", "read_images",
           "image_files", "ENSEMBLE_MANIFEST"]

ENSEMBLE_MANIFEST = "ensemble.json"


def __getattr__(name):
    """The estimator, imported on first use: it needs scikit-learn (the `sklearn` extra), the
    rest of the package does not."""
    if name == "NoisyStudentClassifier":
        require("sklearn", "sklearn", "NoisyStudentClassifier", package="scikit-learn")
        from .estimator import NoisyStudentClassifier

        return NoisyStudentClassifier
    raise AttributeError(f"module 'nstudent' has no attribute {name!r}")


def _member_paths(path):
    """The model files of `path`: itself, or an ensemble directory's members."""
    if os.path.isdir(path):
        with open(os.path.join(path, ENSEMBLE_MANIFEST)) as f:
            manifest = json.load(f)
        return [os.path.join(path, m) for m in manifest["members"]]
    return [path]


def read_model(path):
    """(tensors, spec) of one model file: numpy float32 arrays by name, and the spec dict."""
    from safetensors import safe_open

    with safe_open(path, framework="np") as f:
        meta = f.metadata() or {}
        if meta.get("format") != "nstudent" or "spec" not in meta:
            raise ValueError(f"{path}: not a model saved by nstudent")
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    return tensors, json.loads(meta["spec"])


def _as_nchw(images, spec):
    """uint8 (N, H, W[, C]) images as float32 (N, C, H, W) in [0, 1], checked against spec."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    i = spec["input"]
    want = (i["height"], i["width"], i["channels"])
    if x.ndim != 4 or tuple(x.shape[1:]) != want:
        raise ValueError(f"the model takes images of {want} (H, W, C), got {x.shape[1:]}")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255)


def _conv(x, w, b, pad):
    """2-D convolution (cross-correlation, stride 1), NCHW, as torch.nn.Conv2d."""
    n, c, h, wd = x.shape
    out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, kh, kw, h, wd), dtype=np.float32)
    for dy in range(kh):
        for dx in range(kw):
            cols[:, :, dy, dx] = xp[:, :, dy:dy + h, dx:dx + wd]
    y = np.einsum("nckhw,ock->nohw", cols.reshape(n, c, kh * kw, h, wd),
                  w.reshape(out, c, kh * kw), optimize=True)
    return y + b[None, :, None, None]


def _relu(x):
    return np.maximum(x, 0)


def _pool(x):
    """2x2 max-pool, stride 2, odd edges dropped (floor), as torch's max_pool2d(x, 2)."""
    n, c, h, w = x.shape
    h2, w2 = h // 2, w // 2
    x = x[:, :, :h2 * 2, :w2 * 2].reshape(n, c, h2, 2, w2, 2)
    return x.max(axis=(3, 5))


def _dense(x, w, b):
    return x @ w.T + b


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _logits(t, spec, x):
    """Eval-mode logits of one model (no dropout, no stochastic depth)."""
    if spec["arch"] == "cnn":
        x = _pool(_relu(_conv(x, t["conv1.weight"], t["conv1.bias"], 1)))
        x = _pool(_relu(_conv(x, t["conv2.weight"], t["conv2.bias"], 1)))
    elif spec["arch"] == "res-cnn":
        x = _relu(_conv(x, t["stem.weight"], t["stem.bias"], 1))
        for block in ("block1", "block2"):
            branch = _conv(
                _relu(_conv(x, t[f"{block}.conv1.weight"], t[f"{block}.conv1.bias"], 1)),
                t[f"{block}.conv2.weight"], t[f"{block}.conv2.bias"], 1)
            if f"{block}.shortcut.weight" in t:
                x = _conv(x, t[f"{block}.shortcut.weight"], t[f"{block}.shortcut.bias"], 0)
            x = _pool(_relu(x + branch))
    else:
        raise ValueError(f"unknown architecture {spec['arch']!r}")
    x = _relu(_dense(x.reshape(x.shape[0], -1), t["fc1.weight"], t["fc1.bias"]))
    return _dense(x, t["fc2.weight"], t["fc2.bias"])


def predict_numpy(path, images, batch_size=256):
    """Class probabilities `(N, num_classes)` of a model file or ensemble directory for uint8
    images `(N, H, W, C)` or `(N, H, W)`, in eval mode, with numpy only."""
    members = [read_model(p) for p in _member_paths(path)]
    out = []
    for start in range(0, len(images), batch_size):
        probs = None
        for t, spec in members:
            x = _as_nchw(images[start:start + batch_size], spec)
            p = _softmax(_logits(t, spec, x).astype(np.float64))
            probs = p if probs is None else probs + p
        out.append(probs / len(members))
    if not out:
        k = members[0][1]["num_classes"]
        return np.zeros((0, k))
    return np.concatenate(out)


def load_model(path):
    """A model file (or an ensemble directory) as a `torch.nn.Module` in eval mode. Its input is
    `(N, C, H, W)` float pixels / 255; its output the logits (an ensemble: the averaged
    probabilities' log). Without torch, raises ModuleNotFoundError naming the `torch` extra."""
    torch = require("torch", "torch", "load_model")

    from . import modules

    models = []
    for p in _member_paths(path):
        tensors, spec = read_model(p)
        m = modules.build(spec)
        m.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
        models.append(m.eval())
    if len(models) == 1:
        return models[0]
    return modules.Ensemble(models).eval()


def read_results(directory):
    """A study's `metrics_table.csv` (a results directory, or the file) as a pandas DataFrame,
    one row per task, algorithm and outer fold. Needs pandas (the `pandas` extra)."""
    pd = require("pandas", "pandas", "read_results")

    path = directory
    if os.path.isdir(path):
        path = os.path.join(path, "metrics_table.csv")
    table = pd.read_csv(path, index_col=0)
    return table
