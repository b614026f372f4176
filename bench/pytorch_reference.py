#!/usr/bin/env python3
"""PyTorch reference for nstudent's native engine.

1. The study's models as PyTorch modules, with the same parameter names and layouts as the
   safetensors files nstudent writes, so a PyTorch user can load them (`load_nstudent`).
   The test fixtures of nstudent-engine are generated from these very modules.
2. A CPU benchmark of the same model, same method and same JSON keys as `nstudent bench`:

       python bench/pytorch_reference.py --threads 2 --json

   Training images/s = forward + backward + Adam step per batch on random inputs (median of
   `--repeats` timed runs after a warm-up); inference images/s = eval-mode forward.

Needs only torch (and numpy, which torch brings).
"""

import argparse
import json
import math
import pathlib
import statistics
import struct
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F


# The modules live in the Python package (python/nstudent/modules.py), importable without
# installing it.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "python"))
from nstudent.modules import (  # noqa: E402
    Cnn,
    ResCnn,
    build,
    scaled,
    stochastic_depth,
)


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file, without the safetensors package."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    dtypes = {"F32": torch.float32, "U8": torch.uint8, "I64": torch.int64}
    tensors = {}
    for name, info in header.items():
        s, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[s:e]), dtype=dtypes[info["dtype"]])
        tensors[name] = t.reshape(info["shape"])
    return tensors, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (float32/uint8) as safetensors, without the safetensors package."""
    names = {torch.float32: "F32", torch.uint8: "U8", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_nstudent(path):
    """Loads a model saved by nstudent. Inputs: (N, C, H, W) float pixels / 255."""
    tensors, meta = read_safetensors(path)
    model = build(json.loads(meta["spec"]))
    model.load_state_dict(tensors)
    return model.eval()


# ---------------------------------------------------------------------------------- benchmark

def _train_rate(shape, batch, steps, repeats, classes=10):
    h, w, c = shape
    model = Cnn(h, w, c, classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, c, h, w, generator=g)
    y = torch.randint(0, classes, (batch,), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(max(2, steps // 5)):
        step()
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(batch * steps / (time.perf_counter() - t))
    return statistics.median(rates)


def _infer_rate(shape, batch, repeats, classes=10):
    h, w, c = shape
    model = Cnn(h, w, c, classes).eval()
    x = torch.rand(batch, c, h, w, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(x)
        rates = []
        for _ in range(repeats):
            t = time.perf_counter()
            model(x)
            rates.append(batch / (time.perf_counter() - t))
    return statistics.median(rates)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seconds", type=float, default=1.0,
                   help="approximate duration of one timed run")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = {}
    for shape in [(28, 28, 1), (32, 32, 3)]:
        name = "x".join(map(str, shape))
        for batch in [32, 128]:
            # Size the runs from a quick probe so each lasts about --seconds.
            probe = _train_rate(shape, batch, 3, 1)
            steps = max(3, int(a.seconds * probe / batch))
            out[f"train_{name}_b{batch}"] = round(_train_rate(shape, batch, steps, a.repeats), 1)
    for shape in [(28, 28, 1), (32, 32, 3)]:
        name = "x".join(map(str, shape))
        out[f"infer_{name}_b1024"] = round(_infer_rate(shape, 1024, a.repeats), 1)
    out["engine"] = f"pytorch {torch.__version__}"
    out["threads"] = a.threads
    if a.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:24} {v}")


if __name__ == "__main__":
    sys.exit(main())
