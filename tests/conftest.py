"""Hypothesis profiles: `make test` runs a fixed seed (derandomized, no example database) so a
failure is reproducible and the run time bounded; PCVE_FUZZ=long explores far more examples."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("long", max_examples=2000, database=None, print_blob=True)
settings.load_profile("long" if os.getenv("PCVE_FUZZ") == "long" else "ci")
