"""Keras (keras 3, tf.keras, tf_keras): heads from layers, losses from compile(), targets from fit().

Also the activation functions TensorFlow code applies to tensors (`tf.nn.softmax(x)`),
since Keras models use them in functional and subclassed code alike.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from actlint.facts import LINEAR, LOG_SOFTMAX, OTHER, SIGMOID, SOFTMAX, UNKNOWN, Binding, Head, Loss, Normalization
from actlint.frontends.data import const_int, const_str, hf_model_class, hf_num_labels
from actlint.frontends.interp import NOT_HANDLED, Args, Frontend
from actlint.frontends.values import (
    Class, Const, Data, Function, Instance, Layer, LossVal, Mapping, ModelVal, Obj, Ref, Seq, TargetVal, Tensor,
    new_id,
)

ACTIVATION_NAMES = {"softmax": SOFTMAX, "sigmoid": SIGMOID, "linear": LINEAR, "log_softmax": LOG_SOFTMAX}
OTHER_ACTIVATIONS = {
    "relu", "relu6", "tanh", "elu", "selu", "gelu", "swish", "silu", "softplus", "softsign",
    "exponential", "hard_sigmoid", "hard_silu", "leaky_relu", "mish", "hard_swish",
}
# Modules whose softmax/sigmoid functions apply an activation to a tensor.
ACTIVATION_MODULES = (
    "keras.activations", "keras.ops", "keras.backend", "keras.ops.nn",
    "tf.nn", "tf.math", "tf",
)
UNIT_LAYERS = {  # layer -> positional index of its activation argument (None: keyword only)
    "Dense": 1, "Conv1D": None, "Conv2D": None, "Conv3D": None, "SeparableConv2D": None,
    "Conv2DTranspose": None, "DepthwiseConv2D": None, "SimpleRNN": 1, "LSTM": 1, "GRU": 1,
}
RESHAPE_LAYERS = {"Flatten", "Reshape", "Permute", "RepeatVector"}
PASS_THROUGH_LAYERS = {
    "Identity", "Dropout", "GaussianNoise", "GaussianDropout", "ActivityRegularization",
    "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D",
}
GLOBAL_POOLS = {
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalAvgPool1D",
    "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
}
LOSS_NAMES = {
    "categorical_crossentropy": "keras.categorical_crossentropy",
    "binary_crossentropy": "keras.binary_crossentropy",
    "sparse_categorical_crossentropy": "keras.sparse_categorical_crossentropy",
    "binary_focal_crossentropy": "keras.binary_focal_crossentropy",
    "categorical_focal_crossentropy": "keras.categorical_focal_crossentropy",
    "kl_divergence": "keras.kl_divergence",
    "kld": "keras.kl_divergence",
    "kullback_leibler_divergence": "keras.kl_divergence",
}
LOSS_CLASSES = {
    "CategoricalCrossentropy": ("keras.categorical_crossentropy", 0),
    "BinaryCrossentropy": ("keras.binary_crossentropy", 0),
    "SparseCategoricalCrossentropy": ("keras.sparse_categorical_crossentropy", 0),
    "BinaryFocalCrossentropy": ("keras.binary_focal_crossentropy", None),
    "CategoricalFocalCrossentropy": ("keras.categorical_focal_crossentropy", None),
    "KLDivergence": ("keras.kl_divergence", None),
}
FIT_METHODS = ("fit", "fit_generator", "train_on_batch")
# Keras 1 spellings: the layer each names today, and the keyword that held the filter count.
KERAS1_LAYERS = {"Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
                 "AtrousConvolution2D": "Conv2D", "SeparableConvolution2D": "SeparableConv2D",
                 "Deconvolution2D": "Conv2DTranspose"}
LOSS_MODULES = (".losses.", ".objectives.")  # keras.objectives: the Keras 1 name of keras.losses


@dataclass(frozen=True)
class Compiled:
    model_id: int
    heads: tuple
    loss: object  # the evaluated loss argument
    loss_node: object = None
    order: int = 0  # when it ran, among compiles and fits
    path: tuple = ()  # the branch conditions it was compiled under (Binding.path)


@dataclass(frozen=True)
class Fitted:
    model_id: int
    target: object  # Target or None
    per_output: object = None  # y given per output: a Seq (by position) or a Mapping (by output name)
    order: int = 0


HF_TF_HEADS = ("ForSequenceClassification", "ForImageClassification", "ForTokenClassification", "ForMultipleChoice")


def is_hf_tf_classifier(name: str) -> bool:
    """`transformers.TFAutoModelForSequenceClassification[.from_pretrained]` and the like."""
    cls = hf_model_class(name)
    return cls is not None and cls.startswith("TF") and cls.endswith(HF_TF_HEADS)


def _given_either(args, index, name, old_name) -> bool:
    return args.given(index, name) or args.given(None, old_name)


def keras_name(name: str) -> str:
    """The last component of a Keras symbol, or "" for a non-Keras name."""
    return name.rsplit(".", 1)[-1] if name.startswith("keras.") else ""


def activation_function(name: str):
    """softmax/sigmoid/... for `tf.nn.softmax`, `keras.activations.sigmoid`, else None."""
    module, _, last = name.rpartition(".")
    if module in ACTIVATION_MODULES and last in ACTIVATION_NAMES:
        return ACTIVATION_NAMES[last]
    if module in ACTIVATION_MODULES and last in OTHER_ACTIVATIONS:
        return OTHER
    return None


def activation_of(value) -> str:
    """The activation an `activation=` argument names: a string, None (linear) or a function such
    as keras.activations.softmax; UNKNOWN for anything else."""
    if isinstance(value, Const) and value.value is None:
        return LINEAR
    if isinstance(value, Const) and isinstance(value.value, str):
        text = value.value.lower()
        return ACTIVATION_NAMES.get(text, OTHER if text in OTHER_ACTIVATIONS else UNKNOWN)
    if isinstance(value, Ref):
        return activation_function(value.name) or UNKNOWN
    return UNKNOWN


class KerasFrontend(Frontend):
    def __init__(self):
        self.local: list = []  # Normalization facts: Softmax(axis=...) layers applied
        self.compiled: list[Compiled] = []
        self.fitted: list[Fitted] = []
        self.heads: list[Head] = []  # every head a model had at some point
        self.order = itertools.count()  # program order of compiles and fits

    # -- constructors --------------------------------------------------------

    def call_ref(self, name, args, node, interp):
        act = activation_function(name)
        if act == LINEAR:  # keras.activations.linear(x) is x
            return args.get(0, "x")
        if act is not None:
            return self.activate(args.get(0, "x"), act, _axis(args), node, interp)
        if is_hf_tf_classifier(name):
            return self.hf_classifier(name, args, node, interp)
        last = keras_name(name)
        if not last:
            return NOT_HANDLED
        if last == "Sequential":
            return self.sequential(args.get(0, "layers"), node, interp)
        if last in ("Model", "Functional") and _given_either(args, 0, "inputs", "input") and \
                _given_either(args, 1, "outputs", "output"):  # input=/output=: Keras 1
            return self.functional(args.get(1, "outputs") or args.get(None, "output"), node, interp)
        if last in ("Input", "InputLayer"):
            return Tensor(Head(UNKNOWN))
        if last in LOSS_CLASSES and ".losses." in name:
            return self.loss_object(last, args, node, interp)
        if last == "get" and ".losses." in name:  # keras.losses.get("binary_crossentropy"): the loss it names
            identifier = args.get(0, "identifier")
            return identifier if isinstance(identifier, (Const, Ref, LossVal)) else None
        if ".layers." in name or name.startswith("keras.layers"):
            return self.layer(last, args, node, interp)
        return NOT_HANDLED

    def layer(self, last, args, node, interp) -> Layer:
        site = interp.site(node)
        last = KERAS1_LAYERS.get(last, last)
        name = const_str(args.get(None, "name"))
        if last in UNIT_LAYERS:
            units = const_int(args.get(0, "units") or args.get(None, "output_dim") if last == "Dense"
                              else args.get(0, "filters") or args.get(None, "nb_filter"))
            act = self.activation_value(args.get(UNIT_LAYERS[last], "activation"), interp)
            if not args.given(UNIT_LAYERS[last], "activation"):
                act = OTHER if last in ("SimpleRNN", "LSTM", "GRU") else LINEAR  # tanh / no activation
            return Layer("dense", Head(act, units, site, site, name=name), site)
        if last == "Activation":
            act = self.activation_value(args.get(0, "activation"), interp)
            if act == LINEAR:  # Activation("linear") / Activation(None): an identity (a float32 cast)
                return Layer("identity", site=site)
            return Layer("activation", Head(act, None, site, name=name), site)
        if last == "Softmax":
            return Layer("activation", Head(SOFTMAX, None, site, axis=const_int(args.get(0, "axis")), name=name), site)
        if last in ("ReLU", "LeakyReLU", "ELU", "PReLU", "ThresholdedReLU"):
            return Layer("activation", Head(OTHER, None, site, name=name), site)
        if last in PASS_THROUGH_LAYERS:
            return Layer("identity", site=site)
        if last in GLOBAL_POOLS:  # (batch, channels): the channels a 1x1 convolution made stay the units
            keeps_axes = args.given(None, "keepdims") and args.get(None, "keepdims") != Const(False)
            return Layer("other" if keeps_axes else "global_pool", site=site, inner=last)
        if last in RESHAPE_LAYERS:
            return Layer("reshape", site=site)
        if last == "TimeDistributed" and isinstance(args.get(0, "layer"), Layer):
            return args.get(0, "layer")
        if last == "Lambda":
            return Layer("lambda", Head(UNKNOWN, name=name), site, inner=args.get(0, "function"))
        return Layer("other", site=site)

    def activation_value(self, value, interp) -> str:
        if isinstance(value, Layer) and value.kind == "activation":
            return value.head.activation
        if isinstance(value, Function):
            result = interp.call_function(value, Args(pos=[Tensor(Head(LINEAR))]), None)
            return result.head.activation if isinstance(result, Tensor) else UNKNOWN
        return activation_of(value)

    def activate(self, tensor, act, axis, node, interp):
        if not isinstance(tensor, Tensor):
            computed = tensor is None or (isinstance(tensor, Obj) and tensor.kind == "weights")  # softmax(W)
            return Tensor(Head(act, None, interp.site(node), axis=axis)) if computed else NOT_HANDLED
        return Tensor(_off_units(tensor.head, act, axis).with_activation(act, interp.site(node), axis))

    def sequential(self, layers, node, interp) -> ModelVal:
        items = layers.items if isinstance(layers, Seq) else ()
        model = ModelVal(new_id(), tuple(items), site=interp.site(node))
        self.note(model, interp)
        return model

    def functional(self, outputs, node, interp) -> ModelVal:
        tensors = outputs.items if isinstance(outputs, Seq) else (outputs,)
        if isinstance(outputs, Mapping):
            tensors = tuple(v for _, v in outputs.items)
        heads = tuple(t.head if isinstance(t, Tensor) else Head() for t in tensors)
        model = ModelVal(new_id(), outputs=heads, site=interp.site(node))
        self.note(model, interp)
        return model

    def hf_classifier(self, name, args, node, interp) -> ModelVal:
        """transformers' TF*ForSequenceClassification (image, token...): a Keras model whose output
        is raw logits, num_labels of them; compiled with a loss that expects probabilities, it is
        the logits-into-probability-loss bug."""
        site = interp.site(node)
        units, units_site = hf_num_labels(name, args, site)
        return ModelVal(new_id(), outputs=(Head(LINEAR, units, site, units_site),), site=site)

    def loss_object(self, last, args, node, interp) -> LossVal:
        loss_id, index = LOSS_CLASSES[last]
        flag = args.get(index, "from_logits")
        if not args.given(index, "from_logits"):
            from_logits = False
        else:
            from_logits = flag.value if isinstance(flag, Const) and isinstance(flag.value, bool) else None
        return LossVal(Loss(loss_id, interp.site(node), from_logits, last))

    # -- models at work --------------------------------------------------------

    def call_value(self, callee, args, node, interp):
        if isinstance(callee, Instance) and _is_keras_layer_class(callee.cls):
            return self.custom_layer(callee, args, interp)
        if isinstance(callee, Layer):
            return Tensor(self.apply(callee, _input_head(args.get(0, "inputs")), interp))
        if isinstance(callee, ModelVal):
            heads = self.heads_of(callee, interp)
            return Tensor(heads[0]) if len(heads) == 1 else None
        return NOT_HANDLED

    def custom_layer(self, instance, args, interp):
        """A keras.layers.Layer subclass called on a tensor: what its call() returns."""
        call = instance.cls.method("call")
        return interp.call_function(call, args, instance) if call is not None else None

    def apply(self, layer, head: Head, interp) -> Head:
        if isinstance(layer, Instance) and _is_keras_layer_class(layer.cls):
            result = self.custom_layer(layer, Args(pos=[Tensor(head)]), interp)
            return result.head if isinstance(result, Tensor) else Head()
        if isinstance(layer, (ModelVal, Instance)):
            heads = self.heads_of(layer, interp)
            return heads[-1] if len(heads) == 1 else Head()
        if layer.kind == "dense":
            return layer.head
        if layer.kind == "activation":
            if layer.head.activation == SOFTMAX:  # on a layer's output (its units known), axis 0 is the batch
                self.local.append(Normalization(SOFTMAX, layer.head.site, "keras", "axis", layer.head.axis,
                                                batched=head.units is not None, units=head.units))
            head = _off_units(head, layer.head.activation, layer.head.axis)
            return Head(layer.head.activation, head.units, layer.head.site, head.units_site, layer.head.axis,
                        name=layer.head.name or head.name)
        if layer.kind == "identity":
            return head
        if layer.kind == "global_pool":  # a max of probabilities is no distribution; an average is
            return head if head.activation != SOFTMAX or "Average" in layer.inner else Head(UNKNOWN, head.units)
        if layer.kind == "reshape":  # Flatten()/Reshape(): the units may be merged with other axes
            return replace(head, units=None, units_site=None)
        if layer.kind == "lambda" and isinstance(layer.inner, Function):
            result = interp.call_function(layer.inner, Args(pos=[Tensor(head)]), None)
            return result.head if isinstance(result, Tensor) else Head()
        return Head()

    def heads_of(self, model, interp) -> tuple:
        if isinstance(model, Instance):
            model = model.model
        if not isinstance(model, ModelVal):
            return ()
        if model.outputs is not None:
            return model.outputs
        head = Head()
        for layer in model.layers:
            head = self.apply(layer, head, interp) if isinstance(layer, (Layer, ModelVal, Instance)) else Head()
        return (head,)

    def note(self, model: ModelVal, interp) -> None:
        """Remember single-unit softmax heads: wrong whether or not the model is ever compiled."""
        self.heads.extend(h for h in self.heads_of(model, interp) if h.activation == SOFTMAX and h.units == 1)

    def attribute(self, owner, name, node, interp):
        if isinstance(owner, (ModelVal, Instance)) and name in ("output", "outputs"):
            heads = self.heads_of(owner, interp)
            if len(heads) == 1:
                return Tensor(heads[0]) if name == "output" else Seq((Tensor(heads[0]),))
        return NOT_HANDLED

    def method(self, receiver, name, args, node, interp):
        model = receiver.model if isinstance(receiver, Instance) else receiver
        if not isinstance(model, ModelVal) or model.framework != "keras":
            return NOT_HANDLED
        if name == "add":
            return self.add(receiver, args.get(0, "layer"), node, interp)
        if name == "compile":
            loss_node = args.node(1, "loss")
            heads = self.heads_of(model, interp)
            self.compiled.append(Compiled(model.id, heads, args.get(1, "loss"), loss_node,
                                          order=next(self.order), path=interp.conditions))
            return Const(None)
        if name in FIT_METHODS:
            y = args.get(1, "y")
            per_output = y if isinstance(y, (Seq, Mapping)) else None
            self.fitted.append(Fitted(model.id, _fit_target(args), per_output, next(self.order)))
            return None
        return None

    def add(self, receiver, layer, node, interp):
        if not isinstance(receiver, ModelVal):
            return None
        grown = receiver.add(layer)
        self.note(grown, interp)
        interp.assign(node.func.value, grown, interp.frame)  # `model.add(...)` rebinds `model` to the grown model
        return Const(None)

    def instantiated(self, instance, args, node, interp):
        if not _is_keras_model_class(instance.cls):
            return NOT_HANDLED
        call = instance.cls.method("call")
        if call is None:
            return NOT_HANDLED
        result = run_call(call, Args(), instance, interp, in_fit=True)
        heads = tuple(t.head if isinstance(t, Tensor) else Head() for t in _as_tuple(result))
        instance.model = ModelVal(new_id(), outputs=heads, site=interp.site(node) if node else None)
        self.note(instance.model, interp)
        return None

    # -- facts out -------------------------------------------------------------

    def _fits_of(self, compiled: Compiled) -> list:
        """The fits that train with this compile's loss, in program order: those after it and before
        the model's next compile (a model re-compiled and never fit again has none: no targets)."""
        later = [c.order for c in self.compiled if c.model_id == compiled.model_id and c.order > compiled.order]
        until = min(later, default=float("inf"))
        return [f for f in self.fitted if f.model_id == compiled.model_id and compiled.order < f.order < until]

    def bindings(self, interp) -> list[Binding]:
        out = [Binding(head) for head in self.heads]
        for compiled in self.compiled:
            fits = self._fits_of(compiled)
            for head, loss in _pair_losses(compiled, interp):
                targets = [_output_target(compiled.heads, head, fit) for fit in fits] or [None]
                for target in dict.fromkeys(targets):
                    out.append(Binding(head, loss, target, compiled.path))
        return out


