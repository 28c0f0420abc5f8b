"""PyTorch: heads from `nn.Module.forward` and `nn.Sequential`, losses from `nn.*Loss` and `F.*`,
bindings wherever a loss is called on a tensor; targets from `F.one_hot`, `scatter_` and torchvision.

A model's head is what its forward returns, and a loss binds to the tensor it is actually called
on: a softmax applied only for prediction (after the loss, under no_grad, in `predict`) never
reaches a loss, so it is never mistaken for the trained head.
"""

from __future__ import annotations

from dataclasses import replace

from actlint.catalogue import datasets
from actlint.facts import INDEX, LINEAR, LOG_SOFTMAX, MULTI_HOT, ONE_HOT, OTHER, SIGMOID, SOFTMAX, UNKNOWN
from actlint.facts import Binding, Head, LogOfProbability, Loss, Normalization
from actlint.frontends.data import const_int, hf_model_class, hf_num_labels, target
from actlint.frontends.interp import NOT_HANDLED, Args, Frontend
from actlint.frontends.values import (
    LAST, MAP, POOLED, Class, Const, Data, Function, Instance, Layer, LossVal, Mapping, ModelVal, Obj, Ref, Seq,
    TargetVal, Tensor, new_id,
)

TORCH = "torch"
BATCH_AXIS_RANKS = (0, 1, 3)  # where torch's implicit softmax dim is 0
F = "torch.nn.functional."

OTHER_ACTIVATIONS = (
    "relu", "relu6", "tanh", "gelu", "elu", "selu", "silu", "mish", "leaky_relu", "softplus", "hardtanh",
    "hardswish", "logsigmoid", "prelu", "celu",
)
ACTIVATION_FUNCTIONS = {
    "torch.softmax": SOFTMAX, F + "softmax": SOFTMAX, "torch.special.softmax": SOFTMAX,
    "torch.log_softmax": LOG_SOFTMAX, F + "log_softmax": LOG_SOFTMAX, "torch.special.log_softmax": LOG_SOFTMAX,
    "torch.sigmoid": SIGMOID, F + "sigmoid": SIGMOID, "torch.special.expit": SIGMOID,
    **{F + name: OTHER for name in OTHER_ACTIVATIONS},
    **{"torch." + name: OTHER for name in ("relu", "tanh", "selu", "celu")},
}
# The functions whose dim is optional: without it torch picks an axis from the rank and warns.
# (torch.softmax and Tensor.softmax require dim: they raise instead.)
IMPLICIT_DIM_FUNCTIONS = {F + "softmax", F + "log_softmax", F + "softmin"}
TENSOR_ACTIVATIONS = {
    "softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX, "sigmoid": SIGMOID, "sigmoid_": SIGMOID,
    "relu": OTHER, "relu_": OTHER, "tanh": OTHER, "tanh_": OTHER,
}
MODULE_ACTIVATIONS = {
    "Softmax": SOFTMAX, "LogSoftmax": LOG_SOFTMAX, "Sigmoid": SIGMOID,
    **{name: OTHER for name in (
        "ReLU", "ReLU6", "Tanh", "GELU", "ELU", "SELU", "SiLU", "Mish", "LeakyReLU", "PReLU", "Softplus",
        "Hardtanh", "Hardswish", "LogSigmoid", "CELU",
    )},
}
UNIT_MODULES = {  # module -> (positional index, keyword) of its output units
    "Linear": (1, "out_features"), "LazyLinear": (0, "out_features"), "Bilinear": (2, "out_features"),
    "Conv1d": (1, "out_channels"), "Conv2d": (1, "out_channels"), "Conv3d": (1, "out_channels"),
}
RECURRENT_MODULES = {"LSTM", "GRU", "RNN"}
PASS_THROUGH_MODULES = {
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Identity",
    "BatchNorm1d", "BatchNorm2d",
}
LOSS_MODULES = {
    "CrossEntropyLoss": "torch.cross_entropy",
    "NLLLoss": "torch.nll_loss",
    "BCELoss": "torch.binary_cross_entropy",
    "BCEWithLogitsLoss": "torch.binary_cross_entropy_with_logits",
    "MultiLabelSoftMarginLoss": "torch.multilabel_soft_margin_loss",
    "KLDivLoss": "torch.kl_div",
}
LOSS_FUNCTIONS = {
    F + "cross_entropy": "torch.cross_entropy",
    F + "nll_loss": "torch.nll_loss",
    F + "binary_cross_entropy": "torch.binary_cross_entropy",
    F + "binary_cross_entropy_with_logits": "torch.binary_cross_entropy_with_logits",
    F + "multilabel_soft_margin_loss": "torch.multilabel_soft_margin_loss",
    F + "kl_div": "torch.kl_div",
    "torchvision.ops.sigmoid_focal_loss": "torchvision.sigmoid_focal_loss",
    "torchvision.ops.focal_loss.sigmoid_focal_loss": "torchvision.sigmoid_focal_loss",
}
PASS_THROUGH_FUNCTIONS = {"torch.squeeze", "torch.unsqueeze", "torch.clone", F + "dropout", F + "dropout1d"}
SIZED_RESHAPES = {"view", "reshape", "resize", "resize_", "expand"}  # given the sizes of every axis
RESHAPE_METHODS = SIZED_RESHAPES | {"flatten", "squeeze", "squeeze_", "unsqueeze", "unsqueeze_"}
RANK_3_FUNCTIONS = {"torch.bmm", "torch.baddbmm"}
CONV_RANKS = {"Conv1d": 3, "Conv2d": 4, "Conv3d": 5}  # rank of a convolution's output (batched)
GLOBAL_POOLS = {f"Adaptive{kind}Pool{d}d" for kind in ("Avg", "Max") for d in (1, 2, 3)}
POOL_FUNCTIONS = {F + f"adaptive_{kind}_pool{d}d" for kind in ("avg", "max") for d in (1, 2, 3)}  # the same, called
# Picking entries out of a tensor keeps what they are (probabilities stay probabilities), not its shape.
GATHER_FUNCTIONS = {"torch.gather", "torch.index_select", "torch.take_along_dim", "torch.masked_select"}
RANDOM_TENSORS = {"torch.randn", "torch.rand"}
TENSOR_PASS_THROUGH = {
    "view", "reshape", "flatten", "squeeze", "squeeze_", "unsqueeze", "contiguous", "float", "double", "half",
    "to", "cuda", "cpu", "clone", "detach", "permute", "transpose", "type", "view_as", "reshape_as",
    "requires_grad_", "expand_as",
}
# Methods that keep a target's encoding (Data's list has the common ones: float, long, to, view, ...).
TARGET_PASS_THROUGH = {"clamp", "clamp_", "clip", "clip_", "bool", "byte", "half", "contiguous"}
COLUMN_METHODS = ("unsqueeze", "view", "reshape")
LOG_FUNCTIONS = {"torch.log", "torch.special.log"}
CLIP_FUNCTIONS = {"torch.clamp", "torch.clip", "torch.clamp_min", "torch.maximum"}
CLIP_METHODS = {"clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_min_"}
MODEL_SELF_METHODS = {"to", "cuda", "cpu", "train", "eval", "float", "double", "half", "requires_grad_"}
MODEL_WRAPPERS = {"torch.nn.DataParallel", "torch.nn.parallel.DistributedDataParallel", "torch.compile", "torch.jit.script"}
CLASSIFIER_ATTRIBUTES = {"fc", "classifier", "head", "heads", "last_linear", "_fc"}
NOT_MODULE_BASES = ("builtins.", "torch.autograd.", "keras.", "tf.")
MODULE_BASES = {"torch.nn.Module", "pytorch_lightning.LightningModule", "lightning.LightningModule",
                "lightning.pytorch.LightningModule", "lightning.pytorch.core.LightningModule"}
