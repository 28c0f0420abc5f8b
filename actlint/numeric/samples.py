"""Seeded inputs: the same logits and targets on every run."""

from __future__ import annotations

import numpy as np

from actlint.numeric.gradients import one_hot

SEED = 0
SATURATED = 100.0  # a logit margin past which float64 softmax and sigmoid are saturated


def batch_size(k: int) -> int:
    return int(max(4, min(16, 200_000 // max(k, 1))))


def seeded_logits(n: int, k: int, seed: int = SEED, scale: float = 3.0) -> np.ndarray:
    return scale * np.random.default_rng(seed).standard_normal((n, k))


def seeded_index(n: int, k: int, seed: int = SEED) -> np.ndarray:
    return np.random.default_rng(seed + 1).integers(0, k, size=n)


def seeded_binary(n: int, k: int, seed: int = SEED) -> np.ndarray:
    return np.random.default_rng(seed + 2).integers(0, 2, size=(n, k)).astype(np.float64)


def seeded_distribution(n: int, k: int, seed: int = SEED) -> np.ndarray:
    d = np.random.default_rng(seed + 3).random((n, k)) + 0.05
    return d / d.sum(axis=-1, keepdims=True)


def margin_logits(index, k: int, margin: float) -> np.ndarray:
    """The right class `margin` above every other class (at 0)."""
    return margin * one_hot(index, k)


def margin_binary_logits(target, margin: float) -> np.ndarray:
    """Each logit `margin` on the side of its 0/1 target."""
    return margin * (2 * np.asarray(target, dtype=np.float64) - 1)


def multi_hot_row(k: int, labels: int) -> np.ndarray:
    row = np.zeros((1, k))
    row[0, :labels] = 1.0
    return row
