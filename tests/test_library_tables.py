"""The data tables the library frontends read: rules/datasets.toml and the library rows of contracts.toml."""

from actlint.catalogue import contracts, datasets
from actlint.facts import BINARY, CONTINUOUS, INDEX

LIBRARY_FRAMEWORKS = {"transformers", "optax", "timm", "skorch"}


def test_every_named_dataset_has_a_known_encoding_and_a_class_count_that_fits_it():
    for section, rows in datasets().items():
        for name, (encoding, classes) in rows.items():
            assert encoding in (INDEX, BINARY, CONTINUOUS), (section, name)
            assert classes is None or (classes >= 2 and (encoding != BINARY or classes == 2)), (section, name)
            assert encoding != CONTINUOUS or classes is None, (section, name)


def test_library_losses_name_their_framework_and_a_known_family():
    rows = [c for c in contracts().values() if c.id.split(".")[0] in LIBRARY_FRAMEWORKS]
    assert {c.id.split(".")[0] for c in rows} == LIBRARY_FRAMEWORKS
    for contract in rows:
        assert contract.framework == contract.id.split(".")[0]
        assert contract.family in ("binary", "categorical", "sparse", "regression"), contract.id
