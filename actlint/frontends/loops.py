"""Training loops that live in a library: the loss handed to a trainer is paired with the model it trains.

The loop each library runs is replayed on the abstract values, as if written out:

- PyTorch-Ignite `create_supervised_trainer(model, optimizer, loss_fn)`: `loss_fn(model(x), y)`
  for each batch of `trainer.run(loader)` (ignite 0.5, `engine/__init__.py: supervised_training_step`);
- fastai `Learner(dls, model, loss_func=...)`: `loss_func(model(x), y)`, the batches unknown;
- Keras Tuner: `tuner.search(x, y)` fits the model `build(hp)` returns (a function or a
  `HyperModel` subclass) on x, y;
- skorch (1.4, `classifier.py`) `NeuralNetClassifier(module, criterion=...)`: the module (a class is
  built with the `module__*` arguments) trained by `criterion` on `net.fit(X, y)`'s y. Its default
  criterion is `NLLLoss`, and for an `NLLLoss` skorch feeds `log(y_pred + eps)`: the module must end
  in a softmax. `NeuralNetBinaryClassifier` defaults to `BCEWithLogitsLoss`.
"""

from __future__ import annotations

from actlint.facts import Binding, Loss
from actlint.frontends.interp import NOT_HANDLED, Args, Frontend
from actlint.frontends.values import Class, Function, Instance, LossVal, ModelVal, Obj, Ref, Seq, Tensor

IGNITE_TRAINERS = {"ignite.engine.create_supervised_trainer"}
FASTAI_LEARNERS = {"fastai.learner.Learner", "fastai.vision.all.Learner", "fastai.text.all.Learner",
                   "fastai.tabular.all.Learner", "fastai.basics.Learner", "fastai.vision.learner.Learner"}
TUNER_MODULES = ("keras_tuner", "kerastuner")
TUNERS = {"RandomSearch", "Hyperband", "BayesianOptimization", "GridSearch"}
SKORCH_NETS = {"NeuralNetClassifier": "torch.nn.NLLLoss", "NeuralNetBinaryClassifier": "torch.nn.BCEWithLogitsLoss"}
SKORCH_NLL = "skorch.nll_of_probabilities"


def is_tuner(name: str) -> bool:
    module, _, last = name.rpartition(".")
    return module.split(".")[0] in TUNER_MODULES and last in TUNERS


class LibraryLoopFrontend(Frontend):
    def __init__(self):
        self.pairs: list[Binding] = []

    def call_ref(self, name, args, node, interp):
        if name.startswith("skorch.") and name.rsplit(".", 1)[-1] in SKORCH_NETS:
            return self.skorch(name.rsplit(".", 1)[-1], args, node, interp)
        if name in IGNITE_TRAINERS:
            model, loss = args.get(0, "model"), args.get(2, "loss_fn")
            train_step(model, loss, None, interp, node)
            return Obj("ignite_trainer", (("model", model), ("loss", loss)))
        if name in FASTAI_LEARNERS:
            train_step(args.get(1, "model"), args.get(None, "loss_func"), None, interp, node)
            return None
        if is_tuner(name):
            return Obj("keras_tuner", (("build", args.get(0, "hypermodel")),))
        return NOT_HANDLED

    def method(self, receiver, name, args, node, interp):
        if not isinstance(receiver, Obj):
            return NOT_HANDLED
        if receiver.kind == "ignite_trainer" and name == "run":
            train_step(receiver.get("model"), receiver.get("loss"), interp.element_of(args.get(0, "data")), interp, node)
            return None
        if receiver.kind == "skorch_net" and name in ("fit", "partial_fit"):
            self.step(receiver.get("model"), receiver.get("loss"), Seq((None, args.get(1, "y"))), interp, node)
            return receiver
        if receiver.kind == "keras_tuner" and name == "search":
            return self.search(receiver.get("build"), args, node, interp)
        return NOT_HANDLED

    def skorch(self, net, args, node, interp):
        """NeuralNetClassifier(module, criterion=..., module__k=v, criterion__k=v)."""
        module = args.get(0, "module")
        if isinstance(module, Class):
            module = interp.call(module, Args(kw=_prefixed(args, "module__")), node)
        criterion = args.get(None, "criterion") if args.given(None, "criterion") else Ref(SKORCH_NETS[net])
        if isinstance(criterion, (Ref, Class)):
            criterion = interp.call(criterion, Args(kw=_prefixed(args, "criterion__")), node)
        if isinstance(criterion, LossVal) and criterion.loss.id == "torch.nll_loss":  # skorch logs the output first
            criterion = LossVal(Loss(SKORCH_NLL, criterion.loss.site or interp.site(node), False, "NLLLoss"))
        if args.starred or not isinstance(criterion, LossVal):
            return Obj("skorch_net")
        self.step(module, criterion, None, interp, node)
        return Obj("skorch_net", (("model", module), ("loss", criterion)))

    def step(self, model, loss, batch, interp, node):
        """train_step, and the pairing torch does not make for skorch's own loss."""
        if isinstance(loss, LossVal) and loss.loss.id == SKORCH_NLL:
            if isinstance(model, (ModelVal, Instance)):
                y = batch.items[1] if isinstance(batch, Seq) else None
                out = interp.call(model, Args(pos=[None]), node)
                head = out.head if isinstance(out, Tensor) else None
                if head is not None:
                    self.pairs.append(Binding(head, loss.loss, getattr(y, "target", None), interp.conditions))
            return
        train_step(model, loss, batch, interp, node)

    def bindings(self, interp) -> list:
        return self.pairs

    def search(self, build, args, node, interp):
        """tuner.search(x, y, ...): the built model's fit(x, y, ...)."""
        if isinstance(build, Function):
            model = interp.call_function(build, Args(pos=[None]), None)
        elif isinstance(build, Instance) and build.cls.method("build") is not None:
            model = interp.call_function(build.cls.method("build"), Args(pos=[None]), build)
        else:
            return None
        if model is not None:
            interp.call_method(model, "fit", args, node)  # as `model.fit(...)` is asked of the frontends
        return None


def train_step(model, loss, batch, interp, node) -> None:
    """loss(model(x), y) for a batch (x, y); nothing when either end is unknown (a model given as a
    factory, `resnet34`, is not a model)."""
    if not isinstance(model, (ModelVal, Instance)) or loss is None:
        return
    x, y = batch.items if isinstance(batch, Seq) and len(batch.items) == 2 else (None, None)
    interp.call(loss, Args(pos=[interp.call(model, Args(pos=[x]), node), y]), node)


def _prefixed(args, prefix: str) -> dict:
    return {key[len(prefix):]: value for key, value in args.kw.items() if key.startswith(prefix)}
