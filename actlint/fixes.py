"""Fixes: the source edits that repair a finding, computed from its facts.

A fix reads the finding's Binding (through the same `Context` the rules read) and the CST
nodes its Head, Loss and Target sites point at; it never looks for syntax on its own. It is a
set of node replacements (`Edit`) with the imports they need, a one-line message, and an
applicability:

- `safe`: local (one expression) and fully determined by the facts;
- `unsafe`: changes more than one place, or rests on an assumption (say, that the loss is right
  and the head is wrong while the targets are unknown).

Each framework's fixes live in a table keyed by rule code; a code without an entry, or whose
syntax is not the plain spelling a rewrite knows, offers no fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

import libcst as cst

from actlint.catalogue import contracts
from actlint.checks import Context, context
from actlint.facts import INDEX, LINEAR, LOG_SOFTMAX, ONE_HOT, SIGMOID, SOFT, SOFTMAX, Head, Loss, Site
from actlint.rewrites import (
    TORCH_FUNCTION_OWNERS, Unfixable, activation_input, argument, in_sequential, is_function_call, keras_loss_call, keyword_names,
    last_name, parenthesized, positional_count, renamed, set_argument, string_like, string_value, written_in_compile,
)

SAFE, UNSAFE = "safe", "unsafe"


@dataclass(frozen=True)
class Edit:
    site: Site  # the node replaced, in the file that holds it
    replacement: Any  # the libcst node put in its place
    imports: tuple = ()  # (module, name) pairs the replacement needs in that file


@dataclass(frozen=True)
class Fix:
    applicability: str
    message: str
    edits: tuple

    def applies(self, unsafe: bool) -> bool:
        return self.applicability == SAFE or unsafe


def fix_for(finding) -> Optional[Fix]:
    """The fix for a finding, or None when its facts do not determine one."""
    try:
        if finding.binding is None:  # a purely local finding (ACT202, ACT501): its site is the fact
            build = LOCAL_FIXES.get(finding.code)
            return build(finding) if build else None
        c = context(finding.binding)
        build = FIXES.get((framework(c), finding.code))
        return build(c) if build else None
    except Unfixable:
        return None


def framework(c: Context) -> str:
    return c.framework if c.contract is not None else c.head.framework


def attach(findings: list, bindings: list) -> list:
    """The findings with their fixes. Beyond what a fix's builder is unsure of (`_fix`), a fix is unsafe
    when its finding rests on an assumption or it edits a head or loss another pairing shares."""
    shared = _shared_nodes(bindings)
    out = []
    for finding in findings:
        fix = _guarded(fix_for, finding)
        if fix is not None and (_rests_on_assumption(finding) or any(id(e.site.node) in shared for e in fix.edits)):
            fix = replace(fix, applicability=UNSAFE)
        if fix is not None:
            fix = _guarded(lambda _, fix=fix: replace(fix, edits=tuple(_narrowed(e) for e in fix.edits)), finding)
        out.append(replace(finding, fix=fix) if fix else finding)
    return out


def _rests_on_assumption(finding) -> bool:
    """A finding whose head was resolved by an assumption (an unresolved training flag taken as
    "training") gets no safe fix."""
    return finding.binding is not None and finding.binding.head.assumed


def _guarded(compute, finding):
    """A fix that fails to compute is no fix: the finding is still reported."""
    try:
        return compute(finding)
    except Exception:
        if os.environ.get("ACTLINT_DEBUG"):
            raise
        return None


def _shared_nodes(bindings: list) -> set:
    """Head nodes trained with two different losses, loss nodes used on two different heads."""
    partners = {}
    for b in bindings:
        if b.loss is None or b.loss.site is None or b.head.site is None:
            continue
        partners.setdefault(id(b.head.site.node), set()).add(id(b.loss.site.node))
        partners.setdefault(id(b.loss.site.node), set()).add(id(b.head.site.node))
    return {node for node, others in partners.items() if len(others) > 1}


def _fix(message: str, edits: list, sure: bool = True) -> Fix:
    return Fix(SAFE if sure and len(edits) == 1 else UNSAFE, message, tuple(edits))


def _narrowed(edit: Edit) -> Edit:
    """The same edit on the smallest node that changes (the string, not the whole `Dense(...)`)."""
    old, new = edit.site.node, edit.replacement
    while type(old) is type(new):
        pairs = list(zip(old.children, new.children))
        changed = [(a, b) for a, b in pairs if not a.deep_equals(b)]
        if len(old.children) != len(new.children) or len(changed) != 1:
            break
        old, new = changed[0]
    return replace(edit, site=replace(edit.site, node=old), replacement=new)


# -- Keras: losses --------------------------------------------------------------------------------

EQUAL_ARGS = {"from_logits", "label_smoothing", "axis", "reduction", "name", "dtype"}
KERAS_LOSSES = {  # loss id -> (string and function name, class name, the class's keyword arguments)
    "keras.binary_crossentropy": ("binary_crossentropy", "BinaryCrossentropy", EQUAL_ARGS),
    "keras.categorical_crossentropy": ("categorical_crossentropy", "CategoricalCrossentropy", EQUAL_ARGS),
    "keras.sparse_categorical_crossentropy": (
        "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
        {"from_logits", "ignore_class", "reduction", "name", "dtype", "axis"},
    ),
}
BINARY_LOSS, CATEGORICAL_LOSS = "keras.binary_crossentropy", "keras.categorical_crossentropy"
SPARSE_LOSS = "keras.sparse_categorical_crossentropy"


def keras_loss_edit(loss: Loss, new_id: str, from_logits: bool) -> tuple:
    """(Edit turning the loss into `new_id` with `from_logits`, whether that edit is sure)."""
    if loss.id not in KERAS_LOSSES or loss.site is None:
        raise Unfixable("not a loss these fixes know")
    node, module = loss.site.node, loss.site.module
    old_name, old_class, _ = KERAS_LOSSES[loss.id]
    new_name, new_class, accepted = KERAS_LOSSES[new_id]
    if isinstance(node, cst.Call):
        return _loss_class_edit(loss, old_class, new_class, accepted, from_logits), True
    if string_value(node) == old_name and not from_logits:
        return Edit(loss.site, string_like(node, new_name)), True
    if string_value(node) == old_name or (last_name(node) == old_name and from_logits):
        call, imports = keras_loss_call(module, new_class, "from_logits=True")
        return Edit(loss.site, call, imports), written_in_compile(module, node)
    function, imports = renamed(node, old_name, new_name, module)
    return Edit(loss.site, function, imports), True


def _loss_class_edit(loss: Loss, old_class: str, new_class: str, accepted: set, from_logits: bool) -> Edit:
    node = loss.site.node
    if not keyword_names(node) <= accepted or positional_count(node) > 1:
        raise Unfixable("arguments the new loss does not take")
    func, imports = renamed(node.func, old_class, new_class, loss.site.module)
    call = node.with_changes(func=func)
    if from_logits != loss.from_logits:
        call = set_argument(call, 0, "from_logits", cst.Name(str(from_logits)))
    return Edit(loss.site, call, imports)


# -- Keras: the head's activation ------------------------------------------------------------------

ACTIVATION_ARGUMENT = {"Dense": 1, "Activation": 0, "SimpleRNN": 1, "LSTM": 1, "GRU": 1,
                       "Conv1D": None, "Conv2D": None, "Conv3D": None}


def keras_activation_edit(head: Head, new: str) -> Edit:
    """An Edit giving the head's output activation `new` (sigmoid, softmax or linear)."""
    node = head.site.node if head.site else None
    if not isinstance(node, cst.Call):
        raise Unfixable("the head is not a call")
    name = last_name(node.func)
    if name in ACTIVATION_ARGUMENT:
        return Edit(head.site, _layer_with_activation(node, ACTIVATION_ARGUMENT[name], new))
    if name == "Softmax" and isinstance(node.func, cst.Attribute) and not node.args:
        layer = node.func.with_deep_changes(node.func.attr, value="Activation")
        return Edit(head.site, node.with_changes(func=layer, args=[cst.Arg(cst.SimpleString(f'"{new}"'))]))
    if name in (SOFTMAX, SIGMOID) and isinstance(node.func, cst.Attribute):
        return Edit(head.site, _applied_activation(node, new))
    raise Unfixable("an activation spelled another way")


