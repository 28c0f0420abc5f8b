"""The frontend protocol: what the interpreter asks a framework frontend, and what it may ask back.

The interpreter (`interp.Interpreter`) walks one file and evaluates expressions to abstract values
(`values.py`: Ref, Tensor, Layer, ModelVal, LossVal, TargetVal, ...). It knows no framework: where
Python alone cannot say what an expression means (a library call, a method of a library object), it
asks the frontends, in registry order (`frontends.registry`), and the first answer that is not
NOT_HANDLED wins; when none answers, the value is unknown (None), and unknown values make no
findings. So a frontend answers only for names and values it recognizes, and returns NOT_HANDLED
for everything else.

Every hook receives the interpreter last. What a hook may use of it:
  interp.site(node)                       a facts.Site for a CST node (findings point at it)
  interp.call(callee, args, node)         call a value as the interpreter would (a Ref, a Function, ...)
  interp.call_method(recv, name, args, node)  `recv.name(...)` as the file would call it
  interp.call_function(func, args, recv)  run a user function or method with these arguments
  interp.element_of(iterable)             what `for x in iterable` binds x to
  interp.eval(expr, interp.frame)         the value of a CST expression the hook was not given evaluated
  interp.assign(target, value, interp.frame)  rebind a CST target (`seq.add(...)` grows the name `seq`)
  interp.conditions                       the branch conditions of the path being run (Binding.path)
  interp.grad_off                         true inside `with torch.no_grad():` and similar contexts
  interp.path                             the linted file's path

Facts out, read by `analysis.analyze_module` once the file has run: `bindings(interp)` (heads,
losses, targets paired), and the list `local` of one-call facts (facts.Normalization,
facts.LogOfProbability) in the order found; the rules in checks.py decide and word the findings. A
frontend never imports checks.

Arguments come as `interp.Args`: `args.get(index, keyword)` is the value passed by position or
keyword (None when absent or unknown), `args.given(index, keyword)` whether it was passed at all,
`args.node(index, keyword)` its CST node.
"""

from __future__ import annotations

NOT_HANDLED = object()  # a hook's answer when the frontend does not recognize what it is asked about


class Frontend:
    """Base class of the framework frontends: every hook answers NOT_HANDLED unless overridden."""

    local: tuple = ()  # one-call facts (facts.Normalization, facts.LogOfProbability): a list per instance

    def call_ref(self, name, args, node, interp):
        """A call of a library name: `name` is the canonical dotted name (`keras.layers.Dense`,
        `torch.nn.functional.softmax`; aliases such as tf.keras resolved by `namespaces.canonical`).
        Answer the call's value: a Layer, a LossVal, a Tensor, a TargetVal, ..."""
        return NOT_HANDLED

    def call_value(self, callee, args, node, interp):
        """A call of a value the interpreter cannot call itself: a layer or model applied to a tensor
        (`model(x)`), a loss object called on predictions and targets (`criterion(out, y)`)."""
        return NOT_HANDLED

    def method(self, receiver, name, args, node, interp):
        """`receiver.name(...)` on a library value (`model.compile(...)`, `x.softmax(dim=1)`), or a
        method a user class inherits from a library class (`self.fc.to(device)`)."""
        return NOT_HANDLED

    def attribute(self, owner, name, node, interp):
        """`owner.name` on a library value (`model.fc`, `outputs.logits`, `layer.in_features`)."""
        return NOT_HANDLED

    def subscript(self, value, indexes, node, interp):
        """`value[...]` beyond literal lists and dicts: `indexes` are the evaluated index values
        (None for a slice), `node` the Subscript (`y[:, 0]`, `outputs["logits"]`)."""
        return NOT_HANDLED

    def binop(self, left, right, node, interp):
        """`left <op> right` (`node` is the BinaryOperation): tensor arithmetic, `p + eps`."""
        return NOT_HANDLED

    def unary(self, value, node, interp):
        """`-value`, `~value` (`node` is the UnaryOperation)."""
        return NOT_HANDLED

    def iterate(self, iterable, interp):
        """What `for x in iterable` binds x to (`for images, labels in loader`)."""
        return NOT_HANDLED

    def parameter(self, func, param, receiver, interp):
        """The value of a parameter that got no argument and has no default (a function the file never
        calls, run at the end: `def forward(self, x)`)."""
        return NOT_HANDLED

    def instantiated(self, instance, args, node, interp):
        """A user class was instantiated (after its __init__ ran): a notification, for classes that
        subclass a library class (`class Net(nn.Module)`). The answer is ignored."""
        return NOT_HANDLED

    def set_attribute(self, owner, name, value, interp):
        """`owner.name = value` on a library value (`model.fc = nn.Linear(512, 10)`): answer the
        updated owner, which the interpreter assigns back."""
        return NOT_HANDLED

    def set_item(self, owner, value, interp):
        """`owner[...] = value` on a library value (`model.classifier[6] = nn.Linear(4096, 3)`):
        answer the updated owner."""
        return NOT_HANDLED

    def bindings(self, interp) -> list:
        """At the end of the file: the facts.Binding values (head, loss, target) this frontend paired."""
        return []
