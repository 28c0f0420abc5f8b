"""Low-level TensorFlow: the `tf.nn.*_with_logits` losses, TF1 graph code (placeholders,
`tf.matmul(x, W) + b`, `tf.layers.dense`), Keras losses called on tensors in custom training
loops, and hand-written cross-entropy (`-tf.reduce_sum(y * tf.log(p))`).

Activation functions applied to tensors (`tf.nn.softmax(z)`) are the Keras frontend's.
"""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from actlint.facts import (
    INDEX, LINEAR, LOG_SOFTMAX, ONE_HOT, OTHER, SOFTMAX, UNKNOWN, Binding, Head, Loss, Normalization, Target,
)
from actlint.frontends.data import const_int, random_labels
from actlint.frontends.interp import NOT_HANDLED, Frontend
from actlint.frontends.keras import LOSS_CLASSES, LOSS_NAMES, activation_function, run_call
from actlint.frontends.torch import clipped, gathered, is_batched, log_of, tensor_binop
from actlint.frontends.values import Const, Instance, LossVal, ModelVal, Obj, Ref, Seq, TargetVal, Tensor, new_id

TF = "tf"
# Losses on logits: name -> (contract id, keyword of the labels). Labels come first, logits second.
WITH_LOGITS = {
    "tf.nn.softmax_cross_entropy_with_logits": ("tf.softmax_cross_entropy_with_logits", "labels"),
    "tf.nn.softmax_cross_entropy_with_logits_v2": ("tf.softmax_cross_entropy_with_logits", "labels"),
    "tf.nn.sparse_softmax_cross_entropy_with_logits": ("tf.sparse_softmax_cross_entropy_with_logits", "labels"),
    "tf.nn.sigmoid_cross_entropy_with_logits": ("tf.sigmoid_cross_entropy_with_logits", "labels"),
    "tf.losses.softmax_cross_entropy": ("tf.compat.v1.losses.softmax_cross_entropy", "onehot_labels"),
    "tf.losses.sigmoid_cross_entropy": ("tf.compat.v1.losses.sigmoid_cross_entropy", "multi_class_labels"),
    "tf.losses.sparse_softmax_cross_entropy": ("tf.sparse_softmax_cross_entropy_with_logits", "labels"),
}
# Keras loss functions called on tensors: module prefixes (tf.losses is keras.losses in TF2).
KERAS_LOSS_MODULES = ("keras.losses.", "tf.losses.", "keras.metrics.", "keras.backend.")
SOFTMAX_FUNCTIONS = {
    "tf.nn.softmax": SOFTMAX, "tf.math.softmax": SOFTMAX, "tf.nn.log_softmax": LOG_SOFTMAX,
    "tf.math.log_softmax": LOG_SOFTMAX,
}
LOG_FUNCTIONS = {"tf.log", "tf.math.log", "keras.backend.log", "keras.ops.log"}
CLIP_FUNCTIONS = {"tf.clip_by_value", "keras.backend.clip", "keras.ops.clip", "tf.maximum", "tf.math.maximum"}
INITIALIZERS = {
    "tf.zeros", "tf.ones", "tf.random_normal", "tf.random.normal", "tf.truncated_normal",
    "tf.random.truncated_normal", "tf.random_uniform", "tf.random.uniform", "tf.glorot_uniform_initializer",
}
DENSE_FUNCTIONS = {  # name -> (units keyword, activation keyword, activation when not given)
    "tf.layers.dense": ("units", "activation", LINEAR),
    "tf.contrib.layers.fully_connected": ("num_outputs", "activation_fn", OTHER),
    "tf.contrib.slim.fully_connected": ("num_outputs", "activation_fn", OTHER),
}
GATHER_FUNCTIONS = {"tf.gather", "tf.gather_nd", "tf.boolean_mask", "keras.ops.take", "keras.ops.take_along_axis"}
# What hands a placeholder (or labels) through with their encoding; tf.argmax turns one-hot into ids.
PLACEHOLDER_PASS_THROUGH = {"tf.squeeze", "tf.cast", "tf.reshape", "tf.to_int32", "tf.to_int64", "tf.to_float",
                            "tf.identity", "tf.stop_gradient"}
ARGMAX_FUNCTIONS = {"tf.argmax", "tf.math.argmax", "tf.arg_max"}
MNIST_SPLITS = ("train", "test", "validation")
INT_DTYPES = {"tf.int32", "tf.int64", "tf.uint8", "tf.int16", "numpy.int32", "numpy.int64"}