def _layer_with_activation(layer: cst.Call, index: Optional[int], new: str) -> cst.Call:
    given = argument(layer, index, "activation")
    if given is None:
        if new == LINEAR:
            raise Unfixable("already linear")
        return set_argument(layer, index, "activation", cst.SimpleString(f'"{new}"'))
    value = given.value
    if isinstance(value, cst.SimpleString):
        new_value = string_like(value, new)
    elif isinstance(value, cst.Attribute) and value.attr.value in (SOFTMAX, SIGMOID) and new != LINEAR \
            and last_name(value.value) in ("activations", "nn"):
        new_value = value.with_deep_changes(value.attr, value=new)
    elif isinstance(value, cst.Name):  # a parameter or variable: a literal here would change every model built
        raise Unfixable("the activation is a variable")
    else:
        new_value = cst.SimpleString(f'"{new}"')
    return layer.with_deep_changes(given, value=new_value)


def _applied_activation(call: cst.Call, new: str):
    """`tf.nn.softmax(x)` -> `tf.nn.sigmoid(x)`, or `x` itself for a linear output."""
    if positional_count(call) != 1 or len(call.args) != 1 or call.args[0].star:
        raise Unfixable("an axis or other arguments")
    if new == LINEAR:
        return parenthesized(call.args[0].value)
    return call.with_deep_changes(call.func.attr, value=new)


