"""Shared test settings: hypothesis profiles and the optional PyTorch oracle.

The default profile, ``ci``, draws the same examples on every run (``derandomize``): a run that passed passes
again, so a red CI names a change, not a new draw. ``--hypothesis-profile=thorough`` draws many more, new ones
each run: the way to hunt for what the fixed draws miss.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          derandomize=True)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def torch():
    """PyTorch 2.13 (CPU) as an oracle; the test is skipped, saying why, when it is missing."""
    return pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
