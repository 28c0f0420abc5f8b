"""Rows and columns of every node of a module: libcst's PositionProvider table, computed faster;
and findings located with it (`locate`), once per file that has a finding's end in it.

PositionProvider runs the module's code generation with a state that records where each node
starts and ends. Its state builds a CodePosition and a CodeRange per node, splits every token on a
newline regex, enters a generator-based context manager per node and keeps the generated tokens.
This state records the same positions as plain tuples ((line, column), (line, column)) with none of
that: ~30% of the cost. tests/test_speed_equivalence.py checks the tables are PositionProvider's.
"""

from __future__ import annotations

from libcst.metadata.position_provider import PositionProvidingCodegenState

from actlint.results import Position, RelatedLocation, Result


def positions(module) -> dict:
    """{node: ((start line, start column), (end line, end column))}: lines 1-based, columns 0-based."""
    state = _State(default_indent=module.default_indent, default_newline=module.default_newline, provider=None)
    state.table = {}
    module._codegen(state)
    return state.table


class _State(PositionProvidingCodegenState):
    __slots__ = ("table",)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.column += len(token)  # indentation holds no newline

    def add_token(self, value: str) -> None:
        if not self.tokens:
            self.tokens.append(value)  # Module._codegen_impl asks whether anything was generated at all
        if "\n" in value or "\r" in value:
            self._update_position(value)
        else:
            self.column += len(value)

    def pop_trailing_newline(self) -> None:
        pass  # no tokens are kept; the positions already count the newline, as PositionProvider's do

    def before_codegen(self, node) -> None:
        self._stack.append((self.line, self.column))

    def after_codegen(self, node) -> None:
        start = self._stack.pop()
        if node not in self.table:  # a syntactic position was recorded already
            self.table[node] = (start, (self.line, self.column))

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """PositionProvidingCodegenState.record_syntactic_position as a plain context manager."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _State, node, start_node, end_node):
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *_) -> None:
        table = self.state.table
        start = table[self.start_node][0] if self.start_node is not None else self.start
        end = table[self.end_node][1] if self.end_node is not None else (self.state.line, self.state.column)
        table[self.node] = (start, end)


def locate(findings: list) -> list[Result]:
    """Rows and columns, computed once per file that has a finding's end in it."""
    tables = {}

    def span(site):
        if id(site.module) not in tables:
            tables[id(site.module)] = positions(site.module)
        return _span(tables[id(site.module)], site)

    results = []
    for finding in findings:
        start, end = span(finding.site)
        related = tuple(RelatedLocation(r.site.path, span(r.site)[0], r.label) for r in finding.related)
        results.append(Result(
            finding.code, finding.message, finding.site.path, start, end, related, finding.suggestion,
            finding.facts, finding.severity, _fix_dict(finding.fix, finding.site.path, span), fix_plan=finding.fix,
        ))
    return results


def _fix_dict(fix, filename: str, span):
    if fix is None:
        return None
    from actlint.fixes import as_dict

    return as_dict(fix, filename, span)


def _span(positions, site):
    where = positions.get(site.node)
    if where is None:
        return Position(1, 1), Position(1, 1)
    (line, column), (end_line, end_column) = where
    return Position(line, column + 1), Position(end_line, end_column + 1)