def probability_activation(loss_family: str, from_logits: bool) -> str:
    if from_logits:
        return LINEAR
    return SIGMOID if loss_family == "binary" else SOFTMAX


# -- Keras: one function per code --------------------------------------------------------------------


def keras_double_activation(c: Context) -> Fix:  # ACT101, ACT102
    edit, sure = keras_loss_edit(c.loss, c.loss.id, from_logits=False)
    return _fix(f"Set from_logits=False: the {c.act} output is already probabilities", [edit], sure)


def keras_logits_into_probability_loss(c: Context) -> Optional[Fix]:  # ACT103
    if c.act == LOG_SOFTMAX:
        return None  # log-probabilities: which probabilities were meant is the author's call
    edit, sure = keras_loss_edit(c.loss, c.loss.id, from_logits=True)
    return _fix("Pass from_logits=True to the loss: the output has no activation", [edit], sure)


def keras_softmax_single_unit(c: Context) -> Optional[Fix]:  # ACT201
    if c.loss is not None and (c.family != "binary" or c.expected == "logits"):
        return None  # the unit count, or the loss, is what is wrong
    return _fix("Use sigmoid on the single-unit output", [keras_activation_edit(c.head, SIGMOID)])


def keras_sigmoid_with_categorical_loss(c: Context) -> Optional[Fix]:  # ACT203
    if c.head.units == 1:
        return None
    new = probability_activation(c.family, c.loss.from_logits)
    sure = c.encoding in (ONE_HOT, INDEX, SOFT)  # else: maybe the loss is what is wrong
    return _fix(f"Use {new} on the output: {c.loss_name} expects exclusive classes",
                [keras_activation_edit(c.head, new)], sure)


def keras_softmax_with_binary_loss(c: Context) -> Optional[Fix]:  # ACT204
    if c.encoding not in (ONE_HOT, SOFT):
        return None
    edit, sure = keras_loss_edit(c.loss, CATEGORICAL_LOSS, c.loss.from_logits)
    return _fix("Use categorical cross-entropy: the targets are one-hot (exclusive classes)", [edit], sure)


def keras_one_hot_with_sparse_loss(c: Context) -> Fix:  # ACT301
    edit, sure = keras_loss_edit(c.loss, CATEGORICAL_LOSS, c.loss.from_logits)
    return _fix("Use the categorical (non-sparse) loss for one-hot targets", [edit], sure)


def keras_index_with_categorical_loss(c: Context) -> Fix:  # ACT302
    edit, sure = keras_loss_edit(c.loss, SPARSE_LOSS, c.loss.from_logits)
    return _fix("Use the sparse categorical loss for integer targets", [edit], sure)


def keras_multi_label_with_softmax(c: Context) -> Fix:  # ACT303
    return _keras_head_and_loss(c, BINARY_LOSS, "Use a sigmoid output with binary cross-entropy: the targets are multi-label")


def keras_one_hot_with_sigmoid(c: Context) -> Fix:  # ACT304
    return _keras_head_and_loss(c, CATEGORICAL_LOSS, "Use softmax with categorical cross-entropy: the classes are exclusive")


