"""Flax (linen and nnx), jax.nn and optax: heads, losses and one-hot targets.

Checked in flax 0.12.8 and optax 0.2.8. A linen module is called through `model.apply(variables,
x, ...)` or a TrainState's `state.apply_fn(...)`; an nnx module is called directly. Both run
the module's `__call__`. `nn.Dense(features)` / `nnx.Linear(in, out)` give raw scores;
`softmax`, `log_softmax` and `sigmoid` (flax.linen, flax.nnx and jax.nn spell them alike, axis=-1)
set the output's activation. optax's classification losses all take logits:
`softmax_cross_entropy` one-hot or soft labels, `..._with_integer_labels` class ids,
`sigmoid_binary_cross_entropy` 0/1 or multi-hot labels.
"""

from __future__ import annotations

from actlint.facts import LINEAR, LOG_SOFTMAX, ONE_HOT, OTHER, SIGMOID, SOFTMAX, Binding, Head, Loss
from actlint.frontends.data import const_int, target
from actlint.frontends.interp import NOT_HANDLED, Args, Frontend
from actlint.frontends.torch import log_of
from actlint.frontends.values import Class, Data, Function, Instance, Layer, Obj, Seq, Tensor, TargetVal

FLAX = "flax"
MODULE_BASES = {"flax.linen.Module", "flax.nnx.Module", "flax.linen.module.Module", "flax.nnx.module.Module"}
ACTIVATION_MODULES = ("flax.linen", "flax.nnx", "jax.nn", "flax.linen.activation", "flax.nnx.nn.activations")
ACTIVATIONS = {"softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX, "sigmoid": SIGMOID}
OTHER_ACTIVATIONS = {"relu", "gelu", "silu", "swish", "tanh", "elu", "leaky_relu", "relu6", "selu", "celu",
                     "soft_sign", "softplus", "hard_tanh", "glu", "mish", "log_sigmoid"}
DENSE = {"flax.linen.Dense": (0, "features"), "flax.nnx.Linear": (1, "out_features")}
LOSSES = {
    "softmax_cross_entropy": "optax.softmax_cross_entropy",
    "safe_softmax_cross_entropy": "optax.softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels": "optax.softmax_cross_entropy_with_integer_labels",
    "sigmoid_binary_cross_entropy": "optax.sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss": "optax.sigmoid_focal_loss",
}
# Transformations that return the function they are given, called with the same arguments.
TRANSFORMS = {"jax.jit", "jax.grad", "jax.value_and_grad", "jax.checkpoint", "jax.remat",
              "flax.nnx.jit", "flax.nnx.grad", "flax.nnx.value_and_grad", "flax.linen.jit", "flax.linen.remat"}
PASS_THROUGH = {"jax.numpy.array", "jax.numpy.asarray", "jax.device_put"}
TRAIN_STATES = ("flax.training.train_state.TrainState.create",)
CALL_KEYWORDS_DROPPED = ("rngs", "mutable", "method")


def flax_head(act=LINEAR, units=None, site=None, units_site=None) -> Head:
    return Head(act, units, site, units_site, framework=FLAX)


def is_flax_module(value) -> bool:
    cls = value.cls if isinstance(value, Instance) else value
    return isinstance(cls, Class) and any(
        getattr(base, "name", None) in MODULE_BASES or is_flax_module(base) for base in cls.bases)


class FlaxFrontend(Frontend):
    def __init__(self):
        self.pairs: list[Binding] = []
        self.local: list = []  # ACT501: jnp.log(nn.softmax(x))

    def call_ref(self, name, args, node, interp):
        module, _, last = name.rpartition(".")
        if name in DENSE:
            index, keyword = DENSE[name]
            units, site = const_int(args.get(index, keyword)), interp.site(node)
            return Layer("dense", flax_head(LINEAR, units, site, site), site)
        if module in ACTIVATION_MODULES and (last in ACTIVATIONS or last in OTHER_ACTIVATIONS):
            return self.activate(args.get(0, "x"), ACTIVATIONS.get(last, OTHER), args, node, interp)
        if module in ("optax", "optax.losses") and last in LOSSES:
            return self.loss(LOSSES[last], args, node, interp)
        if name in ("jax.nn.one_hot", "flax.nnx.one_hot"):
            return target(ONE_HOT, const_int(args.get(1, "num_classes")), interp, node, "jax.nn.one_hot")
        if name == "jax.numpy.log":
            return log_of(args.get(0, "x"), node, interp, self.local)
        if name in PASS_THROUGH and isinstance(args.get(0), (TargetVal, Data)):
            return args.get(0)
        if name in TRANSFORMS and isinstance(args.get(0), Function):
            return args.get(0)
        if name in TRAIN_STATES:
            return self.train_state(args, interp)
        return NOT_HANDLED

    def activate(self, value, act, args, node, interp):
        if not isinstance(value, Tensor) or value.head.framework != FLAX:
            return None
        axis = const_int(args.get(1, "axis"))
        if act in (SOFTMAX, LOG_SOFTMAX) and axis not in (None, -1):
            return Tensor(flax_head(OTHER))  # another axis than the classes': not judged
        return Tensor(value.head.with_activation(act, interp.site(node), None))

    def loss(self, loss_id, args, node, interp):
        prediction, labels = args.get(0, "logits"), args.get(1, "labels")
        if isinstance(prediction, Tensor) and prediction.head.framework == FLAX:
            self.pairs.append(Binding(prediction.head, Loss(loss_id, interp.site(node), False, loss_id + "()"),
                                      labels.target if isinstance(labels, TargetVal) else None, interp.conditions))
        return None

    def train_state(self, args, interp):
        """TrainState.create(apply_fn=model.apply, ...): `state.apply_fn(...)` runs the model."""
        node = args.node(None, "apply_fn")
        if node is None or getattr(getattr(node, "attr", None), "value", None) != "apply":
            return Obj("train_state")
        model = interp.eval(node.value, interp.frame)
        return Obj("train_state", (("model", model),) if is_flax_module(model) else ())

    def method(self, receiver, name, args, node, interp):
        if isinstance(receiver, Instance) and is_flax_module(receiver) and name == "apply":
            return self.apply(receiver, args, interp)
        if isinstance(receiver, Obj) and receiver.kind == "train_state":
            if name == "apply_fn" and receiver.get("model") is not None:
                return self.apply(receiver.get("model"), args, interp)
            return receiver if name in ("apply_gradients", "replace") else None
        return NOT_HANDLED

    def apply(self, model: Instance, args, interp):
        """model.apply(variables, x, ...): the module's __call__ on x."""
        call = model.cls.method("__call__")
        if call is None or args.starred:
            return None
        kw = {k: v for k, v in args.kw.items() if k not in CALL_KEYWORDS_DROPPED}
        out = interp.call_function(call, Args(pos=list(args.pos[1:]), kw=kw), model)
        return Seq((out, None)) if args.given(None, "mutable") else out

    def call_value(self, callee, args, node, interp):
        if isinstance(callee, Layer) and callee.head.framework == FLAX:
            if callee.kind == "dense":
                return Tensor(callee.head)
            return None
        return NOT_HANDLED

    def instantiated(self, instance, args, node, interp):
        """A linen module is a dataclass: its fields are set from the arguments, then setup() runs."""
        if not is_flax_module(instance):
            return NOT_HANDLED
        if instance.cls.method("__init__") is None:
            fields = list(instance.cls.attrs)
            instance.attrs.update(zip(fields, args.pos))
            instance.attrs.update(args.kw)
        setup = instance.cls.method("setup")
        if setup is not None:
            interp.call_function(setup, Args(), instance)
        return None

    def bindings(self, interp) -> list:
        return self.pairs
