"""Shared pytest configuration: hypothesis profiles.

``ci`` (the default) keeps the property tests fast enough for every run;
``thorough`` searches much harder. Pick one with ``HYPOTHESIS_PROFILE``:

    HYPOTHESIS_PROFILE=thorough pytest tests/test_shapes.py
"""

import os

from hypothesis import HealthCheck, settings

# deadline=None: the first call of a test imports scipy and warms numpy's
# caches, and a shared CI runner is noisy; timing is not what is tested.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=30,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=2000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