def _keras_head_and_loss(c: Context, loss_id: str, message: str) -> Fix:
    """Move the loss to `loss_id` and the head to the activation that loss expects; each only if needed."""
    edits, sure = [], True
    if c.loss.id != loss_id:
        edit, sure = keras_loss_edit(c.loss, loss_id, c.loss.from_logits)
        edits.append(edit)
    wanted = probability_activation(contracts()[loss_id].family, c.loss.from_logits)
    if c.act != wanted:
        if wanted == SOFTMAX and c.head.units == 1:
            raise Unfixable("softmax over one unit")
        edits.append(keras_activation_edit(c.head, wanted))
    return _fix(message, edits, sure)


FIXES: dict = {
    ("keras", "ACT101"): keras_double_activation,
    ("keras", "ACT102"): keras_double_activation,
    ("keras", "ACT103"): keras_logits_into_probability_loss,
    ("keras", "ACT201"): keras_softmax_single_unit,
    ("keras", "ACT203"): keras_sigmoid_with_categorical_loss,
    ("keras", "ACT204"): keras_softmax_with_binary_loss,
    ("keras", "ACT301"): keras_one_hot_with_sparse_loss,
    ("keras", "ACT302"): keras_index_with_categorical_loss,
    ("keras", "ACT303"): keras_multi_label_with_softmax,
    ("keras", "ACT304"): keras_one_hot_with_sigmoid,
}


# -- PyTorch ------------------------------------------------------------------------------------------


def torch_renamed(site: Site, renames: dict) -> Edit:
    """`nn.BCELoss(...)` -> `nn.BCEWithLogitsLoss(...)`: the callee renamed, arguments kept."""
    node = site.node if site else None
    old = last_name(node.func) if isinstance(node, cst.Call) else None
    if old not in renames:
        raise Unfixable("a callee these fixes do not rename")
    func, imports = renamed(node.func, old, renames[old], site.module)
    return Edit(site, node.with_changes(func=func), imports)


def torch_without_activation(head: Head) -> Edit:
    """The head's softmax or sigmoid removed: `F.softmax(x, dim=1)` -> `x`; in nn.Sequential, nn.Identity()."""
    node = head.site.node if head.site else None
    if isinstance(node, cst.Call) and last_name(node.func) in ("Softmax", "Sigmoid"):
        if not in_sequential(head.site.module, node):
            raise Unfixable("a module attribute may also serve prediction: keep it")
        func, imports = renamed(node.func, last_name(node.func), "Identity", head.site.module)
        return Edit(head.site, node.with_changes(func=func, args=[]), imports)
    return Edit(head.site, activation_input(node))


def torch_double_softmax(c: Context) -> Fix:  # ACT101
    return _fix("Remove the softmax: the loss applies log_softmax itself (the model then outputs logits)",
                [torch_without_activation(c.head)], sure=False)


def torch_double_sigmoid(c: Context) -> Fix:  # ACT102
    node = c.loss.site.node
    if "pos_weight" in keyword_names(node) or positional_count(node) > 4:
        raise Unfixable("BCELoss has no pos_weight")
    edit = torch_renamed(c.loss.site, {"BCEWithLogitsLoss": "BCELoss",
                                       "binary_cross_entropy_with_logits": "binary_cross_entropy"})
    return _fix("Use BCELoss: the output already went through a sigmoid", [edit])


def torch_logits_into_bce(c: Context) -> Optional[Fix]:  # ACT103
    if c.act == LOG_SOFTMAX:
        return None
    edit = torch_renamed(c.loss.site, {"BCELoss": "BCEWithLogitsLoss",
                                       "binary_cross_entropy": "binary_cross_entropy_with_logits"})
    return _fix("Use the with-logits loss: the output has no sigmoid", [edit])


def torch_nll_without_log_softmax(c: Context) -> Fix:  # ACT104
    if c.act == SOFTMAX:
        edit = torch_renamed(c.head.site, {"softmax": "log_softmax", "Softmax": "LogSoftmax"})
        return _fix("Use log_softmax: NLLLoss expects log-probabilities", [edit])
    edit = torch_renamed(c.loss.site, {"NLLLoss": "CrossEntropyLoss", "nll_loss": "cross_entropy"})
    return _fix("Use cross-entropy on the logits: NLLLoss expects log-probabilities", [edit])


