"""Sources and a CLI runner shared by the workflow tests (config, suppressions, formats, notebooks)."""

from __future__ import annotations

from click.testing import CliRunner

from actlint.cli import main

# ACT201 at 6:5, its loss at 8:38.
BUGGY = """\
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(1, activation="softmax"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
"""
CLEAN = BUGGY.replace('activation="softmax"', 'activation="sigmoid"')

# ACT302 at 17:38 (targets at 8:40, head at 14:5) and ACT201 at 24:5 (loss at 26:41).
TWO_BUGS = """\
\"\"\"A small MNIST classifier with two classic head/loss/label mismatches.\"\"\"
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

NUM_CLASSES = 10

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0

model = keras.Sequential([
    layers.Input(shape=(784,)),
    layers.Dense(128, activation="relu"),
    layers.Dense(NUM_CLASSES, activation="softmax"),
])
# The labels are integer class ids, but this loss expects one-hot vectors.
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=5, batch_size=128)

is_zero = (y_train == 0).astype("float32")
detector = keras.Sequential([
    layers.Input(shape=(784,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(1, activation="softmax"),
])
detector.compile(optimizer="adam", loss="binary_crossentropy")
detector.fit(x_train, is_zero, epochs=3)
"""


def run(*args, input=None, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, env=env)


def codes(result) -> list:
    """The codes of the findings in concise output."""
    return [line.split(": ", 1)[1].split()[0] for line in result.stdout.splitlines() if line and not line.startswith(" ")]
