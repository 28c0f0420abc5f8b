"""Command-line defaults: `args.loss` is what argparse gives when the script runs without flags.

Like a config dataclass's field defaults, an argparse default is the program's own choice, the
value it trains with unless told otherwise; so `criterion = get_loss(args.loss)` resolves through
`parser.add_argument("--loss", default="ce")`. Only what the code states is kept: an option with
no default, or with two different defaults (two subcommands), stays unknown.
"""

from __future__ import annotations

from actlint.frontends.interp import NOT_HANDLED, Frontend
from actlint.frontends.values import Const, Obj, Ref, Seq, new_id

PARSER = "argparse.ArgumentParser"
CONFLICT = object()  # an option given two different defaults
CONVERSIONS = {"int": int, "float": float, "str": str}


class ArgparseFrontend(Frontend):
    def __init__(self):
        self.defaults: dict = {}  # parser id -> {dest: value or CONFLICT}

    def call_ref(self, name, args, node, interp):
        if name != PARSER:
            return NOT_HANDLED
        parser = new_id()
        self.defaults[parser] = {}
        return Obj("argparser", (("id", parser),), interp.site(node))

    def method(self, receiver, name, args, node, interp):
        if not isinstance(receiver, Obj) or receiver.kind not in ("argparser", "subparsers"):
            return NOT_HANDLED
        parser = receiver.get("id")
        if receiver.kind == "subparsers":  # a subcommand's options land in the same namespace
            return Obj("argparser", receiver.info) if name == "add_parser" else None
        if name == "add_argument":
            self.add_argument(parser, args)
        elif name in ("add_argument_group", "add_mutually_exclusive_group"):
            return receiver
        elif name == "add_subparsers":
            return Obj("subparsers", receiver.info)
        elif name == "set_defaults":  # parser-level defaults override the options'
            self.defaults[parser].update(args.kw)
        elif name == "parse_args":
            return Obj("namespace", receiver.info)
        elif name in ("parse_known_args", "parse_known_intermixed_args"):
            return Seq((Obj("namespace", receiver.info), None))
        return None

    def add_argument(self, parser: int, args) -> None:
        dest = _dest(args)
        if dest is None:
            return
        value = _default(args)
        known = self.defaults[parser]
        if dest in known and not _same(known[dest], value):
            value = CONFLICT
        known[dest] = value

    def attribute(self, owner, name, node, interp):
        if not isinstance(owner, Obj) or owner.kind != "namespace":
            return NOT_HANDLED
        value = self.defaults.get(owner.get("id"), {}).get(name)
        return None if value is CONFLICT else value


def _dest(args):
    """The attribute an option is stored in: `dest=`, else its first long flag, else its name."""
    dest = args.get(None, "dest")
    if isinstance(dest, Const) and isinstance(dest.value, str):
        return dest.value
    flags = [a.value for a in args.pos if isinstance(a, Const) and isinstance(a.value, str)]
    if len(flags) != len(args.pos) or not flags:
        return None
    name = next((f for f in flags if f.startswith("--")), None) or flags[0]
    return name.lstrip("-").replace("-", "_") or None


def _default(args):
    """The option's value when the flag is not given, or None when the code does not say."""
    action = args.get(None, "action")
    action = action.value if isinstance(action, Const) else None
    if action in ("store_true", "store_false") and not args.given(None, "default"):
        return Const(action == "store_false")
    if not args.given(None, "default"):
        return None
    value = args.get(None, "default")
    convert = args.get(None, "type")
    convert = CONVERSIONS.get(convert.name.rsplit(".", 1)[-1]) if isinstance(convert, Ref) else None
    if isinstance(value, Const) and isinstance(value.value, str) and convert is not None:
        try:  # argparse passes a string default through `type`
            return Const(convert(value.value), value.site)
        except ValueError:
            return None
    return value


def _same(a, b) -> bool:
    if isinstance(a, Const) and isinstance(b, Const):
        return type(a.value) is type(b.value) and a.value == b.value
    return a is b
