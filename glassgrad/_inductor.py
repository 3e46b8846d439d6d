"""``torch._inductor.config`` for :mod:`glassgrad.torch_names`: PyTorch's kernel generator's settings, kept and read
back, changing nothing (glassgrad replays NumPy's kernels: :mod:`glassgrad.compiler.configs`)."""

from __future__ import annotations

from .compiler.configs import INDUCTOR as config

__all__ = ["config"]
