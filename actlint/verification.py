"""The numeric core's verdict on a finding: a witness of what goes wrong, and a check of the fix.

`verify(code, facts)` computes, on seeded random logits and targets, the numbers that show
the bug for the finding's actual class count (10 when it is unknown; the claim says so),
then checks the suggested pairing: it equals the textbook loss within rtol 1e-6, its gradient
matches the analytic one (central differences, float64), and its loss falls toward 0 as the
logits sharpen toward the target.

The result is JSON-ready: witness values are ints, bools or floats rounded to 8 significant
digits; a non-finite float is written as the string "inf", "-inf" or "nan".

`explain_figures(code)` is the plain-text block `actlint --explain CODE` prints.
"""

from __future__ import annotations

import copy
import math
import os
from functools import lru_cache
from typing import NamedTuple, Optional

# The numeric core multiplies a few small arrays: OpenBLAS's worker threads cost more to start
# (~60 ms of CPU when numpy is imported) than they could ever save. A user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402 (after the thread setting, which numpy reads when imported)

from actlint.numeric import claims, fixes, losses
from actlint.numeric.activations import log_softmax, sigmoid, softmax
from actlint.numeric.gradients import one_hot
from actlint.numeric.samples import (
    batch_size, margin_binary_logits, margin_logits, multi_hot_row, seeded_binary, seeded_distribution,
    seeded_index, seeded_logits,
)

DEFAULT_CLASSES = 10
# A Keras loss only: tf.nn's losses never read the cached logits (checked in keras 3.15 / TF).
KERAS_CACHED_LOGITS = (" (on a plain tensor; when a Keras activation feeds the loss directly, the TF backend "
                       "computes it from the activation's cached logits instead and only warns)")
RTOL = 1e-6
SHARP_LOSS = 1e-9  # the fixed loss at logit margin 40 must be below this

# Facts that make each code fire; used by --explain and by the tests.
REPRESENTATIVE_FACTS = {
    "ACT101": {"activation": "softmax", "loss": "torch.cross_entropy", "target": "index"},
    "ACT102": {"activation": "sigmoid", "units": 1, "loss": "torch.binary_cross_entropy_with_logits",
               "target": "binary"},
    "ACT103": {"activation": "linear", "units": 1, "loss": "keras.binary_crossentropy", "from_logits": False,
               "target": "binary"},
    "ACT104": {"activation": "softmax", "loss": "torch.nll_loss", "target": "index"},
    "ACT105": {"activation": "softmax", "loss": "torch.kl_div", "target": "soft"},
    "ACT106": {"activation": "log_softmax", "loss": "torch.cross_entropy", "target": "index"},
    "ACT201": {"activation": "softmax", "units": 1, "loss": "keras.binary_crossentropy", "from_logits": False,
               "target": "binary"},
    "ACT202": {"activation": "softmax", "axis": 0, "framework": "torch", "target": "index"},
    "ACT203": {"activation": "sigmoid", "loss": "keras.categorical_crossentropy", "from_logits": False,
               "target": "one-hot"},
    "ACT204": {"activation": "softmax", "loss": "keras.binary_crossentropy", "from_logits": False,
               "target": "one-hot"},
    "ACT205": {"activation": "linear", "units": 9, "classes": 10, "loss": "torch.cross_entropy", "target": "index"},
    "ACT301": {"activation": "softmax", "loss": "keras.sparse_categorical_crossentropy", "from_logits": False,
               "target": "one-hot"},
    "ACT302": {"activation": "softmax", "loss": "keras.categorical_crossentropy", "from_logits": False,
               "target": "index"},
    "ACT303": {"activation": "softmax", "loss": "keras.categorical_crossentropy", "from_logits": False,
               "target": "multi-hot"},
    "ACT304": {"activation": "sigmoid", "loss": "keras.binary_crossentropy", "from_logits": False,
               "target": "one-hot"},
    "ACT501": {},
}


class Facts(NamedTuple):
    k: int
    assumed: bool  # k is DEFAULT_CLASSES because the facts did not give it
    activation: Optional[str]
    loss: Optional[str]
    from_logits: Optional[bool]
    target: Optional[str]
    axis: Optional[int]
    units: Optional[int]
    classes: Optional[int]
    framework: Optional[str]  # the loss's, from the contract table; a one-call finding names its own
    family: Optional[str]  # the loss's, from the contract table


# -- public API -----------------------------------------------------------------------


def verify(code: str, facts: Optional[dict]) -> Optional[dict]:
    """{"verified", "claim", "witness"} for a rule code, or None when it has no numeric story."""
    code = (code or "").upper()
    if code not in BUILDERS:
        return None
    f = _facts(facts or {})
    if code == "ACT205" and (f.units is None or f.classes is None):
        return None
    return copy.deepcopy(_verify_cached(code, f))


def explain_figures(code: str) -> str:
    """Witness for 2, 10 and 100 classes and a terminal chart of broken vs fixed loss."""
    code = (code or "").upper()
    if code not in BUILDERS:
        return ""
    parts = [_witness_table(code)]
    chart = CHARTS.get(code)
    parts.append(chart() if chart else "No loss curve: the broken pairing fails on the targets' shape "
                 "at run time (or silently misreads them); the witness above is the evidence.")
    return "\n\n".join(parts) + "\n"


# -- facts ------------------------------------------------------------------------------


def _int(value) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _facts(facts: dict) -> Facts:
    units, classes = _int(facts.get("units")), _int(facts.get("classes"))
    known = [n for n in (units, classes) if n is not None and n > 1]
    k = known[0] if known else DEFAULT_CLASSES
    axis = facts.get("axis") if isinstance(facts.get("axis"), int) else None
    from_logits = facts.get("from_logits") if isinstance(facts.get("from_logits"), bool) else None
    loss = _contract(facts.get("loss"))
    framework = _str(facts.get("framework")) or (loss.framework if loss else None)
    return Facts(k, not known, _str(facts.get("activation")), _str(facts.get("loss")), from_logits,
                 _str(facts.get("target")), axis, units, classes, framework, loss.family if loss else None)


