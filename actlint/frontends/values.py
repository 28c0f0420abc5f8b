"""Abstract values the interpreter computes for expressions.

`None` stands for "unknown": anything the interpreter could not resolve.
Values are immutable so that branch environments can be copied and compared.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from actlint.facts import Head, Loss, Site, Target

_ids = itertools.count(1)

LAST, MAP, POOLED = "last", "map", "pooled"  # Tensor.layout: where the units are


def new_id() -> int:
    return next(_ids)


@dataclass(frozen=True)
class Const:
    """A Python literal: int, float, str, bool or None, and where it was written."""

    value: Any
    site: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Seq:
    """A tuple or list of values."""

    items: tuple
    in_loop: bool = field(default=False, compare=False)  # grown in a loop body, which ran once here: length unknown


@dataclass(frozen=True)
class Mapping:
    """A dict with constant string keys."""

    items: tuple  # ((key, value), ...)
    namespace: bool = False  # a SimpleNamespace: its keys are read as attributes

    def get(self, key):
        return dict(self.items).get(key)


@dataclass(frozen=True)
class Ref:
    """A name imported from a framework or library, as a dotted canonical name."""

    name: str


@dataclass(frozen=True)
class Tensor:
    """A tensor flowing through a model; `head` describes how it was produced."""

    head: Head
    # Clipped away from 0 (clamp, clip_by_value): log() of it stays finite, so it is not ACT501.
    bounded: bool = False
    rank: Optional[int] = None  # number of dimensions, where the code fixes it (torch's implicit softmax dim)
    # Where the units are (torch). LAST: on the last axis (a linear layer's output). MAP: a
    # convolution's feature map, the channels on dim 1 beside spatial axes (a view or flatten folds
    # those in and loses them). POOLED: that map globally pooled to (B, C, 1, 1), the channels still
    # on dim 1 (a squeeze or view moves them last, keeping their count). The default is LAST, what
    # every other frontend and layer means: a tensor built without the field never reads as POOLED,
    # the one state that keeps the channels as the units through a reshape (a map that lost its
    # state so gave false ACT205s). MAP would be quieter on a reshape but loud elsewhere: it takes
    # softmax(dim=1) over a linear layer's steps (B, T, units) as over the units. Copy with replace().
    layout: str = LAST


@dataclass(frozen=True)
class Layer:
    """A layer or module object, before it is called on a tensor.

    kind: "dense" (sets units and activation), "activation" (sets activation only),
    "identity" (passes the head through), "model" (a nested model), "other".
    """

    kind: str
    head: Head = Head()
    site: Optional[Site] = None
    inner: Any = None  # for "model": the nested ModelVal; for lambdas: the function


@dataclass(frozen=True)
class ModelVal:
    """A model object: Sequential (layers), functional or subclassed (outputs)."""

    id: int
    layers: tuple = ()
    outputs: Optional[tuple] = None  # heads, for functional/subclassed models
    framework: str = "keras"
    site: Optional[Site] = None

    def add(self, layer) -> "ModelVal":
        return replace(self, layers=self.layers + (layer,))


@dataclass(frozen=True)
class LossVal:
    loss: Loss


@dataclass(frozen=True)
class TargetVal:
    target: Target


@dataclass(frozen=True)
class Data:
    """A dataset or generator yielding (x, y); `target` describes y."""

    target: Optional[Target]


@dataclass(frozen=True)
class Obj:
    """An instance of a library class the frontends model by name (encoders, generators)."""

    kind: str
    info: tuple = ()
    site: Optional[Site] = None

    def get(self, key):
        return dict(self.info).get(key)


@dataclass(frozen=True)
class Function:
    node: Any  # libcst.FunctionDef or libcst.Lambda
    env: Any = field(compare=False, default=None)  # the defining environment
    owner: Any = field(compare=False, default=None)  # class for methods


@dataclass(frozen=True)
class Class:
    node: Any  # libcst.ClassDef
    bases: tuple  # evaluated base values
    env: Any = field(compare=False, default=None)
    attrs: dict = field(compare=False, default_factory=dict)  # class-level constants

    def method(self, name):
        import libcst as cst

        for stmt in self.node.body.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
                return Function(stmt, self.env, self)
        for base in self.bases:
            if isinstance(base, Class):
                found = base.method(name)
                if found is not None:
                    return found
        return None


@dataclass(eq=False)
class Instance:
    """An instance of a class defined in the analyzed file. Mutable attributes."""

    cls: Class
    attrs: dict = field(default_factory=dict)
    model: Optional[ModelVal] = None  # set when the class is a model


@dataclass(eq=False)
class ModuleVal:
    """Another file of the project, imported: its top-level names, and how to reach its submodules."""

    path: str
    env: Any
    submodule: Any = None  # callable(name) -> value, for `pkg.sub` and `from pkg import sub`

    def attribute(self, name):
        if name in self.env.vars:
            return self.env.vars[name]
        return self.submodule(name) if self.submodule is not None else None
