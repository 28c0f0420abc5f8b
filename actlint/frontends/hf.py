"""Hugging Face transformers: the loss a classification model computes itself.

Called with `labels=`, a `*ForSequenceClassification` (image, audio, video) model trains
its own loss on its logits, chosen by the config (transformers 5.25,
`loss/loss_utils.py: ForSequenceClassificationLoss`):

- `problem_type="regression"`, or none given and `num_labels == 1`: MSELoss;
- `problem_type="single_label_classification"`: cross-entropy on `labels.view(-1)`, integer ids;
- `problem_type="multi_label_classification"`: BCEWithLogitsLoss, multi-hot targets.

With no `problem_type` and `num_labels > 1` the choice follows the labels' dtype at run time,
which is not resolved here: such a model is paired with no loss. The model itself (its linear
head of num_labels logits) is built by the torch frontend; this one only pairs its labels.
"""

from __future__ import annotations

from actlint.facts import Binding, Loss
from actlint.frontends.data import const_int, const_str, hf_model_class
from actlint.frontends.interp import NOT_HANDLED, Frontend
from actlint.frontends.values import ModelVal, Obj, TargetVal

PROBLEM_TYPES = {
    "regression": "transformers.regression",
    "single_label_classification": "transformers.single_label_classification",
    "multi_label_classification": "transformers.multi_label_classification",
}
LOSS_HEADS = ("ForSequenceClassification", "ForImageClassification", "ForAudioClassification",
              "ForVideoClassification")
CONFIG_KEYS = ("num_labels", "problem_type")


class HuggingFaceFrontend(Frontend):
    def __init__(self):
        self.problems: dict = {}  # the from_pretrained call -> (loss id, site that chose it)
        self.pairs: list[Binding] = []

    def call_ref(self, name, args, node, interp):
        cls = hf_model_class(name)
        if cls is None or cls.startswith(("TF", "Flax")):
            return NOT_HANDLED
        if cls.endswith("Config") and name.endswith(("from_pretrained", cls)):
            return self.config(args, node, interp)
        if cls.endswith(LOSS_HEADS):
            self.note_problem(args, node, interp)
        return NOT_HANDLED  # the model itself is built by the torch frontend

    def config(self, args, node, interp) -> Obj:
        """AutoConfig.from_pretrained(..., num_labels=3, problem_type=...): what the model will read."""
        info = tuple((key, args.get(None, key)) for key in CONFIG_KEYS if args.given(None, key))
        return Obj("hf_config", info + (("node", args.node(None, "problem_type")),), interp.site(node))

    def note_problem(self, args, node, interp) -> None:
        config = args.get(None, "config")
        config = config if isinstance(config, Obj) and config.kind == "hf_config" else Obj("hf_config")
        problem, labels = args.get(None, "problem_type") or config.get("problem_type"), \
            args.get(None, "num_labels") or config.get("num_labels")
        choice = args.node(None, "problem_type") or config.get("node")
        if problem is not None:
            loss_id = PROBLEM_TYPES.get(const_str(problem))
        elif not args.given(None, "problem_type") and const_int(labels) == 1:
            loss_id, choice = PROBLEM_TYPES["regression"], args.node(None, "num_labels")
        else:
            loss_id = None
        if loss_id is not None:
            self.problems[node] = (loss_id, interp.site(choice) if choice is not None else interp.site(node))

    def call_value(self, callee, args, node, interp):
        """model(input_ids, labels=y): the model's own loss on its logits and y."""
        if not (isinstance(callee, ModelVal) and callee.site is not None and callee.site.node in self.problems):
            return NOT_HANDLED
        labels = args.get(None, "labels")
        if isinstance(labels, TargetVal) and callee.layers and callee.layers[-1].kind == "hf_classifier":
            loss_id, site = self.problems[callee.site.node]
            self.pairs.append(Binding(callee.layers[-1].head, Loss(loss_id, site, False, loss_id.split(".")[1]),
                                      labels.target))
        return NOT_HANDLED

    def bindings(self, interp) -> list:
        return self.pairs