def _str(value) -> Optional[str]:
    return value if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _verify_cached(code: str, f: Facts) -> dict:
    verified, claim, witness = BUILDERS[code](f)
    return {"verified": bool(verified), "claim": claim, "witness": {k: _json(v) for k, v in witness.items()}}


def _json(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(f"{value:.8g}") + 0.0  # + 0.0: no "-0.0" in the output


# -- losses by contract id ------------------------------------------------------------------


def _contract(loss_id):
    """The loss's row of the contract table, or None (an unknown id, or no rules data)."""
    try:
        from actlint.catalogue import contract

        return contract(loss_id)
    except Exception:
        return None


def _display(loss_id: Optional[str]) -> str:
    loss = _contract(loss_id)
    return loss.display if loss else loss_id or "the loss"  # an unknown id reads well enough


def _takes_logits(f: Facts) -> bool:
    loss = _contract(f.loss)
    return loss is not None and loss.expected_input(f.from_logits) == "logits"


TORCH_LIBRARIES = ("torch", "timm", "transformers", "skorch")  # losses of libraries built on torch


# The from-logits losses each other framework spells: (class ids, one-hot rows, independent labels).
LOGITS_LOSSES = {
    "keras": ("sparse_categorical_crossentropy(from_logits=True)", "categorical_crossentropy(from_logits=True)",
              "binary_crossentropy(from_logits=True)"),
    "tf": ("tf.nn.sparse_softmax_cross_entropy_with_logits", "tf.nn.softmax_cross_entropy_with_logits",
           "tf.nn.sigmoid_cross_entropy_with_logits"),
    "optax": ("optax.softmax_cross_entropy_with_integer_labels", "optax.softmax_cross_entropy",
              "optax.sigmoid_binary_cross_entropy"),
}


def _categorical_fix(framework: Optional[str], family: Optional[str] = None):
    """The from-logits loss of the user's framework for exclusive classes."""
    if framework in TORCH_LIBRARIES:
        return fixes.torch_cross_entropy, "CrossEntropyLoss"
    sparse, categorical, _ = LOGITS_LOSSES.get(framework, LOGITS_LOSSES["keras"])
    if family == "sparse":
        return fixes.keras_sparse_from_logits, sparse
    return fixes.keras_categorical_from_logits, categorical


def _binary_fix(framework: Optional[str]):
    if framework in TORCH_LIBRARIES:
        return fixes.torch_bce_with_logits, "BCEWithLogitsLoss"
    return fixes.keras_binary_from_logits, LOGITS_LOSSES.get(framework, LOGITS_LOSSES["keras"])[2]


# -- the fix check ------------------------------------------------------------------------------


def _check_categorical(loss, k: int) -> dict:
    n = batch_size(k)
    return fixes.check_fix(loss, fixes.CATEGORICAL, seeded_logits(n, k), seeded_index(n, k))


def _check_binary(loss, columns: int) -> dict:
    n = batch_size(columns)
    return fixes.check_fix(loss, fixes.BINARY, seeded_logits(n, columns), seeded_binary(n, columns))


def _fix_ok(check: dict) -> bool:
    sharp = check["sharpening"]
    falling = all(b <= a for a, b in zip(sharp, sharp[1:]))
    return check["rel_error"] < RTOL and check["grad_rel_error"] < RTOL and falling and sharp[-1] < SHARP_LOSS


def _fix_witness(check: dict) -> dict:
    return {"fix_rel_error": check["rel_error"], "fix_grad_rel_error": check["grad_rel_error"],
            "fix_loss_margin_10": check["sharpening"][1], "fix_loss_margin_40": check["sharpening"][-1]}


def _fix_sentence(name: str, reference: str, check: dict) -> str:
    return (f"{name} equals {reference} (max rel. error {_e(check['rel_error'])}), its gradient matches the "
            f"analytic one (rel. error {_e(check['grad_rel_error'])}) and its loss falls to "
            f"{_e(check['sharpening'][-1])} as the logits sharpen toward the target")


def _e(x: float) -> str:
    return "0" if x == 0 else f"{x:.0e}"


def _classes(f: Facts) -> str:
    return f"{f.k} classes" + (" (assumed: the class count was not resolved)" if f.assumed else "")


# -- one builder per code: (verified, claim, witness) -------------------------------------------


def _act101(f: Facts):
    z, y = _categorical_sample(f.k)
    floor = claims.double_softmax_floor(f.k)
    ratio = claims.norm_ratio(claims.double_softmax_grad(z, y), fixes.cross_entropy_grad(z, y))
    loss, name = _categorical_fix(f.framework, f.family)
    check = _check_categorical(loss, f.k)
    keras = KERAS_CACHED_LOGITS if f.framework == "keras" else ""
    claim = (f"Softmax before {_display(f.loss)}: the loss can never fall below {floor:.4f} with {_classes(f)} "
             f"and the gradient is {ratio:.2f}x the right one on seeded logits{keras}; "
             f"{_fix_sentence(name + ' on the raw logits', '-log softmax', check)}.")
    ok = _fix_ok(check) and floor > 0 and abs(floor - math.log1p((f.k - 1) / math.e)) < 1e-9
    return ok, claim, {"classes": f.k, "loss_floor": floor, "gradient_ratio": ratio, **_fix_witness(check)}


def _act102(f: Facts):
    columns = f.k if f.target == "multi-hot" else 1
    lo, hi = claims.double_sigmoid_range()
    floor1, floor0 = claims.double_sigmoid_floor(1.0), claims.double_sigmoid_floor(0.0)
    z, y = seeded_logits(batch_size(columns), columns), seeded_binary(batch_size(columns), columns)
    ratio = claims.double_sigmoid_gradient_ratio(z, y)
    loss, name = _binary_fix(f.framework)
    check = _check_binary(loss, columns)
    keras = KERAS_CACHED_LOGITS if f.framework == "keras" else ""
    claim = (f"Sigmoid before {_display(f.loss)}: the loss only sees values in ({lo:.4f}, {hi:.4f}), so it can "
             f"never fall below {floor1:.4f} for y=1 or {floor0:.4f} for y=0{keras}; "
             f"{_fix_sentence(name + ' on the raw logits', 'the binary cross-entropy of sigmoid', check)}.")
    ok = _fix_ok(check) and lo == 0.5 and hi < 0.75 and floor1 > 0 and floor0 > 0
    witness = {"output_min": lo, "output_max": hi, "loss_floor_y1": floor1, "loss_floor_y0": floor0,
               "gradient_ratio": ratio}
    return ok, claim, {**witness, **_fix_witness(check)}


def _act103(f: Facts):
    family = f.family
    if f.framework == "skorch":
        return _act103_skorch(f)
    if f.activation == "log_softmax":
        return _act103_log_probabilities(f)
    if f.framework == "torch":
        return _act103_torch(f)
    if family in ("categorical", "sparse"):
        return _act103_keras_categorical(f, family)
    return _act103_keras_binary(f)


def _act103_torch(f: Facts):
    z = seeded_logits(batch_size(f.k), f.k)
    outside = claims.out_of_unit_interval_fraction(z)
    check = _check_binary(fixes.torch_bce_with_logits, 1)
    claim = (f"Raw logits into {_display(f.loss)}: {outside:.0%} of seeded logits lie outside [0, 1], where torch "
             f"raises 'all elements of input should be between 0 and 1'; "
             f"{_fix_sentence('BCEWithLogitsLoss on the logits', 'the binary cross-entropy of sigmoid', check)}.")
    return _fix_ok(check) and outside > 0, claim, {"outside_unit_interval": outside, **_fix_witness(check)}


def _act103_skorch(f: Facts):
    z, y = _categorical_sample(f.k)
    nan = claims.nan_log_fraction(z[np.arange(len(y)), y])
    check = _check_categorical(fixes.torch_cross_entropy, f.k)
    claim = (f"Raw logits into {_display(f.loss)}: skorch takes log(y_pred + eps), which is NaN for the "
             f"{nan:.0%} of seeded samples whose target-class logit is below 0 (the batch loss is then NaN), and "
             f"unbounded below where that logit exceeds 1; "
             f"{_fix_sentence('CrossEntropyLoss on the logits', '-log softmax', check)}.")
    return _fix_ok(check) and nan > 0, claim, {"nan_fraction": nan, **_fix_witness(check)}


def _act103_log_probabilities(f: Facts):
    z = seeded_logits(batch_size(f.k), f.k)
    outside = claims.log_softmax_outside_unit_interval_fraction(z)
    torch = "torch raises 'all elements of input should be between 0 and 1'" if f.framework == "torch" else \
        "Keras clips every one of them to 1e-7, so the loss no longer depends on the model"
    claim = (f"log_softmax outputs are log-probabilities: {outside:.0%} of them on seeded logits over {_classes(f)} "
             f"lie outside [0, 1], where {torch}; a probability loss needs the probabilities themselves.")
    return outside == 1.0, claim, {"outside_unit_interval": outside}


def _act103_keras_binary(f: Facts):
    witness = {
        "loss_logit_2": claims.clipped_binary_loss(2.0, 1.0),
        "grad_logit_2": claims.clipped_binary_grad(2.0, 1.0),
        "loss_logit_minus_2": claims.clipped_binary_loss(-2.0, 1.0),
        "grad_logit_minus_2": claims.clipped_binary_grad(-2.0, 1.0),
        "tf_keras_loss_logit_minus_2": claims.clipped_binary_loss(-2.0, 1.0, eps_in_log=True),
    }
    z, y = seeded_logits(64, 1), seeded_binary(64, 1)
    per_sample = lambda x: losses.binary_crossentropy(y, x)
    witness["stalled_fraction"] = claims.stalled_right_class_fraction(per_sample, z, np.zeros(64, dtype=int))
    check = _check_binary(fixes.keras_binary_from_logits, 1)
    claim = (f"Raw logits into {_display(f.loss)} (from_logits=False): Keras clips them to [1e-7, 1-1e-7], so with "
             f"y=1 logit 2.0 gives loss {witness['loss_logit_2']:.2g} and logit -2.0 gives "
             f"{witness['loss_logit_minus_2']:.2f} ({witness['tf_keras_loss_logit_minus_2']:.2f} in tf_keras), both "
             f"with gradient 0 ({witness['stalled_fraction']:.0%} of seeded logits get no gradient); "
             f"{_fix_sentence('binary_crossentropy(from_logits=True)', 'the binary cross-entropy of sigmoid', check)}.")
    stalled = witness["grad_logit_2"] == 0 and witness["grad_logit_minus_2"] == 0
    return _fix_ok(check) and stalled, claim, {**witness, **_fix_witness(check)}


def _act103_keras_categorical(f: Facts, family: str):
    z, y = _categorical_sample(f.k, n=64)
    per_sample = _keras_probability_loss(family, y, f.k)
    stalled = claims.stalled_right_class_fraction(per_sample, z, y)
    loss, name = _categorical_fix(f.framework, f.family)
    check = _check_categorical(loss, f.k)
    claim = (f"Raw logits into {_display(f.loss)} (from_logits=False): Keras divides or clips them as if they "
             f"were probabilities, and in {stalled:.0%} of seeded samples with {_classes(f)} the right class's logit gets "
             f"exactly zero gradient; "
             f"{_fix_sentence(name, '-log softmax', check)}.")
    return _fix_ok(check) and stalled > 0, claim, {"classes": f.k, "stalled_fraction": stalled,
                                                    **_fix_witness(check)}


def _keras_probability_loss(family: str, y, k: int):
    if family == "sparse":
        return lambda x: losses.sparse_categorical_crossentropy(y, x)
    return lambda x: losses.categorical_crossentropy(one_hot(y, k), x)


def _act104(f: Facts):
    z, y = _categorical_sample(f.k)
    if f.activation == "linear":
        witness = {"loss": claims.nll_on_logits(z, y),
                   "loss_margin_100": claims.nll_on_logits(margin_logits(y, f.k, 100.0), y)}
        what = (f"NLLLoss on raw logits is -z_y, unbounded below (loss {witness['loss_margin_100']:.1f} at "
                f"logit margin 100)")
        broken = witness["loss_margin_100"] < 0
    else:
        witness = {"loss": claims.nll_on_probabilities(z, y), "minus_mean_p_y": -claims.mean_true_class_probability(z, y),
                   "loss_confident": claims.nll_on_probabilities(margin_logits(y, f.k, 100.0), y)}
        what = (f"NLLLoss on softmax outputs is -p_y, not -log p_y: {witness['loss']:.4f} on seeded logits "
                f"(= -mean p_y), and {witness['loss_confident']:.1f} for a confident model")
        broken = witness["loss"] < 0 and abs(witness["loss"] - witness["minus_mean_p_y"]) < 1e-12
    check = _check_categorical(fixes.log_softmax_into_nll, f.k)
    claim = f"{what} with {_classes(f)}; {_fix_sentence('NLLLoss on log_softmax', '-log softmax', check)}."
    return _fix_ok(check) and broken, claim, {"classes": f.k, **witness, **_fix_witness(check)}


def _act105(f: Facts):
    t = seeded_distribution(batch_size(f.k), f.k)
    broken = claims.kl_div_on_probabilities(t, t)
    fixed = claims.kl_div_on_log_probabilities(t, t)
    check = _check_categorical(fixes.log_softmax_into_kl_div, f.k)
    claim = (f"KLDivLoss on probabilities instead of log-probabilities: when the prediction equals the target "
             f"the loss is {broken:.4f} instead of 0 with {_classes(f)}; "
             f"{_fix_sentence('KLDivLoss on log_softmax (batchmean)', 'the cross-entropy minus the target entropy', check)}.")
    ok = _fix_ok(check) and abs(broken) > 1e-3 and abs(fixed) < 1e-12
    return ok, claim, {"classes": f.k, "loss_at_match": broken, "fixed_loss_at_match": fixed, **_fix_witness(check)}


def _act106(f: Facts):
    z, y = _categorical_sample(f.k)
    idempotence = claims.log_softmax_idempotence_error(z)
    gap = claims.redundant_log_softmax_loss_gap(z, y)
    check = _check_categorical(fixes.torch_cross_entropy, f.k)
    claim = (f"log_softmax before CrossEntropyLoss is harmless: log_softmax is idempotent (max abs. error "
             f"{_e(idempotence)}) so the loss is unchanged (rel. gap {_e(gap)}) with {_classes(f)}; dropping it, "
             f"{_fix_sentence('CrossEntropyLoss on the raw logits', '-log softmax', check)}.")
    ok = _fix_ok(check) and idempotence < 1e-12 and gap < 1e-12
    return ok, claim, {"classes": f.k, "idempotence_error": idempotence, "loss_rel_gap": gap, **_fix_witness(check)}


def _act201(f: Facts):
    z = np.concatenate([seeded_logits(16, 1).ravel(), [-1e4, 1e4]])
    if f.activation == "log_softmax":
        lo, hi = claims.single_unit_log_softmax_range(z)
        claim = (f"log_softmax over a single unit outputs exactly {hi:g} for every input (log 1: the softmax is "
                 f"always 1.0), so no loss on it can depend on the input.")
        return lo == hi == 0.0, claim, {"output_min": lo, "output_max": hi}
    lo, hi = claims.single_unit_softmax_range(z)
    grad = claims.single_unit_softmax_gradient(z)
    fixed_lo, fixed_hi = claims.sigmoid_range(seeded_logits(16, 1))
    loss, name = _binary_fix(f.framework)
    check = _check_binary(loss, 1)
    keras = (" (Keras on the TF backend computes the loss from the cached logit, so training looks normal while "
             "every prediction is 1.0)") if f.framework == "keras" else ""
    claim = (f"Softmax over a single unit outputs exactly {lo:g} for every input (output gradient {grad:g}){keras}; "
             f"a sigmoid unit ranges over [{fixed_lo:.4f}, {fixed_hi:.4f}] on the same logits, and "
             f"{_fix_sentence(name, 'the binary cross-entropy of sigmoid', check)}.")
    ok = _fix_ok(check) and lo == hi == 1.0 and grad == 0 and fixed_hi > fixed_lo
    witness = {"output_min": lo, "output_max": hi, "output_gradient": grad, "fixed_output_min": fixed_lo,
               "fixed_output_max": fixed_hi}
    return ok, claim, {**witness, **_fix_witness(check)}


def _act202(f: Facts):
    z = seeded_logits(batch_size(f.k), f.k)
    lo, hi = claims.class_sums_of_batch_softmax(z)
    leak = claims.cross_sample_influence(z, axis=0)
    fixed_leak = claims.cross_sample_influence(z, axis=-1)
    loss, name = _categorical_fix(f.framework)
    check = _check_categorical(loss, f.k)
    where = "Where torch picks dim 0 (1-D and 3-D inputs), softmax runs" if f.axis is None else "Softmax"
    claim = (f"{where} over the batch axis: each sample's {_classes(f)} sum to between {lo:.3f} and {hi:.3f} "
             f"instead of 1, and changing one sample moves another's probabilities by up to {leak:.3f} "
             f"(0 over the class axis); {_fix_sentence(name + ' over the class axis', '-log softmax', check)}.")
    ok = _fix_ok(check) and (hi - lo) > 1e-3 and leak > 1e-6 and fixed_leak == 0
    witness = {"classes": f.k, "class_sum_min": lo, "class_sum_max": hi, "cross_sample_influence": leak,
               "fixed_cross_sample_influence": fixed_leak}
    return ok, claim, {**witness, **_fix_witness(check)}


def _act203(f: Facts):
    z = seeded_logits(batch_size(f.k), f.k)
    lo, hi = claims.sigmoid_output_sums(z)
    loss, name = _categorical_fix(f.framework, f.family)
    check = _check_categorical(loss, f.k)
    fix = _fix_sentence(f"softmax with {name} on the logits", "-log softmax", check)
    if _takes_logits(f):  # torch, tf.nn, optax, a Keras loss with from_logits=True: softmax of the sigmoids
        floor = claims.sigmoid_into_cross_entropy_floor(f.k)
        claim = (f"Sigmoid before {_display(f.loss)}: the loss sees values in (0, 1) only and can never fall below "
                 f"{floor:.4f} with {_classes(f)}; {fix}.")
        witness = {"loss_floor": floor}
    else:
        renorm = claims.renormalized_sigmoid_loss([0.9, 0.9, 0.9], 0, sparse=f.family == "sparse")
        claim = (f"Sigmoid head with {_display(f.loss)}: Keras divides the outputs by their sum (on [0.9, 0.9, 0.9] "
                 f"the loss is {renorm:.4f} = log 3; a Keras sigmoid activation feeding the loss directly has its "
                 f"cached logits used as softmax logits instead), while the sigmoid outputs themselves sum to between {lo:.2f} "
                 f"and {hi:.2f} over {_classes(f)}, not 1; {fix}.")
        witness = {"renormalized_loss_0_9x3": renorm}
    ok = _fix_ok(check) and (hi - lo) > 1e-3 and all(v > 0 for v in witness.values())
    return ok, claim, {"classes": f.k, **witness, "output_sum_min": lo, "output_sum_max": hi, **_fix_witness(check)}


def _act204(f: Facts):
    k = max(f.k, 3)
    z2, y2 = _categorical_sample(2)
    z, y = _categorical_sample(k)
    witness = {"classes": k, "bce_minus_cce_2_units": claims.softmax_bce_minus_cce(z2, y2),
               "bce_minus_cce": claims.softmax_bce_minus_cce(z, y),
               "gradient_ratio": claims.softmax_bce_gradient_ratio(z, y)}
    if f.target == "multi-hot":
        return _act204_multi_hot(f, k, witness)
    loss, name = _categorical_fix(f.framework)
    check = _check_categorical(loss, k)
    claim = (f"Softmax with binary cross-entropy over {k} units is not the categorical cross-entropy (gap up to "
             f"{witness['bce_minus_cce']:.4f}, gradient {witness['gradient_ratio']:.2f}x as large; with 2 units the "
             f"gap is {_e(witness['bce_minus_cce_2_units'])}); {_fix_sentence(name, '-log softmax', check)}.")
    ok = _fix_ok(check) and witness["bce_minus_cce"] > 1e-3 and witness["bce_minus_cce_2_units"] < 1e-9
    return ok, claim, {**witness, **_fix_witness(check)}


def _act204_multi_hot(f: Facts, k: int, witness: dict):
    witness["max_probability_2_labels"] = claims.softmax_multi_hot_probability(k, 2)
    witness["loss_floor_2_labels"] = claims.softmax_multi_hot_floor(k, 2, losses.binary_crossentropy)
    loss, name = _binary_fix(f.framework)
    check = _check_binary(loss, k)
    claim = (f"Softmax with binary cross-entropy on multi-hot targets: two true labels can each get at most "
             f"{witness['max_probability_2_labels']:.2f}, so the loss cannot fall below "
             f"{witness['loss_floor_2_labels']:.4f} over {k} units; "
             f"{_fix_sentence('sigmoid with ' + name, 'the binary cross-entropy of sigmoid', check)}.")
    ok = _fix_ok(check) and witness["max_probability_2_labels"] < 1 and witness["loss_floor_2_labels"] > 0
    return ok, claim, {**witness, **_fix_witness(check)}


def _act205(f: Facts):
    targets = seeded_index(min(max(256, 20 * f.classes), 100_000), f.classes)
    outside = claims.out_of_range_target_fraction(f.units, targets)
    start_units, start_classes = claims.uniform_prediction_loss(f.units), claims.uniform_prediction_loss(f.classes)
    check = _check_categorical(_categorical_fix(f.framework, f.family)[0], f.classes)
    if f.units < f.classes:
        what = f"{outside:.0%} of seeded targets are class ids >= {f.units} that no unit can predict (torch and TF raise)"
    else:
        what = f"{f.units - f.classes} units never get a target, and the untrained loss is {start_units:.4f} instead of {start_classes:.4f}"
    claim = (f"{f.units} output units for {f.classes} classes: {what}; with {f.classes} units, "
             f"{_fix_sentence('the same loss', '-log softmax', check)}.")
    witness = {"units": f.units, "classes": f.classes, "out_of_range_targets": outside,
               "initial_loss_units": start_units, "initial_loss_classes": start_classes}
    ok = _fix_ok(check) and f.units != f.classes and claims.out_of_range_target_fraction(f.classes, targets) == 0
    return ok, claim, {**witness, **_fix_witness(check)}


def _act301(f: Facts):
    if f.target == "soft":
        return _act301_soft(f)
    z, y = _categorical_sample(f.k)
    targets = one_hot(y, f.k)
    gap = claims.sparse_vs_categorical_gap(z, y)
    check = _check_categorical(fixes.keras_sparse_from_argmax, f.k)
    claim = (f"One-hot targets into {_display(f.loss)}: each label is {targets.shape[-1]} columns holding only "
             f"{claims.distinct_values(targets)} distinct values where the loss expects one class id; "
             f"argmax(y) restores the ids and the sparse loss then equals categorical cross-entropy on the one-hot "
             f"targets (rel. gap {_e(gap)}); {_fix_sentence('the sparse loss on argmax(y)', '-log softmax', check)}.")
    ok = _fix_ok(check) and targets.shape[-1] > 1 and gap < RTOL
    return ok, claim, {"classes": f.k, "target_columns": targets.shape[-1], "expected_columns": 1,
                       "distinct_target_values": claims.distinct_values(targets), "argmax_rel_gap": gap,
                       **_fix_witness(check)}


def _act301_soft(f: Facts):
    """Mixed or smoothed rows into a class-id loss: argmax would throw the mixing away, so the fix is
    a loss that takes the rows (the categorical loss on soft targets)."""
    check = _check_categorical(fixes.keras_categorical_from_logits, f.k)
    claim = (f"Soft targets into {_display(f.loss)}: each label is {f.k} columns of class weights where the loss "
             f"expects one class id; {_fix_sentence('a soft-target categorical loss', '-log softmax', check)}.")
    return _fix_ok(check), claim, {"classes": f.k, "target_columns": f.k, "expected_columns": 1, **_fix_witness(check)}


def _act302(f: Facts):
    z, y = _categorical_sample(f.k)
    label0 = claims.broadcast_index_losses(z, np.zeros_like(y))
    check = _check_categorical(fixes.keras_categorical_from_logits, f.k)
    claim = (f"Class-index targets into {_display(f.loss)}: one column where the loss expects {f.k}; Keras raises "
             f"on the shapes, and a (N, 1) column broadcast over the classes gives every class-0 sample a loss of "
             f"exactly {float(np.max(np.abs(label0))):g}; one-hot targets (to_categorical) fix it: "
             f"{_fix_sentence('the categorical loss on one-hot targets', '-log softmax', check)}.")
    ok = _fix_ok(check) and float(np.max(np.abs(label0))) == 0 and f.k > 1
    return ok, claim, {"classes": f.k, "target_columns": 1, "expected_columns": f.k,
                       "broadcast_class0_loss": float(np.max(np.abs(label0))), **_fix_witness(check)}


def _act303(f: Facts):
    k = max(f.k, 3)
    best = claims.softmax_multi_hot_probability(k, 2)
    binary = f.family == "binary"
    pairing_loss = losses.binary_crossentropy if binary else losses.categorical_crossentropy
    floor = claims.softmax_multi_hot_floor(k, 2, pairing_loss)
    loss, name = _binary_fix(f.framework)
    check = _check_binary(loss, k)
    claim = (f"Multi-hot targets with a softmax (or a categorical loss, which normalizes): two true labels can each "
             f"get at most {best:.2f}, so {_display(f.loss)} cannot fall below {floor:.4f} over {k} classes; "
             f"{_fix_sentence('sigmoid with ' + name, 'the binary cross-entropy of sigmoid', check)}.")
    ok = _fix_ok(check) and best < 1 and floor > 0
    return ok, claim, {"classes": k, "max_probability_2_labels": best, "loss_floor_2_labels": floor,
                       **_fix_witness(check)}


def _act304(f: Facts):
    z = seeded_logits(batch_size(f.k), f.k)
    lo, hi = claims.sigmoid_output_sums(z)
    at_zero = claims.sigmoid_output_sums(np.zeros((1, f.k)))[0]
    fixed = float(np.max(np.abs(softmax(z).sum(axis=-1) - 1)))
    loss, name = _categorical_fix(f.framework)
    check = _check_categorical(loss, f.k)
    claim = (f"Exclusive one-hot targets with independent sigmoids: the {_classes(f)} get probabilities summing "
             f"to between {lo:.2f} and {hi:.2f} on seeded logits ({at_zero:g} at zero logits), not 1 (softmax: "
             f"off by {_e(fixed)}); {_fix_sentence('softmax with ' + name, '-log softmax', check)}.")
    ok = _fix_ok(check) and (hi - lo) > 1e-3 and fixed < 1e-12
    witness = {"classes": f.k, "output_sum_min": lo, "output_sum_max": hi, "output_sum_at_zero_logits": at_zero,
               "fixed_output_sum_error": fixed}
    return ok, claim, {**witness, **_fix_witness(check)}


def _act501(f: Facts):
    logits = [0.0, 120.0]
    log_p = claims.float32_log_of_softmax(logits)
    witness = {
        "log_softmax_0_120_first": float(log_p[0]),
        "hand_written_loss_y0": claims.float32_hand_written_cross_entropy(logits, [1, 0]),
        "hand_written_loss_y1": claims.float32_hand_written_cross_entropy(logits, [0, 1]),
        "stable_loss_y0": claims.float32_stable_cross_entropy(logits, [1, 0]),
        "stable_loss_y1": claims.float32_stable_cross_entropy(logits, [0, 1]),
        "log_sigmoid_minus_120": claims.float32_log_of_sigmoid(-120.0),
        "stable_log_sigmoid_minus_120": claims.float32_stable_log_sigmoid(-120.0),
        "finite_rel_gap": claims.naive_stable_gap(seeded_logits(16, f.k)),
    }
    check = _check_categorical(fixes.torch_cross_entropy, f.k)
    claim = (f"Hand-written log(softmax(z)) in float32 gives [{log_p[0]}, {log_p[1]:g}] for z = [0, 120], so "
             f"-sum(y * log p) is {witness['hand_written_loss_y0']} or {witness['hand_written_loss_y1']} where "
             f"log_softmax gives {witness['stable_loss_y0']:g} and {witness['stable_loss_y1']:g} (they agree to "
             f"{_e(witness['finite_rel_gap'])} where both are finite); "
             f"{_fix_sentence('a with-logits loss', '-log softmax', check)}.")
    broken = not math.isfinite(witness["hand_written_loss_y0"]) and math.isnan(witness["hand_written_loss_y1"])
    ok = _fix_ok(check) and broken and witness["finite_rel_gap"] < 1e-12
    return ok, claim, {**witness, **_fix_witness(check)}


def _categorical_sample(k: int, n: Optional[int] = None):
    n = n or batch_size(k)
    return seeded_logits(n, k), seeded_index(n, k)


BUILDERS = {
    "ACT101": _act101, "ACT102": _act102, "ACT103": _act103, "ACT104": _act104, "ACT105": _act105,
    "ACT106": _act106, "ACT201": _act201, "ACT202": _act202, "ACT203": _act203, "ACT204": _act204,
    "ACT205": _act205, "ACT301": _act301, "ACT302": _act302, "ACT303": _act303, "ACT304": _act304,
    "ACT501": _act501,
}


# -- --explain figures ---------------------------------------------------------------------------

EXPLAIN_CLASSES = (2, 10, 100)
CHART_WIDTH, CHART_HEIGHT = 60, 12


def _facts_for(code: str, k: int) -> dict:
    facts = dict(REPRESENTATIVE_FACTS[code])
    if code == "ACT205":
        return {**facts, "units": k, "classes": k + 1}
    if facts.get("units") != 1:
        facts["units"] = k
    return facts


def _witness_table(code: str) -> str:
    results = [verify(code, _facts_for(code, k)) for k in EXPLAIN_CLASSES]
    if all(r["witness"] == results[0]["witness"] for r in results):
        return _table(["witness", "value"], [(name, [value]) for name, value in results[0]["witness"].items()])
    names = [n for n in results[0]["witness"] if not n.startswith("fix_")]
    fix = [n for n in results[0]["witness"] if n.startswith("fix_")]
    rows = [(n, [r["witness"].get(n, "") for r in results]) for n in names + fix]
    return _table(["witness"] + [f"k={k}" for k in EXPLAIN_CLASSES], rows)


def _table(header: list, rows: list) -> str:
    width = max(len(header[0]), *(len(name) for name, _ in rows)) + 2
    lines = [header[0].ljust(width) + "".join(h.rjust(12) for h in header[1:])]
    lines += [name.ljust(width) + "".join(_cell(v).rjust(12) for v in values) for name, values in rows]
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float) and value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _chart(title: str, xlabel: str, xs, broken: tuple, fixed: tuple) -> str:
    """A CHART_WIDTH x CHART_HEIGHT text plot of two series; non-finite values drawn as '↑' on the top row."""
    series = [(mark, np.asarray(ys, dtype=np.float64)) for mark, ys in (("x", broken[1]), ("o", fixed[1]))]
    finite = np.concatenate([ys[np.isfinite(ys)] for _, ys in series] + [np.zeros(1)])
    top, bottom = float(finite.max()), float(finite.min())
    top = top if top > bottom else bottom + 1.0
    grid = [[" "] * CHART_WIDTH for _ in range(CHART_HEIGHT)]
    for mark, ys in series:
        for col, y in enumerate(ys):
            row = 0 if not np.isfinite(y) else round((top - y) / (top - bottom) * (CHART_HEIGHT - 1))
            cell = "↑" if not np.isfinite(y) else mark
            grid[row][col] = "*" if grid[row][col] not in (" ", cell) else cell
    labels = {0: top, CHART_HEIGHT - 1: bottom}
    lines = [title, ""] + [f"{_cell(labels[r]) if r in labels else '':>9} │" + "".join(row) for r, row in enumerate(grid)]
    lines.append(" " * 10 + "└" + "─" * CHART_WIDTH)
    lines.append(" " * 10 + f"{xs[0]:<8g}{xlabel:^{CHART_WIDTH - 16}}{xs[-1]:>8g}")
    lines.append(f"x = {broken[0]}   o = {fixed[0]}   * = both")
    return "\n".join(lines)