TENSOR_CONSTRUCTORS = {"torch.tensor", "torch.Tensor", "torch.FloatTensor", "torch.as_tensor"}
LIGHTNING_TRAINERS = {"pytorch_lightning.Trainer", "lightning.Trainer", "lightning.pytorch.Trainer"}
# torchvision.datasets.<name>: integer class ids, and the class count where the dataset fixes it.
TORCHVISION_DATASETS = {name: classes for name, (_, classes) in datasets()["torchvision"].items()}
DATA_WRAPPERS = {  # canonical name -> positional index of the dataset argument
    "torch.utils.data.DataLoader": 0, "torch.utils.data.dataloader.DataLoader": 0,
    "torch.utils.data.Subset": 0, "tqdm.tqdm": 0, "tqdm.auto.tqdm": 0, "tqdm.notebook.tqdm": 0,
}


def torch_head(activation=UNKNOWN, units=None, site=None, units_site=None, axis=None) -> Head:
    return Head(activation, units, site, units_site, axis, TORCH)


def is_torch_module_class(cls) -> bool:
    for base in cls.bases:
        if isinstance(base, Ref) and base.name in MODULE_BASES:
            return True
        if isinstance(base, Class) and is_torch_module_class(base):
            return True
    return _forward_on_unknown_base(cls)


def _forward_on_unknown_base(cls) -> bool:
    """`class Net(BaseModel)` with BaseModel from a library or file we cannot see: a forward() says module."""
    forward = cls.method("forward")
    if forward is None or forward.owner is not cls:
        return False
    return any(base is None or (isinstance(base, Ref) and not base.name.startswith(NOT_MODULE_BASES))
               for base in cls.bases)


def is_batched(tensor) -> bool:
    """A layer's output (units or activation known): its dim 0 is the batch."""
    return isinstance(tensor, Tensor) and (tensor.head.units is not None or tensor.head.activation != UNKNOWN)


