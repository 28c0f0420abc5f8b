"""Frontends: syntax in, framework-neutral facts out.

The registry is an explicit list. Every frontend sees the same parse and the same
abstract interpretation of the file; each contributes its bindings and local findings.
"""

from __future__ import annotations

from actlint.facts import FileFacts


def registry() -> list:
    from actlint.frontends.cli_args import ArgparseFrontend
    from actlint.frontends.data import DataFrontend
    from actlint.frontends.flax import FlaxFrontend
    from actlint.frontends.hf import HuggingFaceFrontend
    from actlint.frontends.keras import KerasFrontend
    from actlint.frontends.kerashub import KerasHubFrontend
    from actlint.frontends.loops import LibraryLoopFrontend
    from actlint.frontends.named_data import NamedDatasetFrontend
    from actlint.frontends.tfnn import TfNNFrontend
    from actlint.frontends.timm import TimmFrontend
    from actlint.frontends.torch import TorchFrontend

    # Torch and tf.nn first: they answer only for their own names and values (torch layers,
    # tensors' methods, losses called on tensors), which Keras would otherwise fold as its own.
    # Hugging Face before torch: it only notes a model's own loss and passes every call on.
    # Flax and timm first too: they answer only for their own names and values.
    return [FlaxFrontend(), HuggingFaceFrontend(), TimmFrontend(), NamedDatasetFrontend(), TfNNFrontend(),
            TorchFrontend(), KerasFrontend(), KerasHubFrontend(), LibraryLoopFrontend(), DataFrontend(),
            ArgparseFrontend()]


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
        facts.local.extend(getattr(frontend, "local", ()))
    return facts
