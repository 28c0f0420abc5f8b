"""A small abstract interpreter over one parsed file.

It walks statements in order (so "a softmax added after training" is seen after
the training call), evaluates expressions to abstract values (`values.py`), and
asks the framework frontends what library calls mean (the hooks of `base.Frontend`). It knows no
framework: how frameworks name things (aliases, star imports, no_grad, training flags) is data, in
`namespaces`.

Control flow is approximated the way a reader would: loops, `with` and `try`
bodies run once, in order; an `if` whose condition resolves runs one branch,
otherwise both, and names that the branches disagree on become unknown. When
they disagree on a model or a loss (`if args.dataset == "imagenet": net = A()
else: net = B()`), the rest of the block runs once per alternative instead, so
each is checked with what goes with it; a condition met again on that path
(same text) takes the same branch, and no path forks twice (quiet when unsure).
Functions are inlined at their call sites with the arguments given (a few levels
deep); functions and classes that the file never calls are run once at the end
with their defaults, so a model built in an uncalled function is still seen.
"""

from __future__ import annotations

import builtins
import operator
import time
from dataclasses import dataclass, field, replace
from typing import Any, Optional

import libcst as cst

from actlint.facts import Site
from actlint.frontends.base import NOT_HANDLED, Frontend  # noqa: F401 (the frontends import them from here too)
from actlint.frontends.namespaces import (
    GRAD_OFF, INFERENCE_MODES, STAR, STAR_LIBRARIES, TRAINING_FLAGS, TRAINING_MODES, canonical, star_imported,
)
from actlint.frontends.values import (
    Class, Const, Function, Instance, Layer, LossVal, Mapping, ModelVal, ModuleVal, Ref, Seq, Tensor,
)

MAX_DEPTH = 6
MAX_STEPS = 200_000
TIME_BUDGET = 10.0  # seconds of abstract interpretation per linted file, its imports included
CLOCK_EVERY = 1000  # steps between looks at the clock
MAX_FORKS = 4  # branches on an unknown condition whose alternatives run the rest of their block apart
# Values that, chosen by a branch, are worth following path by path: a model, a layer, a loss.
CHOSEN_VALUES = (Instance, ModelVal, Layer, LossVal, Class)

def dotted(node) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return dotted(node.value) + "." + node.attr.value
    return ""


class Budget(Exception):
    """The file needs more evaluation steps than we allow; give up on it quietly."""


class OutOfTime(Exception):
    """The file's analysis ran past its deadline (TIME_BUDGET). Not a Budget, which ends an analysis
    quietly: it goes up to the engine, which reports the file as skipped."""


@dataclass(frozen=True)
class Bound:
    """A method bound to its receiver."""

    func: Function
    receiver: Any


@dataclass
class Args:
    """Evaluated call arguments, with their nodes for locating facts."""

    pos: list = field(default_factory=list)
    kw: dict = field(default_factory=dict)
    pos_nodes: list = field(default_factory=list)
    kw_nodes: dict = field(default_factory=dict)
    starred: bool = False

    def get(self, index: Optional[int], name: Optional[str] = None, default=None):
        if name is not None and name in self.kw:
            return self.kw[name]
        if index is not None and index < len(self.pos):
            return self.pos[index]
        return default

    def node(self, index: Optional[int], name: Optional[str] = None):
        if name is not None and name in self.kw_nodes:
            return self.kw_nodes[name]
        if index is not None and index < len(self.pos_nodes):
            return self.pos_nodes[index]
        return None

    def given(self, index: Optional[int], name: Optional[str] = None) -> bool:
        return self.node(index, name) is not None or self.starred


class Env:
    """A scope: local names, falling back to the enclosing (module) scope."""

    def __init__(self, parent: Optional["Env"] = None, origin=None):
        self.vars: dict = {}
        self.parent = parent
        # (path, libcst.Module) of the code this scope runs: facts found here are located there.
        self.origin = origin or (parent.origin if parent is not None else None)

    def lookup(self, name):
        env = self
        while env is not None:
            if name in env.vars:
                return env.vars[name]
            env = env.parent
        return None

    def defines(self, name) -> bool:
        env = self
        while env is not None:
            if name in env.vars:
                return True
            env = env.parent
        return False

    def copy(self) -> "Env":
        clone = Env(self.parent, self.origin)
        clone.vars = dict(self.vars)
        return clone

    def merge(self, other: "Env") -> None:
        for name in set(self.vars) | set(other.vars):
            mine, theirs = self.vars.get(name), other.vars.get(name)
            self.vars[name] = mine if mine == theirs else None


class Frame:
    def __init__(self, env: Env, func=None):
        self.env = env
        self.returns: list = []
        self.exited = False  # a return or raise was reached on every path so far: the rest does not run
        self.func = func  # the FunctionDef being run, for context (method names)
        self.assumed = False  # a branch here was chosen by assumption (training_path): its results are assumed


