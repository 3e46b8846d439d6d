"""bench/train.py's memory column: each child reports its own peak, not its parent's (not timed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def child_peak_mb(body: str) -> float:
    """Run ``body`` in a fresh Python, then bench/train.py's ``own_peak_mb()`` there."""
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r})\n{body}\n"
    code += "from train import own_peak_mb; print(own_peak_mb())"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_child_that_allocates_200_mb_reports_at_least_200_mb():
    peak = child_peak_mb("import numpy as np; block = np.ones(200 * 2**20 // 8)  # 200 MB, every page written")
    assert peak >= 200


@pytest.mark.torch
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_parent_that_imported_torch_does_not_raise_a_small_childs_peak(torch):
    block = torch.ones(300 * 2**20 // 4)  # this process now holds torch and 300 MB more
    own = child_peak_mb("import glassgrad")
    assert float(block[0]) == 1.0
    assert own < 150  # glassgrad and NumPy: tens of MB; ru_maxrss would report the parent's 300+
