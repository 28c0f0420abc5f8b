"""Framework-neutral facts about classification heads, losses and targets.

Frontends turn syntax into these; rules read nothing else. Every field may be
unknown (None or "unknown"): a rule fires only on facts that were resolved.
Source positions are kept as CST nodes and turned into rows and columns only
for files that have findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

# Output activations a head can have.
LINEAR = "linear"
SIGMOID = "sigmoid"
SOFTMAX = "softmax"
LOG_SOFTMAX = "log_softmax"
OTHER = "other"  # relu, tanh, ...: known, but not a classification activation
UNKNOWN = "unknown"

# Target encodings.
BINARY = "binary"
INDEX = "index"
ONE_HOT = "one-hot"
MULTI_HOT = "multi-hot"
SOFT = "soft"
CONTINUOUS = "continuous"


@dataclass(frozen=True)
class Site:
    """Where a fact was written: a CST node in a file (positions computed lazily)."""

    path: str
    node: Any  # libcst.CSTNode
    module: Any = field(default=None, compare=False, repr=False)  # the libcst.Module


@dataclass(frozen=True)
class Head:
    """The output of a model: its activation and its number of units."""

    activation: str = UNKNOWN
    units: Optional[int] = None
    site: Optional[Site] = None  # the expression that sets the activation (or the last layer)
    units_site: Optional[Site] = None  # the layer that sets the unit count
    axis: Optional[int] = None  # softmax axis when explicit
    framework: str = "keras"
    name: Optional[str] = None  # output name (Keras layer name), for per-output losses
    # Resolved by an assumption (an unresolved training flag taken as "training"): a finding on it
    # may be reported, but its fix is never safe.
    assumed: bool = field(default=False, compare=False)

    def with_activation(self, activation: str, site: Optional[Site], axis: Optional[int] = None) -> "Head":
        return Head(activation, self.units, site, self.units_site, axis, self.framework, self.name)


@dataclass(frozen=True)
class Loss:
    """A loss: a contract-table id plus from_logits when the loss has that switch."""

    id: str  # key in rules/contracts.toml [losses], e.g. "keras.categorical_crossentropy"
    site: Optional[Site] = None
    from_logits: Optional[bool] = False  # None: given but not resolved
    spelling: str = ""  # how the user wrote it, for messages
    classes: Optional[int] = None  # classes the loss itself implies: CrossEntropyLoss(weight=<3 values>)

    @property
    def framework(self) -> Optional[str]:
        """Whose API the loss is ("keras", "torch", "tf"), from the contract table."""
        from actlint.catalogue import contract

        found = contract(self.id)
        return found.framework if found else None


@dataclass(frozen=True)
class Target:
    """How the labels are encoded, and how many classes they imply."""

    encoding: str = UNKNOWN
    classes: Optional[int] = None
    site: Optional[Site] = None
    spelling: str = ""


@dataclass(frozen=True)
class Binding:
    """A head trained with a loss on targets (loss and target may be absent)."""

    head: Head
    loss: Optional[Loss] = None
    target: Optional[Target] = None
    # The conditions of the branch path it was seen on (`args.model == "a"`), when a model or a loss
    # was chosen by a branch on something unknown; () when it holds whichever way the code runs.
    path: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class Normalization:
    """A softmax (or log_softmax) applied over an axis of a tensor, with or without a loss."""

    activation: str
    site: Site
    framework: str  # whose API it is: "torch", "keras", "tf"
    keyword: str  # how that API names the axis: "dim", "axis"
    axis: Optional[int] = None  # the axis written in the call, when resolved
    implicit: bool = False  # no axis written: the framework picks one from the input's rank
    implied_axis: Optional[int] = None  # the axis it picks then, when the rank is known
    rank: Optional[int] = None  # the input's rank, when known
    batched: bool = False  # the input is known to be a layer's output: its axis 0 is the batch
    units: Optional[int] = None
    spelling: str = ""  # how the user wrote the call, for messages ("F.softmax()")


@dataclass(frozen=True)
class LogOfProbability:
    """log() of a softmax or sigmoid output, computed by hand."""

    activation: str
    site: Site
    units: Optional[int] = None
    clipped: bool = False  # kept away from 0 (clamp, clip_by_value, + eps) before the log
    trained: bool = True  # False under no_grad: nothing is trained on the value


@dataclass
class FileFacts:
    """Everything the frontends learned about one file."""

    path: str
    bindings: list[Binding] = field(default_factory=list)
    local: list = field(default_factory=list)  # Normalization and LogOfProbability facts, in the order found
