"""The suggested pairings as mean losses of (logits, targets), and what they are checked against."""

from __future__ import annotations

import numpy as np

from actlint.numeric import losses
from actlint.numeric.activations import log_softmax, naive_log_softmax, naive_sigmoid
from actlint.numeric.gradients import bce_with_logits_grad, cross_entropy_grad, gradient_relative_error, one_hot
from actlint.numeric.samples import margin_binary_logits, margin_logits


def torch_cross_entropy(z, y):
    return losses.cross_entropy(z, y)


def keras_categorical_from_logits(z, y):
    return np.mean(losses.categorical_crossentropy(one_hot(y, np.shape(z)[-1]), z, from_logits=True))


def keras_sparse_from_logits(z, y):
    return np.mean(losses.sparse_categorical_crossentropy(y, z, from_logits=True))


def keras_sparse_from_argmax(z, y):
    """One-hot targets turned back into indices with argmax, into the sparse loss."""
    return keras_sparse_from_logits(z, np.argmax(one_hot(y, np.shape(z)[-1]), axis=-1))


def log_softmax_into_nll(z, y):
    return losses.nll_loss(log_softmax(z), y)


def log_softmax_into_kl_div(z, y):
    return losses.kl_div(log_softmax(z), one_hot(y, np.shape(z)[-1]), reduction="batchmean")


def torch_bce_with_logits(z, y):
    return losses.binary_cross_entropy_with_logits(z, y)


def keras_binary_from_logits(z, y):
    return np.mean(losses.binary_crossentropy(y, z, from_logits=True))


def reference_cross_entropy(z, y):
    """-log softmax of the right class, computed the textbook way (moderate logits only)."""
    return -np.mean(losses.pick(naive_log_softmax(z), y))


def reference_binary_cross_entropy(z, y):
    p = naive_sigmoid(z)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def categorical_sharpened(y, k, margin):
    return margin_logits(y, k, margin)


def binary_sharpened(y, k, margin):
    return margin_binary_logits(y, margin)


CATEGORICAL = (reference_cross_entropy, cross_entropy_grad, categorical_sharpened)
BINARY = (reference_binary_cross_entropy, bce_with_logits_grad, binary_sharpened)


def relative_error(a, b) -> float:
    return float(abs(a - b) / max(abs(b), 1e-300))


def loss_along_margins(loss, y, k, margins, sharpened) -> list:
    return [float(loss(sharpened(y, k, m), y)) for m in margins]


def check_fix(loss, family, z, y, margins=(5.0, 10.0, 20.0, 40.0)) -> dict:
    """Reference gap, gradient gap, and the loss as logits sharpen toward the target."""
    reference, grad, sharpened = family
    return {
        "rel_error": relative_error(loss(z, y), reference(z, y)),
        "grad_rel_error": gradient_relative_error(lambda x: loss(x, y), grad(z, y), z),
        "sharpening": loss_along_margins(loss, y, np.shape(z)[-1], margins, sharpened),
    }
