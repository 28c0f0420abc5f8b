"""The static claim, confirmed by running the same program for real (tiny inputs, no training).

Each program is linted (the finding must be there) and then executed with the real framework,
which must show what the finding says. Skipped where torch or keras is not installed.
"""

from __future__ import annotations

import math
import os

import pytest

from actlint.engine import lint_source

TORCH_SOFTMAX_NLL = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)

model = Net()
criterion = nn.NLLLoss()
x, y = torch.randn(32, 8), torch.randint(0, 10, (32,))
loss = criterion(model(x), y)
"""

TORCH_DOUBLE_SOFTMAX = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 10), nn.Softmax(dim=1))
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(32, 8), torch.randint(0, 10, (32,))
with torch.no_grad():
    model[0].weight.mul_(50.0)  # a very confident model
loss = criterion(model(x), y)
"""

TORCH_DOUBLE_SIGMOID = """\
import torch
import torch.nn as nn

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))

model = Tagger()
criterion = nn.BCEWithLogitsLoss()
x = torch.randn(32, 8)
y = torch.ones(32, 5)
loss = criterion(model(x), y)
"""

KERAS_SINGLE_UNIT_SOFTMAX = """\
import numpy as np
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(16, activation="relu"),
                          layers.Dense(1, activation="softmax")])
model.compile(optimizer="adam", loss="binary_crossentropy")
predictions = model.predict(np.random.default_rng(0).normal(size=(32, 8)), verbose=0)
"""


def codes(source: str) -> set:
    return {r.code for r in lint_source("program.py", source.encode()).results}


def run(source: str) -> dict:
    scope: dict = {}
    exec(compile(source, "program.py", "exec"), scope)  # our own test program, not analyzed user code
    return scope


def test_softmax_into_nll_loss_is_negative():
    torch = pytest.importorskip("torch")
    assert codes(TORCH_SOFTMAX_NLL) == {"ACT104"}
    torch.manual_seed(0)
    assert run(TORCH_SOFTMAX_NLL)["loss"].item() < 0


def test_double_softmax_cannot_go_below_the_floor():
    torch = pytest.importorskip("torch")
    assert codes(TORCH_DOUBLE_SOFTMAX) == {"ACT101"}
    torch.manual_seed(0)
    floor = math.log(1 + 9 / math.e)  # 1.4612 for 10 classes
    assert run(TORCH_DOUBLE_SOFTMAX)["loss"].item() >= floor - 1e-6


def test_double_sigmoid_loss_floor_for_positive_labels():
    torch = pytest.importorskip("torch")
    assert codes(TORCH_DOUBLE_SIGMOID) == {"ACT102"}
    torch.manual_seed(0)
    assert run(TORCH_DOUBLE_SIGMOID)["loss"].item() >= math.log(1 + math.exp(-1)) - 1e-6  # 0.3133


def test_single_unit_softmax_always_predicts_one():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("keras")
    assert codes(KERAS_SINGLE_UNIT_SOFTMAX) == {"ACT201"}
    assert (run(KERAS_SINGLE_UNIT_SOFTMAX)["predictions"] == 1.0).all()
