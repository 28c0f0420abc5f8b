"""What the library frontends (flax, hf, loops, timm) pair beyond the code sets the fixtures assert."""

from pathlib import Path

from actlint.engine import lint_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_a_library_loss_on_a_model_chosen_by_a_branch_names_the_branch():
    """Like torch's own losses, a library's loss keeps the branch path it was paired on."""
    path = FIXTURES / "timm" / "ACT101_model_chosen_by_arch_flag.py"
    [result] = lint_source(str(path), path.read_bytes()).results
    assert result.code == "ACT101" and result.message.endswith('(when args.arch == "small")')
