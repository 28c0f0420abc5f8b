"""Numerically stable activations, and the naive ones they are checked against.

Floating inputs keep their dtype (float32 stays float32, as in the frameworks);
anything else is computed in float64.
"""

from __future__ import annotations

import numpy as np


def as_float(x) -> np.ndarray:
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def sigmoid(x) -> np.ndarray:
    x = as_float(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def softplus(x) -> np.ndarray:
    x = as_float(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def log_sigmoid(x) -> np.ndarray:
    return -softplus(-as_float(x))


def log_softmax(x, axis: int = -1) -> np.ndarray:
    x = as_float(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x, axis: int = -1) -> np.ndarray:
    x = as_float(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def naive_sigmoid(x) -> np.ndarray:
    x = as_float(x)
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def naive_softmax(x, axis: int = -1) -> np.ndarray:
    x = as_float(x)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(x)
        return e / np.sum(e, axis=axis, keepdims=True)


def naive_log_softmax(x, axis: int = -1) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(naive_softmax(x, axis))


def log_of_softmax(x, axis: int = -1) -> np.ndarray:
    """The hand-written log(softmax(x)): a stable softmax, then a log that sees its underflow."""
    with np.errstate(divide="ignore"):
        return np.log(softmax(x, axis))


def log_of_sigmoid(x) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(sigmoid(x))


def softmax_jvp(x, v, axis: int = -1) -> np.ndarray:
    """Jacobian of softmax at x applied to v (the Jacobian is symmetric)."""
    p = softmax(x, axis)
    return p * (v - np.sum(p * v, axis=axis, keepdims=True))
