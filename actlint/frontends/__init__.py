"""Frontends: syntax in, framework-neutral facts out.

The registry is an explicit list. Every frontend sees the same parse and the same
abstract interpretation of the file (`analysis.analyze_module`); each contributes its
bindings and its one-call facts.
"""

from __future__ import annotations


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
