"""The byte prefilter: whether a file can hold a finding, decided from its bytes before any parse."""

from __future__ import annotations

import re
from typing import Callable, Optional

# A file is worth parsing when it names a framework and does something a rule looks at, or sets a
# loss it may have imported from elsewhere in the project (`loss=cfg.loss`, `criterion = get_loss(name)`).
# Each token costs one scan of every file that lacks it (~15-20 ms over the 31 MB standard library):
# only tokens some frontend reads are here: one per framework the frontends know (keras, torch, tensorflow;
# "jax" covers flax and optax code, which imports jax; the transformers imports a Trainer script that
# never names torch: the bare word is also scikit-learn's name for its preprocessing steps).
FRAMEWORK_TOKENS = (b"keras", b"torch", b"tensorflow", b"jax", b"from transformers", b"import transformers")
# Every finding pairs a head (an activation) with a loss or with targets, and the file it is found in
# names one of them or the step that joins them (compile, fit, backward). A framework file naming none
# (layers, data pipelines, utilities: half of a library's files) cannot be where a finding is made;
# when a file that is imports it, the import is still followed and parsed.
RULE_TOKENS = (
    b"loss", b"Loss", b"criterion", b"entropy", b"softmax", b"Softmax", b"sigmoid", b"Sigmoid", b"logits",
    b"ctivation", b"compile(", b".fit", b"fit(", b".backward(", b"one_hot", b"to_categorical", b"kl_div",
    b"num_labels",  # a transformers classifier trained by a Trainer that names no loss
)
LOSS_ASSIGNMENT = re.compile(rb"(?:\bloss|criterion)\w*\s*=")
_ASSIGNED = re.compile(rb"\w*\s*=")  # what LOSS_ASSIGNMENT wants after its word
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def worth_parsing(data: bytes) -> bool:
    return screen(data) is True


def screen(data: bytes, remembered: Callable[[], Optional[list]] = lambda: None):
    """The byte prefilter, composed here only: True (parse the file), False (it cannot hold a finding),
    or what `remembered()` returns when that is not None. `remembered` (the parallel module's cache
    look-up) runs for the files the first stage keeps, before the costlier second stage (a scan for
    every token a rule looks at: ~50 ms over the keras tree).

    Plain substring searches (fast), then LOSS_ASSIGNMENT tried only where its words occur (a regex
    search from every byte of a large file costs more than all the substring scans)."""
    text = narrow(data)
    framework = names_a_framework(text)
    if not framework and not assigns_loss(text):
        return False
    found = remembered()
    if found is not None:
        return found
    return names_a_rule(text) if framework else True


def narrow(data: bytes) -> bytes:
    """What the stages below read: UTF-16 or 32 as UTF-8 (read the text, then say why Python cannot),
    anything else as it is."""
    if data[:2] in _WIDE_BOMS and wide_encoding(data):
        return data.decode(wide_encoding(data), errors="replace").encode("utf-8")
    return data


def names_a_framework(text: bytes) -> bool:
    return any(token in text for token in FRAMEWORK_TOKENS)


def names_a_rule(text: bytes) -> bool:
    return any(token in text for token in RULE_TOKENS)


def assigns_loss(text: bytes) -> bool:
    return _assigns_loss(text, b"loss", True) or _assigns_loss(text, b"criterion", False)


def _assigns_loss(data: bytes, word: bytes, at_word_start: bool) -> bool:
    """Whether LOSS_ASSIGNMENT matches at some occurrence of `word`."""
    start = data.find(word)
    while start != -1:
        if (not at_word_start or start == 0 or data[start - 1] not in _WORD_BYTES) \
                and _ASSIGNED.match(data, start + len(word)):
            return True
        start = data.find(word, start + 1)
    return False


_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00")


def wide_encoding(data: bytes):
    """UTF-16 or UTF-32 when the bytes start with one of their byte order marks, else None."""
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    return "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else None
