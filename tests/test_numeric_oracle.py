"""The numeric core against the frameworks themselves: torch, keras 3 and tf_keras on the same inputs.

Each framework is imported once per module (tensorflow is slow to import); tests skip cleanly
when a framework is absent.
"""

from __future__ import annotations

import math
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

from actlint.numeric import claims, losses
from actlint.numeric.activations import log_softmax, sigmoid, softmax
from actlint.numeric.gradients import cross_entropy_grad, one_hot
from actlint.verification import REPRESENTATIVE_FACTS, verify

N, K = 8, 5


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    z = 3.0 * rng.standard_normal((N, K))
    y = rng.integers(0, K, N)
    return {"z": z, "y": y, "t": one_hot(y, K), "soft": softmax(rng.standard_normal((N, K))),
            "b": rng.integers(0, 2, (N, K)).astype(np.float64), "p": sigmoid(z)}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3"):
        pytest.skip("keras 3 is not installed")
    return keras


@pytest.fixture(scope="module")
def tf_keras():
    pytest.importorskip("tensorflow")
    return pytest.importorskip("tf_keras")


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def close(ours, theirs, rtol=1e-6, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64),
                               rtol=rtol, atol=atol)


# -- torch --------------------------------------------------------------------------------------


def test_torch_activations(torch, data):
    z = torch.tensor(data["z"])
    close(softmax(data["z"]), torch.softmax(z, 1), rtol=1e-12)
    close(log_softmax(data["z"], axis=0), torch.log_softmax(z, 0), rtol=1e-12)
    close(sigmoid(data["z"]), torch.sigmoid(z), rtol=1e-12)
    extreme = np.array([[-1e4, 0.0, 1e4]])
    close(log_softmax(extreme), torch.log_softmax(torch.tensor(extreme), 1), rtol=1e-12)


def test_torch_cross_entropy_and_nll(torch, data):
    F = torch.nn.functional
    z, y = torch.tensor(data["z"]), torch.tensor(data["y"])
    close(losses.cross_entropy(data["z"], data["y"]), F.cross_entropy(z, y), rtol=1e-12)
    close(losses.cross_entropy(data["z"], data["soft"]), F.cross_entropy(z, torch.tensor(data["soft"])), rtol=1e-12)
    close(losses.cross_entropy(data["z"], data["y"], reduction="sum"), F.cross_entropy(z, y, reduction="sum"), rtol=1e-12)
    close(losses.nll_loss(log_softmax(data["z"]), data["y"]), F.nll_loss(F.log_softmax(z, 1), y), rtol=1e-12)


def test_torch_cross_entropy_gradient(torch, data):
    z = torch.tensor(data["z"], requires_grad=True)
    torch.nn.functional.cross_entropy(z, torch.tensor(data["y"])).backward()
    close(cross_entropy_grad(data["z"], data["y"]), z.grad, rtol=1e-10, atol=1e-15)


def test_torch_binary_cross_entropy(torch, data):
    F = torch.nn.functional
    p, b = data["p"], data["b"]
    close(losses.binary_cross_entropy(p, b), F.binary_cross_entropy(torch.tensor(p), torch.tensor(b)), rtol=1e-12)
    edge = np.array([0.0, 1.0, 0.0, 1.0])
    target = np.array([1.0, 0.0, 0.0, 1.0])
    close(losses.binary_cross_entropy(edge, target), F.binary_cross_entropy(torch.tensor(edge), torch.tensor(target)))
    close(losses.binary_cross_entropy_with_logits(data["z"], b),
          F.binary_cross_entropy_with_logits(torch.tensor(data["z"]), torch.tensor(b)), rtol=1e-12)
    big = np.array([-1e4, 1e4, 30.0])
    close(losses.binary_cross_entropy_with_logits(big, np.array([1.0, 0.0, 1.0])),
          F.binary_cross_entropy_with_logits(torch.tensor(big), torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)))