def _margins(lo: float = 0.0, hi: float = 10.0):
    return np.linspace(lo, hi, CHART_WIDTH)


def _categorical_curve(loss, k: int = 10, xs=None):
    xs = _margins() if xs is None else xs
    return [float(loss(margin_logits([0], k, m), np.array([0]))) for m in xs]


def _binary_curve(loss, y: float = 1.0, xs=None):
    xs = _margins() if xs is None else xs
    t = np.array([[y]])
    return [float(loss(margin_binary_logits(t, m), t)) for m in xs]


MARGIN = "right-class logit margin, 10 classes"


def _chart_act101():
    broken = _categorical_curve(lambda z, y: losses.cross_entropy(softmax(z), y))
    return _chart("Loss as the model grows confident in the right class", MARGIN, _margins(),
                  ("softmax -> CrossEntropyLoss", broken), ("CrossEntropyLoss on logits", _categorical_curve(losses.cross_entropy)))


def _chart_act102():
    broken = _binary_curve(lambda z, y: losses.binary_cross_entropy_with_logits(sigmoid(z), y))
    fixed = _binary_curve(losses.binary_cross_entropy_with_logits)
    return _chart("Loss as the logit of a y=1 sample grows", "logit (y = 1)", _margins(),
                  ("sigmoid -> BCEWithLogitsLoss", broken), ("BCEWithLogitsLoss on logits", fixed))