class TorchFrontend(Frontend):
    def __init__(self):
        self.local: list = []  # Normalization and LogOfProbability facts
        self.pairs: list[Binding] = []
        self.heads: list[Head] = []  # single-unit softmax heads: wrong with or without a loss

    # -- library calls -----------------------------------------------------------------

    def call_ref(self, name, args, node, interp):
        if name in ACTIVATION_FUNCTIONS:
            return self.activate_call(name, args, node, interp)
        if name in LOSS_FUNCTIONS:
            classes = weighted_classes(args.get(2, "weight"), args.get(None, "pos_weight"))
            return self.bind(Loss(LOSS_FUNCTIONS[name], interp.site(node), False, _short(name), classes),
                             args.get(0, "input"), args.get(1, "target"), interp.conditions)
        if name in LOG_FUNCTIONS:
            return log_of(args.get(0, "input"), node, interp, self.local)
        if name in CLIP_FUNCTIONS:
            return clipped(args)
        if name in GATHER_FUNCTIONS:
            return gathered(args.get(0, "input"))
        if name in RANK_3_FUNCTIONS:
            return Tensor(torch_head(), rank=3)
        if name in RANDOM_TENSORS:
            return Tensor(torch_head(), rank=len(args.pos) or None)
        if name == "torch.flatten" and isinstance(args.get(0), Tensor):
            return flattened(args.get(0), reshaped_rank("flatten", None, Args(pos=args.pos[1:], kw=args.kw)))
        if name in POOL_FUNCTIONS and isinstance(args.get(0, "input"), Tensor):
            tensor = args.get(0, "input")
            pooled = _pools_to_one(args.get(1, "output_size"))
            return globally_pooled(tensor) if pooled else Tensor(torch_head(), rank=tensor.rank)
        if name in PASS_THROUGH_FUNCTIONS or name in MODEL_WRAPPERS:
            return args.get(0) if isinstance(args.get(0), (Tensor, Instance, ModelVal)) else None
        if _is_module_class(name):
            return self.module(name.rsplit(".", 1)[-1], args, node, interp)
        if _is_pretrained_factory(name):
            return self.pretrained(args, node, interp)
        if hf_classifier_rank(name) is not None:
            return self.hf_classifier(name, args, node, interp)
        return self.data_call(name, args, node, interp)

    def module(self, last, args, node, interp):
        site = interp.site(node)
        if last in LOSS_MODULES:
            classes = weighted_classes(args.get(0, "weight"), args.get(None, "pos_weight"))
            return LossVal(Loss(LOSS_MODULES[last], site, False, f"nn.{last}()", classes))
        if last == "Sequential":
            return self.sequential(args, node, interp)
        if last in UNIT_MODULES:
            index, keyword = UNIT_MODULES[last]
            units = const_int(args.get(index, keyword))
            head = torch_head(LINEAR, units, site, site)
            return Layer("dense", head, site, inner=CONV_RANKS.get(last))
        if last in GLOBAL_POOLS:
            return Layer("global_pool" if _pools_to_one(args.get(0, "output_size")) else "other", torch_head(), site)
        if last in MODULE_ACTIVATIONS:
            return self.activation_module(last, args, node, interp)
        if last == "Flatten":
            return Layer("flatten", torch_head(), site)
        if last in RECURRENT_MODULES:
            return Layer("recurrent", torch_head(), site)
        if last in PASS_THROUGH_MODULES:
            return Layer("identity", torch_head(), site)
        return Layer("other", torch_head(), site)

    def activation_module(self, last, args, node, interp) -> Layer:
        site = interp.site(node)
        act = MODULE_ACTIVATIONS[last]
        axis = const_int(args.get(0, "dim"))
        implicit = act in (SOFTMAX, LOG_SOFTMAX) and _implicit(args, 0)
        if implicit:
            self.implicit_dim(f"nn.{last}()", act, site, None, None)
        return Layer("activation", torch_head(act, None, site, axis=axis), site, inner=f"nn.{last}()" if implicit else None)

    def sequential(self, args, node, interp) -> ModelVal:
        layers = tuple(args.pos)
        if len(layers) == 1 and isinstance(layers[0], Mapping):  # nn.Sequential(OrderedDict(...))
            layers = tuple(v for _, v in layers[0].items)
        if args.starred:
            layers = (Layer("other", torch_head()),)
        model = ModelVal(new_id(), layers, framework=TORCH, site=interp.site(node))
        self.note(self.fold(model, Tensor(torch_head()), interp).head)
        return model

    def pretrained(self, args, node, interp) -> ModelVal:
        """torchvision.models.resnet18(...), timm.create_model(...): a linear classifier, sized by num_classes."""
        site = interp.site(node)
        units = const_int(args.get(None, "num_classes"))
        if units == 0:  # timm's feature extractor: no classifier
            return ModelVal(new_id(), (Layer("other", torch_head(), site),), framework=TORCH, site=site)
        classifier = Layer("dense", torch_head(LINEAR, units, site, site), site)
        return ModelVal(new_id(), (classifier,), framework=TORCH, site=site, outputs=None)

    def hf_classifier(self, name, args, node, interp) -> ModelVal:
        """transformers' *ForSequenceClassification (and image, audio, token classification):
        called, it gives an output whose `.logits` are raw scores, num_labels of them."""
        site = interp.site(node)
        head = torch_head(LINEAR, *hf_num_labels(name, args, site))
        layer = Layer("hf_classifier", head, site, inner=hf_classifier_rank(name))
        return ModelVal(new_id(), (layer,), framework=TORCH, site=site, outputs=None)

    # A pretrained model is seen as its classifier: `model.fc`, `model.classifier` are that
    # classifier, and assigning to them (or to `model.classifier[6]`) replaces it.

    def set_attribute(self, owner, name, value, interp):
        if isinstance(owner, ModelVal) and _is_torch(owner) and name in CLASSIFIER_ATTRIBUTES:
            return self.set_item(owner, value, interp)
        return NOT_HANDLED

    def set_item(self, owner, value, interp):
        if isinstance(owner, ModelVal) and _is_torch(owner) and isinstance(value, (Layer, ModelVal, Instance)):
            return ModelVal(owner.id, owner.layers[:-1] + (value,), framework=TORCH, site=owner.site)
        return NOT_HANDLED

    def activate_call(self, name, args, node, interp):
        act = ACTIVATION_FUNCTIONS[name]
        tensor = args.get(0, "input")
        if name in IMPLICIT_DIM_FUNCTIONS and _implicit(args, 1):
            units = tensor.head.units if isinstance(tensor, Tensor) else None
            self.implicit_dim(_short(name) + "()", act, interp.site(node), _rank(tensor), units)
        return self.activate(tensor, act, args.get(1, "dim"), node, interp)

    def activate(self, tensor, act, dim, node, interp):
        if isinstance(tensor, (Seq, Mapping, Const)):
            return None
        tensor = _as_tensor(tensor)
        axis = const_int(dim)
        site = interp.site(node)
        self.local.append(Normalization(act, site, TORCH, "dim", axis, rank=tensor.rank, batched=is_batched(tensor),
                                        units=tensor.head.units))
        head = _without_units_off_axis(tensor, act, axis).with_activation(act, site, axis)
        return Tensor(head, rank=tensor.rank, layout=tensor.layout)

    # -- facts for the one-call rules (ACT202) ----------------------------------------------

    def implicit_dim(self, spelling, act, site, rank, units):
        """A softmax without dim: torch picks dim 0 for 0-, 1- and 3-D inputs, else dim 1."""
        implied = None if rank is None else 0 if rank in BATCH_AXIS_RANKS else 1
        self.local.append(Normalization(act, site, TORCH, "dim", None, True, implied, rank, units=units,
                                        spelling=spelling))

    # -- models at work -------------------------------------------------------------------

    def instantiated(self, instance, args, node, interp):
        if not is_torch_module_class(instance.cls):
            return NOT_HANDLED
        result = self.forward(instance, Args(), interp)
        heads = tuple(t.head if isinstance(t, Tensor) else torch_head() for t in _as_tuple(result))
        instance.model = ModelVal(new_id(), outputs=heads, framework=TORCH, site=interp.site(node) if node else None)
        # The prediction comes first; what a forward returns beside it (attention weights, hidden
        # states) is checked only where a loss is given it.
        for head in heads[:1]:
            self.note(head)
        return None

    def forward(self, instance, args: Args, interp):
        forward = instance.cls.method("forward")
        if forward is None:
            return None
        pos = list(args.pos)
        if not pos and not args.kw:
            pos = [Tensor(torch_head())]
        elif pos and pos[0] is None:
            pos[0] = Tensor(torch_head())
        return interp.call_function(forward, Args(pos, args.kw, args.pos_nodes, args.kw_nodes, args.starred), instance)

    def call_value(self, callee, args, node, interp):
        if isinstance(callee, Instance) and isinstance(callee.model, ModelVal) and callee.model.framework == TORCH:
            result = self.forward(callee, args, interp)
            if result is None and len(callee.model.outputs or ()) == 1:
                return Tensor(callee.model.outputs[0])
            return result
        if isinstance(callee, Layer) and callee.kind == "recurrent":  # (output, hidden); output is 3-D
            return Seq((Tensor(torch_head(), rank=3), None))
        if isinstance(callee, (Layer, ModelVal)) and _is_torch(callee):
            return self.apply(callee, _as_tensor(args.get(0, "input")), interp)
        if isinstance(callee, LossVal) and callee.loss.framework == TORCH:
            return self.bind(callee.loss, args.get(0, "input"), args.get(1, "target"), interp.conditions)
        return NOT_HANDLED

    def apply(self, layer, tensor: Tensor, interp) -> Tensor:
        """A module called on a tensor; linear layers and activations keep its rank."""
        if isinstance(layer, ModelVal):
            return self.fold(layer, tensor, interp)
        if isinstance(layer, Instance):
            result = self.forward(layer, Args(pos=[tensor]), interp)
            return result if isinstance(result, Tensor) else Tensor(torch_head())
        rank = tensor.rank
        if layer.kind == "dense" and isinstance(layer.inner, int):  # a convolution: (batch, channels, *spatial)
            return Tensor(layer.head, rank=layer.inner, layout=MAP)
        if layer.kind == "dense":
            return Tensor(layer.head, rank=rank)
        if layer.kind == "activation":
            self.check_module_dim(layer, tensor)
            head = _without_units_off_axis(tensor, layer.head.activation, layer.head.axis)
            return Tensor(torch_head(layer.head.activation, head.units, layer.head.site, head.units_site,
                                     layer.head.axis), rank=rank, layout=tensor.layout)
        if layer.kind == "global_pool":
            return globally_pooled(tensor)
        if layer.kind == "flatten":
            return flattened(tensor, 2)
        if layer.kind == "identity":
            return tensor
        if layer.kind == "hf_classifier":  # a ModelOutput: .logits, ["logits"], .get("logits")
            return Obj("hf_output", (("logits", Tensor(layer.head, rank=layer.inner)),))
        return Tensor(torch_head())

    def check_module_dim(self, layer, tensor):
        if isinstance(layer.inner, str):  # inner: the implicit-dim spelling
            self.implicit_dim(layer.inner, layer.head.activation, layer.head.site, tensor.rank, tensor.head.units)
        else:
            self.local.append(Normalization(layer.head.activation, layer.head.site, TORCH, "dim", layer.head.axis,
                                            rank=tensor.rank, batched=is_batched(tensor), units=tensor.head.units))

    def fold(self, model: ModelVal, tensor: Tensor, interp) -> Tensor:
        for layer in model.layers:
            known = isinstance(layer, (Layer, ModelVal, Instance))
            tensor = self.apply(layer, tensor, interp) if known else Tensor(torch_head())
        return tensor

    def note(self, head: Head) -> None:
        if head.activation in (SOFTMAX, LOG_SOFTMAX) and head.units == 1:
            self.heads.append(head)

    def bind(self, loss: Loss, prediction, labels, path=()):
        head = prediction.head if isinstance(prediction, Tensor) else torch_head()
        if isinstance(labels, Obj) and labels.kind == "index_columns":  # y.unsqueeze(1) for BCE
            labels = labels.get("target")
        self.pairs.append(Binding(head, loss, labels.target if isinstance(labels, TargetVal) else None, path))
        return None

    # -- tensors --------------------------------------------------------------------------

    def method(self, receiver, name, args, node, interp):
        if receiver is None and name in COLUMN_METHODS and _is_column_shape(name, args):
            return index_columns(None, 1)  # unknown labels, but surely one column
        if name == "topk" and (receiver is None or isinstance(receiver, Tensor)):
            return _values_indices(None, index_columns(None, const_int(args.get(0, "k"))))
        if isinstance(receiver, Tensor):
            return self.tensor_method(receiver, name, args, node, interp)
        if isinstance(receiver, (Instance, ModelVal)) and _is_torch_model(receiver) and name in MODEL_SELF_METHODS:
            return receiver
        if isinstance(receiver, LossVal) and receiver.loss.framework == TORCH and name in MODEL_SELF_METHODS:
            return receiver
        if isinstance(receiver, Instance) and _is_torch_model(receiver) and name == "forward":
            return self.forward(receiver, args, interp)
        if isinstance(receiver, ModelVal) and _is_torch(receiver) and name == "forward":
            return self.call_value(receiver, args, node, interp)
        if isinstance(receiver, ModelVal) and _is_torch(receiver) and name in ("add_module", "append"):
            return self.grow(receiver, args.get(1 if name == "add_module" else 0, "module"), node, interp)
        if isinstance(receiver, Obj) and receiver.kind == "accelerator" and name == "prepare":
            return args.pos[0] if len(args.pos) == 1 else Seq(tuple(args.pos))
        if isinstance(receiver, Obj) and receiver.kind == "lightning_trainer" and name == "fit":
            return self.lightning_fit(args, interp)
        if isinstance(receiver, (TargetVal, Obj)):
            return self.target_method(receiver, name, args, node, interp)
        return NOT_HANDLED

    def grow(self, model, module, node, interp):
        """seq.add_module("fc", nn.Linear(...)), seq.append(...): the name now holds the longer Sequential."""
        grown = model.add(module)
        interp.assign(node.func.value, grown, interp.frame)
        self.note(self.fold(grown, Tensor(torch_head()), interp).head)
        return Const(None)

    def lightning_fit(self, args, interp):
        """Trainer().fit(model, loader): the loader's batches reach model.training_step."""
        model = args.get(0, "model")
        step = model.cls.method("training_step") if isinstance(model, Instance) else None
        if step is None:
            return None
        loader = args.get(1, "train_dataloaders")
        data = args.get(3, "datamodule") or loader  # fit(model, datamodule=dm) or fit(model, dm)
        if isinstance(data, Instance) and data.cls.method("train_dataloader") is not None:
            loader = datamodule_loader(data, interp)
        elif loader is None and model.cls.method("train_dataloader") is not None:
            loader = interp.call_function(model.cls.method("train_dataloader"), Args(), model)
        interp.call_function(step, Args(pos=[interp.element_of(loader), Const(0)]), model)
        return None

    def tensor_method(self, tensor, name, args, node, interp):
        if name in TENSOR_ACTIVATIONS:
            return self.activate(tensor, TENSOR_ACTIVATIONS[name], args.get(0, "dim"), node, interp)
        if name in RESHAPE_METHODS:
            return flattened(tensor, reshaped_rank(name, tensor.rank, args), name, args)
        if name in ("permute", "transpose", "swapaxes", "movedim", "mT", "t"):  # the units may move off the last axis
            return replace(tensor, head=replace(tensor.head, units=None, units_site=None))
        if name == "narrow":  # a slice along one axis: the units stay only when it is the batch
            head = tensor.head if const_int(args.get(0, "dim")) == 0 else replace(tensor.head, units=None, units_site=None)
            return replace(tensor, head=head)
        if name == "expand_as":
            return broadcast(tensor, args.get(0, "other"))
        if name in TENSOR_PASS_THROUGH:
            return tensor
        if name in ("log", "log_"):
            return log_of(tensor, node, interp, self.local)
        if "torch." + name in GATHER_FUNCTIONS:
            return gathered(tensor)
        if name in CLIP_METHODS:
            return clipped(Args(pos=[tensor]))
        return None

    def subscript(self, value, indexes, node, interp):
        if isinstance(value, Obj) and value.kind == "hf_output":  # outputs["logits"]; outputs[0] may be the loss
            key = indexes[0].value if len(indexes) == 1 and isinstance(indexes[0], Const) else None
            return value.get(key) if isinstance(key, str) else None
        if isinstance(value, Tensor):
            return value if not _indexes_a_sample(indexes) else Tensor(torch_head(), rank=_minus_one(value.rank))
        if isinstance(value, TargetVal) and _is_column(indexes, node):
            return index_columns(value, 1)
        return NOT_HANDLED

    def attribute(self, owner, name, node, interp):
        if isinstance(owner, ModelVal) and _is_torch(owner) and name in CLASSIFIER_ATTRIBUTES:
            return ModelVal(new_id(), owner.layers[-1:], framework=TORCH, site=owner.site)
        if isinstance(owner, Obj) and owner.kind == "hf_output":
            return owner.get(name)
        if isinstance(owner, Seq) and len(owner.items) == 2 and name in ("values", "indices"):  # torch.return_types
            return owner.items[0 if name == "values" else 1]
        return NOT_HANDLED

    def binop(self, left, right, node, interp):
        return tensor_binop(left, right, node)

    # -- targets --------------------------------------------------------------------------

    def data_call(self, name, args, node, interp):
        last = name.rsplit(".", 1)[-1]
        if name == F + "one_hot":
            return self.one_hot(args.get(0, "tensor"), args.get(1, "num_classes"), node, interp)
        if name in TENSOR_CONSTRUCTORS and isinstance(args.get(0, "data"), Seq):
            return vector(len(args.get(0, "data").items))
        if name == "torch.ones" and len(args.pos) == 1:
            return vector(const_int(args.pos[0]))
        if name in LIGHTNING_TRAINERS:
            return Obj("lightning_trainer")
        if name == "accelerate.Accelerator":
            return Obj("accelerator")
        if name == "torch.randint":
            return self.random_labels(args, node, interp)
        if name in ("torch.zeros", "torch.zeros_like", "torch.empty"):
            return Obj("zeros", (("classes", _last_dim(args)),), interp.site(node))
        if name.startswith("torchvision.datasets.") and last in TORCHVISION_DATASETS:
            return self.torchvision_dataset(last, args, node, interp)
        if name in DATA_WRAPPERS:
            data = dataset_items(args.get(DATA_WRAPPERS[name], "dataset"), interp)
            return data if isinstance(data, (Data, Obj)) else None
        if name == "torch.utils.data.TensorDataset" and args.pos:
            labels = args.pos[-1]
            return Data(labels.target if isinstance(labels, TargetVal) else None)
        if name == "torch.utils.data.random_split":
            return self.split(args, interp)
        if name == "torchvision.transforms.Lambda":
            return Obj("transforms.Lambda", (("function", args.get(0, "lambd")),))
        if name == "collections.OrderedDict" and isinstance(args.get(0), Seq):
            return _ordered_dict(args.get(0))
        return NOT_HANDLED

    def one_hot(self, labels, num_classes, node, interp):
        classes = const_int(num_classes)
        if classes is None or classes < 0:
            classes = labels.target.classes if isinstance(labels, TargetVal) and labels.target.encoding == INDEX else None
        return target(ONE_HOT, classes, interp, node, "F.one_hot")

    def random_labels(self, args, node, interp):
        """torch.randint(low, high, size) / torch.randint(high, size): class ids in [0, high)."""
        explicit_low = len(args.pos) >= 3 or (len(args.pos) == 2 and not isinstance(args.pos[1], Seq))
        high = const_int(args.get(1 if explicit_low else 0, "high"))
        size = args.get(2 if explicit_low else 1, "size")
        labels = target(INDEX, high, interp, node, "torch.randint")
        if not isinstance(size, Seq):
            return None  # shape unknown: class ids or a 0/1 matrix
        if len(size.items) == 2 and const_int(size.items[1]) == 1:
            return index_columns(labels, 1)
        if len(size.items) == 2:  # a (batch, k) matrix: random 0/1 labels are multi-label targets
            width = const_int(size.items[-1])
            return target(MULTI_HOT, width, interp, node, "torch.randint") if high == 2 else None
        return labels if len(size.items) == 1 else None  # (n, 1, h, w) / (n, h, w): a mask or ids per pixel

    def torchvision_dataset(self, name, args, node, interp):
        labels = target(INDEX, TORCHVISION_DATASETS[name], interp, node, f"torchvision.datasets.{name}")
        transform = args.get(None, "target_transform")
        if isinstance(transform, Obj) and transform.kind == "transforms.Lambda":
            transform = transform.get("function")
        if isinstance(transform, Function):
            labels = interp.call_function(transform, Args(pos=[labels]), None)
        elif args.given(None, "target_transform") and transform != Const(None):
            labels = None  # a transform we cannot follow may re-encode the labels
        return Data(labels.target if isinstance(labels, TargetVal) else None)

    def split(self, args, interp):
        data, lengths = dataset_items(args.get(0, "dataset"), interp), args.get(1, "lengths")
        if not isinstance(data, Data) or not isinstance(lengths, Seq):
            return None
        return Seq(tuple(data for _ in lengths.items))

    def target_method(self, receiver, name, args, node, interp):
        if isinstance(receiver, TargetVal):
            return self.encoded_method(receiver, name, args, node, interp)
        if receiver.kind in ("index_columns", "vector") and name in TENSOR_PASS_THROUGH:
            return receiver
        if receiver.kind == "hf_output" and name == "get" and isinstance(args.get(0), Const):
            return receiver.get(args.get(0).value)
        if receiver.kind == "zeros" and name in ("scatter_", "scatter"):
            return self.scatter(receiver, args, node, interp)
        return NOT_HANDLED

    def encoded_method(self, labels, name, args, node, interp):
        encoding = labels.target.encoding
        if encoding == ONE_HOT and labels.target.spelling == "F.one_hot" and name in ("sum", "max", "amax", "any"):
            multi_hot = target(MULTI_HOT, labels.target.classes, interp, node, f"F.one_hot(...).{name}()")
            return _values_indices(multi_hot, None) if name == "max" else multi_hot
        if encoding == INDEX and name in COLUMN_METHODS and _is_column_shape(name, args):
            return index_columns(labels, 1)
        if name in TARGET_PASS_THROUGH:
            return labels
        return NOT_HANDLED

    def scatter(self, zeros, args, node, interp):
        """One 1 per row from a one-column index is one-hot; several columns set several labels."""
        index = args.get(1, "index")
        columns = index.get("columns") if isinstance(index, Obj) and index.kind == "index_columns" else None
        if columns is None:
            return None
        encoding = ONE_HOT if columns == 1 else MULTI_HOT
        return target(encoding, zeros.get("classes"), interp, node, "torch.zeros(...).scatter_()")

    # -- facts out --------------------------------------------------------------------------

    def bindings(self, interp) -> list[Binding]:
        return [Binding(head) for head in self.heads] + self.pairs


