"""The rule registry's checklist, and the pure rules called directly on hand-built facts.

Every catalogue code has its check function, its doc, a buggy fixture and a silent look-alike, a
numeric witness where the rule has one, and `--explain` output. The table-driven tests below call
the rules in checks.py with facts built by hand, so a regression names its layer (a rule, not a
frontend) instead of failing dozens of fixtures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actlint import checks
from actlint.catalogue import contracts, rules, rules_dir
from actlint.checks import Context, check, check_local, context
from actlint.facts import (
    INDEX, LINEAR, LOG_SOFTMAX, MULTI_HOT, ONE_HOT, OTHER, SIGMOID, SOFT, SOFTMAX, UNKNOWN, Binding, Head,
    LogOfProbability, Loss, Normalization, Site, Target,
)
from actlint.verification import BUILDERS, REPRESENTATIVE_FACTS, verify
from support import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CODES = sorted(code for code in rules() if not code.startswith("ACT0"))
DOC_HEADINGS = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"]
NO_WITNESS: set = set()  # codes whose finding has no numeric story (none today)
# Each code's silent look-alikes: code that resembles the bug and must stay quiet (`# expect: none`).
LOOK_ALIKES = {
    "ACT101": ["torch/none_evaluate_no_grad_softmax.py", "tf/none_logits_softmax_ce_prediction_softmax.py"],
    "ACT102": ["torch/none_linear_bcewithlogits_binary.py", "tf/none_multilabel_sigmoid_ce_logits.py"],
    "ACT103": ["keras/none_linear_bce_from_logits_multilabel.py", "keras/none_mnist_logits_sparse_from_logits.py"],
    "ACT104": ["torch/none_log_softmax_nll_mnist.py"],
    "ACT105": ["torch/none_label_smoothing_kldiv_log_softmax.py", "torch/none_distillation_correct.py"],
    "ACT106": ["torch/none_log_softmax_nll_mnist.py"],
    "ACT201": ["keras/none_flow_binary_sigmoid.py", "keras/none_imdb_binary_sigmoid.py"],
    "ACT202": ["torch/none_ensemble_weights_softmax_dim0.py", "torch/none_hub_single_image_softmax_dim0.py",
               "tf/none_attention_softmax_default_axis.py", "keras/none_softmax_layer_axis_over_tokens.py"],
    "ACT203": ["torch/none_sigmoid_bce_multilabel.py", "keras/none_multilabel_sigmoid_bce.py"],
    "ACT204": ["keras/none_softmax_two_units_bce_onehot.py", "torch/none_softmax_two_units_bce_onehot.py"],
    "ACT205": ["keras/none_head_chosen_by_num_classes.py"],
    "ACT301": ["keras/none_mnist_to_categorical_cce.py", "torch/none_onehot_float_crossentropy.py"],
    "ACT302": ["keras/none_image_dataset_int_sparse_logits.py", "keras/none_mnist_sparse_functional.py"],
    "ACT303": ["keras/none_multilabel_sigmoid_bce.py", "torch/none_multilabel_logits_bcewithlogits.py"],
    "ACT304": ["keras/none_softmax_two_units_bce_onehot.py", "keras/none_mnist_to_categorical_cce.py"],
    "ACT501": ["torch/none_softmax_head_clamped_log_nll.py", "tf/none_tf1_log_clip_by_value.py",
               "tf/none_log_softmax_manual_nll.py"],
}


# -- the checklist ------------------------------------------------------------------------------


def test_every_finding_code_has_its_check_function():
    assert sorted(checks.RULES) == CODES
    assert all(callable(function) for function in checks.RULES.values())


@pytest.mark.parametrize("code", sorted(rules()))
def test_every_code_has_its_doc_with_the_common_headings(code):
    doc = (rules_dir() / "docs" / f"{code}.md").read_text(encoding="utf-8")
    headings = [line.strip() for line in doc.splitlines() if line.startswith("## ")]
    assert headings[:len(DOC_HEADINGS)] == DOC_HEADINGS


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_a_buggy_fixture_and_a_silent_look_alike(code):
    assert sorted(FIXTURES.glob(f"*/{code}_*.py")), f"no fixtures/<framework>/{code}_<slug>.py"
    assert LOOK_ALIKES.get(code), f"no silent look-alike named for {code}"
    for name in LOOK_ALIKES[code]:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        assert "# expect: none" in text, name


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_a_numeric_witness_where_the_rule_has_one(code):
    if code in NO_WITNESS:
        assert code not in BUILDERS
        return
    verdict = verify(code, REPRESENTATIVE_FACTS[code])
    assert verdict is not None and verdict["verified"] is True, verdict
    assert verdict["witness"] and verdict["claim"]


@pytest.mark.parametrize("code", sorted(rules()))
def test_every_code_has_explain_output(code):
    explained = run("--explain", code)
    assert explained.exit_code == 0
    assert explained.stdout.startswith(f"{code} ({rules()[code].name})")
    assert "## What it does" in explained.stdout


def test_the_contract_table_names_each_losss_framework_and_family():
    for loss_id, contract in contracts().items():
        assert contract.framework in ("keras", "torch", "tf", "transformers", "optax", "timm", "skorch"), loss_id
        assert contract.family in ("binary", "categorical", "sparse", "nll", "kl", "regression"), loss_id


# -- the pairing and target rules, called on hand-built bindings --------------------------------


def binding(activation, units=None, loss=None, from_logits=False, target=None, classes=None) -> Binding:
    return Binding(
        Head(activation, units, Site("t.py", object())),
        Loss(loss, Site("t.py", object()), from_logits) if loss else None,
        Target(target, classes, Site("t.py", object()), "labels") if target else None,
    )


CASES = [  # (activation, units, loss id, from_logits, target encoding, classes) -> the codes found
    ((SOFTMAX, 10, "torch.cross_entropy", False, None, None), ["ACT101"]),
    ((SOFTMAX, 10, "tf.softmax_cross_entropy_with_logits", False, None, None), ["ACT101"]),
    ((SOFTMAX, 10, "keras.categorical_crossentropy", True, None, None), ["ACT101"]),
    ((SOFTMAX, 10, "keras.categorical_crossentropy", False, None, None), []),
    ((SOFTMAX, 10, "keras.categorical_crossentropy", None, None, None), []),  # from_logits unresolved
    ((SIGMOID, 1, "torch.binary_cross_entropy_with_logits", False, None, None), ["ACT102"]),
    ((SIGMOID, 1, "keras.binary_crossentropy", True, None, None), ["ACT102"]),
    ((SIGMOID, 1, "keras.binary_crossentropy", False, None, None), []),
    ((LINEAR, 1, "keras.binary_crossentropy", False, None, None), ["ACT103"]),
    ((LINEAR, 1, "torch.binary_cross_entropy", False, None, None), ["ACT103"]),
    ((LINEAR, 1, "torch.binary_cross_entropy_with_logits", False, None, None), []),
    ((SOFTMAX, 10, "torch.nll_loss", False, None, None), ["ACT104"]),
    ((LOG_SOFTMAX, 10, "torch.nll_loss", False, None, None), []),
    ((SOFTMAX, 10, "torch.kl_div", False, None, None), ["ACT105"]),
    ((LOG_SOFTMAX, 10, "torch.kl_div", False, None, None), []),
    ((LOG_SOFTMAX, 10, "torch.cross_entropy", False, None, None), ["ACT106"]),
    ((SOFTMAX, 1, "keras.binary_crossentropy", False, None, None), ["ACT201"]),
    ((SOFTMAX, 1, None, False, None, None), ["ACT201"]),  # wrong with or without a loss
    ((SIGMOID, 10, "keras.categorical_crossentropy", False, None, None), ["ACT203"]),
    ((SIGMOID, 10, "torch.cross_entropy", False, None, None), ["ACT203"]),
    ((SOFTMAX, 5, "keras.binary_crossentropy", False, None, None), ["ACT204"]),
    ((SOFTMAX, 2, "keras.binary_crossentropy", False, None, None), []),
    ((LINEAR, 9, "torch.cross_entropy", False, INDEX, 10), ["ACT205"]),
    ((LINEAR, 10, "torch.cross_entropy", False, INDEX, 10), []),
    ((LINEAR, 1, "torch.binary_cross_entropy_with_logits", False, "binary", 2), []),
    ((SOFTMAX, 10, "keras.sparse_categorical_crossentropy", False, ONE_HOT, 10), ["ACT301"]),
    ((SOFTMAX, 10, "keras.categorical_crossentropy", False, INDEX, 10), ["ACT302"]),
    ((LINEAR, 10, "torch.cross_entropy", False, INDEX, 10), []),  # CrossEntropyLoss takes class ids
    ((SOFTMAX, 10, "keras.categorical_crossentropy", False, MULTI_HOT, 10), ["ACT303"]),
    ((SIGMOID, 10, "keras.binary_crossentropy", False, MULTI_HOT, 10), []),
    ((SIGMOID, 10, "keras.binary_crossentropy", False, ONE_HOT, 10), ["ACT304"]),
    ((SOFTMAX, 10, "keras.categorical_crossentropy", False, SOFT, 10), []),
    ((OTHER, 10, "torch.cross_entropy", False, None, None), []),
    ((UNKNOWN, 10, "torch.cross_entropy", False, INDEX, 10), []),
]


@pytest.mark.parametrize("facts, codes", CASES, ids=[f"{f[0]}-{f[1]}-{f[2]}-{f[4]}" for f, _ in CASES])
def test_check_on_hand_built_facts(facts, codes):
    assert [finding.code for finding in check(binding(*facts))] == codes


@pytest.mark.parametrize("facts, codes", [c for c in CASES if c[1] and c[0][2]])
def test_each_code_comes_from_its_registered_function(facts, codes):
    c = context(binding(*facts))
    hit = checks.RULES[codes[0]](c)
    assert hit is not None and hit[0] == codes[0]


def test_a_target_code_covers_the_pairing_codes_its_fix_cures():
    found = check(binding(SOFTMAX, 10, "keras.binary_crossentropy", False, MULTI_HOT, 10))
    assert [f.code for f in found] == ["ACT303"]
    assert found[0].message.endswith("(this also covers ACT204)")


def test_a_target_code_whose_fix_leaves_the_pairing_wrong_is_reported_beside_it():
    # SPEC: the sparse -> categorical fix keeps from_logits=True on a softmax head (still ACT101)
    found = check(binding(SOFTMAX, 10, "keras.sparse_categorical_crossentropy", True, ONE_HOT, 10))
    assert [f.code for f in found] == ["ACT301", "ACT101"]


@pytest.mark.parametrize("loss, advice", [
    ("torch.cross_entropy", "drop the softmax and feed the logits"),
    ("tf.softmax_cross_entropy_with_logits", "drop the softmax and feed the logits"),
    ("keras.categorical_crossentropy", "set from_logits=False, or drop the softmax"),
])
def test_advice_is_worded_in_the_losss_framework_from_the_table(loss, advice):
    c = context(binding(SOFTMAX, 10, loss, True))
    assert c.framework == contracts()[loss].framework
    assert checks.double_softmax(c)[2] == advice


def test_context_without_a_contract_is_quiet():
    c = Context(binding(SOFTMAX, 10), None)
    assert c.family is None and c.framework is None and c.loss_name == "the loss"


# -- the one-call rules, on hand-built facts -----------------------------------------------------


def normalization(**fields) -> Normalization:
    defaults = {"activation": SOFTMAX, "site": Site("t.py", object()), "framework": "torch", "keyword": "dim"}
    return Normalization(**{**defaults, **fields})


@pytest.mark.parametrize("fields, severity", [
    ({"axis": 0, "batched": True, "units": 5}, "error"),
    ({"axis": 0, "batched": True, "framework": "keras", "keyword": "axis"}, "error"),
    ({"axis": 0, "batched": False}, None),  # not known to be a layer's output: axis 0 may be the classes
    ({"axis": 1, "batched": True}, None),
    ({"axis": -1, "batched": True}, None),
    ({"axis": None, "batched": True}, None),  # an axis written but not resolved
    ({"axis": 0, "batched": True, "activation": OTHER}, None),  # F.leaky_relu(x, 0): a slope, not an axis
    ({"axis": 0, "batched": True, "activation": LOG_SOFTMAX}, "error"),
    ({"implicit": True, "implied_axis": 0, "rank": 3, "spelling": "F.softmax()"}, "error"),
    ({"implicit": True, "implied_axis": 1, "rank": 2, "spelling": "F.softmax()"}, "warning"),
    ({"implicit": True, "spelling": "nn.Softmax()"}, "warning"),  # the rank unknown
])
def test_softmax_over_batch(fields, severity):
    finding = checks.softmax_over_batch(normalization(**fields))
    if severity is None:
        assert finding is None
        return
    assert finding.code == "ACT202" and (finding.severity or "error") == severity
    facts = dict(finding.facts)
    assert facts["framework"] == fields.get("framework", "torch") and "loss" not in facts
    assert facts["axis"] == (None if fields.get("implicit") else 0)


def test_softmax_over_batch_words_the_framework_s_own_keyword():
    explicit = checks.softmax_over_batch(normalization(axis=0, batched=True, framework="keras", keyword="axis"))
    assert explicit.message.startswith("softmax over axis=0 normalizes across the batch")
    assert explicit.suggestion == "use axis=-1, the class axis"
    implicit = checks.softmax_over_batch(normalization(implicit=True, implied_axis=0, rank=1, spelling="F.softmax()"))
    assert implicit.message == ("F.softmax() without dim on a 1-D tensor: torch picks dim 0, so it normalizes "
                                "across the batch")


@pytest.mark.parametrize("fields, fires", [
    ({"activation": SOFTMAX}, True),
    ({"activation": SIGMOID}, True),
    ({"activation": SOFTMAX, "clipped": True}, False),
    ({"activation": SOFTMAX, "trained": False}, False),  # under no_grad
    ({"activation": LOG_SOFTMAX}, False),
    ({"activation": LINEAR}, False),
    ({"activation": UNKNOWN}, False),
])
def test_log_of_probability(fields, fires):
    finding = checks.log_of_probability(LogOfProbability(site=Site("t.py", object()), **fields))
    assert (finding is not None) == fires
    if fires:
        advice = "log_softmax" if fields["activation"] == SOFTMAX else "logsigmoid"
        assert finding.code == "ACT501" and finding.suggestion.startswith(f"use {advice}")


def test_check_local_reports_a_call_site_once_an_error_replacing_a_warning():
    site = Site("t.py", object())
    warning = normalization(site=site, implicit=True, spelling="nn.Softmax()")
    error = normalization(site=site, implicit=True, implied_axis=0, rank=3, spelling="nn.Softmax()")
    assert [f.severity for f in check_local([warning, error])] == [None]
    assert [f.severity for f in check_local([error, warning])] == [None]
    assert [f.severity for f in check_local([warning, warning])] == ["warning"]
    other = normalization(implicit=True, spelling="nn.Softmax()")
    assert len(check_local([warning, other, LogOfProbability(SOFTMAX, site)])) == 3