def _chart_act103():
    xs = _margins(-5.0, 5.0)
    broken = [claims.clipped_binary_loss(x, 1.0) for x in xs]
    fixed = [float(losses.binary_crossentropy(np.array([1.0]), np.array([x]), from_logits=True)) for x in xs]
    return _chart("Keras binary_crossentropy on a raw logit, y = 1 (flat = zero gradient)", "raw logit", xs,
                  ("from_logits=False", broken), ("from_logits=True", fixed))


def _chart_act104():
    broken = _categorical_curve(lambda z, y: losses.nll_loss(softmax(z), y))
    fixed = _categorical_curve(lambda z, y: losses.nll_loss(log_softmax(z), y))
    return _chart("NLLLoss as the model grows confident in the right class", MARGIN, _margins(),
                  ("softmax -> NLLLoss (-p_y)", broken), ("log_softmax -> NLLLoss", fixed))


def _chart_act105():
    kl = lambda p: (lambda z, y: losses.kl_div(p(z), one_hot(y, 10), reduction="batchmean"))
    return _chart("KLDivLoss against a one-hot target", MARGIN, _margins(),
                  ("softmax -> KLDivLoss", _categorical_curve(kl(softmax))),
                  ("log_softmax -> KLDivLoss", _categorical_curve(kl(log_softmax))))