def run_call(call: Function, args: Args, instance, interp, in_fit: bool = False):
    """A subclassed model's call() on these arguments; the input defaults to an unknown tensor. In
    fit() `training` is True (Keras passes it); a direct call that leaves it out gets the default."""
    pos, kw = list(args.pos), dict(args.kw)
    if not pos and "inputs" not in kw and "x" not in kw:
        pos = [Tensor(Head())]
    elif pos and pos[0] is None:
        pos[0] = Tensor(Head())
    params = [p.name.value for p in call.node.params.params]
    keyword_only = [p.name.value for p in call.node.params.kwonly_params]  # def call(self, x, *, training=None)
    passed = "training" in kw or ("training" in params[1:] and params.index("training") <= len(pos))
    if in_fit and "training" in params[1:] + keyword_only and not passed:
        kw["training"] = Const(True)
    return interp.call_function(call, Args(pos, kw, args.pos_nodes, args.kw_nodes, args.starred), instance)


def keras_loss(value, node, interp):
    """A Loss fact from a compile(loss=...) value written at `node`, or None."""
    if isinstance(value, LossVal):
        return value.loss
    if isinstance(value, Const) and isinstance(value.value, str):
        loss_id = LOSS_NAMES.get(value.value.lower())
        site = value.site or interp.site(node)
        return Loss(loss_id, site, False, repr(value.value)) if loss_id else None
    if isinstance(value, Ref) and keras_name(value.name) in LOSS_NAMES and any(m in value.name for m in LOSS_MODULES):
        return Loss(LOSS_NAMES[keras_name(value.name)], interp.site(node), False, keras_name(value.name))
    return None


