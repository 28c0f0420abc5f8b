"""The other files of a project, for imports: `from models import Net` follows Net into models.py.

Each file is parsed at most once per run (the engine shares its parse cache) and its top
level is run once, on first import, by an interpreter of its own; what the importer gets
are the values (classes, functions, constants, models). Functions and classes still run
in the importer's interpreter, so the facts they produce are paired there, located in
the file that wrote them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional

from actlint.frontends.base import NOT_HANDLED
from actlint.sources import MAX_FILE_SIZE, is_project_root

# Top-level names that are libraries, never project modules (a local `torch.py` is not followed).
LIBRARIES = {
    "keras", "tensorflow", "tf_keras", "torch", "torchvision", "numpy", "pandas", "sklearn",
    "jax", "flax", "optax", "lightning", "pytorch_lightning", "scipy", "os", "sys", "math",
}
# Project files one linted file's imports may reach, transitively. A training script's reach a few;
# a library's modules import dozens of siblings each (torch/_dynamo/__init__.py reaches ~100, seconds of
# parsing): past the limit the file is analyzed alone, its project imports unknown (quiet).
MAX_MODULES = 32


class TooManyImports(Exception):
    """The linted file's imports reach more than MAX_MODULES project files."""


class Project:
    def __init__(self, parse: Callable[[str], object], limit: Callable[[str], int] = lambda path: MAX_FILE_SIZE):
        self.parse = parse  # path -> libcst.Module or None (shared with the engine's cache)
        self.limit = limit  # path -> the run's max-file-size for it, in bytes (0: none): larger files are not followed
        self.envs: dict = {}  # resolved path -> Env (None: it does not load), once its top level ran to the end
        self.closures: dict = {}  # resolved path -> the project files its top level reached, itself included
        self.loading: list = []  # (path, files reached so far) of the modules whose top level is running
        self.found: dict = {}  # (directory, module, level) -> path or None
        self.touched: set = set()  # files imported by the current analysis: its cache dependencies
        self.deadline: Optional[float] = None  # the linted file's (interp.TIME_BUDGET), imports included

    def resolve(self, importer: str, module: str, level: int = 0, name: Optional[str] = None,
                binds: Optional[str] = None):
        """The one import resolver: what an import statement in `importer` binds from the project.
        `from <level dots><module> import <name>`; with name None, `import <module>`, which binds the
        value of `binds` when given (`import a.b` binds `a`). NOT_HANDLED when an absolute module is no
        project file (a library: the interpreter binds its name); else a value, None when unknown."""
        if level == 0 and not self.has_module(importer, module, 0):
            return NOT_HANDLED
        if name is not None:
            return self.import_name(importer, module, name, level)
        return self.module_value(importer, binds or module, level)

    # -- where a module lives ------------------------------------------------------

    def has_module(self, importer: str, module: str, level: int) -> bool:
        if level == 0 and module.split(".", 1)[0] in LIBRARIES:
            return False
        return self.locate(importer, module, level) is not None

    def locate(self, importer: str, module: str, level: int) -> Optional[str]:
        start = Path(importer).resolve().parent
        absolute = os.path.isabs(importer)  # shown as the importer is: one file, one spelling
        key = (start, module, level, absolute)
        if key not in self.found:
            self.found[key] = self._search(start, module, level, absolute)
        return self.found[key]

    def _search(self, start: Path, module: str, level: int, absolute: bool = False) -> Optional[str]:
        parts = [p for p in module.split(".") if p]
        for root in _roots(start, level):
            base = root.joinpath(*parts)
            for candidate in ((base.with_suffix(".py"),) if parts else ()) + (base / "__init__.py",):
                if candidate.is_file() and self._within_limit(candidate):
                    return None if _another_installed_package(candidate, start) else _display(candidate, absolute)
        return None

    def _within_limit(self, path: Path) -> bool:
        limit = self.limit(str(path))
        return not limit or path.stat().st_size <= limit

    # -- what it defines -------------------------------------------------------------

    def module_value(self, importer: str, module: str, level: int):
        from actlint.frontends.values import ModuleVal

        path = self.locate(importer, module, level)
        env = self.env(path, module) if path else None
        if env is None:
            return None
        return ModuleVal(path, env, lambda name: self.module_value(importer, f"{module}.{name}".lstrip("."), level))

    def import_name(self, importer: str, module: str, name: str, level: int):
        """`from module import name`: a name the module defines, or a submodule."""
        value = self.module_value(importer, module, level)
        found = value.attribute(name) if value is not None else None
        if found is None:
            return self.module_value(importer, f"{module}.{name}" if module else name, level)
        return found

    def env(self, path: str, name: str):
        """The module's top-level names. A module loaded for an earlier file counts with every file
        it reached, as if loaded again: which files a worker linted before does not change whether
        this one is over MAX_MODULES, nor its cache dependencies."""
        if any(path == loading for loading, _ in self.loading):
            return None  # a cycle sees an empty module, not a crash
        if path in self.envs:
            self._reach(self.closures[path])
            return self.envs[path]
        self._reach({path})
        _check_clock(self)
        module = self.parse(path)
        reached = {path}
        self.loading.append((path, reached))
        try:
            env = _run_top_level(path, module, self, name) if module is not None else None
        finally:
            self.loading.pop()
        self.envs[path], self.closures[path] = env, frozenset(reached)  # not when it stopped half way
        return env

    def _reach(self, paths) -> None:
        self.touched |= paths
        for _, reached in self.loading:
            reached |= paths
        if len(self.touched) > MAX_MODULES:
            raise TooManyImports()


def _check_clock(project: Project) -> None:
    """Each import counts against the linted file's time budget: a fan of small modules would
    otherwise never run the 1,000 interpreter steps between looks at the clock."""
    import time

    from actlint.frontends.interp import OutOfTime

    if project.deadline is not None and time.monotonic() > project.deadline:
        raise OutOfTime()


def _run_top_level(path: str, module, project: Project, name: str):
    from actlint.frontends import registry
    from actlint.frontends.interp import Budget, Interpreter

    interp = Interpreter(path, module, registry(), project, name=name.rpartition(".")[2] or name,
                         deadline=project.deadline)
    try:
        return interp.run(top_level_only=True)
    except (Budget, RecursionError):
        return None


def _another_installed_package(candidate: Path, start: Path) -> bool:
    """An installed library beside the importer's own package: its business, not this project's."""
    top = start
    while (top.parent / "__init__.py").exists():
        top = top.parent
    return top.parent.name in ("site-packages", "dist-packages") and top not in candidate.parents


def _display(path: Path, absolute: bool = False) -> str:
    """Spelled as the linted files are: absolute when the importer was named by an absolute path
    (else a finding in the module would show twice, once under each spelling), else relative to
    the working directory when under it."""
    if absolute:
        return path.as_posix()
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


def _roots(start: Path, level: int):
    """Folders an import may be relative to: for `from ..x`, the package; else the importer's
    folder, the folders above it while they are packages, and the project root."""
    if level:
        root = start
        for _ in range(level - 1):
            root = root.parent
        return [root]
    roots = [start]
    folder = start
    while (folder / "__init__.py").exists() and folder.parent != folder:
        folder = folder.parent
        roots.append(folder)
    for folder in list(start.parents)[:5]:
        if is_project_root(folder):
            if folder not in roots:
                roots.append(folder)
            break
    return roots
