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


def test_an_implicit_softmax_dim_is_told_the_axis_its_fix_writes():
    """ACT202's suggestion names the dim its fix passes: -1 where torch would pick the batch (a 3-D
    input), 1 where torch picks 1 (2-D, a 4-D map's channels) or the rank is unknown."""
    from actlint.checks import softmax_over_batch
    from actlint.facts import SOFTMAX, Normalization
    from actlint.fixes import softmax_axis
    import libcst as cst

    node = cst.parse_expression("F.softmax(x)")
    for implied, rank, dim in ((0, 3, "-1"), (1, 2, "1"), (1, 4, "1"), (None, None, "1")):
        n = Normalization(SOFTMAX, Site("t.py", node), "torch", "dim", implicit=True, implied_axis=implied, rank=rank,
                          spelling="F.softmax()")
        finding = softmax_over_batch(n)
        assert finding.suggestion.endswith(f"dim={dim}")
        assert softmax_axis(finding).message == f"Pass dim={dim}, the class axis"