_BUILTIN_CONSTANTS = {"True": True, "False": False, "None": None}
_BUILTIN_NAMES = frozenset(name for name in dir(builtins) if not name.startswith("_"))

_BINOPS = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.FloorDivide: operator.floordiv,
}
_COMPARE = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,
    cst.GreaterThan: operator.gt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThanEqual: operator.ge,
}


class Interpreter:
    """Runs the frontends' semantics over one module."""

    def __init__(self, path: str, module: cst.Module, frontends: list, project=None, name="__main__",
                 deadline: Optional[float] = None):
        self.path = path
        self.module = module
        self.frontends = frontends
        self.project = project  # the other files of the project, for imports (project.py)
        self.name = name  # __name__: "__main__" for the linted file, the module name for an import
        self.steps = 0
        self.deadline = time.monotonic() + TIME_BUDGET if deadline is None else deadline
        self.depth = 0
        self.called: set = set()  # FunctionDef nodes that ran at a call site
        self.classes: list = []  # Class values defined, in order
        self.instances: dict = {}  # ClassDef node -> [Instance]
        self.stack: list[Frame] = []
        self.loops = 0  # loop bodies being run (once, though they may run many times)
        self.grad_off = 0  # inside `with torch.no_grad():` or a @torch.no_grad() function: no loss trains here
        self.fork_path: list = []  # (condition text, truth) of the fork being run, for messages and consistency
        self.forks_left = MAX_FORKS

    # -- entry -------------------------------------------------------------

    def run(self, top_level_only: bool = False) -> Env:
        frame = Frame(Env(origin=(self.path, self.module)))
        self.stack.append(frame)
        self.exec_block(self.module.body, frame)
        if not top_level_only:
            self._run_uncalled(frame.env)
        self.stack.pop()
        return frame.env

    def _run_uncalled(self, env: Env) -> None:
        for value in list(env.vars.values()):
            if isinstance(value, Function) and value.node not in self.called:
                self.call_function(value, Args(), None, env_is_standalone=True)
        for cls in self.classes:
            instances = self.instances.get(cls.node) or [self.instantiate(cls, Args(), None)]
            for stmt in cls.node.body.body:
                if isinstance(stmt, cst.FunctionDef) and stmt not in self.called:
                    if stmt.name.value != "__init__" and not _is_static(stmt):
                        self.call_function(Function(stmt, cls.env, cls), Args(), instances[0])

    def site(self, node) -> Site:
        origin = self.stack[-1].env.origin if self.stack else None
        path, module = origin or (self.path, self.module)
        return Site(path, node, module)

    @property
    def frame(self) -> Frame:
        return self.stack[-1]

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Budget()
        if self.steps % CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise OutOfTime()

    # -- statements --------------------------------------------------------

    def exec_block(self, body, frame: Frame) -> None:
        for i, stmt in enumerate(body):
            if frame.exited:
                return
            if isinstance(stmt, cst.If):
                self.tick()
                if self.exec_if(stmt, frame, rest=body[i + 1:]):
                    return
                continue
            self.exec_stmt(stmt, frame)

    @property
    def conditions(self) -> tuple:
        """The fork path being run, as a reader would state it."""
        return tuple(text if truth else f"not ({text})" for text, truth in self.fork_path)

    def exec_stmt(self, stmt, frame: Frame) -> None:
        """Any statement but an `if`, which `exec_block` runs (it may fork the rest of the block)."""
        self.tick()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.exec_small(small, frame)
        elif isinstance(stmt, (cst.For, cst.While)):
            self.exec_loop(stmt, frame)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.eval(item.item, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, value, frame)
            off = any(_disables_grad(item.item) for item in stmt.items)
            self.grad_off += off
            try:
                self.exec_block(_body(stmt.body), frame)
            finally:
                self.grad_off -= off
        elif isinstance(stmt, cst.Try):
            self.exec_block(_body(stmt.body), frame)
            if stmt.orelse is not None:
                self.exec_block(_body(stmt.orelse.body), frame)
            if stmt.finalbody is not None:  # runs whether or not the body returned
                exited, frame.exited = frame.exited, False
                self.exec_block(_body(stmt.finalbody.body), frame)
                frame.exited = exited or frame.exited
        elif isinstance(stmt, cst.FunctionDef):
            frame.env.vars[stmt.name.value] = Function(stmt, frame.env)
        elif isinstance(stmt, cst.ClassDef):
            self.define_class(stmt, frame)

    def exec_small(self, small, frame: Frame) -> None:
        if isinstance(small, cst.Assign):
            value = self.eval(small.value, frame)
            for target in small.targets:
                self.assign(target.target, value, frame)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, frame), frame)
        elif isinstance(small, cst.AugAssign):
            value = self.eval(small.value, frame)
            current = self.eval(small.target, frame) if isinstance(small.operator, cst.AddAssign) else None
            grown = Seq(current.items + value.items, self.loops > 0) if isinstance(current, Seq) and isinstance(value, Seq) else None
            self.assign(small.target, grown, frame)  # `layers += [...]`; counters become unknown
        elif isinstance(small, cst.Expr):
            self.eval(small.value, frame)
        elif isinstance(small, cst.Del) and isinstance(small.target, cst.Subscript):
            self.assign(small.target.value, None, frame)  # `del classes[0]`
        elif isinstance(small, cst.Return):
            value = self.eval(small.value, frame) if small.value is not None else Const(None)
            frame.returns.append(value)
            frame.exited = True
        elif isinstance(small, cst.Raise):
            frame.exited = True
        elif isinstance(small, cst.Import):
            for alias in small.names:
                self.bind_import(alias, dotted(alias.name), frame, from_import=False)
        elif isinstance(small, cst.ImportFrom):
            self.exec_import_from(small, frame)

    def bind_import(self, alias, full: str, frame: Frame, from_import: bool) -> None:
        """`import a.b [as c]`, `from a import b [as c]`: a project module's value, else a library Ref."""
        whole = alias.asname is not None or from_import  # else `import a.b` binds `a`
        first = full.split(".", 1)[0]
        bound = alias.asname.name.value if alias.asname else full.rsplit(".", 1)[-1] if from_import else first
        value = self._project_import(full, from_import, None if whole else first)
        frame.env.vars[bound] = Ref(canonical(full if whole else first)) if value is NOT_HANDLED else value

    def exec_import_from(self, small: cst.ImportFrom, frame: Frame) -> None:
        if isinstance(small.names, cst.ImportStar):
            if self.project is not None and self._bind_project_star(small, frame):
                return
            module = dotted(small.module) if small.module is not None and not small.relative else ""
            if module.split(".", 1)[0] in STAR_LIBRARIES:  # `from keras.layers import *`
                frame.env.vars[STAR] = (frame.env.vars.get(STAR) or ()) + (canonical(module),)  # None: after an if
            return
        module = dotted(small.module) if small.module is not None else ""
        if small.relative:
            if self.project is not None:
                for alias in small.names:
                    value = self.project.resolve(self._importer(), module, len(small.relative), dotted(alias.name))
                    frame.env.vars[(alias.asname.name if alias.asname else alias.name).value] = value
            return
        for alias in small.names:
            self.bind_import(alias, module + "." + dotted(alias.name), frame, from_import=True)

    def _bind_project_star(self, small: cst.ImportFrom, frame: Frame) -> bool:
        """`from model import *` of a project file: its public names (`__all__` when it lists them),
        and the library modules it star-imported in turn; False when it is not a project module."""
        module = dotted(small.module) if small.module is not None else ""
        value = self.project.resolve(self._importer(), module, len(small.relative))
        if value is NOT_HANDLED:
            return False
        if value is None:
            return True  # a project module that does not load: its names stay unknown
        names = _public_names(value.env.vars)
        for name in names:
            frame.env.vars[name] = value.env.vars.get(name)
        if value.env.vars.get(STAR):
            frame.env.vars[STAR] = (frame.env.vars.get(STAR) or ()) + value.env.vars[STAR]
        return True

    def _importer(self) -> str:
        origin = self.stack[-1].env.origin if self.stack else None
        return origin[0] if origin else self.path

    def _project_import(self, full: str, from_import: bool, binds: Optional[str]):
        """What an absolute import binds from another file of the project, or NOT_HANDLED."""
        if self.project is None:
            return NOT_HANDLED
        if from_import:
            module, _, name = full.rpartition(".")
            return self.project.resolve(self._importer(), module, 0, name)
        return self.project.resolve(self._importer(), full, 0, binds=binds)

    def exec_if(self, stmt: cst.If, frame: Frame, rest=None) -> bool:
        """Run an if statement; True when it also ran `rest` (the statements after it), forked."""
        cond = self._condition(stmt.test, frame, (stmt.body, stmt.orelse))
        orelse = stmt.orelse
        if isinstance(cond, Const):
            if cond.value:
                self.exec_block(_body(stmt.body), frame)
            elif isinstance(orelse, cst.If):
                self.exec_if(orelse, frame)
            elif orelse is not None:
                self.exec_block(_body(orelse.body), frame)
            return False
        saved = frame.env
        frame.env = saved.copy()
        self.exec_block(_body(stmt.body), frame)
        taken, taken_exits = frame.env, frame.exited
        frame.env, frame.exited = saved.copy(), False
        if isinstance(orelse, cst.If):
            self.exec_if(orelse, frame)
        elif orelse is not None:
            self.exec_block(_body(orelse.body), frame)
        other, other_exits = frame.env, frame.exited
        frame.exited = taken_exits and other_exits  # the rest runs unless every branch returned or raised
        if taken_exits or _ends_in_exit(stmt.body):
            taken = other
        elif other_exits or (orelse is not None and not isinstance(orelse, cst.If) and _ends_in_exit(orelse.body)):
            other = taken
        elif rest and self._worth_forking(taken, other):
            self._fork(stmt.test, ((taken, True), (other, False)), rest, saved, frame)
            return True
        taken.merge(other)
        saved.vars = taken.vars
        frame.env = saved
        return False

    def _worth_forking(self, taken: Env, other: Env) -> bool:
        if self.fork_path or self.forks_left <= 0:
            return False
        for name in set(taken.vars) | set(other.vars):
            mine, theirs = taken.vars.get(name), other.vars.get(name)
            if mine != theirs and (isinstance(mine, CHOSEN_VALUES) or isinstance(theirs, CHOSEN_VALUES)):
                return True
        return False

    def _fork(self, test, alternatives, rest, saved: Env, frame: Frame) -> None:
        """Run `rest` once per alternative of the if, each with its own names, then merge."""
        self.forks_left -= 1
        text = self.module.code_for_node(test).strip()
        ends = []
        for env, truth in alternatives:
            frame.env, frame.exited = env, False
            self.fork_path.append((text, truth))
            try:
                self.exec_block(rest, frame)
            finally:
                self.fork_path.pop()
            ends.append((frame.env, frame.exited))
        live = [env for env, exited in ends if not exited]
        frame.exited = not live
        merged = live[0] if live else ends[0][0]
        for env in live[1:]:
            merged.merge(env)
        saved.vars = merged.vars
        frame.env = saved

    def _condition(self, test, frame: Frame, branches):
        """The value of an `if` statement's or expression's test: as evaluated; else a training flag's
        (training_path); else, on a fork path, the value the path took for the same text; else None."""
        cond = self.training_path(test, self.eval(test, frame), frame, branches)
        if not isinstance(cond, Const) and self.fork_path:
            return self._known_condition(test)
        return cond

    def _known_condition(self, test):
        """On a fork path, a condition written as the one forked on has the value that path took."""
        text = self.module.code_for_node(test).strip()
        for seen, truth in self.fork_path:
            if seen == text:
                return Const(truth)
        return None

    @staticmethod
    def training_path(test, cond, frame: Frame, branches):
        """An unresolved test of a training flag (`if not training:`, `self.training`, `mode ==
        "train"`) takes the branch that runs during training: the other one runs at inference,
        where no loss is computed. A resolved flag (a caller passed it) is left as it is. When the
        branch left out returns or applies an activation, what this frame returns is assumed."""
        if isinstance(cond, Const):
            return cond
        when_training = training_test(test)
        if when_training is None:
            return cond
        skipped = branches[1] if when_training else branches[0]
        frame.assumed = frame.assumed or _shapes_output(skipped)
        return Const(when_training)

    def exec_loop(self, stmt, frame: Frame) -> None:
        if isinstance(stmt, cst.For):
            iterable = self.eval(stmt.iter, frame)
            self.assign(stmt.target, self.element_of(iterable), frame)
        else:
            self.eval(stmt.test, frame)
        self.loops += 1
        try:
            self.exec_block(_body(stmt.body), frame)
        finally:
            self.loops -= 1
        frame.exited = False  # the body may run zero times
        if stmt.orelse is not None:
            self.exec_block(_body(stmt.orelse.body), frame)
            frame.exited = False

    def element_of(self, iterable):
        """What `for x in iterable` binds x to: the frontends' `iterate` answer, else unknown."""
        return self._ask("iterate", iterable)

    def assign(self, target, value, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.env.vars[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            items = value.items if isinstance(value, Seq) else None
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            for i, element in enumerate(elements):
                fits = items is not None and not starred and len(items) == len(elements)
                self.assign(element.value, items[i] if fits else None, frame)
        elif isinstance(target, cst.Attribute):
            owner = self.eval(target.value, frame)
            if isinstance(owner, Instance):
                owner.attrs[target.attr.value] = value
            elif isinstance(owner, Mapping):  # cfg.num_classes = 7 on a SimpleNamespace
                self.assign(target.value, _with_key(owner, target.attr.value, value), frame)
            else:  # a library object (`model.fc = nn.Linear(...)`): its frontend returns the updated value
                updated = self._ask("set_attribute", owner, target.attr.value, value)
                if updated is not None:
                    self.assign(target.value, updated, frame)
        elif isinstance(target, cst.Subscript) and isinstance(self.eval(target.value, frame), Mapping):
            owner, key = self.eval(target.value, frame), self._key(target)
            self.assign(target.value, _with_key(owner, key, value) if key is not None else None, frame)
        elif isinstance(target, cst.Subscript):  # `model.classifier[6] = nn.Linear(...)`, like an attribute
            owner = self.eval(target.value, frame)
            updated = self._ask("set_item", owner, value) if owner is not None else None
            if updated is not None:
                self.assign(target.value, updated, frame)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, None, frame)

    def define_class(self, stmt: cst.ClassDef, frame: Frame) -> None:
        bases = tuple(self.eval(arg.value, frame) for arg in stmt.bases if arg.keyword is None)
        cls = Class(stmt, bases, frame.env, self._class_attributes(stmt, frame))
        frame.env.vars[stmt.name.value] = cls
        self.classes.append(cls)

    def _class_attributes(self, stmt: cst.ClassDef, frame: Frame) -> dict:
        """Class-level constants (`NUM_CLASSES = 10`, dataclass fields with defaults), in order."""
        attrs = {}
        for line in _body(stmt.body):
            for small in line.body if isinstance(line, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    attrs[small.target.value] = self.eval(small.value, frame) if small.value else None
                elif isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
                    attrs[small.targets[0].target.value] = self.eval(small.value, frame)
        return attrs

    # -- expressions -------------------------------------------------------

    def eval(self, node, frame: Optional[Frame] = None):
        frame = frame or self.frame
        self.tick()
        method = getattr(self, "eval_" + type(node).__name__, None)
        return method(node, frame) if method is not None else None

    def eval_Name(self, node: cst.Name, frame: Frame):
        if node.value == "__name__":
            return Const(self.name)
        if node.value in _BUILTIN_CONSTANTS:
            return Const(_BUILTIN_CONSTANTS[node.value])
        if node.value in _BUILTIN_NAMES and not frame.env.defines(node.value):
            return Ref("builtins." + node.value)  # so frontends can model enumerate(), iter(), next()
        value = frame.env.lookup(node.value)
        if value is None and not frame.env.defines(node.value):
            return star_imported(frame.env.lookup(STAR) or (), node.value)
        return value

    def eval_Integer(self, node, frame):
        value = _int_literal(node)
        return Const(value, self.site(node)) if value is not None else None

    def eval_Float(self, node, frame):
        try:
            return Const(float(node.value.replace("_", "")))
        except ValueError:
            return None

    def eval_SimpleString(self, node, frame):
        text = node.value
        if text[0] in "'\"" and "\\" not in text and text[:3] not in ('"""', "'''"):
            return Const(text[1:-1], self.site(node))  # the common case, without literal_eval
        value = _evaluated(node)
        return Const(value, self.site(node)) if isinstance(value, str) else None

    def eval_ConcatenatedString(self, node, frame):
        value = _evaluated(node)
        return Const(value) if isinstance(value, str) else None

    def eval_Tuple(self, node, frame):
        return self._sequence(node, frame)

    def eval_List(self, node, frame):
        return self._sequence(node, frame)

    def _sequence(self, node, frame):
        items = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                self.eval(element.value, frame)
                return None
            items.append(self.eval(element.value, frame))
        return Seq(tuple(items))

    def eval_Dict(self, node, frame):
        items = []
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return None
            key = self.eval(element.key, frame)
            if not isinstance(key, Const) or not isinstance(key.value, str):
                return None
            items.append((key.value, self.eval(element.value, frame)))
        return Mapping(tuple(items))

    def eval_Subscript(self, node: cst.Subscript, frame):
        value = self.eval(node.value, frame)
        indexes = []
        for element in node.slice:
            inner = element.slice
            indexes.append(self.eval(inner.value, frame) if isinstance(inner, cst.Index) else None)
        if len(indexes) == 1 and isinstance(indexes[0], Const):
            key = indexes[0].value
            if isinstance(value, Seq) and isinstance(key, int) and -len(value.items) <= key < len(value.items):
                return value.items[key]
            if isinstance(value, Mapping) and isinstance(key, str):
                return value.get(key)
        return self._ask("subscript", value, indexes, node)

    def eval_Attribute(self, node: cst.Attribute, frame):
        owner = self.eval(node.value, frame)
        name = node.attr.value
        if isinstance(owner, Ref):
            return Ref(canonical(owner.name + "." + name))
        if isinstance(owner, Instance):
            if name in owner.attrs:
                return owner.attrs[name]
            method = owner.cls.method(name)
            return Bound(method, owner) if method is not None else owner.cls.attrs.get(name)
        if isinstance(owner, Class):
            return owner.method(name) or owner.attrs.get(name)
        if isinstance(owner, ModuleVal):
            return owner.attribute(name)
        if isinstance(owner, Mapping) and owner.namespace:
            return owner.get(name)
        return self._ask("attribute", owner, name, node)

    def eval_BinaryOperation(self, node: cst.BinaryOperation, frame):
        left, right = self.eval(node.left, frame), self.eval(node.right, frame)
        op = _BINOPS.get(type(node.operator))
        if op and isinstance(left, Const) and isinstance(right, Const):
            try:
                return Const(op(left.value, right.value))
            except Exception:
                return None
        return self._ask("binop", left, right, node)

    def eval_UnaryOperation(self, node: cst.UnaryOperation, frame):
        value = self.eval(node.expression, frame)
        if isinstance(value, Const) and isinstance(value.value, (int, float)):
            if isinstance(node.operator, cst.Minus):
                return Const(-value.value)
            if isinstance(node.operator, cst.Plus):
                return value
        if isinstance(node.operator, cst.Not) and isinstance(value, Const):
            return Const(not value.value)
        return self._ask("unary", value, node)

    def eval_Comparison(self, node: cst.Comparison, frame):
        left = self.eval(node.left, frame)
        result = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            op = _COMPARE.get(type(target.operator))
            if not (op and isinstance(left, Const) and isinstance(right, Const)):
                return None
            try:
                result = result and op(left.value, right.value)
            except TypeError:
                return None
            left = right
        return Const(bool(result))

    def eval_BooleanOperation(self, node: cst.BooleanOperation, frame):
        left, right = self.eval(node.left, frame), self.eval(node.right, frame)
        if isinstance(left, Const) and isinstance(right, Const):
            if isinstance(node.operator, cst.And):
                return right if left.value else left
            return left if left.value else right
        return None

    def eval_IfExp(self, node: cst.IfExp, frame):
        cond = self._condition(node.test, frame, (node.body, node.orelse))
        if isinstance(cond, Const):
            return self.eval(node.body if cond.value else node.orelse, frame)
        body, orelse = self.eval(node.body, frame), self.eval(node.orelse, frame)
        return body if body == orelse else None

    def eval_Lambda(self, node: cst.Lambda, frame):
        return Function(node, frame.env)

    def eval_Call(self, node: cst.Call, frame):
        func = node.func
        args = self.eval_args(node.args, frame)
        if isinstance(func, cst.Attribute):
            receiver = self.eval(func.value, frame)
            # `self.__call__(x)` is `self(x)`; `Base.__call__(self, x)` is the method itself, as below
            if func.attr.value == "__call__" and receiver is not None and not isinstance(receiver, Class):
                return self.call(receiver, args, node)
            if isinstance(receiver, Seq) and func.attr.value in ("append", "extend"):
                return self._grow_list(receiver, func, args, frame)
            if isinstance(receiver, Mapping) and func.attr.value in ("get", "update", "setdefault", "pop"):
                return self._mapping_method(receiver, func, args, frame)
            if isinstance(receiver, Seq) and func.attr.value in _SHRINKING:
                self.assign(func.value, None, frame)  # its length is no longer known
                return None
            if not isinstance(receiver, (Class, ModuleVal)):
                return self.call_method(receiver, func.attr.value, args, node)
            callee = self.eval_Attribute(func, frame)
        else:
            callee = self.eval(func, frame)
        return self.call(callee, args, node)

    def _key(self, target: cst.Subscript):
        index = target.slice[0].slice if len(target.slice) == 1 else None
        key = self.eval(index.value) if isinstance(index, cst.Index) else None
        return key.value if isinstance(key, Const) and isinstance(key.value, str) else None

    def _mapping_method(self, mapping, func: cst.Attribute, args: Args, frame):
        """`config.get("num_classes", 10)` on a literal dict; update/setdefault/pop leave it unknown."""
        key = args.get(0)
        if func.attr.value == "get" and isinstance(key, Const) and isinstance(key.value, str):
            known = dict(mapping.items)
            return known[key.value] if key.value in known else args.get(1, default=Const(None))
        self.assign(func.value, None, frame)
        return None

    def _grow_list(self, items: Seq, func: cst.Attribute, args: Args, frame):
        """`layers.append(x)` on a list literal: the name now holds the longer list (aliases are not followed)."""
        added = args.get(0)
        if func.attr.value == "append":
            grown = Seq(items.items + (added,), self.loops > 0)
        else:
            grown = Seq(items.items + added.items, self.loops > 0) if isinstance(added, Seq) else None
        self.assign(func.value, grown, frame)
        return Const(None)

    def call_method(self, receiver, name: str, args: Args, node):
        """`receiver.name(...)` as the file calls it: a user class's own method runs, anything else is
        asked of the frontends (a library name's call_ref, a library value's `method` hook)."""
        if isinstance(receiver, (Ref, Instance)):
            return self.call(self._attr_of(receiver, name), args, node)
        return self._ask("method", receiver, name, args, node)

    def _attr_of(self, receiver, name: str):
        if isinstance(receiver, Ref):
            return Ref(canonical(receiver.name + "." + name))
        if name in receiver.attrs:
            return receiver.attrs[name]
        method = receiver.cls.method(name)
        if method is not None:
            return Bound(method, receiver)
        if name in receiver.cls.attrs:
            return receiver.cls.attrs[name]
        return _MissingMethod(receiver, name)

    def eval_args(self, arg_nodes, frame) -> Args:
        args = Args()
        for arg in arg_nodes:
            value = self.eval(arg.value, frame)
            if arg.star == "*" and isinstance(value, Seq):  # f(*[a, b]) is f(a, b)
                args.pos.extend(value.items)
                args.pos_nodes.extend(arg.value for _ in value.items)
            elif arg.star:
                args.starred = True
            elif arg.keyword is not None:
                args.kw[arg.keyword.value] = value
                args.kw_nodes[arg.keyword.value] = arg.value
            else:
                args.pos.append(value)
                args.pos_nodes.append(arg.value)
        return args

    def call(self, callee, args: Args, node):
        if isinstance(callee, Function):
            return self.call_function(callee, args, None)
        if isinstance(callee, Bound):
            return self.call_function(callee.func, args, callee.receiver)
        if isinstance(callee, Class):
            return self.instantiate(callee, args, node)
        if isinstance(callee, _MissingMethod):
            return self._ask("method", callee.receiver, callee.name, args, node)
        if isinstance(callee, Ref):
            known = _python_builtin(callee.name, args)
            return known if known is not None else self._ask("call_ref", callee.name, args, node)
        if isinstance(callee, Instance):
            forward = callee.cls.method("__call__")
            if forward is not None:
                return self.call_function(forward, args, callee)
        return self._ask("call_value", callee, args, node)

    def call_function(self, func: Function, args: Args, receiver, env_is_standalone=False):
        if self.depth >= MAX_DEPTH or _is_recursive(func, self.stack):
            return None
        if not env_is_standalone:
            self.called.add(func.node)
        env = Env(func.env)
        params = func.node.params
        positional = list(params.posonly_params) + list(params.params)
        pos = list(args.pos)
        if receiver is not None and positional and not _is_static(func.node):
            env.vars[positional[0].name.value] = receiver
            positional = positional[1:]
        for i, param in enumerate(positional):
            name = param.name.value
            if name in args.kw:
                env.vars[name] = args.kw[name]
            elif i < len(pos):
                env.vars[name] = pos[i]
            elif args.starred:
                env.vars[name] = None
            elif param.default is not None:
                env.vars[name] = self.eval(param.default, Frame(func.env))
            else:
                env.vars[name] = self._ask("parameter", func, param, receiver)
        for param in params.kwonly_params:
            name = param.name.value
            default = self.eval(param.default, Frame(func.env)) if param.default is not None else None
            env.vars[name] = args.kw.get(name, default)
        frame = Frame(env, func=func.node)
        self.stack.append(frame)
        self.depth += 1
        off = isinstance(func.node, cst.FunctionDef) and any(_disables_grad(d.decorator) for d in func.node.decorators)
        self.grad_off += off
        try:
            if isinstance(func.node, cst.Lambda):
                return self.eval(func.node.body, frame)
            self.exec_block(_body(func.node.body), frame)
        finally:
            self.grad_off -= off
            self.depth -= 1
            self.stack.pop()
        result = _merge_returns(frame.returns)
        return _assumed(result) if frame.assumed else result

    def instantiate(self, cls: Class, args: Args, node):
        instance = Instance(cls)
        self.instances.setdefault(cls.node, []).append(instance)
        init = cls.method("__init__")
        if init is not None:
            self.call_function(init, args, instance)
        elif _is_dataclass(cls):
            names = list(cls.attrs)
            for i, value in enumerate(args.pos[: len(names)]):
                instance.attrs[names[i]] = value
            instance.attrs.update((k, v) for k, v in args.kw.items() if k in cls.attrs)
        self._ask("instantiated", instance, args, node)
        return instance

    def _ask(self, hook: str, *payload):
        for frontend in self.frontends:
            result = getattr(frontend, hook)(*payload, self)
            if result is not NOT_HANDLED:
                return result
        return None


def _with_key(mapping, key: str, value):
    items = tuple((k, v) for k, v in mapping.items if k != key) + ((key, value),)
    return Mapping(items, mapping.namespace)


_SHRINKING = frozenset(("insert", "pop", "remove", "clear"))


def _python_builtin(name: str, args: Args):
    """What a few Python builtins give on resolved values: `len(CLASSES)` of a literal list or dict,
    `dict(num_classes=5)`, `SimpleNamespace(num_classes=5)` (read by attribute). Else None."""
    if args.starred:
        return None
    sized = args.pos[0] if len(args.pos) == 1 and not args.kw else None
    if name == "builtins.len" and isinstance(sized, (Seq, Mapping)) and not getattr(sized, "in_loop", False):
        return Const(len(sized.items))
    if name in ("builtins.dict", "types.SimpleNamespace", "argparse.Namespace") and not args.pos:
        return Mapping(tuple(args.kw.items()), namespace=not name.endswith("dict"))
    return None


@dataclass(frozen=True)
class _MissingMethod:
    receiver: Any
    name: str


def _assumed(value):
    """A result computed on an assumed branch: its tensors' heads say so (their fixes are unsafe)."""
    if isinstance(value, Tensor):
        return replace(value, head=replace(value.head, assumed=True))
    if isinstance(value, Seq):
        return Seq(tuple(_assumed(item) for item in value.items))
    return value


def _merge_returns(returns: list):
    if not returns:
        return Const(None)
    first = returns[0]
    return first if all(r == first for r in returns[1:]) else None


def _is_recursive(func: Function, stack: list) -> bool:
    return any(frame.func is func.node for frame in stack)


def _public_names(names: dict) -> list:
    """What `import *` takes from a module: `__all__` when it is a literal list of strings, else
    every name not starting with an underscore."""
    listed = names.get("__all__")
    if isinstance(listed, Seq) and all(isinstance(i, Const) and isinstance(i.value, str) for i in listed.items):
        return [i.value for i in listed.items if i.value in names]
    return [name for name in names if name.isidentifier() and not name.startswith("_")]


def _is_dataclass(cls: Class) -> bool:
    return any(dotted(getattr(d.decorator, "func", d.decorator)).endswith("dataclass") for d in cls.node.decorators)


def _disables_grad(expr) -> bool:
    """`torch.no_grad()`, `torch.inference_mode()` (as a context or a decorator, called or not)."""
    expr = expr.func if isinstance(expr, cst.Call) else expr
    name = dotted(expr) or ""
    return name.rpartition(".")[2] in GRAD_OFF


def training_test(test):
    """True when `test` holds exactly while training (`training`, `self.training`, `mode ==
    "train"`), False when it holds exactly at inference (`not training`, `mode == "eval"`), else None."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = training_test(test.expression)
        return None if inner is None else not inner
    if isinstance(test, (cst.Name, cst.Attribute)):
        name = test.value if isinstance(test, cst.Name) else test.attr.value
        return True if name.lower() in TRAINING_FLAGS else None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        equal = {cst.Equal: True, cst.NotEqual: False, cst.Is: True, cst.IsNot: False}.get(type(target.operator))
        mode = _mode_name(target.comparator) or _mode_name(test.left)
        if equal is None or mode is None:
            return None
        return equal if mode in TRAINING_MODES else not equal
    return None


def _shapes_output(node) -> bool:
    """Whether code holds a return or an activation call (softmax, sigmoid, an Activation layer)."""
    if node is None:
        return False
    found = []

    class Find(cst.CSTVisitor):
        def visit_Return(self, _):
            found.append(True)

        def visit_Call(self, call):
            name = (dotted(call.func) or "").rpartition(".")[2].lower()
            if "softmax" in name or "sigmoid" in name or "activation" in name:
                found.append(True)

    node.visit(Find())
    return bool(found)


def _mode_name(node):
    """"train" for `"train"` or `ModeKeys.TRAIN`, "eval" for `"eval"`; None for other expressions."""
    if isinstance(node, cst.SimpleString):
        text = node.value.strip("\'\"").lower()
    elif isinstance(node, cst.Attribute) and "mode" in dotted(node.value).lower():
        text = node.attr.value.lower()
    else:
        return None
    return text if text in TRAINING_MODES or text in INFERENCE_MODES else None


def _is_static(node) -> bool:
    if not isinstance(node, cst.FunctionDef):
        return False
    return any(dotted(d.decorator) == "staticmethod" for d in node.decorators)


def _body(block):
    if isinstance(block, cst.IndentedBlock):
        return block.body
    if isinstance(block, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=block.body)]
    return []


def _ends_in_exit(block) -> bool:
    body = _body(block)
    if not body or not isinstance(body[-1], cst.SimpleStatementLine):
        return False
    return any(isinstance(s, (cst.Raise, cst.Continue, cst.Break)) for s in body[-1].body)


def _int_literal(node):
    try:
        return int(node.value.replace("_", ""), 0)
    except ValueError:
        return None


def _evaluated(node):
    """A string literal's value (libcst's, by ast.literal_eval), quietly: an invalid escape (`"\\8"`)
    warns about the user's code, noise on actlint's stderr and an error under `-W error`."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return node.evaluated_value
