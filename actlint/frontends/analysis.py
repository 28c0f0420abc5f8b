"""One file's facts: the interpreter run over its module with every registered frontend."""

from __future__ import annotations

from actlint.facts import FileFacts
from actlint.frontends import registry


def analyze_module(path: str, module, project=None) -> FileFacts:
    from actlint.frontends.interp import Budget, Interpreter
    from actlint.frontends.project import TooManyImports

    frontends = registry()
    interp = Interpreter(path, module, frontends, project)
    if project is not None:
        project.deadline = interp.deadline  # the files it imports count against this file's time
    facts = FileFacts(path)
    try:
        interp.run()
    except TooManyImports:
        return analyze_module(path, module)  # the file alone: its project imports are unknown
    except Budget:
        return facts  # too big to follow: say nothing rather than guess
    for frontend in frontends:
        facts.bindings.extend(frontend.bindings(interp))
        facts.local.extend(frontend.local)
    return facts
