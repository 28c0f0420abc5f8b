"""Test-wide settings."""

import os

from hypothesis import settings

# In CI the property tests replay the same examples every run: a landing is never decided by a
# lucky draw. Locally they explore (`HYPOTHESIS_PROFILE=dev`, the default).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