def _chart_act106():
    broken = _categorical_curve(lambda z, y: losses.cross_entropy(log_softmax(z), y))
    return _chart("CrossEntropyLoss with and without a log_softmax in front (identical)", MARGIN, _margins(),
                  ("log_softmax -> CrossEntropyLoss", broken), ("CrossEntropyLoss on logits", _categorical_curve(losses.cross_entropy)))


def _chart_act201():
    xs = _margins()
    t = np.array([[0.0]])
    broken = [float(losses.binary_crossentropy(t, softmax(np.array([[-m]])))[0]) for m in xs]
    fixed = [float(losses.binary_crossentropy(t, np.array([[-m]]), from_logits=True)[0]) for m in xs]
    return _chart("A y=0 sample as its single logit falls (keras binary_crossentropy)", "minus the logit (y = 0)", xs,
                  ("Dense(1, softmax)", broken), ("Dense(1, sigmoid)", fixed))


def _chart_act202():
    y = np.arange(16) % 4
    batch = lambda loss: [float(loss(margin_logits(y, 10, m), y)) for m in _margins()]
    broken = batch(lambda z, t: losses.nll_loss(log_softmax(z, axis=0), t))
    return _chart("A batch of 16 samples (4 per class) growing confident", MARGIN, _margins(),
                  ("softmax over the batch axis", broken), ("softmax over the class axis", batch(losses.cross_entropy)))


