"""The rule catalogue, the contract table and the rule docs: data shipped in `rules/`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def rules_dir() -> Path:
    """`actlint/rules` in an installed wheel; the repository's `rules/` in a checkout."""
    for candidate in (_HERE / "rules", _HERE.parent / "rules"):
        if (candidate / "catalogue.toml").is_file():
            return candidate
    raise FileNotFoundError("actlint's rules/ data is missing from this installation")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    summary: str

    def doc(self) -> str:
        path = rules_dir() / "docs" / f"{self.code}.md"
        return path.read_text(encoding="utf-8") if path.is_file() else self.summary + "\n"


@dataclass(frozen=True)
class Contract:
    id: str
    display: str
    framework: str  # "keras", "torch", "tf": whose API spells it
    family: str
    input: str
    targets: tuple
    input_from_logits: str | None = None

    def expected_input(self, from_logits):
        """The input domain this loss expects, or None when from_logits is unresolved."""
        if self.input_from_logits is None:
            return self.input
        if from_logits is None:
            return None
        return self.input_from_logits if from_logits else self.input


def _toml(name: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    return tomllib.loads((rules_dir() / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def rules() -> dict[str, Rule]:
    data = _toml("catalogue.toml")
    return {code: Rule(code, **fields) for code, fields in data.items()}


@lru_cache(maxsize=None)
def contracts() -> dict[str, Contract]:
    data = _toml("contracts.toml")
    return {
        loss_id: Contract(loss_id, targets=tuple(fields.pop("targets")), **fields)
        for loss_id, fields in data["losses"].items()
    }


def contract(loss_id) -> Contract | None:
    """The contract of a loss id, or None for an id the table lacks."""
    return contracts().get(loss_id) if isinstance(loss_id, str) else None


@lru_cache(maxsize=None)
def datasets() -> dict[str, dict[str, tuple]]:
    """{section: {dataset name: (label encoding, classes or None)}} from rules/datasets.toml."""
    data = _toml("datasets.toml")
    return {section: {name: (row["encoding"], row.get("classes")) for name, row in rows.items()}
            for section, rows in data.items()}