DATASET_BASES = {"torch.utils.data.Dataset", "torch.utils.data.dataset.Dataset"}


def dataset_items(value, interp):
    """A map-style `torch.utils.data.Dataset` subclass's instance as Data: its __getitem__ run once
    (on an unknown index), its labels what it returns second. Anything else comes back as it was."""
    if not (isinstance(value, Instance) and _is_dataset_class(value.cls)):
        return value
    getitem = value.cls.method("__getitem__")
    item = interp.call_function(getitem, Args(pos=[None]), value) if getitem is not None else None
    if isinstance(item, Seq) and len(item.items) == 2 and isinstance(item.items[1], TargetVal):
        return Data(item.items[1].target)
    return Data(None)


def _is_dataset_class(cls) -> bool:
    return any((isinstance(base, Ref) and base.name in DATASET_BASES)
               or (isinstance(base, Class) and _is_dataset_class(base)) for base in cls.bases)


def log_of(tensor, node, interp, local: list):
    """log() of a tensor: log-probabilities for a softmax; recorded for ACT501 (log of a probability)."""
    if not isinstance(tensor, Tensor):
        return None
    act = tensor.head.activation
    # Under no_grad (a Hungarian matcher's cost matrix, an evaluation metric) nothing is trained
    # on the value: it is no loss, and an inf there is the caller's business.
    considered = act in (SOFTMAX, SIGMOID) and not tensor.bounded and not interp.grad_off
    trained = not interp.grad_off and not (considered and only_sampled(node, interp))  # a sampler's input is no loss
    local.append(LogOfProbability(act, interp.site(node), tensor.head.units, tensor.bounded, trained))
    if act == SOFTMAX:
        head = tensor.head.with_activation(LOG_SOFTMAX, interp.site(node), tensor.head.axis)
    else:
        head = Head(OTHER if act == SIGMOID else UNKNOWN, tensor.head.units, framework=tensor.head.framework)
    return Tensor(head, layout=tensor.layout)