class TfNNFrontend(Frontend):
    def __init__(self):
        self.local: list = []  # Normalization and LogOfProbability facts
        self.pairs: list = []  # (Binding, the labels value: a placeholder's target is known once it is fed)
        self.fed: dict = {}  # placeholder id -> Target fed to it

    def call_ref(self, name, args, node, interp):
        if name in WITH_LOGITS:
            loss_id, labels = WITH_LOGITS[name]
            loss = Loss(loss_id, interp.site(node), False, name)
            return self.bind(loss, args.get(1, "logits"), args.get(0, labels), interp.conditions)
        if name in SOFTMAX_FUNCTIONS:
            self.check_axis(SOFTMAX_FUNCTIONS[name], args, node, interp)
            return NOT_HANDLED  # the activation itself is the Keras frontend's
        if name in LOG_FUNCTIONS:
            return log_of(args.get(0, "x"), node, interp, self.local)
        if name in GATHER_FUNCTIONS:
            return gathered(args.get(0, "params") or args.get(0, "tensor"))
        if name in CLIP_FUNCTIONS:
            return clipped(args)
        if name.startswith("tf.losses.") and name.rsplit(".", 1)[-1] in LOSS_CLASSES:
            return interp.call(Ref("keras.losses." + name.rsplit(".", 1)[-1]), args, node)
        if name.startswith(KERAS_LOSS_MODULES) and name.rsplit(".", 1)[-1] in LOSS_NAMES:
            return self.keras_loss_function(name, args, node, interp)
        return self.graph_call(name, args, node, interp)

    def check_axis(self, act, args, node, interp):
        """The axis a softmax runs over, for ACT202 (axis 0 of a layer's output is the batch)."""
        axis = args.get(1, "axis") if args.given(1, "axis") else args.get(None, "dim")
        tensor = args.get(0, "logits")
        units = tensor.head.units if isinstance(tensor, Tensor) else None
        self.local.append(Normalization(act, interp.site(node), TF, "axis", const_int(axis), batched=is_batched(tensor),
                                        units=units))

    def keras_loss_function(self, name, args, node, interp):
        last = name.rsplit(".", 1)[-1]
        flag = args.get(2, "from_logits")
        from_logits = flag.value if isinstance(flag, Const) and isinstance(flag.value, bool) else None
        if not args.given(2, "from_logits"):
            from_logits = False
        loss = Loss(LOSS_NAMES[last], interp.site(node), from_logits, last)
        return self.bind(loss, args.get(1, "y_pred") or args.get(1, "output"), args.get(0, "y_true") or args.get(0, "target"),
                         interp.conditions)

    def call_value(self, callee, args, node, interp):
        if isinstance(callee, LossVal) and callee.loss.framework == "keras":
            return self.bind(callee.loss, args.get(1, "y_pred"), args.get(0, "y_true"), interp.conditions)
        if isinstance(callee, Instance) and _is_keras_model(callee.model):  # model(x) in a GradientTape loop
            call = callee.cls.method("call")
            result = run_call(call, args, callee, interp) if call is not None else None
            if isinstance(result, Tensor):  # call() with the flags this call site passes
                return result
            heads = callee.model.outputs or ()
            return Tensor(heads[0]) if len(heads) == 1 else None
        return NOT_HANDLED

    def bind(self, loss, prediction, labels, path=()):
        head = prediction.head if isinstance(prediction, Tensor) else Head(framework=TF)
        self.pairs.append((Binding(head, loss, labels.target if isinstance(labels, TargetVal) else None, path), labels))
        return None

    # -- TF1 graph code ------------------------------------------------------------------

    def graph_call(self, name, args, node, interp):
        if name == "tf.placeholder":
            return self.placeholder(args, node, interp)
        if name in ("tf.random.uniform", "tf.random_uniform") and _int_dtype(args.get(3, "dtype")):
            if const_int(args.get(1, "minval")) in (0, None) and args.given(2, "maxval"):
                return random_labels(args.get(2, "maxval"), args.get(0, "shape"), interp, node, "tf.random.uniform")
            return None
        if name in PLACEHOLDER_PASS_THROUGH and _is_placeholder(args.get(0)):
            return args.get(0)
        if name in ARGMAX_FUNCTIONS:
            return argmax(args.get(0, "input"), interp, node)
        if name.startswith("tf.") and name.endswith(".read_data_sets") and ".mnist." in name:
            return self.mnist_tutorial_data(args, node, interp)
        if name in INITIALIZERS:
            return Obj("weights", (("units", _last(args.get(0, "shape"))),), interp.site(node))
        if name == "tf.Variable":
            initial = args.get(0, "initial_value")
            return initial if isinstance(initial, Obj) and initial.kind == "weights" else None
        if name == "tf.get_variable":
            return Obj("weights", (("units", _last(args.get(1, "shape"))),), interp.site(node))
        if name in ("tf.matmul", "tf.nn.xw_plus_b"):
            weights = args.get(1, "b") or args.get(1, "weights")
            if isinstance(weights, Tensor) and weights.head.activation != LINEAR:
                return Tensor(Head(UNKNOWN, framework=TF))  # p @ softmax(w): a mixture, not logits
            return linear(weights, node, interp)
        if name == "tf.nn.bias_add":
            value = args.get(0, "value")
            return value if isinstance(value, Tensor) else None
        if name in DENSE_FUNCTIONS:
            return self.dense(DENSE_FUNCTIONS[name], args, node, interp)
        return NOT_HANDLED

    def placeholder(self, args, node, interp):
        """A graph input; what it holds is known where it is fed (`feed_dict`), or from an int dtype."""
        dtype, shape = args.get(0, "dtype"), args.get(1, "shape")
        labels = None
        if _int_dtype(dtype) and isinstance(shape, Seq) and len(shape.items) == 1:
            labels = _target(INDEX, interp, node, "tf.placeholder(int)")
        return Obj("placeholder", (("id", new_id()), ("target", labels)), interp.site(node))

    def mnist_tutorial_data(self, args, node, interp):
        """The TF1 tutorials' `input_data.read_data_sets(dir, one_hot=...)`: MNIST, 10 classes;
        integer ids unless one_hot=True (its default is False)."""
        flag = args.get(2, "one_hot") if args.given(2, "one_hot") else Const(False)
        if not (isinstance(flag, Const) and isinstance(flag.value, bool)):
            return Obj("mnist_tutorial", (("target", None),))
        encoding = ONE_HOT if flag.value else INDEX
        labels = Target(encoding, 10, interp.site(node), f"read_data_sets(one_hot={flag.value})")
        return Obj("mnist_tutorial", (("target", labels),))

    def attribute(self, owner, name, node, interp):
        if isinstance(owner, Obj) and owner.kind == "mnist_tutorial" and name in MNIST_SPLITS:
            return Obj("mnist_split", owner.info)
        if isinstance(owner, Obj) and owner.kind == "mnist_split" and name == "labels":
            return _labels(owner)
        return NOT_HANDLED

    def method(self, receiver, name, args, node, interp):
        if isinstance(receiver, Obj) and receiver.kind == "mnist_split" and name == "next_batch":
            return Seq((None, _labels(receiver)))  # (images, labels)
        feeds = args.node(1, "feed_dict") if name in ("run", "eval") else None
        if not isinstance(feeds, cst.Dict):
            return NOT_HANDLED
        for element in feeds.elements:
            if isinstance(element, cst.DictElement):
                self.feed(interp.eval(element.key), interp.eval(element.value))
        return None if receiver is None else NOT_HANDLED

    def feed(self, placeholder, value):
        if _is_placeholder(placeholder) and isinstance(value, TargetVal):
            self.fed.setdefault(placeholder.get("id"), value.target)

    def dense(self, spelling, args, node, interp):
        """tf.layers.dense(x, units, activation=None); contrib's fully_connected defaults to relu."""
        units_name, activation_name, default = spelling
        site = interp.site(node)
        activation = args.get(2, activation_name)
        if not args.given(2, activation_name):
            act = default
        elif activation == Const(None):
            act = LINEAR
        elif isinstance(activation, Ref):
            act = activation_function(activation.name) or UNKNOWN
        else:
            act = UNKNOWN
        return Tensor(Head(act, const_int(args.get(1, units_name)), site, site, framework=TF))

    def binop(self, left, right, node, interp):
        if isinstance(node.operator, cst.MatrixMultiply) and isinstance(right, Obj) and right.kind == "weights":
            return linear(right, node, interp)
        return tensor_binop(left, right, node)

    def bindings(self, interp) -> list[Binding]:
        return [replace(binding, target=self.placeholder_target(labels) or binding.target)
                for binding, labels in self.pairs]

    def placeholder_target(self, labels):
        if not _is_placeholder(labels):
            return None
        fed = self.fed.get(labels.get("id")) or labels.get("target")
        if labels.get("argmax"):  # tf.argmax(y_, 1): ids of what was fed one-hot
            return replace(fed, encoding=INDEX, spelling=f"tf.argmax({fed.spelling})") if _one_hot(fed) else None
        return fed


