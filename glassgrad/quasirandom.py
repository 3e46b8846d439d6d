"""``torch.quasirandom``: ``SobolEngine``, the low-discrepancy points Bayesian-optimization code spreads its
candidates with.

A Sobol' sequence fills the unit cube ``[0, 1)^d`` more evenly than uniform random draws: its first 2^m points put
exactly one point in each of 2^m equal boxes of a dyadic grid (the "balance" that ``draw_base2`` keeps). Point i's
coordinate j is the XOR of the direction numbers ``v_{j,k}`` for the bits k set in i's Gray code, so each new
point flips one direction number into the previous one. The direction numbers are Joe and Kuo's (2008), as in
PyTorch, so the unscrambled points are PyTorch's to the last bit; they come from SciPy's ``qmc.Sobol``.
``scramble=True`` applies a random linear matrix scramble and digital shift (Owen's), seeded by ``seed`` or, when
it is None, by glassgrad's generator (:func:`glassgrad.manual_seed`): other numbers than PyTorch's scramble.

>>> import glassgrad as gg
>>> gg.quasirandom.SobolEngine(2).draw(4).tolist()
[[0.0, 0.0], [0.5, 0.5], [0.75, 0.25], [0.25, 0.75]]
"""

from __future__ import annotations

import warnings
from typing import Any

from .creation import pick_generator
from .dtypes import get_default_dtype
from .tensor import Tensor


class SobolEngine:
    """Draws points of a (scrambled) Sobol' sequence in ``[0, 1)^dimension``, one row per point."""

    MAXDIM = 21201

    def __init__(self, dimension: int, scramble: bool = False, seed: int | None = None) -> None:
        from scipy.stats import qmc  # here, not at the top: `import glassgrad` does not load SciPy

        if not 1 <= dimension <= self.MAXDIM:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]")
        self.dimension, self.scramble, self.seed = dimension, scramble, seed
        scramble_seed = seed if seed is not None or not scramble else int(pick_generator(None, None).integers(2**63))
        self._sequence = qmc.Sobol(dimension, scramble=scramble, seed=scramble_seed)
        self.num_generated = 0

    def draw(self, n: int = 1, out: Tensor | None = None, dtype: Any = None) -> Tensor:
        """The next ``n`` points, shape ``(n, dimension)``, in ``dtype`` (the default dtype when None)."""
        with warnings.catch_warnings():  # SciPy warns unless n keeps the balance; PyTorch's draw() does not
            warnings.filterwarnings("ignore", message="The balance properties of Sobol")
            points = self._sequence.random(n)
        self.num_generated += n
        drawn = Tensor._wrap(points.astype(dtype or get_default_dtype()))
        if out is not None:
            out.resize_as_(drawn).copy_(drawn)
            return out
        return drawn

    def draw_base2(self, m: int, out: Tensor | None = None, dtype: Any = None) -> Tensor:
        """The next ``2^m`` points, refused where the points drawn so far plus these would not be a power of 2
        (the balance of the sequence would be lost; ``draw`` takes any number)."""
        total = self.num_generated + 2 ** m
        if total & (total - 1):
            raise ValueError("The balance properties of Sobol' points require n to be a power of 2. "
                             f"{self.num_generated} points have been previously generated, then: "
                             f"n={self.num_generated}+2**{m}={total}. If you still want to do this, please use "
                             "'SobolEngine.draw()' instead.")
        return self.draw(2 ** m, out, dtype)

    def reset(self) -> SobolEngine:
        """Back to the first point (the same scramble)."""
        self._sequence.reset()
        self.num_generated = 0
        return self

    def fast_forward(self, n: int) -> SobolEngine:
        """Skip the next ``n`` points (none for 0; a negative count is refused: a sequence does not go back)."""
        if n < 0:
            raise ValueError(f"SobolEngine.fast_forward({n}): n must be >= 0 (to go back to the start, call reset())")
        if n:
            self._sequence.fast_forward(n)
        self.num_generated += n
        return self

    def __repr__(self) -> str:
        return f"SobolEngine(dimension={self.dimension}, scramble={self.scramble}, seed={self.seed})"
