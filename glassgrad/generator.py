"""``gg.Generator``: a random stream of one's own, as PyTorch's ``torch.Generator``.

>>> import glassgrad as gg
>>> g = gg.Generator().manual_seed(2147483647)
>>> a = gg.rand(3, generator=g)
>>> b = gg.rand(3, generator=g.manual_seed(2147483647))
>>> bool((a == b).all())
True

Every function with a ``generator=`` argument takes one (or a NumPy ``Generator``). The
numbers differ from PyTorch's for the same seed: glassgrad draws with NumPy's PCG64, PyTorch
with its own Mersenne Twister, so only the repeatability carries over, not the values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import recorded_call
from .device import CPU, check_device, device

DEFAULT_SEED = 67280421310721
"""The seed of a new ``Generator``, PyTorch's ``default_rng_seed_val``."""


class Generator:
    """A seeded random stream; ``manual_seed`` restarts it and returns the generator itself.

    Any NumPy ``Generator`` method (``g.standard_normal(3)``) reaches the stream underneath.
    """

    def __init__(self, device: Any = "cpu") -> None:
        check_device(device)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns ``self`` (``Generator().manual_seed(42)``).

        The seed is a whole number from −2⁶³ to 2⁶⁴ − 1, as PyTorch's; a negative one stands for 2⁶⁴ + seed, as
        PyTorch remaps it (``manual_seed(-1).initial_seed()`` is 2⁶⁴ − 1), so ``manual_seed(hash(name))`` works.
        """
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):  # PyTorch's classes: wrong type, range
            raise RuntimeError(f"manual_seed: the seed must be a whole number from -2**63 to 2**64 - 1, as PyTorch's, "
                               f"not {type(seed).__name__} ({seed!r}); gg.manual_seed(x) reads int(x) first")
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError(f"manual_seed: the seed must be a whole number from -2**63 to 2**64 - 1, as PyTorch's, "
                             f"got {seed!r}")
        recorded_call(_restart, self, int(seed) % 2 ** 64)  # a kernel of a compiled step: restarted at each call
        return self

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._seed

    def seed(self) -> int:
        """Restart the stream from a fresh seed drawn from the operating system; returns that seed."""
        fresh = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(fresh)
        return fresh

    @property
    def device(self) -> device:
        return CPU

    def get_state(self) -> Any:
        """The stream's position as a uint8 tensor (:func:`state_bytes`), to give back to :meth:`set_state`."""
        from .tensor import Tensor

        return Tensor._wrap(recorded_call(_position, self))  # a kernel of a compiled step: read at each call

    def set_state(self, state: Any) -> Generator:
        """Put the stream back where :meth:`get_state` found it; returns ``self``."""
        moved_to(self, state, "Generator.set_state")
        return self

    def clone_state(self) -> Generator:
        """A new generator at this one's position (and with its initial seed): both draw the same numbers next."""
        twin = Generator()
        twin._seed = self._seed
        return twin.set_state(self.get_state())

    def __getattr__(self, name: str) -> Any:
        if name == "numpy_generator":  # not set yet: __init__ has not run
            raise AttributeError(name)
        try:
            return getattr(self.numpy_generator, name)
        except AttributeError:
            raise AttributeError(f"'Generator' object has no attribute {name!r} (glassgrad's Generator has PyTorch's "
                                 "manual_seed, seed, initial_seed, get_state, set_state, clone_state and device, and "
                                 "NumPy's Generator methods)") from None

    def __repr__(self) -> str:
        return f"<glassgrad.Generator seed={self._seed}>"


def _restart(generator: Generator, seed: int) -> None:
    """Restart ``generator``'s stream from ``seed``: one kernel of a compiled step (:func:`recorded_call`), so that
    ``gg.manual_seed(k)`` inside a step restarts the stream at each replayed call, as eager does (a replay that ran no
    Python went on drawing from where the last call left the stream: other dropout masks, other noise)."""
    generator._seed = seed
    generator.numpy_generator = np.random.default_rng(seed)


def _position(generator: Generator) -> np.ndarray:
    """``generator``'s position now (:func:`state_bytes`), a kernel of a compiled step: read again at each call."""
    return state_bytes(generator.numpy_generator.bit_generator)


def moved_to(generator: Generator, state: Any, owner: str) -> None:
    """Move ``generator`` back to ``state`` (:func:`restore_state`; ``owner`` names the caller in an error), as one
    kernel of a compiled step: ``set_rng_state(saved)`` inside a step moves the stream at each replayed call too."""
    recorded_call(_restore, generator, getattr(state, "array", state), owner)


def _restore(generator: Generator, state: Any, owner: str) -> None:
    restore_state(generator.numpy_generator.bit_generator, state, owner)


STATE_BYTES = 37
"""A PCG64 stream's position in bytes: its 128-bit state and increment, then the half-used 32-bit draw (a flag and
the draw), little-endian."""


def state_bytes(bit_generator: np.random.BitGenerator) -> np.ndarray:
    """``bit_generator``'s position as :data:`STATE_BYTES` uint8 numbers (PyTorch keeps its own as a uint8 tensor)."""
    state = bit_generator.state
    packed = (state["state"]["state"].to_bytes(16, "little") + state["state"]["inc"].to_bytes(16, "little")
              + bytes([state["has_uint32"]]) + state["uinteger"].to_bytes(4, "little"))
    return np.frombuffer(packed, dtype=np.uint8).copy()


def restore_state(bit_generator: np.random.BitGenerator, state: Any, owner: str) -> None:
    """Move ``bit_generator`` to the position :func:`state_bytes` wrote; a wrong ``state`` gets one line."""
    array = np.asarray(getattr(state, "array", state))
    if array.dtype != np.uint8 or array.shape != (STATE_BYTES,) or array[32] > 1:
        raise ValueError(f"{owner}: expected the {STATE_BYTES}-number uint8 state that get_rng_state()/get_state() "
                         f"returns, got {array.dtype} of shape {tuple(array.shape)} (a PyTorch state does not carry "
                         "over: glassgrad draws with NumPy's PCG64)")
    packed = array.tobytes()
    bit_generator.state = {"bit_generator": "PCG64",
                           "state": {"state": int.from_bytes(packed[:16], "little"),
                                     "inc": int.from_bytes(packed[16:32], "little")},
                           "has_uint32": packed[32], "uinteger": int.from_bytes(packed[33:], "little")}