def argmax(value, interp, node):
    """tf.argmax(labels, 1): one-hot labels become class ids; a placeholder is resolved when fed."""
    if _is_placeholder(value):
        return Obj("placeholder", (("id", value.get("id")), ("target", None), ("argmax", True)), value.site)
    if isinstance(value, TargetVal) and _one_hot(value.target):
        return TargetVal(replace(value.target, encoding=INDEX, spelling=f"tf.argmax({value.target.spelling})"))
    return None


def _is_placeholder(value) -> bool:
    return isinstance(value, Obj) and value.kind == "placeholder"


def _one_hot(target) -> bool:
    return target is not None and target.encoding == ONE_HOT


def _labels(split: Obj):
    labels = split.get("target")
    return TargetVal(labels) if labels is not None else None


def linear(weights, node, interp) -> Tensor:
    """x @ W: logits with as many units as W has columns, set where W is created."""
    site = interp.site(node)
    if isinstance(weights, Obj) and weights.kind == "weights":
        return Tensor(Head(LINEAR, weights.get("units"), site, weights.site or site, framework=TF))
    return Tensor(Head(LINEAR, None, site, framework=TF))


def _is_keras_model(model) -> bool:
    return isinstance(model, ModelVal) and model.framework == "keras"


def _int_dtype(dtype) -> bool:
    return isinstance(dtype, Ref) and dtype.name in INT_DTYPES


def _last(shape):
    return const_int(shape.items[-1]) if isinstance(shape, Seq) and shape.items else None


def _target(encoding, interp, node, spelling):
    return Target(encoding, None, interp.site(node), spelling)
