"""One function per claim: each returns the numbers that show what goes wrong."""

from __future__ import annotations

import numpy as np

from actlint.numeric import losses
from actlint.numeric.activations import (
    log_of_sigmoid, log_of_softmax, log_sigmoid, log_softmax, sigmoid, softmax, softmax_jvp,
)
from actlint.numeric.gradients import (
    central_gradient, cross_entropy_grad, one_hot,
)
from actlint.numeric.samples import SATURATED, margin_logits, multi_hot_row


def norm_ratio(a, b) -> float:
    return float(np.linalg.norm(a) / np.linalg.norm(b))


# -- ACT101 double softmax, ACT203 sigmoid into CrossEntropyLoss -------------------------


def double_softmax_loss(z, y) -> float:
    return float(losses.cross_entropy(softmax(z), y))


def double_softmax_floor(k: int) -> float:
    """CrossEntropyLoss on a saturated softmax output: the lowest loss the model can reach."""
    return double_softmax_loss(margin_logits([0], k, SATURATED), [0])


def double_softmax_grad(z, y) -> np.ndarray:
    return softmax_jvp(z, cross_entropy_grad(softmax(z), y))


def sigmoid_into_cross_entropy_floor(k: int) -> float:
    z = margin_logits([0], k, 2 * SATURATED) - SATURATED
    return float(losses.cross_entropy(sigmoid(z), [0]))


# -- ACT102 double sigmoid ------------------------------------------------------------------


def double_sigmoid_range() -> tuple:
    return float(sigmoid(sigmoid(-SATURATED))), float(sigmoid(sigmoid(SATURATED)))


def double_sigmoid_floor(y: float) -> float:
    """BCEWithLogitsLoss on a saturated sigmoid output for target y."""
    z = SATURATED if y else -SATURATED
    return float(losses.binary_cross_entropy_with_logits(sigmoid(np.array([z])), np.array([y])))


def double_sigmoid_gradient_ratio(z, y) -> float:
    broken = (sigmoid(sigmoid(z)) - y) * sigmoid(z) * (1 - sigmoid(z))
    return norm_ratio(broken, sigmoid(z) - y)


# -- ACT103 logits into a probability loss ----------------------------------------------------


def out_of_unit_interval_fraction(x) -> float:
    x = np.asarray(x)
    return float(np.mean((x < 0) | (x > 1)))