def _pair_losses(compiled: Compiled, interp):
    """(head, Loss) pairs: one loss for all outputs, a list in order, or a dict by output name."""
    heads, loss_value = compiled.heads, compiled.loss
    if isinstance(loss_value, Mapping):
        by_name = dict(loss_value.items)
        if len(heads) == 1 and len(by_name) == 1 and heads[0].name is None:
            pairs = [(heads[0], next(iter(by_name.values())))]
        else:
            pairs = [(h, by_name.get(h.name)) for h in heads if h.name in by_name]
    elif isinstance(loss_value, Seq) and len(loss_value.items) == len(heads):
        pairs = list(zip(heads, loss_value.items))
    else:
        pairs = [(h, loss_value) for h in heads]
    for head, value in pairs:
        loss = keras_loss(value, compiled.loss_node, interp)
        if loss is not None:
            yield head, loss


def _output_target(heads: tuple, head: Head, fit: Fitted):
    """The targets one output is trained on: all of y for a single output; for several, y's item
    at the output's position (a list) or under its name (a dict)."""
    if len(heads) == 1:
        return fit.target
    y = fit.per_output
    if isinstance(y, Seq) and len(y.items) == len(heads):
        value = y.items[heads.index(head)]
    elif isinstance(y, Mapping) and head.name is not None:
        value = y.get(head.name)
    else:
        return None
    return value.target if isinstance(value, TargetVal) else None