def test_torch_bce_rejects_logits_as_act103_says(torch, data):
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(data["z"]), torch.tensor(data["b"]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        losses.binary_cross_entropy(data["z"], data["b"])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum"])
@pytest.mark.parametrize("log_target", [False, True])
def test_torch_kl_div(torch, data, reduction, log_target):
    logq, t = log_softmax(data["z"]), data["soft"]
    target = np.log(t) if log_target else t
    theirs = torch.nn.functional.kl_div(torch.tensor(logq), torch.tensor(target), reduction=reduction,
                                        log_target=log_target)
    close(losses.kl_div(logq, target, reduction, log_target), theirs, rtol=1e-12)
    one = one_hot(data["y"], K)  # zeros in the target: torch uses xlogy
    close(losses.kl_div(logq, one, reduction), torch.nn.functional.kl_div(torch.tensor(logq), torch.tensor(one),
                                                                            reduction=reduction), rtol=1e-12)


@pytest.mark.parametrize("k", [2, 5, 10, 100])
def test_torch_double_softmax_floor(torch, k):
    z = torch.zeros(1, k, dtype=torch.float64)
    z[0, 0] = 100.0
    theirs = torch.nn.functional.cross_entropy(torch.softmax(z, 1), torch.tensor([0])).item()
    assert verify("ACT101", {"units": k, "loss": "torch.cross_entropy"})["witness"]["loss_floor"] == pytest.approx(theirs)


def test_torch_double_softmax_gradient(torch, data):
    z = torch.tensor(data["z"], requires_grad=True)
    torch.nn.functional.cross_entropy(torch.softmax(z, 1), torch.tensor(data["y"])).backward()
    close(claims.double_softmax_grad(data["z"], data["y"]), z.grad, rtol=1e-9, atol=1e-15)


def test_torch_double_sigmoid(torch):
    F = torch.nn.functional
    w = verify("ACT102", REPRESENTATIVE_FACTS["ACT102"])["witness"]
    big = torch.tensor([100.0, -100.0], dtype=torch.float64)
    assert torch.sigmoid(torch.sigmoid(big)).tolist() == pytest.approx([w["output_max"], w["output_min"]])
    floor1 = F.binary_cross_entropy_with_logits(torch.sigmoid(big[:1]), torch.ones(1, dtype=torch.float64))
    floor0 = F.binary_cross_entropy_with_logits(torch.sigmoid(big[1:]), torch.zeros(1, dtype=torch.float64))
    assert (floor1.item(), floor0.item()) == pytest.approx((w["loss_floor_y1"], w["loss_floor_y0"]))


def test_torch_softmax_into_nll_is_minus_p_y(torch, data):
    w = verify("ACT104", {"units": K, "loss": "torch.nll_loss"})["witness"]
    z, y = torch.tensor(data["z"]), torch.tensor(data["y"])
    theirs = torch.nn.functional.nll_loss(torch.softmax(z, 1), y).item()
    assert theirs == pytest.approx(-torch.softmax(z, 1)[torch.arange(N), y].mean().item())
    assert theirs < 0 and claims.nll_on_probabilities(data["z"], data["y"]) == pytest.approx(theirs)
    assert w["loss"] < 0


def test_torch_kl_div_on_probabilities(torch, data):
    t = data["soft"]
    theirs = torch.nn.functional.kl_div(torch.tensor(t), torch.tensor(t), reduction="batchmean").item()
    assert claims.kl_div_on_probabilities(t, t) == pytest.approx(theirs) and abs(theirs) > 1e-3


def test_torch_softmax_without_dim_on_3d_uses_dim_0(torch, data):
    x = torch.tensor(np.random.default_rng(0).standard_normal((4, 3, 5)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = torch.nn.Softmax()(x)
    assert any("dim" in str(w.message) for w in caught)
    close(out, softmax(x.numpy(), axis=0), rtol=1e-12)


def test_torch_out_of_range_targets_raise_as_act205_says(torch, data):
    with pytest.raises((IndexError, RuntimeError)):
        torch.nn.functional.cross_entropy(torch.tensor(data["z"]), torch.tensor([K] * N))


def test_torch_log_softmax_redundant(torch, data):
    F = torch.nn.functional
    z, y = torch.tensor(data["z"]), torch.tensor(data["y"])
    assert F.cross_entropy(F.log_softmax(z, 1), y).item() == pytest.approx(F.cross_entropy(z, y).item(), rel=1e-14)


def test_torch_float32_log_of_softmax(torch):
    out = torch.log(torch.softmax(torch.tensor([0.0, 120.0]), 0))
    assert out.tolist() == claims.float32_log_of_softmax([0.0, 120.0]).tolist()
    assert torch.log_softmax(torch.tensor([0.0, 120.0]), 0)[0].item() == -120.0


# -- keras 3 and tf_keras: the loss functions ---------------------------------------------------

F32 = dict(rtol=2e-5, atol=2e-6)


@pytest.fixture(scope="module", params=["keras", "tf_keras"])
def kmod(request):
    mod = request.getfixturevalue(request.param)
    bce = losses.binary_crossentropy if request.param == "keras" else losses.tf_keras_binary_crossentropy
    return request.param, mod, bce


@pytest.mark.parametrize("from_logits", [False, True])
def test_keras_binary_crossentropy(kmod, data, from_logits):
    _, k, bce = kmod
    pred = np.float32(data["z"] if from_logits else data["p"])
    theirs = k.losses.binary_crossentropy(np.float32(data["b"]), pred, from_logits=from_logits)
    close(bce(np.float32(data["b"]), pred, from_logits=from_logits), np.asarray(theirs), **F32)


def test_keras_binary_crossentropy_on_raw_logits(kmod):
    """SPEC: logit 2.0 -> loss ~0, logit -2.0 -> 15.42 (tf_keras) / 16.12 (keras 3), gradient 0 both."""
    name, k, bce = kmod
    import tensorflow as tf

    x = tf.Variable([[2.0], [-2.0]])
    with tf.GradientTape() as tape:
        loss = k.losses.binary_crossentropy(tf.constant([[1.0], [1.0]]), x)
    grad = tape.gradient(loss, x).numpy().ravel()
    ours = bce(np.float32([[1.0], [1.0]]), np.float32([[2.0], [-2.0]]))
    close(ours, loss.numpy(), **F32)
    assert grad.tolist() == [0.0, 0.0]
    w = verify("ACT103", REPRESENTATIVE_FACTS["ACT103"])["witness"]
    key = "loss_logit_minus_2" if name == "keras" else "tf_keras_loss_logit_minus_2"
    assert w[key] == pytest.approx(float(loss.numpy()[1]), rel=1e-6)
    assert (w["grad_logit_2"], w["grad_logit_minus_2"]) == (0.0, 0.0)


@pytest.mark.parametrize("from_logits", [False, True])
def test_keras_categorical_crossentropy(kmod, data, from_logits):
    _, k, _ = kmod
    pred = np.float32(data["z"] if from_logits else softmax(data["z"]))
    theirs = k.losses.categorical_crossentropy(np.float32(data["t"]), pred, from_logits=from_logits)
    close(losses.categorical_crossentropy(np.float32(data["t"]), pred, from_logits=from_logits), theirs, **F32)
    soft = k.losses.categorical_crossentropy(np.float32(data["soft"]), pred, from_logits=from_logits)
    close(losses.categorical_crossentropy(np.float32(data["soft"]), pred, from_logits=from_logits), soft, **F32)


@pytest.mark.parametrize("from_logits", [False, True])
def test_keras_sparse_categorical_crossentropy(kmod, data, from_logits):
    _, k, _ = kmod
    pred = np.float32(data["z"] if from_logits else softmax(data["z"]))
    theirs = k.losses.sparse_categorical_crossentropy(data["y"], pred, from_logits=from_logits)
    close(losses.sparse_categorical_crossentropy(data["y"], pred, from_logits=from_logits), theirs, **F32)
    column = k.losses.sparse_categorical_crossentropy(data["y"][:, None], pred, from_logits=from_logits)
    close(losses.sparse_categorical_crossentropy(data["y"][:, None], pred, from_logits=from_logits), column, **F32)


def test_keras_renormalizes_sigmoid_outputs(kmod, data):
    _, k, _ = kmod
    spec = k.losses.categorical_crossentropy(np.float32([[1, 0, 0]]), np.float32([[0.9, 0.9, 0.9]]))
    assert float(np.asarray(spec)[0]) == pytest.approx(verify("ACT203", REPRESENTATIVE_FACTS["ACT203"])["witness"]
                                                       ["renormalized_loss_0_9x3"], rel=1e-6)
    sparse = k.losses.sparse_categorical_crossentropy(np.array([0]), np.float32([[0.9, 0.9, 0.9]]))
    assert float(np.asarray(sparse)[0]) == pytest.approx(math.log(3), rel=1e-6)
    p = np.float32(data["p"])  # sigmoid outputs, not a distribution
    close(losses.categorical_crossentropy(np.float32(data["t"]), p),
          k.losses.categorical_crossentropy(np.float32(data["t"]), p), **F32)
    close(losses.sparse_categorical_crossentropy(data["y"], p), k.losses.sparse_categorical_crossentropy(data["y"], p),
          **F32)


def test_keras_raw_logits_into_probability_losses(kmod, data):
    """ACT103 with categorical losses: keras treats logits as probabilities (division, clipping)."""
    _, k, _ = kmod
    z = np.float32(data["z"])
    close(losses.categorical_crossentropy(np.float32(data["t"]), z),
          k.losses.categorical_crossentropy(np.float32(data["t"]), z), **F32)
    close(losses.sparse_categorical_crossentropy(data["y"], z), k.losses.sparse_categorical_crossentropy(data["y"], z),
          **F32)


def test_keras_softmax_bce_two_units_equals_cce(kmod, data):
    _, k, _ = kmod
    z2 = data["z"][:, :2]
    p, t = np.float32(softmax(z2)), np.float32(one_hot(data["y"] % 2, 2))
    close(k.losses.binary_crossentropy(t, p), k.losses.categorical_crossentropy(t, p), rtol=1e-5, atol=1e-6)
    p5 = np.float32(softmax(data["z"]))
    gap = np.abs(np.asarray(k.losses.binary_crossentropy(np.float32(data["t"]), p5))
                 - np.asarray(k.losses.categorical_crossentropy(np.float32(data["t"]), p5)))
    assert gap.max() == pytest.approx(claims.softmax_bce_minus_cce(data["z"], data["y"]), rel=1e-4)


def test_keras_kl_divergence_matches_torch_convention(kmod, data):
    _, k, _ = kmod
    p, t = softmax(data["z"]), data["soft"]
    theirs = np.asarray(k.losses.kl_divergence(np.float32(t), np.float32(p)))
    close(theirs.mean(), losses.kl_div(np.log(p), t, reduction="batchmean"), rtol=1e-5)


def test_keras_categorical_shape_errors_for_act301_act302(kmod, data):
    _, k, _ = kmod
    with pytest.raises(Exception):
        k.losses.sparse_categorical_crossentropy(np.float32(data["t"]), np.float32(softmax(data["z"])))
    with pytest.raises(Exception):
        k.losses.categorical_crossentropy(np.float32(data["y"]), np.float32(softmax(data["z"])))


# -- keras inside a model: activations cache their logits ---------------------------------------


def _dense_model(k, units, activation, loss):
    k.utils.set_random_seed(0)
    inputs = k.Input((4,))
    dense = k.layers.Dense(units, activation=activation)
    model = k.Model(inputs, dense(inputs))
    model.compile(loss=loss)
    return model, dense


def _fit_inputs():
    rng = np.random.default_rng(0)
    return np.float32(rng.standard_normal((32, 4))), rng.integers(0, K, 32)


def test_keras_model_uses_cached_logits(kmod):
    """In model.evaluate (TF graph) a Keras softmax/sigmoid activation feeding the loss hands its logits over."""
    _, k, _ = kmod
    x, y = _fit_inputs()
    t = np.float32(one_hot(y, K))
    for activation in ("softmax", "sigmoid"):
        model, dense = _dense_model(k, K, activation, k.losses.CategoricalCrossentropy(from_logits=activation == "softmax"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = model.evaluate(x, t, verbose=0, batch_size=32)
        w, b = dense.get_weights()
        z = x @ w + b
        assert loss == pytest.approx(losses.cross_entropy(z, y), rel=1e-5), activation
    b = np.float32(y[:, None] % 2)
    model, dense = _dense_model(k, 1, "sigmoid", k.losses.BinaryCrossentropy(from_logits=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = model.evaluate(x, b, verbose=0, batch_size=32)
    w, bias = dense.get_weights()
    assert loss == pytest.approx(losses.binary_cross_entropy_with_logits(x @ w + bias, b), rel=1e-5)


def test_keras_dense_one_softmax_predicts_one(kmod):
    _, k, _ = kmod
    x, y = _fit_inputs()
    model, _ = _dense_model(k, 1, "softmax", "binary_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model.predict(x, verbose=0)
    assert np.all(out == 1.0)
    assert verify("ACT201", REPRESENTATIVE_FACTS["ACT201"])["witness"]["output_max"] == 1.0


# -- tf.nn ------------------------------------------------------------------------------------------


def test_tf_nn_with_logits_losses(tf, data):
    z = tf.constant(data["z"])
    close(np.mean(tf.nn.softmax_cross_entropy_with_logits(data["t"], z).numpy()),
          losses.cross_entropy(data["z"], data["y"]), rtol=1e-12)
    close(tf.nn.sparse_softmax_cross_entropy_with_logits(data["y"], z).numpy(),
          losses.cross_entropy(data["z"], data["y"], reduction="none"), rtol=1e-12)
    close(np.mean(tf.nn.sigmoid_cross_entropy_with_logits(data["b"], z).numpy()),
          losses.binary_cross_entropy_with_logits(data["z"], data["b"]), rtol=1e-12)


def test_tf_out_of_range_labels_raise_as_act205_says(tf, data):
    with pytest.raises(Exception, match="valid range"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(np.full(N, K), tf.constant(data["z"]))