def torch_sigmoid_with_cross_entropy(c: Context) -> Optional[Fix]:  # ACT203
    if c.expected != "logits":
        return None
    return _fix("Remove the sigmoid: cross-entropy takes logits over exclusive classes",
                [torch_without_activation(c.head)], sure=False)


def softmax_axis(finding) -> Fix:  # ACT202, from the call alone
    node = finding.site.node
    framework = dict(finding.facts).get("framework")
    if isinstance(node, cst.Call) and framework == "keras" and dict(finding.facts).get("axis") == 0:
        call = set_argument(node, 0, "axis", cst.parse_expression("-1"))  # layers.Softmax(axis=0)
        return _fix("Pass axis=-1, the class axis", [Edit(finding.site, call)], sure=False)
    if not isinstance(node, cst.Call) or framework != "torch":
        raise Unfixable("not a torch softmax")
    index = 1 if is_function_call(node) else 0
    implicit = dict(finding.facts).get("axis") is None
    same_as_torch = implicit and finding.severity == "warning"  # 2-D or unknown rank: torch uses dim 1 today
    dim = "-1" if implicit and not same_as_torch else "1"
    call = set_argument(node, index, "dim", cst.parse_expression(dim))
    return _fix(f"Pass dim={dim}, the class axis", [Edit(finding.site, call)], sure=same_as_torch)


def torch_log_of_softmax(finding) -> Fix:  # ACT501, from the call alone
    node = finding.site.node
    inner = _logged(node)
    sure = True
    if isinstance(inner, cst.BinaryOperation) and isinstance(inner.operator, cst.Add):
        inner, sure = inner.left, False  # log(softmax(x) + eps): the eps goes too
    edit = torch_renamed(replace(finding.site, node=inner), {"softmax": "log_softmax"})
    return _fix("Use log_softmax: it stays finite where log(softmax) underflows",
                [Edit(finding.site, edit.replacement, edit.imports)], sure)


def _logged(node):
    """`x` in `torch.log(x)` and in `x.log()`."""
    if not isinstance(node, cst.Call) or last_name(node.func) != "log":
        raise Unfixable("not a log call")
    if isinstance(node.func, cst.Attribute) and last_name(node.func.value) not in TORCH_FUNCTION_OWNERS and node.args:
        raise Unfixable("not torch.log")
    if is_function_call(node):
        first = argument(node, 0, "input")
        if first is None:
            raise Unfixable("no input")
        return first.value
    return node.func.value


FIXES.update({
    ("torch", "ACT101"): torch_double_softmax,
    ("torch", "ACT102"): torch_double_sigmoid,
    ("torch", "ACT103"): torch_logits_into_bce,
    ("torch", "ACT104"): torch_nll_without_log_softmax,
    ("torch", "ACT203"): torch_sigmoid_with_cross_entropy,
})
LOCAL_FIXES = {"ACT202": softmax_axis, "ACT501": torch_log_of_softmax}


# -- located, in ruff's shape -------------------------------------------------------------------------


def as_dict(fix: Fix, filename: str, span: Callable) -> dict:
    """{"applicability", "message", "edits": [{"content", "location", "end_location"}]}, 1-based.

    `span(site)` gives a node's (start, end) Positions. An edit in another file than the
    finding's names its "filename"; an import a fix adds is an insertion after the file's imports."""
    edits = []
    for edit in fix.edits:
        start, end = span(edit.site)
        item = {"content": edit.site.module.code_for_node(edit.replacement),
                "location": _point(start), "end_location": _point(end)}
        edits.append(_in_file(item, edit.site.path, filename))
        edits.extend(_in_file(item, edit.site.path, filename) for item in _import_insertions(edit, span))
    return {"applicability": fix.applicability, "message": fix.message, "edits": edits}


def _point(position) -> dict:
    return {"row": position.row, "column": position.column}


def _in_file(item: dict, path: str, filename: str) -> dict:
    return item if path == filename else dict(item, filename=path)


def _import_insertions(edit: Edit, span: Callable) -> list:
    if not edit.imports:
        return []
    module = edit.site.module
    last = None
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], (cst.Import, cst.ImportFrom)):
            last = statement
    row = span(Site(edit.site.path, last, module))[1].row + 1 if last is not None else 1
    text = "".join(f"from {source} import {name}{module.default_newline}" for source, name in edit.imports)
    point = {"row": row, "column": 1}
    return [{"content": text, "location": point, "end_location": point}]