def _off_units(head: Head, act, axis) -> Head:
    """A single unit's count does not carry through a softmax over an explicit axis other than the
    last: Dense(1) per timestep then softmax(axis=1) normalizes over the timesteps."""
    if act in (SOFTMAX, LOG_SOFTMAX) and head.units == 1 and axis not in (None, -1):
        return replace(head, units=None, units_site=None)
    return head


def _fit_target(args: Args):
    y = args.get(1, "y")
    if isinstance(y, TargetVal):
        return y.target
    x = args.get(0, "x")
    if isinstance(x, Data):
        return x.target
    return None


def _input_head(value) -> Head:
    return value.head if isinstance(value, Tensor) else Head()


def _axis(args: Args):
    return const_int(args.get(1, "axis"))


def _as_tuple(value):
    return value.items if isinstance(value, Seq) else (value,)


def _is_keras_layer_class(cls: Class) -> bool:
    """A subclass of keras.layers.Layer (not of Model, whose instances are models)."""
    for base in cls.bases:
        if isinstance(base, Ref) and keras_name(base.name) == "Layer":
            return True
        if isinstance(base, Class) and _is_keras_layer_class(base):
            return True
    return False


def _is_keras_model_class(cls: Class) -> bool:
    for base in cls.bases:
        if isinstance(base, Ref) and keras_name(base.name) in ("Model", "Sequential"):
            return True
        if isinstance(base, Class) and _is_keras_model_class(base):
            return True
    return False
