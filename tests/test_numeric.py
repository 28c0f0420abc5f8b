"""The numeric core and the verification glue, in pure numpy (no framework needed)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from actlint import verification
from actlint.numeric import claims, fixes, losses
from actlint.numeric.activations import (
    log_sigmoid, log_softmax, naive_log_softmax, naive_sigmoid, naive_softmax, sigmoid, softmax, softmax_jvp,
    softplus,
)
from actlint.numeric.gradients import (
    bce_with_logits_grad, central_gradient, cross_entropy_grad, gradient_relative_error, one_hot,
)
from actlint.verification import REPRESENTATIVE_FACTS, explain_figures, verify

RULE_CODES = ["ACT101", "ACT102", "ACT103", "ACT104", "ACT105", "ACT106", "ACT201", "ACT202", "ACT203",
              "ACT204", "ACT205", "ACT301", "ACT302", "ACT303", "ACT304", "ACT501"]


def rng_logits(n=8, k=5, seed=0, scale=3.0):
    return scale * np.random.default_rng(seed).standard_normal((n, k))


# -- SPEC §3 numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("k, floor", [(2, 0.3133), (5, 0.9048), (10, 1.4612), (100, 3.6222)])
def test_double_softmax_floor_matches_spec(k, floor):
    witness = verify("ACT101", {"activation": "softmax", "units": k, "loss": "torch.cross_entropy"})["witness"]
    assert round(witness["loss_floor"], 4) == floor
    assert round(claims.double_softmax_floor(k), 4) == floor
    assert claims.double_softmax_floor(k) == pytest.approx(math.log1p((k - 1) / math.e), rel=1e-12)


def test_double_sigmoid_squeeze_and_floors_match_spec():
    w = verify("ACT102", REPRESENTATIVE_FACTS["ACT102"])["witness"]
    assert (w["output_min"], round(w["output_max"], 4)) == (0.5, 0.7311)
    assert round(w["loss_floor_y1"], 4) == 0.3133
    assert round(w["loss_floor_y0"], 4) == 0.6931


def test_keras_bce_on_raw_logits_is_clipped_with_zero_gradient():
    w = verify("ACT103", REPRESENTATIVE_FACTS["ACT103"])["witness"]
    assert abs(w["loss_logit_2"]) < 1e-6 and w["grad_logit_2"] == 0
    assert round(w["tf_keras_loss_logit_minus_2"], 2) == 15.42  # SPEC (tf_keras: log(p + eps))
    assert round(w["loss_logit_minus_2"], 2) == 16.12  # keras 3: log(p), no eps inside
    assert w["grad_logit_minus_2"] == 0
    assert claims.clipped_binary_loss(2.0, 1.0, eps_in_log=True) == 0.0


def test_softmax_into_nll_is_minus_p_y():
    w = verify("ACT104", REPRESENTATIVE_FACTS["ACT104"])["witness"]
    assert w["loss"] < 0 and w["loss"] == pytest.approx(w["minus_mean_p_y"], rel=1e-12)
    assert w["loss_confident"] == -1.0


def test_single_unit_softmax_is_constant_one():
    w = verify("ACT201", REPRESENTATIVE_FACTS["ACT201"])["witness"]
    assert w["output_min"] == w["output_max"] == 1.0 and w["output_gradient"] == 0


def test_sigmoid_with_keras_cce_is_renormalized():
    w = verify("ACT203", REPRESENTATIVE_FACTS["ACT203"])["witness"]
    assert round(w["renormalized_loss_0_9x3"], 4) == 1.0986
    assert w["output_sum_max"] > 1
    sparse = verify("ACT203", {**REPRESENTATIVE_FACTS["ACT203"], "loss": "keras.sparse_categorical_crossentropy"})
    assert round(sparse["witness"]["renormalized_loss_0_9x3"], 4) == 1.0986


def test_softmax_bce_equals_cce_with_two_units_only():
    w = verify("ACT204", {**REPRESENTATIVE_FACTS["ACT204"], "units": 5})["witness"]
    assert w["bce_minus_cce_2_units"] < 1e-12 and w["bce_minus_cce"] > 1e-3


def test_float32_log_of_softmax_underflows():
    assert claims.float32_log_of_softmax([0.0, 120.0]).tolist() == [-np.inf, 0.0]
    w = verify("ACT501", {})["witness"]
    assert w["log_softmax_0_120_first"] == "-inf"
    assert (w["hand_written_loss_y0"], w["hand_written_loss_y1"]) == ("inf", "nan")
    assert (w["stable_loss_y0"], w["stable_loss_y1"]) == (120.0, 0.0)


def test_multi_hot_softmax_floor():
    w = verify("ACT303", {**REPRESENTATIVE_FACTS["ACT303"], "units": 10})["witness"]
    assert w["max_probability_2_labels"] == pytest.approx(0.5)
    assert w["loss_floor_2_labels"] == pytest.approx(2 * math.log(2), rel=1e-7)


def test_units_classes_mismatch_witness():
    w = verify("ACT205", {"units": 5, "classes": 10, "loss": "torch.cross_entropy"})["witness"]
    assert 0.3 < w["out_of_range_targets"] < 0.7
    assert w["initial_loss_units"] == pytest.approx(math.log(5))
    assert verify("ACT205", {"units": 5}) is None


# -- verify(): every code, many facts ---------------------------------------------------------


@pytest.mark.parametrize("code", RULE_CODES)
def test_every_code_verifies_on_representative_facts(code):
    result = verify(code, REPRESENTATIVE_FACTS[code])
    assert result["verified"] is True, result["claim"]
    assert result["claim"].endswith(".") and any(ch.isdigit() for ch in result["claim"])
    json.dumps(result, allow_nan=False)


VARIANTS = [
    ("ACT101", {"activation": "softmax", "loss": "keras.categorical_crossentropy", "from_logits": True}),
    ("ACT101", {"activation": "softmax", "loss": "keras.sparse_categorical_crossentropy", "from_logits": True}),
    ("ACT101", {"activation": "softmax", "loss": "tf.softmax_cross_entropy_with_logits"}),
    ("ACT102", {"activation": "sigmoid", "loss": "keras.binary_crossentropy", "from_logits": True}),
    ("ACT102", {"activation": "sigmoid", "loss": "tf.sigmoid_cross_entropy_with_logits", "target": "multi-hot"}),
    ("ACT103", {"activation": "linear", "loss": "torch.binary_cross_entropy"}),
    ("ACT103", {"activation": "linear", "loss": "keras.categorical_crossentropy", "from_logits": False}),
    ("ACT103", {"activation": "linear", "loss": "keras.sparse_categorical_crossentropy", "from_logits": False}),
    ("ACT104", {"activation": "linear", "loss": "torch.nll_loss"}),
    ("ACT201", {"activation": "softmax", "units": 1, "loss": "torch.binary_cross_entropy"}),
    ("ACT202", {"activation": "softmax", "axis": None, "loss": None}),
    ("ACT203", {"activation": "sigmoid", "loss": "torch.cross_entropy"}),
    ("ACT204", {"activation": "softmax", "loss": "keras.binary_crossentropy", "target": "multi-hot"}),
    ("ACT204", {"activation": "softmax", "loss": "torch.binary_cross_entropy", "target": "one-hot"}),
    ("ACT205", {"units": 12, "classes": 10, "loss": "keras.categorical_crossentropy"}),
    ("ACT301", {"loss": "tf.sparse_softmax_cross_entropy_with_logits", "target": "one-hot"}),
    ("ACT302", {"loss": "tf.softmax_cross_entropy_with_logits", "target": "index"}),
    ("ACT303", {"activation": "softmax", "loss": "keras.binary_crossentropy", "target": "multi-hot"}),
    ("ACT303", {"activation": "sigmoid", "loss": "torch.cross_entropy", "target": "multi-hot"}),
    ("ACT304", {"activation": "linear", "loss": "torch.binary_cross_entropy_with_logits", "target": "one-hot"}),
]


@pytest.mark.parametrize("code, facts", VARIANTS)
@pytest.mark.parametrize("k", [None, 2, 3, 100, 1000])
def test_codes_verify_across_losses_and_class_counts(code, facts, k):
    facts = {**facts, "units": k} if code != "ACT205" else facts
    result = verify(code, facts)
    assert result["verified"] is True, result["claim"]
    json.dumps(result, allow_nan=False)


def test_unknown_class_count_is_said_in_the_claim():
    claim = verify("ACT101", {"activation": "softmax", "loss": "torch.cross_entropy"})["claim"]
    assert "10 classes (assumed" in claim and "1.4612" in claim
    assert "assumed" not in verify("ACT101", {"units": 10, "loss": "torch.cross_entropy"})["claim"]


def test_classes_fact_is_used_when_units_are_unknown():
    w = verify("ACT101", {"classes": 100, "loss": "torch.cross_entropy"})["witness"]
    assert round(w["loss_floor"], 4) == 3.6222


@pytest.mark.parametrize("code", ["ACT001", "ACT002", "ACT003", "ACT004", "NOPE", ""])
def test_codes_without_a_numeric_story(code):
    assert verify(code, {}) is None
    assert explain_figures(code) == ""


def test_junk_facts_do_not_crash():
    for facts in (None, {}, {"units": "ten", "classes": -3, "axis": "x", "from_logits": "yes", "loss": 3}):
        assert verify("ACT101", facts)["verified"] is True


def test_results_are_cached_and_safe_to_mutate(monkeypatch):
    """The same facts are verified once (the numbers computed once), and each caller gets its own copy."""
    built = []
    real = verification.BUILDERS["ACT101"]
    monkeypatch.setitem(verification.BUILDERS, "ACT101", lambda f: built.append(f) or real(f))
    verification._verify_cached.cache_clear()
    facts = {"activation": "softmax", "units": 37, "loss": "torch.cross_entropy"}
    first = verify("ACT101", facts)
    first["witness"]["loss_floor"] = -1
    for _ in range(100):
        again = verify("ACT101", facts)
    assert len(built) == 1
    assert again["witness"]["loss_floor"] > 0
    verification._verify_cached.cache_clear()


SAMPLERS = ("seeded_logits", "seeded_index", "seeded_binary", "seeded_distribution")


@pytest.mark.parametrize("code", RULE_CODES)
def test_verification_draws_bounded_samples_whatever_the_class_count(code, monkeypatch):
    """For 1000 classes the witness is computed on samples of bounded size (samples.batch_size keeps
    a batch of logits under 200,000 values), so its cost does not grow with the class count."""
    sizes = []
    for name in SAMPLERS:
        real = getattr(verification, name)
        monkeypatch.setattr(verification, name, lambda *a, _real=real, **kw: _drawn(sizes, _real(*a, **kw)))
    facts = {**REPRESENTATIVE_FACTS[code], "units": 1000 if code != "ACT205" else 999, "classes": 1001}
    verification._verify_cached.cache_clear()
    assert verify(code, facts)["verified"] is True
    verification._verify_cached.cache_clear()
    assert sizes and max(sizes) <= 200_000


def _drawn(sizes: list, sample):
    sizes.append(np.size(sample))
    return sample


@pytest.mark.parametrize("code", RULE_CODES)
def test_explain_figures(code):
    text = explain_figures(code)
    assert text and "witness" in text
    if code in verification.CHARTS:
        rows = [line for line in text.splitlines() if "│" in line]
        assert len(rows) == verification.CHART_HEIGHT
        assert all(len(line.split("│", 1)[1]) == verification.CHART_WIDTH for line in rows)


def test_explain_shows_the_three_class_counts():
    text = explain_figures("ACT101")
    assert "k=2" in text and "k=10" in text and "k=100" in text
    assert "0.3133" in text and "3.6222" in text


# -- stable functions -------------------------------------------------------------------------

finite_floats = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
extreme = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)),
                 elements=st.one_of(finite_floats, st.sampled_from([-1e4, 1e4, 0.0])))
moderate = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 6)),
                  elements=st.floats(min_value=-30, max_value=30, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(extreme)
def test_stable_functions_stay_finite_at_extreme_logits(z):
    for f in (sigmoid, softplus, log_sigmoid, softmax, log_softmax):
        assert np.all(np.isfinite(f(z))), f.__name__
    y = np.zeros(z.shape[0], dtype=np.int64)
    assert np.isfinite(losses.cross_entropy(z, y))
    assert np.isfinite(losses.binary_cross_entropy_with_logits(z, (z > 0).astype(float)))
    assert np.all(np.isfinite(losses.categorical_crossentropy(one_hot(y, z.shape[1]), z, from_logits=True)))
    assert np.allclose(softmax(z).sum(axis=-1), 1.0)
    assert np.all((sigmoid(z) >= 0) & (sigmoid(z) <= 1))


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(1, 8), elements=st.floats(min_value=-800, max_value=800, allow_nan=False)))
@example(np.array([-47.0, -737.0]))  # exp(-737) is denormal: naive softmax loses digits (415ecdc)
def test_stable_functions_match_naive_ones_where_finite(z):
    with np.errstate(all="ignore"):
        p, s = naive_softmax(z), naive_sigmoid(z)
        pairs = ((sigmoid(z), s, s), (softmax(z), p, p), (log_softmax(z), naive_log_softmax(z), p),
                 (log_sigmoid(z), np.log(s), s), (softplus(z), np.log1p(np.exp(z)), np.exp(z)))
        exps_normal = np.all(np.exp(z) > 1e-300)  # naive softmax sums exp(z): a denormal term loses digits
        for stable, naive, basis in pairs:
            ok = np.isfinite(naive) & np.isfinite(basis) & (np.abs(basis) > 1e-300)  # no overflow, no denormals
            if basis is p and not exps_normal:
                continue
            assert np.allclose(stable[ok], naive[ok], rtol=1e-7, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(moderate)
def test_log_softmax_axis_and_idempotence(z):
    assert np.allclose(log_softmax(z, axis=0), log_softmax(z.T, axis=1).T)
    assert np.allclose(log_softmax(log_softmax(z)), log_softmax(z), atol=1e-12)
    assert np.allclose(np.exp(log_softmax(z)), softmax(z))


def test_float32_stays_float32():
    z = np.float32([[0.0, 120.0]])
    assert softmax(z).dtype == np.float32 and log_softmax(z).dtype == np.float32 and sigmoid(z).dtype == np.float32


# -- losses: conventions ------------------------------------------------------------------------


def test_cross_entropy_index_and_probability_targets_agree():
    z, y = rng_logits(), np.array([0, 1, 2, 3, 4, 0, 1, 2])
    assert losses.cross_entropy(z, y) == pytest.approx(losses.cross_entropy(z, one_hot(y, 5)), rel=1e-12)
    assert losses.cross_entropy(z, y) == pytest.approx(fixes.reference_cross_entropy(z, y), rel=1e-12)
    assert losses.cross_entropy(z, y, reduction="none").shape == (8,)
    assert losses.nll_loss(log_softmax(z), y) == pytest.approx(losses.cross_entropy(z, y))


def test_torch_bce_clamps_log_and_rejects_out_of_range():
    assert losses.binary_cross_entropy(np.array([0.0]), np.array([1.0])) == 100.0
    assert losses.binary_cross_entropy(np.array([1.0]), np.array([1.0])) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        losses.binary_cross_entropy(np.array([1.5]), np.array([1.0]))


def test_bce_with_logits_matches_bce_of_sigmoid():
    z = rng_logits(scale=2.0)
    y = (rng_logits(seed=1) > 0).astype(float)
    assert losses.binary_cross_entropy_with_logits(z, y) == pytest.approx(losses.binary_cross_entropy(sigmoid(z), y))


def test_kl_div_reductions_and_log_target():
    p, t = softmax(rng_logits()), softmax(rng_logits(seed=1))
    exact = np.sum(t * np.log(t / p))
    assert losses.kl_div(np.log(p), t, reduction="sum") == pytest.approx(exact)
    assert losses.kl_div(np.log(p), t, reduction="batchmean") == pytest.approx(exact / 8)
    assert losses.kl_div(np.log(p), t) == pytest.approx(exact / 40)
    assert losses.kl_div(np.log(p), np.log(t), log_target=True) == pytest.approx(exact / 40)
    assert losses.kl_div(np.log(p), one_hot([0] * 8, 5), "batchmean") == pytest.approx(losses.cross_entropy(np.log(p), [0] * 8))


def test_keras_losses_from_logits_both_ways():
    z, y = rng_logits(scale=1.0), np.arange(8) % 5
    t = one_hot(y, 5)
    from_logits = losses.categorical_crossentropy(t, z, from_logits=True)
    assert np.allclose(from_logits, losses.categorical_crossentropy(t, softmax(z)), rtol=1e-6)
    assert np.allclose(losses.sparse_categorical_crossentropy(y, z, from_logits=True), from_logits)
    assert np.allclose(losses.sparse_categorical_crossentropy(y[:, None], softmax(z)), from_logits, rtol=1e-6)
    b = (z > 0).astype(float)
    assert np.allclose(losses.binary_crossentropy(b, z, from_logits=True),
                       losses.binary_crossentropy(b, sigmoid(z)), rtol=1e-5)
    assert losses.binary_crossentropy(b, z, from_logits=True).shape == (8,)


def test_keras_cce_renormalizes_and_clips():
    t = np.array([[1.0, 0.0, 0.0]])
    assert losses.categorical_crossentropy(t, np.array([[0.9, 0.9, 0.9]]))[0] == pytest.approx(math.log(3))
    assert losses.categorical_crossentropy(t, np.array([[0.0, 1.0, 0.0]]))[0] == pytest.approx(-math.log(1e-7))


# -- gradients -------------------------------------------------------------------------------------


def test_analytic_gradients_match_central_differences():
    z, y = rng_logits(), np.arange(8) % 5
    assert np.allclose(cross_entropy_grad(z, y), central_gradient(lambda x: losses.cross_entropy(x, y), z), atol=1e-8)
    b = (rng_logits(seed=3) > 0).astype(float)
    numeric = central_gradient(lambda x: losses.binary_cross_entropy_with_logits(x, b), z)
    assert np.allclose(bce_with_logits_grad(z, b), numeric, atol=1e-9)
    assert gradient_relative_error(lambda x: losses.cross_entropy(x, y), cross_entropy_grad(z, y), z) < 1e-6


def test_claim_gradients_match_central_differences():
    z, y = rng_logits(), np.arange(8) % 5
    numeric = central_gradient(lambda x: claims.double_softmax_loss(x, y), z)
    assert np.allclose(claims.double_softmax_grad(z, y), numeric, atol=1e-9)
    t = one_hot(y, 5)
    per_sample = central_gradient(lambda x: np.sum(losses.binary_crossentropy(t, softmax(x))), z)
    assert np.allclose(claims.softmax_bce_grad(z, t), per_sample, atol=1e-8)
    v = np.random.default_rng(1).standard_normal(z.shape)
    jvp = central_gradient(lambda x: np.sum(softmax(x) * v), z)
    assert np.allclose(softmax_jvp(z, v), jvp, atol=1e-9)


def test_optax_fix_names_the_loss_the_fix_needs():
    """The fix of a softmax trained with optax's sigmoid loss is optax's softmax loss, not "the same" one."""
    act204 = verify("ACT204", {"activation": "softmax", "units": 5, "loss": "optax.sigmoid_binary_cross_entropy"})
    assert "; optax.softmax_cross_entropy equals" in act204["claim"] and "same" not in act204["claim"]
    act303 = verify("ACT303", {"activation": "softmax", "units": 5, "loss": "optax.softmax_cross_entropy",
                               "target": "multi-hot"})
    assert "sigmoid with optax.sigmoid_binary_cross_entropy" in act303["claim"]
    sparse = verify("ACT203", {"activation": "sigmoid", "loss": "optax.softmax_cross_entropy_with_integer_labels"})
    assert "optax.softmax_cross_entropy_with_integer_labels on the logits" in sparse["claim"]


@pytest.mark.parametrize("facts", [
    {"loss": "keras.categorical_crossentropy", "from_logits": True},
    {"loss": "tf.softmax_cross_entropy_with_logits"},
    {"loss": "optax.softmax_cross_entropy"},
    {"loss": "timm.soft_target_cross_entropy"},
])
def test_sigmoid_into_a_logits_loss_has_the_softmax_floor(facts):
    """A loss that takes logits softmaxes the sigmoid outputs (verified in keras 3.15: the floor of
    categorical_crossentropy(from_logits=True) on saturated sigmoids is log(1 + (k-1)/e)); only Keras
    with from_logits=False renormalizes them by their sum."""
    w = verify("ACT203", {"activation": "sigmoid", "units": 10, **facts})["witness"]
    assert w["loss_floor"] == pytest.approx(math.log1p(9 / math.e)) and "renormalized_loss_0_9x3" not in w


@pytest.mark.parametrize("code, facts", [
    ("ACT101", {"activation": "softmax", "loss": "tf.softmax_cross_entropy_with_logits"}),
    ("ACT102", {"activation": "sigmoid", "units": 1, "loss": "tf.sigmoid_cross_entropy_with_logits"}),
    ("ACT201", {"activation": "softmax", "units": 1, "loss": "tf.sigmoid_cross_entropy_with_logits"}),
])
def test_tf_nn_losses_never_read_keras_cached_logits(code, facts):
    """Only a Keras loss swaps a Keras activation's output for its cached logits (checked in keras 3.15:
    tf.nn.softmax_cross_entropy_with_logits on a softmax layer's output is the double softmax)."""
    assert "cached logit" not in verify(code, facts)["claim"]
    keras = verify(code, {**facts, "loss": "keras.binary_crossentropy" if code != "ACT101" else
                          "keras.categorical_crossentropy", "from_logits": code != "ACT201"})
    assert "cached logit" in keras["claim"]


def test_tf_nn_fix_is_named_in_tf_nn():
    """tf.nn code's fix is the tf.nn loss on the logits, not a Keras loss it does not use."""
    sparse = verify("ACT101", {"activation": "softmax", "loss": "tf.sparse_softmax_cross_entropy_with_logits"})
    assert "; tf.nn.sparse_softmax_cross_entropy_with_logits on the raw logits" in sparse["claim"]
    binary = verify("ACT102", {"activation": "sigmoid", "units": 1, "loss": "tf.sigmoid_cross_entropy_with_logits"})
    assert "; tf.nn.sigmoid_cross_entropy_with_logits on the raw logits" in binary["claim"]
