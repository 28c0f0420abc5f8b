"""The rules: pure functions from a Binding (head, loss, target) to findings.

No rule walks syntax; each reads the facts and the contract table. Precedence
(SPEC §4): a target code whose own fix also cures the head/loss pairing (ACT303,
ACT304) is the one finding for it, and its message names the codes it covers; one
whose fix leaves the pairing wrong (ACT301, ACT302) is reported beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from actlint.catalogue import Contract, contracts
from actlint.facts import (
    BINARY, INDEX, LINEAR, LOG_SOFTMAX, MULTI_HOT, ONE_HOT, SIGMOID, SOFT, SOFTMAX, UNKNOWN, Binding, LogOfProbability,
    Normalization, Site,
)


@dataclass(frozen=True)
class Related:
    site: Site
    label: str  # "loss set", "head set", "targets encoded", "units set"


@dataclass(frozen=True)
class Finding:
    code: str
    site: Site
    message: str
    suggestion: str = ""
    related: tuple = ()
    facts: tuple = ()  # (name, value) pairs for the numeric core
    severity: Optional[str] = None  # overrides the catalogue default
    binding: Optional[Binding] = field(default=None, compare=False, repr=False)  # the facts, for fixes.py
    fix: object = field(default=None, compare=False, repr=False)  # a fixes.Fix, attached by the engine


@dataclass
class Context:
    """A binding with its contract resolved: what the rules below read."""

    binding: Binding
    contract: Optional[Contract]
    expected: Optional[str] = None  # input domain the loss expects
    codes_covered: list = field(default_factory=list)

    @property
    def head(self):
        return self.binding.head

    @property
    def loss(self):
        return self.binding.loss

    @property
    def target(self):
        return self.binding.target

    @property
    def act(self):
        return self.binding.head.activation

    @property
    def family(self):
        return self.contract.family if self.contract else None

    @property
    def framework(self):
        return self.contract.framework if self.contract else None

    @property
    def loss_name(self):
        if self.contract is None:
            return "the loss"
        if self.contract.input_from_logits is not None and self.loss.from_logits:
            return f"{self.contract.display}(from_logits=True)"
        return self.contract.display

    @property
    def encoding(self):
        return self.target.encoding if self.target is not None else UNKNOWN


# -- head/loss pairing ---------------------------------------------------------


def double_softmax(c: Context):
    if c.act == SOFTMAX and c.expected == "logits" and c.family in ("categorical", "sparse"):
        fix = "set from_logits=False, or drop the softmax" if c.contract.input_from_logits else \
            "drop the softmax and feed the logits"
        return "ACT101", f"softmax output is fed to {c.loss_name}, which expects logits and applies softmax again", fix


def double_sigmoid(c: Context):
    if c.act == SIGMOID and c.expected == "logits" and c.family == "binary":
        fix = "use BCELoss, or drop the sigmoid" if c.loss.id == "torch.binary_cross_entropy_with_logits" else \
            "set from_logits=False, or drop the sigmoid" if c.contract.input_from_logits else \
            "drop the sigmoid and feed the logits"
        return "ACT102", f"sigmoid output is fed to {c.loss_name}, which expects logits and applies sigmoid again", fix


def logits_into_probability_loss(c: Context):
    if c.act == LOG_SOFTMAX and c.expected == "probabilities" and c.family == "binary" and c.head.units != 1:
        return "ACT103", f"log-probabilities (log_softmax, all <= 0) are fed to {c.loss_name}, which expects probabilities in [0, 1]", \
            "use sigmoid (independent labels) or softmax probabilities, or NLLLoss on the log_softmax for exclusive classes"
    if c.act == LINEAR and c.expected in ("probabilities", "distribution") and c.family in ("binary", "categorical", "sparse"):
        fix = "use BCEWithLogitsLoss" if c.framework == "torch" else "pass from_logits=True to the loss" \
            if c.contract.input_from_logits else "end the model with a softmax, or use a loss that takes logits"
        return "ACT103", f"raw logits (no output activation) are fed to {c.loss_name}, which expects probabilities", fix


def nll_without_log_softmax(c: Context):
    if c.family == "nll" and c.act in (SOFTMAX, LINEAR):
        what = "softmax probabilities" if c.act == SOFTMAX else "raw logits"
        fix = "use log_softmax instead of softmax" if c.act == SOFTMAX else "use CrossEntropyLoss on the logits"
        return "ACT104", f"{what} are fed to NLLLoss, which expects log-probabilities", fix


def kl_div_without_log_input(c: Context):
    if c.loss.id == "torch.kl_div" and c.act in (SOFTMAX, SIGMOID):
        return "ACT105", f"{c.act} probabilities are fed to KLDivLoss as its input, which expects log-probabilities", \
            "use log_softmax for the input"


def redundant_log_softmax(c: Context):
    if c.act == LOG_SOFTMAX and c.loss.id == "torch.cross_entropy":
        return "ACT106", "log_softmax before CrossEntropyLoss is redundant: CrossEntropyLoss applies log_softmax itself", \
            "drop the log_softmax"


def sigmoid_with_categorical_loss(c: Context):
    if c.act == SIGMOID and c.family in ("categorical", "sparse"):
        fix = "drop the sigmoid and feed the logits" if c.expected == "logits" else "use softmax on the output"
        return "ACT203", f"sigmoid output is trained with {c.loss_name}, which expects one distribution over exclusive classes", fix


def softmax_with_binary_loss(c: Context):
    if c.act == SOFTMAX and c.family == "binary" and (c.head.units or 0) > 2:
        return "ACT204", f"softmax over {c.head.units} units is trained with {c.loss_name}, which scores each unit as an independent yes/no", \
            "use categorical cross-entropy for exclusive classes, or sigmoid for multi-label"


PAIRING_RULES = (
    double_softmax, double_sigmoid, logits_into_probability_loss, nll_without_log_softmax,
    kl_div_without_log_input, redundant_log_softmax, sigmoid_with_categorical_loss, softmax_with_binary_loss,
)

# -- targets -------------------------------------------------------------------


def one_hot_with_sparse_loss(c: Context):
    if c.encoding in (ONE_HOT, SOFT) and c.family in ("sparse", "nll"):
        what = "one-hot" if c.encoding == ONE_HOT else "soft class weights (mixed or smoothed rows)"
        return "ACT301", f"{c.loss_name} expects integer class ids, but the targets are {what} ({c.target.spelling})", \
            "use the categorical (non-sparse) loss, or keep the labels as integers"


def index_with_categorical_loss(c: Context):
    if c.encoding == INDEX and c.family == "categorical" and INDEX not in c.contract.targets:
        return "ACT302", f"{c.loss_name} expects one-hot targets, but the targets are integer class ids ({c.target.spelling})", \
            "use the sparse categorical loss, or one-hot encode the labels"


def multi_label_with_softmax(c: Context):
    if c.encoding == MULTI_HOT and (c.act == SOFTMAX or c.family in ("categorical", "sparse", "nll")):
        what = "the softmax head" if c.act == SOFTMAX else c.loss_name
        return "ACT303", f"the targets are multi-label ({c.target.spelling}), but {what} makes the classes exclusive", \
            "use a sigmoid output with binary cross-entropy"


def one_hot_with_sigmoid(c: Context):
    if c.encoding != ONE_HOT or c.family != "binary":
        return None
    if c.act == SIGMOID or (c.act == LINEAR and c.expected == "logits"):
        return "ACT304", f"the targets are one-hot (exclusive classes, {c.target.spelling}), but {c.loss_name} on a {c.act} output scores each class independently", \
            "use softmax with categorical cross-entropy"


TARGET_RULES = (one_hot_with_sparse_loss, index_with_categorical_loss, multi_label_with_softmax, one_hot_with_sigmoid)

# Whether a target code's own fix also cures the head/loss pairing (SPEC §4, one bug, one finding).
# ACT301/ACT302 swap the sparse and the categorical loss: the input domain stays as wrong as it was
# (integer labels + sigmoid + categorical_crossentropy is ACT302 and ACT203). ACT303 and ACT304
# replace the head and the loss together, which cures every pairing code beside them.
CURES_PAIRING = {"ACT301": False, "ACT302": False, "ACT303": True, "ACT304": True}

# -- the head alone, and units ---------------------------------------------------------


def softmax_single_unit(c: Context):
    if c.act == LOG_SOFTMAX and c.head.units == 1:
        return "ACT201", "log_softmax over a single unit always outputs 0.0 (log 1), so the model cannot learn", \
            "use sigmoid (or logsigmoid) for one binary output, or 2 units with log_softmax"
    if c.act == SOFTMAX and c.head.units == 1:
        return "ACT201", "softmax over a single unit always outputs 1.0, so the model cannot learn", \
            "use sigmoid for one binary output, or 2 units with softmax"


def units_classes_mismatch(c: Context):
    units, (classes, source) = c.head.units, _implied_classes(c)
    if units is None or classes is None:
        return None
    if units == classes or (units == 1 and classes == 2 and c.family == "binary"):
        return None
    return "ACT205", f"the output has {units} units but {source}", f"set the output units to {classes}"


def _implied_classes(c: Context):
    """The class count the targets imply, else the one the loss implies (its per-class weights)."""
    target = c.target
    if target is not None and target.classes is not None and c.encoding not in (BINARY, UNKNOWN):
        return target.classes, f"the targets have {target.classes} classes ({target.spelling})"
    if c.loss is not None and c.loss.classes is not None:
        return c.loss.classes, f"{c.loss_name} is given {c.loss.classes} per-class weights"
    return None, ""


# -- assembly ---------------------------------------------------------------------


def context(binding: Binding) -> Context:
    loss = binding.loss
    contract = contracts().get(loss.id) if loss is not None else None
    return Context(binding, contract, contract.expected_input(loss.from_logits) if contract else None)


def check(binding: Binding) -> list[Finding]:
    c = context(binding)
    contract = c.contract
    findings = []
    hit = softmax_single_unit(c)
    if hit:
        findings.append(_finding(c, hit, head_first=True))
    if contract is None:
        return findings
    hit = units_classes_mismatch(c)
    if hit:
        findings.append(_finding(c, hit, head_first=True, units=True))
    pairing = [h for h in (rule(c) for rule in PAIRING_RULES) if h]
    targets = [h for h in (rule(c) for rule in TARGET_RULES) if h]
    curing = any(CURES_PAIRING[code] for code, _, _ in targets)
    for hit in targets:
        cures = CURES_PAIRING[hit[0]]  # its fix replaces the head too: reported at the head
        findings.append(_finding(c, hit, head_first=cures, covers=[code for code, _, _ in pairing] if cures else ()))
    if not curing:
        findings.extend(_finding(c, hit, head_first=True) for hit in pairing)
    return findings


def _finding(c: Context, hit, head_first: bool, units=False, covers=()) -> Finding:
    code, message, suggestion = hit
    if covers:
        message += f" (this also covers {', '.join(covers)})"
    head_site = (c.head.units_site or c.head.site) if units else c.head.site
    ends = [(head_site, "output set"), (c.loss.site if c.loss else None, "loss set"),
            (c.target.site if c.target else None, "targets encoded")]
    if not head_first or head_site is None:
        ends = [ends[1], ends[2], ends[0]]
    ends = [(site, label) for site, label in ends if site is not None]
    primary, rest = ends[0][0], ends[1:]
    return Finding(code, primary, message, suggestion, tuple(Related(s, label) for s, label in rest),
                   _facts(c), None, c.binding)


def _facts(c: Context) -> tuple:
    facts = {
        "activation": c.act, "units": c.head.units, "axis": c.head.axis,
        "loss": c.loss.id if c.loss else None, "from_logits": c.loss.from_logits if c.loss else None,
        "target": c.encoding if c.target else None,
        "classes": c.target.classes if c.target and c.target.classes is not None else _implied_classes(c)[0],
    }
    return tuple(facts.items())


# -- one call alone: no loss needed --------------------------------------------------------


def softmax_over_batch(n: Normalization) -> Optional[Finding]:
    """ACT202: a softmax whose axis is the batch: written as 0 on a layer's output, or left for the
    framework to pick (an error where the rank makes it pick 0, a warning where the rank is unknown).
    Only softmax and log_softmax normalize over an axis: `F.leaky_relu(x, 0)` passes a slope."""
    if n.activation not in (SOFTMAX, LOG_SOFTMAX):
        return None
    facts = (("activation", n.activation), ("axis", None if n.implicit else 0), ("units", n.units),
             ("framework", n.framework))
    if n.implicit:
        if n.implied_axis == 0:
            message = (f"{n.spelling} without {n.keyword} on a {n.rank}-D tensor: {n.framework} picks "
                       f"{n.keyword} 0, so it normalizes across the batch")
        else:  # torch's rule, the one framework that picks the axis: 0 for 0-, 1- and 3-D inputs, else 1
            message = (f"{n.spelling} without {n.keyword}: {n.framework} picks the axis from the input's rank "
                       f"({n.keyword} 0, the batch, for 1-D and 3-D inputs) and warns")
        # the axis the fix writes: -1 where torch picks the batch; where it picks 1 (2-D, a 4-D map's
        # channels, an unknown rank), 1, the axis it uses today
        axis = "-1" if n.implied_axis == 0 else "1"
        return Finding("ACT202", n.site, message, f"pass the class axis explicitly: {n.keyword}={axis}", facts=facts,
                       severity=None if n.implied_axis == 0 else "warning")
    if n.axis == 0 and n.batched:
        return Finding(
            "ACT202", n.site,
            f"{n.activation} over {n.keyword}=0 normalizes across the batch: each sample's class scores no longer "
            "sum to 1 and depend on the other samples",
            f"use {n.keyword}=-1, the class axis", facts=facts,
        )
    return None


def log_of_probability(log: LogOfProbability) -> Optional[Finding]:
    """ACT501: log() of a softmax or sigmoid output that nothing keeps from log(0), on a trained value."""
    if log.activation not in (SOFTMAX, SIGMOID) or log.clipped or not log.trained:
        return None
    return Finding(
        "ACT501", log.site,
        f"log of a {log.activation} output is computed by hand: it underflows to log(0) = -inf for confident "
        "predictions, and the loss becomes inf or NaN",
        "use log_softmax (or a with-logits loss) on the logits" if log.activation == SOFTMAX
        else "use logsigmoid (or a with-logits loss) on the logits",
        facts=(("activation", log.activation), ("units", log.units)),
    )


LOCAL_RULES = {Normalization: softmax_over_batch, LogOfProbability: log_of_probability}


def on_paths(finding: Finding, paths: set) -> Finding:
    """A finding seen on one branch path only (a model or loss chosen by an unresolved `if`) says
    which: `... (when args.dataset == "imagenet")`."""
    path = next(iter(paths)) if len(paths) == 1 else ()
    if not path:
        return finding
    return replace(finding, message=f"{finding.message} (when {' and '.join(path)})")


def check_local(facts: list) -> list[Finding]:
    """The findings of one-call facts, once per call site (a forward runs more than once): the first
    there, except that an error replaces a warning."""
    findings: dict = {}
    for fact in facts:
        finding = LOCAL_RULES[type(fact)](fact)
        if finding is None:
            continue
        key = (finding.code, id(finding.site.node))
        seen = findings.get(key)
        if seen is None or (seen.severity == "warning" and finding.severity is None):
            findings[key] = finding
    return list(findings.values())


# Every finding code and the pure function that decides it (the ACT0xx diagnostics are the engine's).
RULES = {
    "ACT101": double_softmax, "ACT102": double_sigmoid, "ACT103": logits_into_probability_loss,
    "ACT104": nll_without_log_softmax, "ACT105": kl_div_without_log_input, "ACT106": redundant_log_softmax,
    "ACT201": softmax_single_unit, "ACT202": softmax_over_batch, "ACT203": sigmoid_with_categorical_loss,
    "ACT204": softmax_with_binary_loss, "ACT205": units_classes_mismatch,
    "ACT301": one_hot_with_sparse_loss, "ACT302": index_with_categorical_loss, "ACT303": multi_label_with_softmax,
    "ACT304": one_hot_with_sigmoid, "ACT501": log_of_probability,
}
