"""The rules' wording, read from the contract table (checks.py)."""

from actlint.checks import check
from actlint.facts import SIGMOID, Binding, Head, Loss, Site


def test_double_sigmoid_suggests_bce_only_for_bce_with_logits():
    """BCELoss is BCEWithLogitsLoss's probability twin; a focal or soft-margin loss has none."""
    site = Site("t.py", None)
    suggestion = lambda loss_id: [f.suggestion for f in check(Binding(Head(SIGMOID, 1, site, framework="torch"),
                                                                      Loss(loss_id, site)))]
    assert suggestion("torch.binary_cross_entropy_with_logits") == ["use BCELoss, or drop the sigmoid"]
    for loss_id in ("torchvision.sigmoid_focal_loss", "torch.multilabel_soft_margin_loss"):
        assert suggestion(loss_id) == ["drop the sigmoid and feed the logits"]