def nan_log_fraction(x) -> float:
    """Share of entries where log(x + eps) (float32 eps, as skorch takes it for NLLLoss) is NaN."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.mean(np.isnan(np.log(x + np.finfo(np.float32).eps))))


def clipped_binary_loss(logit: float, y: float, eps_in_log: bool = False) -> float:
    """keras binary cross-entropy (float32, from_logits=False) on a raw logit."""
    loss = losses.binary_crossentropy_elementwise(np.float32([y]), np.float32([logit]), eps_in_log=eps_in_log)
    return float(loss[0])


def clipped_binary_grad(logit: float, y: float, eps_in_log: bool = False) -> float:
    f = lambda x: losses.binary_crossentropy_elementwise(np.float64([y]), x, eps_in_log=eps_in_log)[0]
    return float(central_gradient(f, np.float64([logit]), h=1e-4)[0])


def stalled_right_class_fraction(per_sample_loss, z, index, h: float = 1e-6) -> float:
    """Fraction of samples whose loss does not move at all when their right-class logit moves (zero gradient)."""
    step = h * one_hot(index, np.shape(z)[-1])
    moved = per_sample_loss(z + step) - per_sample_loss(z - step)
    return float(np.mean(moved == 0))


# -- ACT104 NLLLoss, ACT105 KLDivLoss ---------------------------------------------------------


def nll_on_probabilities(z, y) -> float:
    return float(losses.nll_loss(softmax(z), y))


def mean_true_class_probability(z, y) -> float:
    return float(np.mean(losses.pick(softmax(z), y)))


def nll_on_logits(z, y) -> float:
    return float(losses.nll_loss(z, y))


def kl_div_on_probabilities(p, t) -> float:
    return float(losses.kl_div(p, t, reduction="batchmean"))


def kl_div_on_log_probabilities(p, t) -> float:
    return float(losses.kl_div(np.log(p), t, reduction="batchmean"))


# -- ACT106 redundant log_softmax ---------------------------------------------------------


def log_softmax_idempotence_error(z) -> float:
    return float(np.max(np.abs(log_softmax(log_softmax(z)) - log_softmax(z))))


def redundant_log_softmax_loss_gap(z, y) -> float:
    a, b = losses.cross_entropy(log_softmax(z), y), losses.cross_entropy(z, y)
    return float(abs(a - b) / abs(b))


# -- ACT201 softmax over one unit ---------------------------------------------------------


def single_unit_softmax_range(z) -> tuple:
    p = softmax(np.reshape(z, (-1, 1)))
    return float(p.min()), float(p.max())


def single_unit_softmax_gradient(z) -> float:
    z = np.reshape(z, (-1, 1))
    return float(np.max(np.abs(softmax_jvp(z, np.ones_like(z)))))


def single_unit_log_softmax_range(z) -> tuple:
    p = log_softmax(np.reshape(z, (-1, 1)))
    return float(p.min()), float(p.max())


def log_softmax_outside_unit_interval_fraction(z) -> float:
    """Fraction of log_softmax outputs a probability loss rejects (torch BCELoss raises on any)."""
    return out_of_unit_interval_fraction(log_softmax(z))


def sigmoid_range(z) -> tuple:
    s = sigmoid(z)
    return float(s.min()), float(s.max())


# -- ACT202 softmax over the batch axis -----------------------------------------------------


def class_sums_of_batch_softmax(z) -> tuple:
    sums = softmax(z, axis=0).sum(axis=-1)
    return float(sums.min()), float(sums.max())


def cross_sample_influence(z, axis: int) -> float:
    """How much sample 0's probabilities move when only sample 1's logits change."""
    moved = np.array(z, dtype=np.float64)
    moved[1] += 5.0
    return float(np.max(np.abs(softmax(moved, axis)[0] - softmax(z, axis)[0])))


# -- ACT203 / ACT304 sigmoid outputs for exclusive classes --------------------------------------


def renormalized_sigmoid_loss(outputs, index: int, sparse: bool = False) -> float:
    """keras (sparse_)categorical_crossentropy, from_logits=False, on sigmoid outputs: divided by their sum."""
    outputs = np.asarray(outputs, dtype=np.float64)[None, :]
    if sparse:
        return float(losses.sparse_categorical_crossentropy([index], outputs)[0])
    return float(losses.categorical_crossentropy(one_hot([index], outputs.shape[-1]), outputs)[0])


def sigmoid_output_sums(z) -> tuple:
    sums = sigmoid(z).sum(axis=-1)
    return float(sums.min()), float(sums.max())


# -- ACT204 / ACT303 softmax with binary loss or multi-hot targets ------------------------------


def softmax_bce_minus_cce(z, y) -> float:
    """Largest gap between keras BCE (mean over units) and CCE on the same softmax outputs."""
    p, t = softmax(z), one_hot(y, np.shape(z)[-1])
    return float(np.max(np.abs(losses.binary_crossentropy(t, p) - losses.categorical_crossentropy(t, p))))


def softmax_bce_grad(z, t) -> np.ndarray:
    """Per-sample gradient of keras BCE (mean over units, unclipped) of softmax(z) w.r.t. z."""
    p = softmax(z)
    return softmax_jvp(z, (-(t / p) + (1 - t) / (1 - p)) / np.shape(z)[-1])


def softmax_bce_gradient_ratio(z, y) -> float:
    t = one_hot(y, np.shape(z)[-1])
    return norm_ratio(softmax_bce_grad(z, t), softmax(z) - t)


def softmax_multi_hot_probability(k: int, labels: int) -> float:
    """The most probability a softmax can give each of `labels` true labels at once."""
    t = multi_hot_row(k, labels)
    return float(softmax(SATURATED * t)[0, 0])


def softmax_multi_hot_floor(k: int, labels: int, loss) -> float:
    """Lowest value of loss(y_true, probabilities) a softmax reaches on a multi-hot row."""
    t = multi_hot_row(k, labels)
    return float(np.mean(loss(t, softmax(SATURATED * t))))


# -- ACT205 units and classes -------------------------------------------------------------------


def out_of_range_target_fraction(units: int, targets) -> float:
    return float(np.mean(np.asarray(targets) >= units))


def uniform_prediction_loss(k: int) -> float:
    return float(losses.cross_entropy(np.zeros((1, k)), [0]))


# -- ACT301 / ACT302 target encodings -------------------------------------------------------------


def distinct_values(y) -> int:
    return int(np.unique(np.asarray(y)).size)


def broadcast_index_losses(z, y) -> np.ndarray:
    """-sum(y * log p) with y an (N, 1) index column broadcast over the classes."""
    y = np.asarray(y, dtype=np.float64)[:, None]
    return -np.sum(y * log_softmax(z), axis=-1)


def sparse_vs_categorical_gap(z, y) -> float:
    a = losses.sparse_categorical_crossentropy(np.argmax(one_hot(y, np.shape(z)[-1]), -1), z, from_logits=True)
    b = losses.categorical_crossentropy(one_hot(y, np.shape(z)[-1]), z, from_logits=True)
    return float(np.max(np.abs(a - b) / np.abs(b)))


# -- ACT501 hand-written log(softmax) ---------------------------------------------------------------


def float32_log_of_softmax(z) -> np.ndarray:
    return log_of_softmax(np.float32(z))


def float32_hand_written_cross_entropy(z, t) -> float:
    with np.errstate(invalid="ignore"):
        return float(-np.sum(np.float32(t) * float32_log_of_softmax(z)))


def float32_stable_cross_entropy(z, t) -> float:
    return float(-np.sum(np.float32(t) * log_softmax(np.float32(z))))


def float32_log_of_sigmoid(x) -> float:
    return float(log_of_sigmoid(np.float32(x)))


def float32_stable_log_sigmoid(x) -> float:
    return float(log_sigmoid(np.float32(x)))


def naive_stable_gap(z) -> float:
    """Largest relative gap between log(softmax) and log_softmax where log(softmax) is finite."""
    naive, stable = log_of_softmax(z), log_softmax(z)
    finite = np.isfinite(naive)
    return float(np.max(np.abs(naive[finite] - stable[finite]) / np.maximum(np.abs(stable[finite]), 1e-300)))
