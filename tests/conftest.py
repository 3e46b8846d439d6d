"""Shared test settings: hypothesis profiles and the optional PyTorch oracle.

The default profile, ``ci``, draws the same examples on every run (``derandomize``): a run that passed passes
again, so a red CI names a change, not a new draw. ``--hypothesis-profile=thorough`` draws many more, new ones
each run: the way to hunt for what the fixed draws miss.

Every test also starts glassgrad's, PyTorch's (when loaded), NumPy's and Python's global random streams from a
seed of its own name (``seed_every_stream``): with pytest-xdist a test's worker and the tests before it change
from run to run, so without it a test that draws (dropout, ``randn``) saw another stream each run.
"""

from __future__ import annotations

import os
import random
import sys
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          derandomize=True)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def seed_every_stream(request) -> None:
    """Start every global random stream from a seed of the test's own id, so a test draws the same numbers in
    every run, whichever worker runs it and whatever ran before it."""
    import glassgrad

    seed = zlib.crc32(request.node.nodeid.encode())
    glassgrad.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


@pytest.fixture(scope="session")
def torch():
    """PyTorch 2.13 (CPU) as an oracle; the test is skipped, saying why, when it is missing."""
    return pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")


@pytest.fixture
def refuse_new_files(monkeypatch):
    """A function that, once called, makes every folder refuse new files as an immutable one does (``chattr +i``
    binds even root, so a test run as root can rely on it): creating ``write_atomically``'s temporary file raises
    ``PermissionError`` naming that temporary file, exactly the error a user hits, and ``shutil.copyfile`` into a
    folder fails the same way. Call it after the test has written what it needs."""
    import shutil

    real_open = os.open

    def refuse(path):
        raise PermissionError(1, "Operation not permitted", os.fspath(path))

    def open_refusing_temporaries(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and os.path.basename(os.fspath(path)).endswith(".tmp"):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def start() -> None:
        monkeypatch.setattr(os, "open", open_refusing_temporaries)
        monkeypatch.setattr(shutil, "copyfile", lambda source, destination, **kwargs: refuse(destination))

    return start
