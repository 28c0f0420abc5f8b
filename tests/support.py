"""Sources and an in-process CLI runner shared by the workflow tests (config, suppressions, formats, notebooks)."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass

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


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    output: str  # stdout and stderr interleaved, as a terminal shows them
    exception: BaseException | None  # a SystemExit with a non-zero code, or what main raised
    exc_info: tuple | None


class _Copy(io.BytesIO):
    """A byte stream that also copies every write into `mixed`."""

    def __init__(self, mixed: io.BytesIO):
        super().__init__()
        self.mixed = mixed

    def write(self, data) -> int:
        self.mixed.write(data)
        return super().write(data)


def invoke(args, input=None, env=None) -> Result:
    """Run `main(args)` in this process with its own stdin, stdout and stderr (not terminals) and
    environment (`env`; a value of None unsets the variable). What main raises besides SystemExit
    becomes `exception` and exit code 1."""
    mixed = io.BytesIO()
    out, err = _Copy(mixed), _Copy(mixed)
    data = input.encode() if isinstance(input, str) else input or b""
    streams = (io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"),
               io.TextIOWrapper(out, encoding="utf-8", write_through=True),
               io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True))
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_environ = {name: os.environ.get(name) for name in env or {}}
    sys.stdin, sys.stdout, sys.stderr = streams
    _set_environ(env or {})
    exit_code, exception, exc_info = 0, None, None
    try:
        main([str(a) for a in args])
    except SystemExit as stop:
        exit_code = stop.code or 0
        if exit_code:
            exception, exc_info = stop, sys.exc_info()
    except Exception as error:
        exit_code, exception, exc_info = 1, error, sys.exc_info()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        _set_environ(saved_environ)
    return Result(exit_code, _text(out), _text(err), _text(mixed), exception, exc_info)


def _text(stream: io.BytesIO) -> str:
    return stream.getvalue().decode("utf-8", "replace").replace("\r\n", "\n")


def _set_environ(values: dict) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def run(*args, input=None, env=None) -> Result:
    return invoke(args, input=input, env=env)


def codes(result) -> list:
    """The codes of the findings in concise output."""
    return [line.split(": ", 1)[1].split()[0] for line in result.stdout.splitlines() if line and not line.startswith(" ")]
