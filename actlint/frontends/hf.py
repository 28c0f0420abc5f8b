"""Hugging Face transformers: the loss a classification model computes itself.

Called with `labels=`, a `*ForSequenceClassification` (image, audio, video) model trains
its own loss on its logits, chosen by the config (transformers 5.25,
`loss/loss_utils.py: ForSequenceClassificationLoss`):

- `problem_type="regression"`, or none given and `num_labels == 1`: MSELoss;
- `problem_type="single_label_classification"`: cross-entropy on `labels.view(-1)`, integer ids;
- `problem_type="multi_label_classification"`: BCEWithLogitsLoss, multi-hot targets.

With no `problem_type` and `num_labels > 1` the choice follows the labels' dtype at run time:
integer class ids (long) pick the single-label loss; other targets are paired with no loss.
`Trainer(model=..., train_dataset=...)` trains the same loss on a named dataset's labels
(rules/datasets.toml). The model itself (its linear
head of num_labels logits) is built by the torch frontend; this one only pairs its labels.
"""

from __future__ import annotations

from actlint.facts import INDEX, Binding, Loss
from actlint.frontends.data import const_int, const_str, hf_model_class
from actlint.frontends.interp import NOT_HANDLED, Args, Frontend
from actlint.frontends.values import Class, Mapping, ModelVal, Obj, TargetVal

PROBLEM_TYPES = {
    "regression": "transformers.regression",
    "single_label_classification": "transformers.single_label_classification",
    "multi_label_classification": "transformers.multi_label_classification",
}
LOSS_HEADS = ("ForSequenceClassification", "ForImageClassification", "ForAudioClassification",
              "ForVideoClassification")
CONFIG_KEYS = ("num_labels", "problem_type")
TRAINERS = {"transformers.Trainer", "transformers.trainer.Trainer"}


class HuggingFaceFrontend(Frontend):
    def __init__(self):
        self.models: dict = {}  # the from_pretrained call -> (problem_type, num_labels, the site that set them)
        self.pairs: list[Binding] = []

    def call_ref(self, name, args, node, interp):
        if name in TRAINERS:
            return self.trainer(args, node, interp)
        cls = hf_model_class(name)
        if cls is None or cls.startswith(("TF", "Flax")):
            return NOT_HANDLED
        if cls.endswith("Config") and name.endswith(("from_pretrained", cls)):
            return self.config(args, node, interp)
        if cls.endswith(LOSS_HEADS):
            self.note_model(args, node, interp)
        return NOT_HANDLED  # the model itself is built by the torch frontend

    def config(self, args, node, interp) -> Obj:
        """AutoConfig.from_pretrained(..., num_labels=3, problem_type=...): what the model will read."""
        info = tuple((key, args.get(None, key)) for key in CONFIG_KEYS if args.given(None, key))
        return Obj("hf_config", info + (("node", args.node(None, "problem_type")),), interp.site(node))

    def note_model(self, args, node, interp) -> None:
        config = args.get(None, "config")
        config = config if isinstance(config, Obj) and config.kind == "hf_config" else Obj("hf_config")
        problem = args.get(None, "problem_type") if args.given(None, "problem_type") else config.get("problem_type")
        labels = args.get(None, "num_labels") if args.given(None, "num_labels") else config.get("num_labels")
        choice = args.node(None, "problem_type") or config.get("node")
        if problem is not None and const_str(problem) not in PROBLEM_TYPES:
            return  # given, but not a literal: the loss is not known
        if problem is None and const_int(labels) == 1:
            choice = args.node(None, "num_labels")
        site = interp.site(choice) if choice is not None else interp.site(node)
        self.models[node] = (const_str(problem), const_int(labels), site)

    def loss_of(self, model, target):
        """The loss the model computes on these targets (ForSequenceClassificationLoss), else None."""
        problem, labels, site = self.models[model.site.node]
        if problem is None and labels == 1:
            problem = "regression"
        elif problem is None and target.encoding == INDEX:  # integer ids are long: single-label
            problem = "single_label_classification"
        if problem is None:
            return None
        loss_id = PROBLEM_TYPES[problem]
        return Loss(loss_id, site, False, loss_id.split(".")[1])

    def pair(self, model, labels, interp) -> None:
        if not (isinstance(model, ModelVal) and model.site is not None and model.site.node in self.models):
            return
        if isinstance(labels, TargetVal) and model.layers and model.layers[-1].kind == "hf_classifier":
            loss = self.loss_of(model, labels.target)
            if loss is not None:
                self.pairs.append(Binding(model.layers[-1].head, loss, labels.target, interp.conditions))

    def call_value(self, callee, args, node, interp):
        """model(input_ids, labels=y): the model's own loss on its logits and y."""
        self.pair(callee, args.get(None, "labels"), interp)
        return NOT_HANDLED

    def trainer(self, args, node, interp):
        """Trainer(model=..., train_dataset=...): the model's own loss on the dataset's labels."""
        dataset = args.get(None, "train_dataset")
        if isinstance(dataset, Obj) and dataset.kind == "hf_dataset":
            self.pair(args.get(0, "model"), TargetVal(dataset.get("target")), interp)
        return None

    def instantiated(self, instance, args, node, interp):
        """A Trainer subclass: its compute_loss(model, inputs) override runs on the model it is given,
        with the named dataset's labels as inputs["labels"] when they are known."""
        compute = instance.cls.method("compute_loss")
        if compute is None or not _is_trainer(instance.cls):
            return NOT_HANDLED
        dataset = args.get(None, "train_dataset")
        labels = TargetVal(dataset.get("target")) if isinstance(dataset, Obj) and dataset.kind == "hf_dataset" else None
        inputs = Mapping((("labels", labels),)) if labels is not None else None
        interp.call_function(compute, Args(pos=[args.get(0, "model"), inputs]), instance)
        return NOT_HANDLED

    def bindings(self, interp) -> list:
        return self.pairs


def _is_trainer(cls) -> bool:
    return any(getattr(base, "name", None) in TRAINERS or (isinstance(base, Class) and _is_trainer(base))
               for base in cls.bases)