# Calls that draw or pick from log-probabilities: no loss is computed on what they are given.
SAMPLERS = {
    "categorical", "stateless_categorical", "multinomial", "Categorical", "OneHotCategorical",
    "RelaxedOneHotCategorical", "Multinomial", "gumbel_softmax", "argmax", "choice",
}


def only_sampled(node, interp) -> bool:
    """Whether a log() result only feeds a sampler (`tf.random.categorical(tf.math.log(p), 1)`, or a
    name assigned from it whose every use is a sampler's argument): an action drawn, not a loss."""
    import libcst as cst

    site = interp.site(node)
    parents = _parents(site.module)
    parent = parents.get(id(node))
    if isinstance(parent, cst.Arg):
        return _is_sampler(parents.get(id(parent)))
    if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name)):
        return False
    name, scope = parent.targets[0].target.value, _scope(parent, parents)
    uses = [n for n in _names(scope, name) if n is not parent.targets[0].target]
    return bool(uses) and all(
        isinstance(parents.get(id(n)), cst.Arg) and _is_sampler(parents.get(id(parents.get(id(n))))) for n in uses)


def _is_sampler(call) -> bool:
    import libcst as cst

    if not isinstance(call, cst.Call):
        return False
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return name in SAMPLERS


_PARENTS: dict = {}


