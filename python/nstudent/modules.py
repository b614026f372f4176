"""The study's models as PyTorch modules, with the parameter names and layouts of the
safetensors files nstudent writes (`nstudent.load_model` builds them). nstudent-engine's test
fixtures and `bench/pytorch_reference.py` use these very modules."""

import math

import torch
from torch import nn
import torch.nn.functional as F


def scaled(base, width):
    """Channels of a layer of base width `base` (rounded half away from zero, at least 1)."""
    return max(1, int(math.floor(base * width + 0.5)))


def _glorot(module):
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def stochastic_depth(branch, survival, training, mask=None):
    """Per-image stochastic depth, inverted (train: keep with prob `survival`, scale 1/survival;
    eval: identity), as torchvision.ops.stochastic_depth(mode="row")."""
    if mask is not None:
        return branch * mask.view(-1, 1, 1, 1)
    if not training or survival >= 1.0:
        return branch
    keep = torch.empty(branch.shape[0], 1, 1, 1, dtype=branch.dtype).bernoulli_(survival)
    return branch * keep / survival


class Cnn(nn.Module):
    """Conv32-ReLU-MaxPool-Conv64-ReLU-MaxPool-Dense128-ReLU-[Dropout]-Dense k (times width)."""

    def __init__(self, height, width_px, channels, num_classes, width=1.0, dropout=0.0):
        super().__init__()
        c1, c2, d = scaled(32, width), scaled(64, width), scaled(128, width)
        self.conv1 = nn.Conv2d(channels, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear((height // 4) * (width_px // 4) * c2, d)
        self.fc2 = nn.Linear(d, num_classes)
        self.dropout = dropout
        _glorot(self)

    def forward(self, x, dropout_mask=None):
        """x: (N, C, H, W) in [0, 1]. Returns logits."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        if dropout_mask is not None:
            x = x * dropout_mask
        elif self.dropout > 0:
            x = F.dropout(x, self.dropout, self.training)
        return self.fc2(x)


class _Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, survival, training, mask=None):
        branch = self.conv2(F.relu(self.conv1(x)))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(skip + stochastic_depth(branch, survival, training, mask))


class ResCnn(nn.Module):
    """Stem conv, residual block (c1), max-pool, residual block (c1 -> c2, 1x1 shortcut),
    max-pool, Dense-ReLU, [Dropout], Dense k. Block l of L survives with probability
    1 - l/L * (1 - survival)."""

    def __init__(self, height, width_px, channels, num_classes, width=1.0, dropout=0.0,
                 survival=1.0):
        super().__init__()
        c1, c2, d = scaled(32, width), scaled(64, width), scaled(128, width)
        self.stem = nn.Conv2d(channels, c1, 3, padding=1)
        self.block1 = _Block(c1, c1)
        self.block2 = _Block(c1, c2)
        self.fc1 = nn.Linear((height // 4) * (width_px // 4) * c2, d)
        self.fc2 = nn.Linear(d, num_classes)
        self.dropout = dropout
        self.survivals = [1.0 - l / 2.0 * (1.0 - survival) for l in (1, 2)]
        _glorot(self)

    def forward(self, x, depth_masks=None, dropout_mask=None):
        dm = depth_masks or [None, None]
        x = F.relu(self.stem(x))
        x = F.max_pool2d(self.block1(x, self.survivals[0], self.training, dm[0]), 2)
        x = F.max_pool2d(self.block2(x, self.survivals[1], self.training, dm[1]), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        if dropout_mask is not None:
            x = x * dropout_mask
        elif self.dropout > 0:
            x = F.dropout(x, self.dropout, self.training)
        return self.fc2(x)


def build(spec):
    """The module for an nstudent ModelSpec (a dict as stored in the model file's metadata)."""
    i = spec["input"]
    args = (i["height"], i["width"], i["channels"], spec["num_classes"], spec["width"],
            spec["dropout"])
    if spec["arch"] == "cnn":
        return Cnn(*args)
    if spec["arch"] == "res-cnn":
        return ResCnn(*args, survival=spec["survival"])
    raise ValueError(f"unknown arch {spec['arch']}")


class Ensemble(nn.Module):
    """Members whose probabilities are averaged; returns the log of the mean probabilities."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        probs = torch.stack([F.softmax(m(x), dim=1) for m in self.members]).mean(dim=0)
        return torch.log(probs)
