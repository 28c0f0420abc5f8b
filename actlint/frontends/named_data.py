"""Datasets loaded by name whose label facts are in rules/datasets.toml.

- `tfds.load("mnist", split="train", as_supervised=True)`: a tf.data dataset of (image, label);
  a list of splits gives a list of datasets, no split a dict by split name, `with_info=True` a pair.
  Without `as_supervised=True` the elements are dicts, not followed.
- `datasets.load_dataset("glue", "mnli")`: a DatasetDict; its splits, and what `map`, `shuffle`,
  `select`, `filter`, `rename_column` and the like make of them, keep the "label" column, which
  `ds["label"]` reads and `transformers.Trainer(train_dataset=...)` trains on.
"""

from __future__ import annotations

from actlint.catalogue import datasets
from actlint.facts import Target
from actlint.frontends.data import const_str
from actlint.frontends.interp import NOT_HANDLED, Frontend
from actlint.frontends.values import Const, Data, Mapping, Obj, Seq, TargetVal

TFDS_DATASETS = datasets()["tfds"]
HF_DATASETS = datasets()["huggingface"]

HF_KEEPS_LABELS = {"map", "shuffle", "select", "filter", "rename_column", "with_format", "sort", "flatten_indices",
                   "take", "skip", "shard", "with_transform"}
LABEL_COLUMNS = ("label", "labels")


class NamedDatasetFrontend(Frontend):
    def call_ref(self, name, args, node, interp):
        if name == "tensorflow_datasets.load":
            return self.tfds(args, node, interp)
        if name == "datasets.load_dataset":
            return self.hf(args, node, interp)
        return NOT_HANDLED

    def tfds(self, args, node, interp):
        dataset = const_str(args.get(0, "name"))
        fact = TFDS_DATASETS.get(dataset.split(":")[0].split("/")[0]) if dataset else None
        if fact is None or args.get(None, "as_supervised") != Const(True) or args.starred:
            return None
        data = Data(Target(fact[0], fact[1], interp.site(node), f"tfds.load({dataset!r})"))
        split = args.get(1, "split")
        if isinstance(split, Seq):
            result = Seq(tuple(data for _ in split.items))
        elif split is None and not args.given(1, "split"):
            result = None  # a dict of every split the dataset has: names not known here
        else:
            result = data
        return Seq((result, None)) if args.get(None, "with_info") == Const(True) else result

    def hf(self, args, node, interp):
        path, config = const_str(args.get(0, "path")), const_str(args.get(1, "name"))
        key = f"{path}/{config}" if config else path
        fact = HF_DATASETS.get(key) if key and not args.starred else None
        if fact is None:
            return None
        labels = Target(fact[0], fact[1], interp.site(node), "load_dataset(" + ", ".join(repr(part) for part in (path, config) if part) + ")")
        return Obj("hf_dataset", (("target", labels),))

    def subscript(self, value, indexes, node, interp):
        if not (isinstance(value, Obj) and value.kind == "hf_dataset" and len(indexes) == 1):
            return NOT_HANDLED
        key = indexes[0].value if isinstance(indexes[0], Const) else None
        if key in LABEL_COLUMNS:
            return TargetVal(value.get("target"))
        return value if isinstance(key, str) else None  # a split; a row or a slice is not followed

    def method(self, receiver, name, args, node, interp):
        if not (isinstance(receiver, Obj) and receiver.kind == "hf_dataset"):
            return NOT_HANDLED
        if name in ("map", "remove_columns"):
            index, keyword = (None, "remove_columns") if name == "map" else (0, "column_names")
            if args.given(index, keyword) and _removes_labels(args.get(index, keyword)):
                return None
        if name in HF_KEEPS_LABELS or name == "remove_columns":
            return receiver
        if name == "train_test_split":
            return Mapping((("train", receiver), ("test", receiver)))
        return None


def _removes_labels(columns) -> bool:
    items = columns.items if isinstance(columns, Seq) else (columns,)
    return any(isinstance(c, Const) and c.value in LABEL_COLUMNS for c in items) or (
        columns is not None and not isinstance(columns, (Seq, Const)))
