"""KerasHub (and KerasNLP, KerasCV) task models: `*Classifier(...)` and `*Classifier.from_preset(...)`.

A task classifier is a Keras model whose head is one Dense(num_classes, activation=activation).
Checked in keras-hub 0.32 (`ImageClassifier`, `TextClassifier` and every model's subclass:
`activation=None`, raw logits) and keras-cv 0.9 (`ImageClassifier`: `activation="softmax"`).
`from_preset` keeps the preset's saved activation unless one is given, so there it stays
unknown. `compile(loss="auto")` picks `SparseCategoricalCrossentropy(from_logits=...)` to match
the activation: that pairing is never checked (no loss is resolved from "auto").
"""

from __future__ import annotations

from actlint.facts import LINEAR, UNKNOWN, Head
from actlint.frontends.data import const_int
from actlint.frontends.interp import NOT_HANDLED, Frontend
from actlint.frontends.keras import activation_of
from actlint.frontends.values import ModelVal, new_id

# package -> the activation its task classifiers default to when built directly
DEFAULT_ACTIVATION = {"keras_hub": LINEAR, "keras_nlp": LINEAR, "keras_cv": "softmax"}


def task_classifier(name: str):
    """(package, is_from_preset) for `keras_hub.models.BertTextClassifier[.from_preset]`, else None."""
    parts = name.split(".")
    preset = parts[-1] == "from_preset"
    cls = parts[-2] if preset else parts[-1]
    if parts[0] not in DEFAULT_ACTIVATION or "models" not in parts or not cls.endswith("Classifier"):
        return None
    return parts[0], preset


class KerasHubFrontend(Frontend):
    def call_ref(self, name, args, node, interp):
        found = task_classifier(name)
        if found is None:
            return NOT_HANDLED
        package, preset = found
        site = interp.site(node)
        if args.starred:  # **kwargs may hold the activation
            act, act_site = UNKNOWN, site
        elif args.given(None, "activation"):
            act, act_site = activation_of(args.get(None, "activation")), interp.site(args.node(None, "activation"))
        else:
            act, act_site = (UNKNOWN if preset else DEFAULT_ACTIVATION[package]), site
        index = None if preset else 1  # Classifier(backbone, num_classes, ...); from_preset(preset, **kw)
        units = const_int(args.get(index, "num_classes"))
        units_site = interp.site(args.node(index, "num_classes")) if units is not None else None
        return ModelVal(new_id(), outputs=(Head(act, units, act_site, units_site),), site=site)
