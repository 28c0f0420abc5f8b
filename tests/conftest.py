"""Test-wide settings."""

import os

from hypothesis import settings

# The property and fuzz tests replay the same examples on every run (derandomized): a landing is never
# decided by a lucky draw, and each falsifying example found so far is pinned with @example.
# `HYPOTHESIS_PROFILE=explore` draws new examples instead (the README's long fuzz command).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
