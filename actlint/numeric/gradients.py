"""Analytic gradients of the reference losses, and central differences in float64."""

from __future__ import annotations

import numpy as np

from actlint.numeric.activations import sigmoid, softmax


def one_hot(index, k: int) -> np.ndarray:
    return np.eye(k)[np.asarray(index, dtype=np.int64)]


def cross_entropy_grad(logits, target) -> np.ndarray:
    """d mean CE / d logits for class-index targets: (softmax - one_hot) / N."""
    z = np.asarray(logits, dtype=np.float64)
    return (softmax(z) - one_hot(target, z.shape[-1])) / z.shape[0]


def bce_with_logits_grad(logits, target) -> np.ndarray:
    """d mean BCE-with-logits / d logits: (sigmoid - y) / size."""
    z = np.asarray(logits, dtype=np.float64)
    return (sigmoid(z) - np.asarray(target, dtype=np.float64)) / z.size


def directional_derivative(f, x, v, h: float = 1e-5) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float((f(x + h * v) - f(x - h * v)) / (2 * h))


def central_gradient(f, x, h: float = 1e-5) -> np.ndarray:
    """Full gradient of a scalar function by central differences (small inputs only)."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def gradient_relative_error(f, grad, x, seed: int = 0, directions: int = 3) -> float:
    """Largest relative gap between <grad, v> and central differences along random directions v."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(directions):
        v = rng.standard_normal(np.shape(x))
        analytic = float(np.sum(grad * v))
        numeric = directional_derivative(f, x, v)
        worst = max(worst, abs(analytic - numeric) / max(abs(analytic), 1e-12))
    return worst
