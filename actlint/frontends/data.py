"""Targets: how labels are encoded, from the data-handling code people write.

Framework-agnostic (numpy, pandas, sklearn, Keras data utilities, tf.data).
"""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from actlint.catalogue import datasets
from actlint.facts import BINARY, INDEX, MULTI_HOT, ONE_HOT, SOFT, UNKNOWN, Target
from actlint.frontends.interp import NOT_HANDLED, Args, Frontend
from actlint.frontends.values import Const, Data, Function, Mapping, Obj, Seq, TargetVal

# Label facts of datasets loaded by name (rules/datasets.toml): name -> (encoding, classes).
DATASETS = datasets()["keras"]  # keras.datasets.<name>.load_data(): ((x_train, y_train), (x_test, y_test))
SKLEARN_DATASETS = datasets()["sklearn"]  # sklearn.datasets.load_<name>(): a Bunch whose .target holds the labels

# Keras generator class_mode / dataset label_mode -> encoding.
LABEL_MODES = {
    "categorical": ONE_HOT,
    "binary": BINARY,
    "sparse": INDEX,
    "int": INDEX,
}

# Calls and methods that hand their first argument's encoding through unchanged.
PASS_THROUGH_CALLS = {
    "numpy.array", "numpy.asarray", "numpy.float32", "numpy.int64",
    "tf.convert_to_tensor", "tf.constant", "tf.cast",
    "torch.tensor", "torch.as_tensor", "torch.from_numpy", "torch.Tensor",
    "torch.LongTensor", "torch.FloatTensor",
}
PASS_THROUGH_METHODS = {
    "astype", "copy", "float", "long", "int", "to", "cuda", "cpu", "numpy", "toarray",
    "todense", "type", "squeeze", "flatten", "ravel", "detach", "double", "reshape", "view",
    "to_numpy", "batch", "shuffle", "prefetch", "cache", "repeat", "take", "skip",
    "unbatch", "with_options",
}
ENCODER_KINDS = {
    "LabelEncoder": "label_encoder",
    "LabelBinarizer": "label_binarizer",
    "MultiLabelBinarizer": "multilabel_binarizer",
    "OneHotEncoder": "onehot_encoder",
}


def without_classes(value):
    """The same labels (or dataset) with the class count unknown: only class-preserving operations
    (slicing, shuffling, batching, casting, splitting) keep it."""
    if isinstance(value, TargetVal) and value.target.classes is not None:
        return TargetVal(replace(value.target, classes=None))
    if isinstance(value, Data) and value.target is not None and value.target.classes is not None:
        return Data(replace(value.target, classes=None))
    return value


def is_mask(node) -> bool:
    """A boolean index, or the indices one selects: a comparison, `~m`, `m1 & m2`, `m1 | m2`,
    `np.isin(...)`, `np.where(y < 5)[0]`, `np.nonzero(m)`."""
    if isinstance(node, cst.Comparison):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.BitInvert):
        return True
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.BitAnd, cst.BitOr)):
        return True
    if isinstance(node, cst.Subscript):  # np.where(y < 5)[0]
        return is_mask(node.value)
    if isinstance(node, cst.Call) and isinstance(node.func, (cst.Attribute, cst.Name)):
        name = node.func.attr.value if isinstance(node.func, cst.Attribute) else node.func.value
        if name in ("where", "nonzero", "argwhere", "flatnonzero"):  # indices of the rows a test keeps
            return bool(node.args) and is_mask(node.args[0].value) or name != "where"
        return name in ("isin", "in1d", "logical_and", "logical_or", "logical_not")
    return False


def target(encoding, classes, interp, node, spelling) -> TargetVal:
    return TargetVal(Target(encoding, classes, interp.site(node), spelling))


def const_int(value):
    if isinstance(value, Const) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None


def hf_model_class(name: str):
    """The transformers class a call builds (`transformers.X`, `X.from_pretrained`, `X.from_config`), else None."""
    parts = name.split(".")
    if parts[0] != "transformers" or len(parts) < 2:
        return None
    return parts[-2] if parts[-1] in ("from_pretrained", "from_config") else parts[-1]