def _parents(module) -> dict:
    """id(node) -> parent node, for one module (the last one asked for is kept)."""
    if _PARENTS.get("module") is not module:
        import libcst as cst

        table = {}

        class Walk(cst.CSTVisitor):
            def on_visit(self, n):
                for child in n.children:
                    table[id(child)] = n
                return True

        module.visit(Walk())
        _PARENTS.clear()
        _PARENTS.update(module=module, table=table)
    return _PARENTS["table"]


def _scope(node, parents):
    """The function (or module) a statement is in."""
    import libcst as cst

    while node is not None and not isinstance(node, (cst.FunctionDef, cst.Module)):
        node = parents.get(id(node))
    return node


def _names(scope, name: str) -> list:
    import libcst as cst

    found = []

    class Find(cst.CSTVisitor):
        def visit_Name(self, n):
            if n.value == name:
                found.append(n)

    if scope is not None:
        scope.visit(Find())
    return found


def datamodule_loader(data, interp):
    """A LightningDataModule's training loader, after the setup("fit") that Trainer.fit runs first."""
    setup = data.cls.method("setup")
    if setup is not None:
        interp.call_function(setup, Args(pos=[Const("fit")]), data)
    return interp.call_function(data.cls.method("train_dataloader"), Args(), data)


def gathered(tensor):
    """gather / index_select / take_along_dim of a tensor: its entries, so its activation; units and rank unknown."""
    if not isinstance(tensor, Tensor):
        return None
    head = replace(tensor.head, units=None, units_site=None)
    return Tensor(head, tensor.bounded)


