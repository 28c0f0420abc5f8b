"""Facts the fixture annotations cannot show: severities, the facts handed to the numeric core,
and the interpreter's list and attribute modelling the torch frontend relies on."""

from __future__ import annotations

import textwrap

import libcst as cst

from actlint.checks import check_local
from actlint.engine import lint_source
from actlint.frontends.analysis import analyze_module


def facts(source: str):
    return analyze_module("t.py", cst.parse_module(textwrap.dedent(source)))


def results(source: str):
    return lint_source("t.py", textwrap.dedent(source).encode()).results


def severities(source: str) -> dict:
    return {(r.code, r.location.row): r.level for r in results(source)}


def test_implicit_softmax_dim_is_an_error_on_3d_and_a_warning_when_the_rank_is_unknown():
    found = severities("""
        import torch
        import torch.nn.functional as F

        def attend(q, k):
            scores = torch.bmm(q, k.transpose(1, 2))
            return F.softmax(scores)

        def probs(logits):
            return F.softmax(logits)
    """)
    assert found == {("ACT202", 7): "error", ("ACT202", 10): "warning"}


def test_implicit_softmax_dim_carries_the_class_count_and_a_conditional_claim():
    from actlint.runner import verified

    (result,) = [r for r in results("""
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self, n_classes=7):
                super().__init__()
                self.fc = nn.Linear(32, n_classes)

            def forward(self, x):
                return F.softmax(self.fc(x))

        net = Net()
    """) if r.code == "ACT202"]
    assert dict(result.facts)["units"] == 7
    claim = verified(result).verification["claim"]
    assert claim.startswith("Where torch picks dim 0 (1-D and 3-D inputs), softmax runs over the batch axis: "
                            "each sample's 7 classes sum to")


def test_an_unused_implicit_dim_module_warns_and_errs_once_applied_to_3d():
    found = severities("""
        import torch.nn as nn

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 9)
                self.sm = nn.Softmax()

            def forward(self, x):
                return self.sm(self.fc(x.view(8, 20, 64)))
    """)
    assert found == {("ACT202", 8): "error"}


def test_torch_softmax_without_dim_raises_in_torch_so_it_is_not_act202():
    assert [r.code for r in results("import torch\np = torch.softmax(torch.randn(4, 3))\n")] == []


def test_class_weights_imply_the_class_count():
    bindings = facts("""
        import torch
        import torch.nn as nn
        criterion = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 0.6, 2.5]).to("cuda"))
        criterion(nn.Linear(8, 4)(x), y)
    """).bindings
    assert [b.loss.classes for b in bindings] == [3]
    assert [r.code for r in results("import torch\n" + "import torch.nn as nn\n"
            "criterion = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 0.6, 2.5]))\n"
            "criterion(nn.Linear(8, 4)(x), y)\n")] == ["ACT205"]


def test_a_placeholder_takes_the_encoding_fed_to_it():
    (binding,) = facts("""
        import numpy as np
        import tensorflow.compat.v1 as tf
        y = tf.placeholder(tf.float32, [None, 10])
        logits = tf.matmul(x, tf.Variable(tf.zeros([784, 10])))
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        with tf.Session() as sess:
            sess.run(loss, feed_dict={y: np.eye(10)[labels]})
    """).bindings
    assert (binding.target.encoding, binding.target.classes, binding.head.units) == ("one-hot", 10, 10)


def test_layers_built_in_a_list_reach_nn_sequential():
    bindings = facts("""
        import torch.nn as nn
        layers = []
        layers += [nn.Linear(4, 8), nn.ReLU()]
        layers.append(nn.Linear(8, 3))
        layers.append(nn.Sigmoid())
        model = nn.Sequential(*layers)
        nn.CrossEntropyLoss()(model(x), y)
    """).bindings
    assert [(b.head.activation, b.head.units) for b in bindings] == [("sigmoid", 3)]


def test_a_replaced_pretrained_classifier_is_the_head():
    bindings = facts("""
        import torch.nn as nn
        from torchvision import models
        model = models.efficientnet_b0(weights="DEFAULT")
        model.classifier[1] = nn.Linear(model.classifier[1].in_features, 7)
        nn.BCELoss()(model(x), y)
    """).bindings
    assert [(b.head.activation, b.head.units) for b in bindings] == [("linear", 7)]


def test_local_findings_carry_facts_for_the_numeric_core():
    local = facts("""
        import torch
        import torch.nn.functional as F
        p = F.softmax(torch.nn.Linear(4, 5)(x), dim=1)
        loss = -(y * torch.log(p)).sum()
    """).local
    assert [type(fact).__name__ for fact in local] == ["Normalization", "LogOfProbability"]
    (finding,) = check_local(local)
    assert finding.code == "ACT501"
    assert dict(finding.facts)["activation"] == "softmax"


def test_argparse_defaults_are_the_values_a_plain_run_uses():
    from actlint.frontends.cli_args import ArgparseFrontend
    from actlint.frontends.interp import Interpreter

    source = textwrap.dedent("""
        import argparse
        parser = argparse.ArgumentParser()
        group = parser.add_argument_group("model")
        group.add_argument("--num-classes", type=int, default="12")
        parser.add_argument("-l", "--loss", dest="loss_name", default="bce")
        parser.add_argument("--no-aug", action="store_true")
        parser.add_argument("--lr", type=float)
        parser.add_argument("data_dir")
        parser.add_argument("--head", default="softmax")
        parser.set_defaults(head="sigmoid")
        args, _ = parser.parse_known_args()
        seen = (args.num_classes, args.loss_name, args.no_aug, args.lr, args.data_dir, args.head, args.other)
    """)
    seen = Interpreter("t.py", cst.parse_module(source), [ArgparseFrontend()], None).run().vars["seen"]
    values = [getattr(v, "value", v) for v in seen.items]
    assert values == [12, "bce", False, None, None, "sigmoid", None]
