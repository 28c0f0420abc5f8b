"""timm's training helpers: Mixup/CutMix targets and the losses timm's train.py picks for them.

Checked in timm 1.0.31. `Mixup(..., num_classes=1000)` (`data/mixup.py`) called on
(images, labels) returns the images and soft targets, one row of num_classes class weights
per sample (1000 unless given). `SoftTargetCrossEntropy` (`loss/cross_entropy.py`) is
`sum(-target * log_softmax(x))`: logits and one-hot or soft targets. `LabelSmoothingCrossEntropy`
gathers `log_softmax(x)` at `target.unsqueeze(1)`: logits and integer class ids. The model
itself (`timm.create_model(..., num_classes=k)`: k logits) is built by the torch frontend.
"""

from __future__ import annotations

from actlint.facts import SOFT, Binding, Loss
from actlint.frontends.data import const_int, target
from actlint.frontends.interp import NOT_HANDLED, Frontend
from actlint.frontends.values import Const, LossVal, Obj, Seq, Tensor, TargetVal

LOSSES = {
    "SoftTargetCrossEntropy": "timm.soft_target_cross_entropy",
    "LabelSmoothingCrossEntropy": "timm.label_smoothing_cross_entropy",
}
MIXUP_DEFAULT_CLASSES = 1000


def timm_class(name: str):
    """`SoftTargetCrossEntropy` for `timm.loss.SoftTargetCrossEntropy` (any submodule), else ''."""
    return name.rsplit(".", 1)[-1] if name.startswith("timm.") else ""


class TimmFrontend(Frontend):
    def __init__(self):
        self.pairs: list[Binding] = []

    def call_ref(self, name, args, node, interp):
        last = timm_class(name)
        if last in LOSSES:
            return LossVal(Loss(LOSSES[last], interp.site(node), False, f"{last}()"))
        if last == "Mixup" and name.startswith("timm.data"):
            return self.mixup(args, node, interp)
        return NOT_HANDLED

    def mixup(self, args, node, interp) -> Obj:
        multi_label = args.get(9, "multi_label")
        if args.starred or (args.given(9, "multi_label") and multi_label != Const(False)):
            return Obj("timm_mixup")  # multi-label mixing, or arguments not seen: unknown targets
        # Mixup(mixup_alpha, cutmix_alpha, cutmix_minmax, prob, switch_prob, mode, correct_lam,
        #       label_smoothing, num_classes=1000, multi_label=False)
        given = args.get(8, "num_classes")
        classes = const_int(given) if args.given(8, "num_classes") else MIXUP_DEFAULT_CLASSES
        return Obj("timm_mixup", (("classes", classes),), interp.site(node))

    def call_value(self, callee, args, node, interp):
        if isinstance(callee, Obj) and callee.kind == "timm_mixup":
            return self.mixed(callee, args, interp)
        if isinstance(callee, LossVal) and callee.loss.id in LOSSES.values():
            prediction, labels = args.get(0, "x"), args.get(1, "target")
            if isinstance(prediction, Tensor):
                self.pairs.append(Binding(prediction.head, callee.loss,
                                          labels.target if isinstance(labels, TargetVal) else None, interp.conditions))
            return None
        return NOT_HANDLED

    def mixed(self, mixup: Obj, args, interp):
        """mixup_fn(images, labels) -> (images, soft targets over the Mixup's classes)."""
        classes = mixup.get("classes")
        if classes is None or mixup.site is None:
            return Seq((args.get(0, "x"), None))
        spelling = f"Mixup(num_classes={classes})"
        return Seq((args.get(0, "x"), target(SOFT, classes, interp, mixup.site.node, spelling)))

    def bindings(self, interp) -> list:
        return self.pairs
