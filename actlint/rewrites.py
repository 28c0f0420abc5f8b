"""Node rewrites the fixes are made of: pure functions from a libcst node to its replacement.

Each either returns the new node or raises `Unfixable` when the syntax is not the plain
spelling it knows how to change (a fix that is not sure of its edit offers none).
Formatting is kept: quotes, the line breaks between arguments, trailing commas.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

KERAS_ROOTS = ("keras", "tensorflow.keras", "tf_keras")


class Unfixable(Exception):
    """The syntax is not one a fix can edit with certainty."""


# -- arguments ----------------------------------------------------------------------------------


def argument(call, index: Optional[int], keyword: str) -> Optional[cst.Arg]:
    """The argument given by keyword, or at a positional index; None when absent."""
    if not isinstance(call, cst.Call):
        raise Unfixable("not a call")
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args):
        raise Unfixable("*args or **kwargs")
    return positional[index] if index is not None and index < len(positional) else None


def set_argument(call: cst.Call, index: Optional[int], keyword: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with the argument set to `value`: replaced where it is given, else added by keyword."""
    given = argument(call, index, keyword)
    if given is not None:
        return call.with_deep_changes(given, value=value)
    equal = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    return _append(call, cst.Arg(value, keyword=cst.Name(keyword), equal=equal))


def _append(call: cst.Call, arg: cst.Arg) -> cst.Call:
    if not call.args:
        return call.with_changes(args=[arg])
    *rest, last = call.args
    if isinstance(last.comma, cst.Comma):  # a trailing comma stays last, with its line break
        separator = last.comma.with_changes(whitespace_after=_separator(call))
        return call.with_changes(args=[*rest, last.with_changes(comma=separator), arg.with_changes(comma=last.comma)])
    separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return call.with_changes(args=[*rest, last.with_changes(comma=separator), arg])


def _separator(call: cst.Call):
    """The whitespace the call puts between its arguments (one per line, or one space)."""
    if len(call.args) >= 2 and isinstance(call.args[-2].comma, cst.Comma):
        return call.args[-2].comma.whitespace_after
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call.whitespace_before_args
    return cst.SimpleWhitespace(" ")


def remove_argument(call: cst.Call, keyword: str) -> cst.Call:
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == keyword)]
    if len(args) == len(call.args):
        return call
    if args and len(args) < len(call.args) and call.args[-1].keyword and call.args[-1].keyword.value == keyword:
        args[-1] = args[-1].with_changes(comma=call.args[-1].comma)  # keep the last comma's layout
    return call.with_changes(args=args)


def keyword_names(call: cst.Call) -> set:
    return {a.keyword.value for a in call.args if a.keyword is not None}


def positional_count(call: cst.Call) -> int:
    return sum(1 for a in call.args if a.keyword is None)


# -- names --------------------------------------------------------------------------------------


def last_name(node) -> Optional[str]:
    """`softmax` for `tf.nn.softmax`, `Dense` for `Dense`; None for anything else."""
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return None


def renamed(node, old: str, new: str, module: cst.Module) -> tuple:
    """(node with its last name `old` changed to `new`, the imports that needs)."""
    if last_name(node) != old:
        raise Unfixable(f"not spelled {old}")
    if isinstance(node, cst.Attribute):
        return node.with_deep_changes(node.attr, value=new), ()
    source = imported_from(module, old)
    if source is None:
        raise Unfixable(f"{old} is not imported by name")
    return node.with_changes(value=new), ((source, new),)


def string_value(node) -> Optional[str]:
    if isinstance(node, cst.SimpleString) and not node.prefix.strip("rRuU") and "\\" not in node.value:
        return node.raw_value
    return None


def string_like(node: cst.SimpleString, text: str) -> cst.SimpleString:
    """A string literal with the same prefix and quotes as `node`."""
    return node.with_changes(value=f"{node.prefix}{node.quote}{text}{node.quote}")


def parenthesized(expression):
    """`expression`, in parentheses unless it is an atom that binds tighter than any operator."""
    if isinstance(expression, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) or expression.lpar:
        return expression
    return expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


# -- imports: one cheap pass over the module's top-level import statements -----------------------


