"""Shared test settings: hypothesis profiles and the optional PyTorch oracle.

``--hypothesis-profile=thorough`` runs many more examples than the default CI profile.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def torch():
    """PyTorch 2.13 (CPU) as an oracle; the test is skipped, saying why, when it is missing."""
    return pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
