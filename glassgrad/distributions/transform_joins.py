"""Transforms that apply other transforms piece by piece: ``CatTransform`` and ``StackTransform``.

* ``CatTransform([t₁, …], dim, lengths)``: ``tᵢ`` on the i-th block of ``lengths[i]`` entries along ``dim``, the
  results joined by ``gg.cat``; the log-det is each block's, joined along ``dim`` when it is a batch dim and
  added when ``dim`` lies inside the event;
* ``StackTransform([t₁, …], dim)``: ``tᵢ`` on the i-th slice along ``dim``, joined by ``gg.stack`` (and so are
  the log-dets).

>>> import glassgrad as gg
>>> from glassgrad.distributions.transforms import CatTransform, ExpTransform, identity_transform
>>> CatTransform([ExpTransform(), identity_transform], lengths=[1, 2])(gg.tensor([0.0, 5.0, 6.0])).tolist()
[1.0, 5.0, 6.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..arguments import shape_text
from ..functions import cat, stack
from ..tensor import Tensor
from . import constraints
from .independent import sum_rightmost
from .transform_base import Transform


class _Pieces(Transform):
    """What CatTransform and StackTransform share: one transform per piece of a value along ``dim``."""

    def __init__(self, tseq: Sequence[Transform], dim: int, cache_size: int) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise TypeError(f"{type(self).__name__}: every entry of tseq must be a Transform")
        super().__init__(cache_size)
        self.transforms = [t.with_cache(cache_size) for t in tseq] if cache_size else list(tseq)
        self.dim = dim

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    def pieces(self, value: Tensor) -> list[Tensor]:
        raise NotImplementedError(f"{type(self).__name__} must define pieces()")

    def join(self, pieces: list[Tensor], dim: int) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define join()")

    def _call(self, x: Tensor) -> Tensor:
        return self.join([t(piece) for t, piece in zip(self.transforms, self.pieces(x))], self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.join([t.inv(piece) for t, piece in zip(self.transforms, self.pieces(y))], self.dim)


class CatTransform(_Pieces):
    """``tseq[i]`` on the i-th block of ``lengths[i]`` entries along ``dim``, the results joined by ``gg.cat``."""

    def __init__(self, tseq: Sequence[Transform], dim: int = 0, lengths: Sequence[int] | None = None,
                 cache_size: int = 0) -> None:
        super().__init__(tseq, dim, cache_size)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.transforms)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(f"CatTransform: {len(self.transforms)} transforms need as many lengths, "
                             f"got {len(self.lengths)}")

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self if cache_size == self._cache_size else CatTransform(self.transforms, self.dim, self.lengths,
                                                                        cache_size)

    @property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)

    def pieces(self, value: Tensor) -> list[Tensor]:
        if not -value.ndim <= self.dim < value.ndim or value.shape[self.dim] != sum(self.lengths):
            raise ValueError(f"CatTransform: a value of shape {shape_text(value.shape)} needs {sum(self.lengths)} "
                             f"entries along dim {self.dim} (the lengths {self.lengths})")
        starts = np.cumsum([0] + self.lengths[:-1])
        return [value.narrow(self.dim, int(start), length) for start, length in zip(starts, self.lengths)]

    def join(self, pieces: list[Tensor], dim: int) -> Tensor:
        return cat(pieces, dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """Each block's log-det (summed up to the widest event); joined along ``dim`` when it is a batch dim,
        added when ``dim`` lies inside the event."""
        terms = [sum_rightmost(t.log_abs_det_jacobian(here, there), self.event_dim - t.event_dim)
                 for t, here, there in zip(self.transforms, self.pieces(x), self.pieces(y))]
        from_the_end = (self.dim - x.ndim if self.dim >= 0 else self.dim) + self.event_dim
        return cat(terms, from_the_end) if from_the_end < 0 else sum(terms[1:], terms[0])


class StackTransform(_Pieces):
    """``tseq[i]`` on the i-th slice along ``dim``, the results joined by ``gg.stack``."""

    def __init__(self, tseq: Sequence[Transform], dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(tseq, dim, cache_size)

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self if cache_size == self._cache_size else StackTransform(self.transforms, self.dim, cache_size)

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.stack([t.codomain for t in self.transforms], self.dim)

    def pieces(self, value: Tensor) -> list[Tensor]:
        if not -value.ndim <= self.dim < value.ndim or value.shape[self.dim] != len(self.transforms):
            raise ValueError(f"StackTransform: a value of shape {shape_text(value.shape)} needs "
                             f"{len(self.transforms)} slices along dim {self.dim}, one per transform")
        return list(value.unbind(self.dim))

    def join(self, pieces: list[Tensor], dim: int) -> Tensor:
        return stack(pieces, dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return stack([t.log_abs_det_jacobian(here, there)
                      for t, here, there in zip(self.transforms, self.pieces(x), self.pieces(y))], self.dim)