def hf_num_labels(name: str, args: Args, site):
    """(units, the site that sets them) of a transformers classifier: `num_labels=` given to
    from_pretrained, or to the config it is given."""
    units = const_int(args.get(None, "num_labels")) if name.endswith("from_pretrained") else None
    label2id = args.get(None, "label2id")
    if units is None and name.endswith("from_pretrained") and isinstance(label2id, Mapping):
        units = len(label2id.items)  # label2id={"neg": 0, "pos": 1}: one label per entry
    config = args.get(None, "config")
    if units is None and isinstance(config, Obj) and config.kind == "hf_config":  # AutoConfig(num_labels=3)
        units, site = const_int(config.get("num_labels")), config.site
    return units, (site if units is not None else None)


def const_str(value):
    return value.value if isinstance(value, Const) and isinstance(value.value, str) else None


def random_labels(high, size, interp, node, spelling):
    """Random integers in [0, high) of a written shape, as people fake labels: one id per sample
    (`size=(n,)`, `size=n`), one 0/1 column (`(n, 1)`, high 2), or a 0/1 matrix (`(n, k)`, high 2),
    which is multi-label. Anything else (a shape not written down, ids in several columns) is unknown."""
    high = const_int(high)
    if high is None or high < 2:
        return None
    shape = size.items if isinstance(size, Seq) else (size,) if const_int(size) is not None else None
    if not shape or len(shape) > 2:
        return None
    if len(shape) == 1:
        return target(INDEX, high, interp, node, spelling)
    width = const_int(shape[1])
    if high != 2 or width is None:
        return None
    return target(BINARY, 2, interp, node, spelling) if width == 1 else target(MULTI_HOT, width, interp, node, spelling)


def literal_count(value):
    """How many distinct classes a literal list names: `["cat", "dog"]` or `[["a", "b"], ["c"]]`."""
    if not isinstance(value, Seq):
        return None
    labels = set()
    for item in value.items:
        members = item.items if isinstance(item, Seq) else (item,)
        if not all(isinstance(m, Const) for m in members):
            return None
        labels.update(m.value for m in members)
    return len(labels)


