"""Training loops that live in a library: the loss handed to a trainer is paired with the model it trains.

The loop each library runs is replayed on the abstract values, as if written out:

- PyTorch-Ignite `create_supervised_trainer(model, optimizer, loss_fn)`: `loss_fn(model(x), y)`
  for each batch of `trainer.run(loader)` (ignite 0.5, `engine/__init__.py: supervised_training_step`);
- fastai `Learner(dls, model, loss_func=...)`: `loss_func(model(x), y)`, the batches unknown;
- Keras Tuner: `tuner.search(x, y)` fits the model `build(hp)` returns (a function or a
  `HyperModel` subclass) on x, y.
"""

from __future__ import annotations

from actlint.frontends.interp import NOT_HANDLED, Args, Frontend
from actlint.frontends.values import Function, Instance, ModelVal, Obj, Seq

IGNITE_TRAINERS = {"ignite.engine.create_supervised_trainer"}
FASTAI_LEARNERS = {"fastai.learner.Learner", "fastai.vision.all.Learner", "fastai.text.all.Learner",
                   "fastai.tabular.all.Learner", "fastai.basics.Learner", "fastai.vision.learner.Learner"}
TUNER_MODULES = ("keras_tuner", "kerastuner")
TUNERS = {"RandomSearch", "Hyperband", "BayesianOptimization", "GridSearch"}


def is_tuner(name: str) -> bool:
    module, _, last = name.rpartition(".")
    return module.split(".")[0] in TUNER_MODULES and last in TUNERS


class LibraryLoopFrontend(Frontend):
    def call_ref(self, name, args, node, interp):
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
        if receiver.kind == "keras_tuner" and name == "search":
            return self.search(receiver.get("build"), args, node, interp)
        return NOT_HANDLED

    def search(self, build, args, node, interp):
        """tuner.search(x, y, ...): the built model's fit(x, y, ...)."""
        if isinstance(build, Function):
            model = interp.call_function(build, Args(pos=[None]), None)
        elif isinstance(build, Instance) and build.cls.method("build") is not None:
            model = interp.call_function(build.cls.method("build"), Args(pos=[None]), build)
        else:
            return None
        if model is not None:
            interp._ask("method", model, "fit", args, node)  # as `model.fit(...)` is asked of the frontends
        return None


def train_step(model, loss, batch, interp, node) -> None:
    """loss(model(x), y) for a batch (x, y); nothing when either end is unknown (a model given as a
    factory, `resnet34`, is not a model)."""
    if not isinstance(model, (ModelVal, Instance)) or loss is None:
        return
    x, y = batch.items if isinstance(batch, Seq) and len(batch.items) == 2 else (None, None)
    interp.call(loss, Args(pos=[interp.call(model, Args(pos=[x]), node), y]), node)