def _chart_act203():
    broken = _categorical_curve(lambda z, y: np.mean(losses.categorical_crossentropy(one_hot(y, 10), sigmoid(z))))
    fixed = _categorical_curve(fixes.keras_categorical_from_logits)
    return _chart("keras categorical_crossentropy, sigmoid vs softmax head", MARGIN, _margins(),
                  ("sigmoid head", broken), ("softmax (from_logits=True)", fixed))


def _chart_act204():
    broken = _categorical_curve(lambda z, y: np.mean(losses.binary_crossentropy(one_hot(y, 10), softmax(z))))
    fixed = _categorical_curve(fixes.keras_categorical_from_logits)
    return _chart("Softmax head over 10 units: binary vs categorical cross-entropy", MARGIN, _margins(),
                  ("binary_crossentropy", broken), ("categorical_crossentropy", fixed))


def _chart_act303():
    t = multi_hot_row(10, 2)
    xs = _margins()
    broken = [float(losses.categorical_crossentropy(t, softmax(m * t))[0]) for m in xs]
    fixed = [float(np.mean(losses.binary_crossentropy(t, margin_binary_logits(t, m), from_logits=True))) for m in xs]
    return _chart("Two true labels out of 10 as the model grows confident in both", "logit margin of each label", xs,
                  ("softmax + categorical_crossentropy", broken), ("sigmoid + binary_crossentropy", fixed))


