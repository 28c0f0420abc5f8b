"""Losses with the frameworks' own conventions.

torch-style functions take (input, target) and reduce (default "mean", as torch
does); keras-style functions take (y_true, y_pred) and return one loss per
sample, as the `keras.losses.*` functions do (the `Loss` classes then average
over the batch).
"""

from __future__ import annotations

import numpy as np

from actlint.numeric.activations import as_float, log_softmax, softplus

KERAS_EPSILON = 1e-7
TORCH_LOG_CLAMP = -100.0


def is_index_target(target, logits) -> bool:
    target = np.asarray(target)
    return np.issubdtype(target.dtype, np.integer) and target.ndim == np.ndim(logits) - 1


def pick(values, index, axis: int = -1) -> np.ndarray:
    index = np.expand_dims(np.asarray(index, dtype=np.int64), axis)
    return np.squeeze(np.take_along_axis(values, index, axis=axis), axis)


def reduce(values, reduction: str = "mean"):
    if reduction == "none":
        return values
    return np.sum(values) if reduction == "sum" else np.mean(values)


# -- torch -----------------------------------------------------------------------


def cross_entropy(logits, target, reduction: str = "mean", axis: int = 1):
    """torch F.cross_entropy: class indices, or class probabilities along `axis`."""
    logp = log_softmax(logits, axis)
    if is_index_target(target, logits):
        return reduce(-pick(logp, target, axis), reduction)
    return reduce(-np.sum(as_float(target) * logp, axis=axis), reduction)


def nll_loss(log_probs, target, reduction: str = "mean", axis: int = 1):
    return reduce(-pick(as_float(log_probs), target, axis), reduction)


def binary_cross_entropy(probs, target, reduction: str = "mean"):
    """torch F.binary_cross_entropy: each log clamped at -100; inputs outside [0, 1] raise."""
    p, y = as_float(probs), as_float(target)
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), TORCH_LOG_CLAMP)
        log_q = np.maximum(np.log1p(-p), TORCH_LOG_CLAMP)
    return reduce(-(y * log_p + (1 - y) * log_q), reduction)


def binary_cross_entropy_with_logits(logits, target, reduction: str = "mean"):
    z, y = as_float(logits), as_float(target)
    return reduce(softplus(z) - z * y, reduction)


def xlogy(x, y) -> np.ndarray:
    x, y = as_float(x), as_float(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y))).astype(x.dtype)


def kl_div(log_input, target, reduction: str = "mean", log_target: bool = False):
    """torch F.kl_div: input is log q, target is p (log p with log_target); 'batchmean' divides by N."""
    x, t = as_float(log_input), as_float(target)
    pointwise = np.exp(t) * (t - x) if log_target else xlogy(t, t) - t * x
    if reduction == "batchmean":
        return np.sum(pointwise) / x.shape[0]
    return reduce(pointwise, reduction)


# -- keras 3 (and tf_keras where they agree) ----------------------------------------


def clip_probability(p, eps: float = KERAS_EPSILON) -> np.ndarray:
    p = as_float(p)
    return np.clip(p, p.dtype.type(eps), p.dtype.type(1 - eps))


def binary_crossentropy_elementwise(y_true, y_pred, from_logits: bool = False, eps_in_log: bool = False):
    """keras ops.binary_crossentropy; tf_keras also adds eps inside each log (eps_in_log)."""
    y, out = as_float(y_true), as_float(y_pred)
    if from_logits:
        return softplus(out) - out * y
    p = clip_probability(out)
    pad = out.dtype.type(KERAS_EPSILON if eps_in_log else 0)
    return -(y * np.log(p + pad) + (1 - y) * np.log(1 - p + pad))


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1):
    """keras 3 keras.losses.binary_crossentropy: mean over the last axis."""
    return np.mean(binary_crossentropy_elementwise(y_true, y_pred, from_logits), axis=axis)


def tf_keras_binary_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1):
    """tf_keras (Keras 2) keras.losses.binary_crossentropy: log(p + eps) after clipping."""
    return np.mean(binary_crossentropy_elementwise(y_true, y_pred, from_logits, eps_in_log=True), axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1):
    """keras categorical_crossentropy: without from_logits, y_pred is divided by its sum, then clipped."""
    y, out = as_float(y_true), as_float(y_pred)
    if from_logits:
        return -np.sum(y * log_softmax(out, axis), axis=axis)
    p = clip_probability(out / np.sum(out, axis=axis, keepdims=True))
    return -np.sum(y * np.log(p), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1):
    """keras sparse_categorical_crossentropy: without from_logits, clip, log, then softmax (renormalizes)."""
    out = as_float(y_pred)
    index = np.asarray(y_true)
    if index.ndim == out.ndim and index.shape[-1] == 1:
        index = np.squeeze(index, -1)
    logits = out if from_logits else np.log(clip_probability(out))
    return -pick(log_softmax(logits, axis), index.astype(np.int64), axis)