def vector(length) -> Obj:
    """A 1-D tensor of known length and unknown values: per-class loss weights."""
    return Obj("vector", (("length", length),))


def weighted_classes(*weights):
    """The class count per-class loss weights imply (`weight=torch.tensor([1.0, 0.6, 2.5])`)."""
    for weight in weights:
        if isinstance(weight, Obj) and weight.kind == "vector" and weight.get("length"):
            return weight.get("length")
    return None


def index_columns(labels, columns) -> Obj:
    """Class ids shaped (n, columns), as scatter_ takes them."""
    return Obj("index_columns", (("target", labels), ("columns", columns)))


def _values_indices(values, indices) -> Seq:
    """What max(dim) and topk return: a (values, indices) pair, also read as .values and .indices."""
    return Seq((values, indices))


def clipped(args: Args):
    """clamp(p, eps, 1), maximum(p, eps): the tensor among the arguments, kept away from 0."""
    tensor = next((v for v in list(args.pos) + list(args.kw.values()) if isinstance(v, Tensor)), None)
    return replace(tensor, bounded=True) if tensor is not None else None


def tensor_binop(left, right, node):
    """A bias or an epsilon added keeps a tensor's head; scaling keeps logits logits."""
    import libcst as cst

    tensors = [v for v in (left, right) if isinstance(v, Tensor)]
    if not tensors:
        return NOT_HANDLED
    if len(tensors) == 2:
        ranks = (left.rank, right.rank)
        return Tensor(Head(framework=left.head.framework), rank=max(ranks) if None not in ranks else None)
    tensor = broadcast(tensors[0], right if tensors[0] is left else left)
    if isinstance(node.operator, (cst.Add, cst.Subtract)):
        return replace(tensor, bounded=False)
    if isinstance(node.operator, (cst.Divide, cst.Multiply)) and tensor.head.activation == LINEAR:
        return tensor
    return Tensor(Head(framework=tensor.head.framework), rank=tensor.rank)


def broadcast(tensor: Tensor, other) -> Tensor:
    """A tensor broadcast against `other` (`+ bias`, `expand_as`): a (batch, 1) output takes the
    other's columns (a bias per class), so its unit count is unknown; a scalar keeps it."""
    if tensor.head.units == 1 and not (isinstance(other, Const) and isinstance(other.value, (int, float))):
        return replace(tensor, head=replace(tensor.head, units=None, units_site=None))
    return tensor


def flattened(tensor: Tensor, rank, how="flatten", args=None) -> Tensor:
    """A reshape. A feature map's channels are no longer the units once its spatial axes are folded
    in; squeezing or unsqueezing axes keeps it a feature map. A pooled map (B, C, 1, 1) flattened or
    squeezed to (B, C) keeps its channels as the units, now last; otherwise a reshape that merges
    or drops the units' axis loses their count."""
    folds = how in ("view", "reshape", "flatten")
    if tensor.layout == MAP and folds:  # (B, C * H * W): the channels merged away
        return replace(tensor, head=replace(tensor.head, units=None, units_site=None), rank=rank, layout=LAST)
    head, layout = tensor.head, tensor.layout
    if layout != POOLED and not keeps_units(how, tensor, args if args is not None else Args()):
        head = replace(head, units=None, units_site=None)
    if layout == POOLED and not how.startswith("unsqueeze"):  # (B, C, 1, 1) squeezed or viewed to (B, C)
        layout = LAST
    return replace(tensor, head=head, rank=rank, layout=layout)


def globally_pooled(tensor: Tensor) -> Tensor:
    """AdaptiveAvgPool2d(1) and its functional twin: a feature map's spatial axes pooled to 1, its
    channels still on dim 1; the units of a tensor that has them last stay there."""
    return replace(tensor, bounded=False, layout=LAST if tensor.layout == LAST else POOLED)


def _without_units_off_axis(tensor: Tensor, act, axis) -> Head:
    """A softmax over another axis than the units (attention over steps, a conv's width) does not
    carry their count; nor does one over an axis not known to be the units when there is one unit
    (`Linear(d, 1)` then softmax(dim=1): scores over positions, unless the rank says dim 1 is the last).
    On a convolution's feature map the units are the channels (dim 1)."""
    head = tensor.head
    if act not in (SOFTMAX, LOG_SOFTMAX):
        return head
    on = on_units(axis, tensor.rank, -1 if tensor.layout == LAST else 1)
    if on is False or (on is None and head.units == 1):
        return replace(head, units=None, units_site=None)
    return head


