"""PyTorch's ``torch.random``: glassgrad's own random stream, seeded, saved and put back.

>>> import glassgrad as gg
>>> state = gg.random.get_rng_state()
>>> first = gg.rand(2)
>>> gg.random.set_rng_state(state)
>>> bool((gg.rand(2) == first).all())
True

``fork_rng()`` is a block after which the stream is back where it was at its start, whatever was
drawn inside (a draw for a plot, say, that should not shift the training's draws).
"""

from __future__ import annotations

from typing import Any

from .creation import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


class fork_rng:
    """A block whose draws from glassgrad's generator leave the stream where it was at the start (``enabled=False``:
    they do not). ``devices`` and the other arguments are accepted for PyTorch's code (there is only the CPU)."""

    def __init__(self, devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
                 _devices_kw: str = "devices", device_type: str = "cuda") -> None:
        self.enabled = bool(enabled)
        self.saved: list[Any] = []

    def __enter__(self) -> None:
        if self.enabled:
            self.saved.append(get_rng_state())

    def __exit__(self, *exc_info: object) -> None:
        if self.enabled:
            set_rng_state(self.saved.pop())
