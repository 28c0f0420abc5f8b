"""The numeric core: numpy only, no framework and nothing else from actlint.

activations: stable sigmoid / softmax / log_softmax (and the naive ones);
losses: torch-style and keras-style losses with the frameworks' conventions;
gradients: analytic gradients and central differences (float64);
claims: one function per claim about a broken pairing; fixes: the suggested pairings.
"""

from actlint.numeric.activations import (
    log_sigmoid, log_softmax, naive_log_softmax, naive_sigmoid, naive_softmax, sigmoid, softmax, softplus,
)
from actlint.numeric.losses import (
    KERAS_EPSILON, binary_cross_entropy, binary_cross_entropy_with_logits, binary_crossentropy,
    categorical_crossentropy, cross_entropy, kl_div, nll_loss, sparse_categorical_crossentropy,
    tf_keras_binary_crossentropy,
)

__all__ = [
    "KERAS_EPSILON", "binary_cross_entropy", "binary_cross_entropy_with_logits", "binary_crossentropy",
    "categorical_crossentropy", "cross_entropy", "kl_div", "log_sigmoid", "log_softmax", "naive_log_softmax",
    "naive_sigmoid", "naive_softmax", "nll_loss", "sigmoid", "softmax", "softplus",
    "sparse_categorical_crossentropy", "tf_keras_binary_crossentropy",
]