def _chart_act304():
    t = one_hot([0], 10)
    xs = _margins()
    broken = [float(np.mean(losses.binary_crossentropy(t, margin_binary_logits(t, m), from_logits=True))) for m in xs]
    fixed = _categorical_curve(fixes.keras_categorical_from_logits)
    return _chart("One-hot target, 10 classes: both losses fall; only softmax outputs sum to 1", MARGIN, xs,
                  ("sigmoid + binary_crossentropy", broken), ("softmax + categorical_crossentropy", fixed))


def _chart_act501():
    xs = np.linspace(0.0, 200.0, CHART_WIDTH)
    broken = [claims.float32_hand_written_cross_entropy([0.0, x], [1, 0]) for x in xs]
    fixed = [claims.float32_stable_cross_entropy([0.0, x], [1, 0]) for x in xs]
    return _chart("float32 loss of a confidently wrong prediction (↑ = inf)", "logit margin of the wrong class", xs,
                  ("-sum(y * log(softmax(z)))", broken), ("log_softmax / with-logits loss", fixed))


CHARTS = {
    "ACT101": _chart_act101, "ACT102": _chart_act102, "ACT103": _chart_act103, "ACT104": _chart_act104,
    "ACT105": _chart_act105, "ACT106": _chart_act106, "ACT201": _chart_act201, "ACT202": _chart_act202,
    "ACT203": _chart_act203, "ACT204": _chart_act204, "ACT303": _chart_act303, "ACT304": _chart_act304,
    "ACT501": _chart_act501,
}