class DataFrontend(Frontend):
    def call_ref(self, name, args, node, interp):
        last = name.rsplit(".", 1)[-1]
        if name.startswith("keras.datasets.") and last == "load_data":
            return self.dataset(name.split(".")[-2], args, node, interp)
        if last == "to_categorical" and name.startswith(("keras.", "np_utils")):
            classes = args.get(1, "num_classes") or args.get(None, "nb_classes")  # nb_classes: Keras 1
            return self.one_hot(args.get(0, "y"), classes, node, interp, "to_categorical")
        if name in ("tf.one_hot", "keras.ops.one_hot", "keras.backend.one_hot"):
            depth = args.get(1, "depth") or args.get(1, "num_classes")
            return self.one_hot(args.get(0, "indices") or args.get(0, "x"), depth, node, interp, name)
        if name in ("numpy.eye", "numpy.identity"):
            return Obj("eye", (("classes", const_int(args.get(0, "N") or args.get(0, "n"))),), interp.site(node))
        if name in ("pandas.get_dummies",):
            return target(ONE_HOT, None, interp, node, "pd.get_dummies")
        if name.startswith("sklearn.") and last in ENCODER_KINDS:
            return self.encoder(ENCODER_KINDS[last], args, node, interp)
        if name.startswith("sklearn.datasets.") and last in SKLEARN_DATASETS:
            return self.sklearn_dataset(last, args, node, interp)
        if name.startswith("sklearn.") and last == "train_test_split":
            return self.split(args)
        if name in PASS_THROUGH_CALLS and isinstance(args.get(0), (TargetVal, Data)):
            return args.get(0)
        if name.startswith("keras.") and last == "ImageDataGenerator":
            return Obj("image_generator")
        if name.startswith("keras.") and last in ("image_dataset_from_directory", "text_dataset_from_directory", "audio_dataset_from_directory"):
            data = self.labelled(args.get(None, "label_mode"), "int", args.get(None, "class_names"), node, interp, last)
            return Seq((data, data)) if const_str(args.get(None, "subset")) == "both" else data
        if name == "tf.data.Dataset.from_tensor_slices" or name == "tf.data.Dataset.from_tensors":
            return self.from_slices(args.get(0, "tensors"))
        if name.startswith("builtins."):
            return self.builtin(last, args, interp)
        if name == "numpy.random.randint":
            return self.numpy_randint(args, node, interp, "np.random.randint")
        if name == "numpy.random.default_rng":
            return Obj("numpy_rng")
        return NOT_HANDLED

    def numpy_randint(self, args, node, interp, spelling):
        """np.random.randint(low, high, size) / randint(high, size=...): ids in [0, high) (low 0 only)."""
        low, high = args.get(0, "low"), args.get(1, "high")
        if not args.given(1, "high"):
            low, high = Const(0), low
        if const_int(low) != 0:
            return None
        return random_labels(high, args.get(2, "size"), interp, node, spelling)

    def builtin(self, name, args, interp):
        """enumerate(loader), iter(loader), next(it): the batches keep their labels."""
        data = args.get(0)
        if not isinstance(data, Data):
            return NOT_HANDLED
        if name == "enumerate":
            return Obj("enumerate", (("inner", data),))
        if name == "iter":
            return data
        if name == "next":
            return self.iterate(data, interp)
        return NOT_HANDLED

    def dataset(self, name, args, node, interp):
        if name not in DATASETS:
            return NOT_HANDLED
        encoding, classes = DATASETS[name]
        if name == "cifar100" and const_str(args.get(0, "label_mode")) == "coarse":
            classes = 20
        labels = target(encoding, classes, interp, node, f"{name}.load_data()")
        return Seq((Seq((None, labels)), Seq((None, labels))))

    def sklearn_dataset(self, name, args, node, interp):
        encoding, classes = SKLEARN_DATASETS[name]
        labels = target(encoding, classes, interp, node, f"{name}()")
        if isinstance(args.get(None, "return_X_y"), Const) and args.get(None, "return_X_y").value:
            return Seq((None, labels))
        return Obj("bunch", (("target", labels),))

    def one_hot(self, labels, depth, node, interp, spelling):
        classes = const_int(depth)
        if classes is None and isinstance(labels, TargetVal) and labels.target.encoding == INDEX:
            classes = labels.target.classes
        return target(ONE_HOT, classes, interp, node, spelling)

    def encoder(self, kind, args, node, interp):
        classes = literal_count(args.get(None, "classes"))
        return Obj(kind, (("classes", classes),), interp.site(node))

    def split(self, args):
        if args.starred:
            return None
        items = []
        for value in args.pos:
            items.extend([value, value])
        return Seq(tuple(items))

    def labelled(self, mode, default, class_names, node, interp, spelling):
        if mode is None and class_names is None:
            mode = Const(default)
        mode_name = const_str(mode) if mode is not None else default
        encoding = LABEL_MODES.get(mode_name)
        if encoding is None:
            return Data(None)
        classes = literal_count(class_names)
        if encoding == BINARY:
            classes = 2
        return Data(Target(encoding, classes, interp.site(node), f"{spelling}(label_mode={mode_name!r})"))

    def from_slices(self, tensors):
        if isinstance(tensors, Seq) and len(tensors.items) == 2 and isinstance(tensors.items[1], TargetVal):
            return Data(tensors.items[1].target)
        return Data(None)

    def method(self, receiver, name, args, node, interp):
        if isinstance(receiver, Obj):
            return self.object_method(receiver, name, args, node, interp)
        if isinstance(receiver, (TargetVal, Data)) and name in PASS_THROUGH_METHODS:
            return receiver
        if isinstance(receiver, Data) and name == "map":
            return self.mapped(receiver, args.get(0, "map_func"), interp)
        return NOT_HANDLED

    def mapped(self, data, func, interp):
        """dataset.map(fn): the labels fn returns for an (x, y) element, e.g. `return x, tf.one_hot(y, k)`."""
        if not isinstance(func, Function):
            return Data(None)
        labels = TargetVal(data.target) if data.target is not None else None
        result = interp.call_function(func, Args(pos=[None, labels]), None)
        if isinstance(result, Seq) and len(result.items) == 2 and isinstance(result.items[1], TargetVal):
            return Data(result.items[1].target)
        return Data(None)

    def object_method(self, obj, name, args, node, interp):
        kind = obj.kind
        if kind in ("label_encoder", "label_binarizer", "multilabel_binarizer", "onehot_encoder"):
            if name == "fit":
                classes = obj.get("classes") or literal_count(args.get(0, "y"))
                return Obj(kind, (("classes", classes),), obj.site)
            if name in ("fit_transform", "transform"):
                classes = obj.get("classes")
                if name == "fit_transform" and classes is None:
                    classes = literal_count(args.get(0, "y"))
                return self.encoded(kind, classes, node, interp)
        if kind == "image_generator" and name in ("flow_from_directory", "flow_from_dataframe"):
            return self.labelled(args.get(None, "class_mode"), "categorical", args.get(None, "classes"), node, interp, name)
        if kind == "numpy_rng" and name == "integers" and not args.given(None, "endpoint"):
            return self.numpy_randint(args, node, interp, "rng.integers")
        if kind == "image_generator" and name == "flow":
            labels = args.get(1, "y")
            return Data(labels.target if isinstance(labels, TargetVal) else None)
        return NOT_HANDLED

    def encoded(self, kind, classes, node, interp):
        if kind == "label_encoder":
            return target(INDEX, classes, interp, node, "LabelEncoder")
        if kind == "multilabel_binarizer":
            return target(MULTI_HOT, classes, interp, node, "MultiLabelBinarizer")
        if kind == "onehot_encoder":
            return target(ONE_HOT, classes, interp, node, "OneHotEncoder")
        # LabelBinarizer gives one 0/1 column for two classes, one-hot beyond.
        if classes is None:
            return target(UNKNOWN, None, interp, node, "LabelBinarizer")
        return target(BINARY if classes == 2 else ONE_HOT, classes, interp, node, "LabelBinarizer")

    def binop(self, left, right, node, interp):
        """Mixup (`lam * y + (1 - lam) * y[perm]`) and label smoothing (`y * (1 - eps) + eps / k`)
        of exclusive targets: soft targets over the same classes."""
        labels = [v for v in (left, right) if isinstance(v, TargetVal)]
        if not labels or any(v.target.encoding not in (ONE_HOT, SOFT) for v in labels):
            return NOT_HANDLED
        classes = {v.target.classes for v in labels}
        if len(labels) == 2 and not isinstance(node.operator, cst.Add) or len(classes) > 1:
            return None
        if isinstance(node.operator, (cst.Subtract, cst.Divide)) and not isinstance(left, TargetVal):
            return None  # 1 - y is not a distribution
        if not isinstance(node.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)):
            return None
        first = labels[0].target
        return target(SOFT, first.classes, interp, node, f"{first.spelling} mixed or smoothed")

    def subscript(self, value, indexes, node, interp):
        if isinstance(value, Obj) and value.kind == "bunch" and indexes == [Const("target")]:
            return value.get("target")
        if isinstance(value, Obj) and value.kind == "eye" and len(indexes) == 1:
            return target(ONE_HOT, value.get("classes"), interp, value.site.node, "np.eye")
        if isinstance(value, (TargetVal, Data)) and len(node.slice) == 1:
            inner = node.slice[0].slice
            if isinstance(inner, cst.Index) and is_mask(inner.value):  # y[y != 3]: some classes filtered out
                return without_classes(value)
            if isinstance(inner, cst.Slice) or not isinstance(indexes[0], Const):
                return value
        return NOT_HANDLED

    def set_item(self, owner, value, interp):
        """`y[y == 7] = 5`: labels remapped in place; how many classes remain is unknown."""
        if isinstance(owner, (TargetVal, Data)):
            return without_classes(owner)
        return NOT_HANDLED

    def attribute(self, owner, name, node, interp):
        if isinstance(owner, Obj) and owner.kind == "bunch" and name == "target":
            return owner.get("target")
        if isinstance(owner, TargetVal) and name == "values":
            return owner
        return NOT_HANDLED

    def iterate(self, iterable, interp):
        if isinstance(iterable, Obj) and iterable.kind == "enumerate":
            return Seq((None, interp.element_of(iterable.get("inner"))))
        if isinstance(iterable, Data) and iterable.target is not None:
            return Seq((None, TargetVal(iterable.target)))
        return NOT_HANDLED
