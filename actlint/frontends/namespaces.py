"""How frameworks name things, as data the interpreter consults (it knows no framework itself):
import aliases that name one API (tf.keras is keras), what a star import of a library module
brings, the contexts under which nothing is trained, and the flags and modes that tell training
from inference.

A new framework adds its aliases, its star-importable modules and, if it has one, its
gradient-off context here (see CONTRIBUTING.md).
"""

from __future__ import annotations

from actlint.frontends.values import Ref

# Import paths that name the same API: the frontends see each symbol under one canonical name.
ALIASES = (
    ("tensorflow.compat.v1.keras", "keras"),
    ("tensorflow.python.keras", "keras"),
    ("tensorflow.keras", "keras"),
    ("tf_keras", "keras"),
    ("keras.src", "keras"),
    ("keras.api", "keras"),
    ("keras._tf_keras.keras", "keras"),
    ("tensorflow", "tf"),
    ("tf.compat.v1.keras", "keras"),
    ("tf.keras", "keras"),
    ("tf.compat.v1", "tf"),
    ("tf.compat.v2", "tf"),
)


def canonical(name: str) -> str:
    """`tensorflow.keras.layers.Dense` -> `keras.layers.Dense`; `tensorflow.nn` -> `tf.nn`."""
    for prefix, short in ALIASES:
        if name == prefix or name.startswith(prefix + "."):
            return canonical(short + name[len(prefix):])
    return name


STAR = "*"  # env key: the library modules star-imported there, in order
STAR_LIBRARIES = {"keras", "tensorflow", "tf_keras", "torch"}
# What a star import of a library module brings, by the module's last part: the names the
# frontends know by that module (a name none of them claims stays unknown: quiet).
_STAR_NAMES = {
    "models": lambda n: n in ("Sequential", "Model", "load_model"),
    "losses": lambda n: n.endswith(("Crossentropy", "crossentropy", "Loss")) or n in ("get", "kl_divergence", "KLDivergence"),
    "activations": lambda n: n.islower(),
    "utils": lambda n: n == "to_categorical",
    "np_utils": lambda n: n == "to_categorical",
    "layers": lambda n: n[:1].isupper(),
    "core": lambda n: n[:1].isupper(),
    "nn": lambda n: n[:1].isupper(),
    "functional": lambda n: n.islower(),
}


def star_imported(modules: tuple, name: str):
    """The library symbol `name` is, under `from <module> import *` (the last such import that
    provides it wins, as in Python), else None."""
    for module in reversed(modules):
        provides = _STAR_NAMES.get(module.rsplit(".", 1)[-1])
        if provides is not None and provides(name):
            return Ref(canonical(module + "." + name))
    return None


# Contexts and decorators under which nothing is trained (torch): `with torch.no_grad():`,
# `@torch.inference_mode()`. A log(0) there (a metric, a matcher's cost) is no loss's business.
GRAD_OFF = ("no_grad", "inference_mode")

# Training flags (a parameter, a variable or an attribute such as nn.Module.training) and the modes
# a `mode == "train"` test names (tf.estimator's ModeKeys too): an unresolved test of one takes the
# branch that runs during training (interp.training_test).
TRAINING_FLAGS = frozenset({
    "training", "is_training", "train", "is_train", "train_mode", "training_mode", "in_training",
    "phase_train", "istraining", "istrain", "do_train", "train_phase",
})
TRAINING_MODES = frozenset({"train", "training", "fit"})
INFERENCE_MODES = frozenset({"eval", "evaluate", "test", "infer", "inference", "predict", "prediction", "val", "valid"})