def on_units(axis, rank, units_axis=-1):
    """Whether a softmax over `axis` runs along the units: True, False, or None when the rank
    leaves it open. Linear layers put their units last (units_axis -1), torch convolutions on axis 1
    (channels first). An implicit axis (None) is ACT202's business: taken as the units."""
    if axis is None or axis == units_axis:
        return True
    if rank is not None and rank > 0:
        return axis % rank == units_axis % rank
    if units_axis == 1 and axis == -1:  # a conv output has 3 or more axes: the last is not the channels
        return False
    return None


def keeps_units(name: str, tensor: Tensor, args: Args) -> bool:
    """Whether a reshape keeps the units on the last axis: squeezing away a single unit, flattening
    or viewing into a last axis other than the units loses them (merged or dropped); expanding a
    single unit broadcasts it (`score.expand(-1, 10)`: 10 columns; -1 keeps the size)."""
    units = tensor.head.units
    if units is None:
        return True
    if name.startswith("squeeze"):
        return units != 1
    if name in SIZED_RESHAPES:
        shape = _sizes(args)
        last = const_int(shape[-1]) if shape else None
        return last == units or (name == "expand" and last == -1)
    if name == "flatten":
        return tensor.rank == 2
    return True


def _implicit(args: Args, index: int) -> bool:
    """No dim, or dim=None written at the call: torch chooses the axis. A name that is None only by
    a parameter's default (`F.softmax(x, self.dim)` in a module built `def __init__(self, dim=None)`)
    is the caller's to set: the finding belongs where the None is written, if anywhere."""
    if not args.given(index, "dim"):
        return True
    import libcst as cst

    node = args.node(index, "dim")
    return isinstance(node, cst.Name) and node.value == "None"


def _short(name: str) -> str:
    return name.replace("torch.nn.functional.", "F.").replace("torchvision.ops.", "")


def _is_module_class(name: str) -> bool:
    """`torch.nn.Linear`, `torch.nn.modules.loss.BCELoss`: a module class, not a function or a helper."""
    module, _, last = name.rpartition(".")
    return (module == "torch.nn" or module.startswith("torch.nn.modules")) and last[:1].isupper()


HF_CLASSIFIER_HEADS = {"ForSequenceClassification": 2, "ForImageClassification": 2, "ForAudioClassification": 2,
                       "ForMultipleChoice": 2, "ForTokenClassification": 3}


def hf_classifier_rank(name: str):
    """The rank of the logits of a transformers (PyTorch) classification model built by `name`
    (the class, or its from_pretrained/from_config), else None. TF and Flax classes are not torch."""
    cls = hf_model_class(name)
    if cls is None or cls.startswith(("TF", "Flax")) or not cls[:1].isupper():
        return None
    return next((rank for suffix, rank in HF_CLASSIFIER_HEADS.items() if cls.endswith(suffix)), None)


def _is_pretrained_factory(name: str) -> bool:
    module, _, last = name.rpartition(".")
    if name == "timm.create_model":
        return True
    return module.startswith("torchvision.models") and last[:1].islower() and last not in ("get_weight", "list_models")


def _is_torch(value) -> bool:
    if isinstance(value, ModelVal):
        return value.framework == TORCH
    return value.head.framework == TORCH


def _is_torch_model(value) -> bool:
    model = value.model if isinstance(value, Instance) else value
    return isinstance(model, ModelVal) and model.framework == TORCH


def reshaped_rank(name, rank, args: Args):
    """The rank after view/reshape/flatten/squeeze/unsqueeze, where the arguments fix it."""
    if name in SIZED_RESHAPES:
        return len(_sizes(args)) or None
    if name == "flatten":
        start = const_int(args.get(0, "start_dim"))
        return start + 1 if start is not None and start >= 0 and not args.given(1, "end_dim") else (
            1 if not args.pos and not args.kw else None)
    if rank is None:
        return None
    if name.startswith("unsqueeze"):
        return rank + 1
    return rank - 1 if args.given(0, "dim") else None


def _sizes(args: Args) -> tuple:
    """The sizes given to view/reshape/resize/expand, as (2, 3) or ((2, 3),)."""
    return args.pos[0].items if len(args.pos) == 1 and isinstance(args.pos[0], Seq) else tuple(args.pos)


def _indexes_a_sample(indexes) -> bool:
    """`output[0]`: one sample of the batch, no longer batched."""
    return bool(indexes) and isinstance(indexes[0], Const) and isinstance(indexes[0].value, int)


def _minus_one(rank):
    return rank - 1 if rank else None


def _as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(torch_head())


def _rank(value):
    return value.rank if isinstance(value, Tensor) else None


def _as_tuple(value):
    return value.items if isinstance(value, Seq) else (value,)


def _last_dim(args: Args):
    if len(args.pos) >= 2:
        return const_int(args.pos[-1])
    size = args.get(0, "size")
    return const_int(size.items[-1]) if isinstance(size, Seq) and size.items else None


def _is_column(indexes, node) -> bool:
    """`y[:, None]`: the labels as one column."""
    import libcst as cst

    if len(node.slice) != 2:
        return False
    first = node.slice[0].slice
    return isinstance(first, cst.Slice) and indexes[1] == Const(None)


def _pools_to_one(size) -> bool:
    """AdaptiveAvgPool2d(1), ((1, 1)): every spatial axis pooled to one, so only the channels remain."""
    sizes = size.items if isinstance(size, Seq) else (size,)
    return bool(sizes) and all(const_int(v) == 1 for v in sizes)


def _is_column_shape(name, args: Args) -> bool:
    if name == "unsqueeze":
        return const_int(args.get(0, "dim")) in (1, -1)
    shape = [const_int(v) for v in args.pos]
    return len(shape) == 2 and shape[1] == 1


def _ordered_dict(pairs: Seq):
    items = []
    for pair in pairs.items:
        if not (isinstance(pair, Seq) and len(pair.items) == 2 and isinstance(pair.items[0], Const)):
            return None
        items.append((pair.items[0].value, pair.items[1]))
    return Mapping(tuple(items))