def _imports(module: cst.Module):
    """(module name, imported name or None, the name bound) for every top-level import."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    full = _dotted(alias.name)
                    bound = alias.asname.name.value if alias.asname else None
                    yield full, None, bound or full
            elif isinstance(small, cst.ImportFrom) and not small.relative and not isinstance(small.names, cst.ImportStar):
                source = _dotted(small.module)
                for alias in small.names:
                    yield source, alias.name.value, alias.asname.name.value if alias.asname else alias.name.value


def _dotted(node) -> str:
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return node.value if isinstance(node, cst.Name) else ""


def imported_from(module: cst.Module, name: str) -> Optional[str]:
    """The module `name` was imported from (`from keras.losses import name`), or None."""
    for source, imported, bound in _imports(module):
        if imported is not None and bound == name and imported == name:
            return source
    return None


def keras_losses(module: cst.Module) -> tuple:
    """How this file spells `keras.losses`: (prefix or None, keras root to import from).

    `K.losses` after `import keras as K`, `losses` after `from tensorflow.keras import losses`,
    `tf.keras.losses` after `import tensorflow as tf`; else None and the root its other keras
    imports use, for an explicit `from <root>.losses import X`."""
    spellings, root = {}, None
    for source, imported, bound in _imports(module):
        whole = f"{source}.{imported}" if imported else source
        if whole in KERAS_ROOTS:
            spellings.setdefault(1, f"{bound}.losses")
        elif whole in tuple(f"{r}.losses" for r in KERAS_ROOTS) and imported:
            spellings.setdefault(0, bound)
        elif whole == "tensorflow":
            spellings.setdefault(2, f"{bound}.keras.losses")
        root = root or next((r for r in KERAS_ROOTS if source == r or source.startswith(r + ".")), None)
    if spellings:
        return spellings[min(spellings)], root
    return None, root or "keras"


def keras_loss_call(module: cst.Module, class_name: str, arguments: str) -> tuple:
    """(`<keras>.losses.Class(arguments)` spelled as this file can, the imports it needs)."""
    prefix, root = keras_losses(module)
    if prefix is None:
        return cst.parse_expression(f"{class_name}({arguments})"), ((f"{root}.losses", class_name),)
    return cst.parse_expression(f"{prefix}.{class_name}({arguments})"), ()


# -- where a node sits --------------------------------------------------------------------------


class _CompileArguments(cst.CSTVisitor):
    """The loss expressions written directly in `.compile(...)` calls (and in their dicts and lists)."""

    def __init__(self):
        self.found = set()

    def visit_Call(self, node: cst.Call) -> None:
        if last_name(node.func) != "compile" or not isinstance(node.func, cst.Attribute):
            return
        for position, arg in enumerate(node.args):
            if (arg.keyword and arg.keyword.value == "loss") or (arg.keyword is None and position == 1):
                self._add(arg.value)

    def _add(self, value) -> None:
        self.found.add(id(value))
        if isinstance(value, cst.Dict):
            for element in value.elements:
                self._add(element.value)
        elif isinstance(value, (cst.List, cst.Tuple)):
            for element in value.elements:
                self._add(element.value)


def written_in_compile(module: cst.Module, node) -> bool:
    """Whether `node` is the loss argument of a `.compile(...)` call itself (not a name bound elsewhere)."""
    visitor = _CompileArguments()
    module.visit(visitor)
    return id(node) in visitor.found


class _SequentialElements(cst.CSTVisitor):
    def __init__(self):
        self.found = set()

    def visit_Call(self, node: cst.Call) -> None:
        if last_name(node.func) == "Sequential":
            self.found.update(id(arg.value) for arg in node.args)


def in_sequential(module: cst.Module, node) -> bool:
    """Whether `node` is a layer written directly in an `nn.Sequential(...)` call."""
    visitor = _SequentialElements()
    module.visit(visitor)
    return id(node) in visitor.found


# -- torch: activations applied to a tensor -----------------------------------------------------

TORCH_FUNCTION_OWNERS = {"F", "torch", "functional", "special"}  # F.softmax(x), torch.softmax(x), ...


def is_function_call(call) -> bool:
    """`F.softmax(x, dim=1)` (the tensor is an argument), not the method `x.softmax(dim=1)`."""
    return isinstance(call.func, cst.Attribute) and last_name(call.func.value) in TORCH_FUNCTION_OWNERS


def activation_input(call: cst.Call):
    """The tensor an activation call applies to: `x` in `F.softmax(x, dim=1)` and in `x.softmax(1)`."""
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        raise Unfixable("not an activation call")
    if is_function_call(call):
        first = argument(call, 0, "input")
        if first is None:
            raise Unfixable("no input")
        return parenthesized(first.value)
    return call.func.value
