"""Three standard parametrizations (:mod:`glassgrad.nn.utils.parametrize`): weight, spectral and orthogonal.

* :func:`weight_norm` learns a length ``g = original0`` and a direction ``v = original1``::

      w = g · v / ‖v‖          (‖v‖ over every dim but ``dim``; over all of them for dim=None)

* :func:`spectral_norm` divides the weight by its largest singular value σ, found by power iteration on the
  weight as a matrix ``W`` (``dim`` first, the rest flattened). In training mode each read of the weight
  takes ``n_power_iterations`` steps, updating the buffers ``_u`` and ``_v`` in place, outside the graph::

      u ← Wv / ‖Wv‖,   v ← Wᵀu / ‖Wᵀu‖,   σ = uᵀ W v,   w = W / σ   (the gradient flows through W only)

* :func:`orthogonal` makes ``W`` orthogonal (``WᵀW = I`` for a tall W, ``WWᵀ = I`` for a wide one) from an
  unconstrained matrix ``X``: with ``A = tril(X) − tril(X)ᵀ`` (skew-symmetric), ``Q = exp(A)`` ("matrix_exp")
  or ``Q = (I − A/2)⁻¹(I + A/2)`` ("cayley"), its first columns; or ("householder") the product of the
  reflections ``I − τᵢ vᵢvᵢᵀ`` with ``vᵢ`` the columns of X below the diagonal (and 1 on it),
  ``τᵢ = 2 / ‖vᵢ‖²``. With ``use_trivialization=True`` the weight is ``base · Q``, ``base`` an orthogonal
  buffer set when the weight is assigned, so that training starts at Q = I.

>>> import glassgrad as gg
>>> layer = gg.nn.utils.parametrizations.weight_norm(gg.nn.Linear(3, 2))
>>> [name for name, _ in layer.named_parameters()]
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ...autograd import bump_version, call_recorder, recorded_call
from ...creation import default_generator, eye
from ...functions import cat
from ...linalg import solve
from ...linalg_decompositions import householder_product
from ...linalg_exp import matrix_exp
from ...tensor import Tensor
from ..functional import normalize
from ..module import Module
from .normalized_weights import check_power_iterations, direction_lengths, length_dim, spectral_dim, unit, weight_matrix
from .parametrize import register_parametrization

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _tensor(module: Module, name: str, owner: str) -> Tensor:
    value = getattr(module, name, None)
    if not isinstance(value, Tensor):
        raise ValueError(f"{owner}: {type(module).__name__} has no parameter or buffer {name!r}")
    return value


# --- weight norm -------------------------------------------------------------------------------

class _WeightNorm(Module):
    """``w = g · v / ‖v‖``; its right inverse splits a weight into ``(g, v) = (‖w‖, w)``."""

    def __init__(self, dim: int | None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / direction_lengths(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return Tensor._wrap(recorded_call(direction_lengths, weight.array, self.dim)), weight  # a kernel of a step


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Learn ``module.<name>`` as a length and a direction: ``original0 = g``, ``original1 = v``.

    ``dim``: the dim that keeps one length per slice (0: per output row); None or −1 (as PyTorch): one length.
    """
    weight = _tensor(module, name, "weight_norm")
    register_parametrization(module, name, _WeightNorm(length_dim(weight, dim)), unsafe=True)
    module._register_load_state_dict_pre_hook(functools.partial(_old_weight_norm_keys, name))
    return module


def _old_weight_norm_keys(name: str, state_dict: dict, prefix: str, *rest: Any) -> None:
    """A checkpoint of the older ``nn.utils.weight_norm`` (``weight_g``, ``weight_v``) loads, as in PyTorch: its two
    entries are renamed to this parametrization's ``parametrizations.weight.original0`` and ``original1``."""
    length, direction = f"{prefix}{name}_g", f"{prefix}{name}_v"
    if length in state_dict and direction in state_dict:
        state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(length)
        state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(direction)


# --- spectral norm -----------------------------------------------------------------------------

INITIAL_POWER_ITERATIONS = 15
"""Power-iteration steps taken at registration, so that ``u`` and ``v`` start near the singular vectors."""


def _power_iteration(matrix: np.ndarray, u: np.ndarray, v: np.ndarray, steps: int,
                     eps: float) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` steps on ``u`` and ``v`` in place; returns copies of both (σ's factors, safe from later steps)."""
    for _ in range(steps):
        u[...] = unit(matrix @ v, eps)
        v[...] = unit(matrix.T @ u, eps)
    if steps:
        bump_version(u)
        bump_version(v)
    return u.copy(), v.copy()


class _SpectralNorm(Module):
    """``w = W / σ`` with ``σ ≈ uᵀ W v`` from power iteration (see the module docstring)."""

    def __init__(self, weight: Tensor, n_power_iterations: int, dim: int, eps: float) -> None:
        super().__init__()
        self.dim = dim
        self.n_power_iterations, self.eps = n_power_iterations, eps
        if weight.ndim > 1:
            matrix = weight_matrix(weight.array, self.dim)
            generator = default_generator.numpy_generator
            rows, columns = matrix.shape
            self.register_buffer("_u", Tensor._wrap(unit(generator.standard_normal(rows).astype(weight.dtype), eps)))
            self.register_buffer("_v", Tensor._wrap(unit(generator.standard_normal(columns).astype(weight.dtype), eps)))
            _power_iteration(matrix, self._u.array, self._v.array, INITIAL_POWER_ITERATIONS, eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        matrix = weight_matrix(weight, self.dim)
        arguments = (matrix.array, self._u.array, self._v.array, self.n_power_iterations if self.training else 0,
                     self.eps)
        recorder = call_recorder()  # a compiled step (glassgrad.compiler) replays the iteration as one kernel
        u, v = recorder.on_call(_power_iteration, arguments) if recorder is not None else _power_iteration(*arguments)
        sigma = (Tensor._wrap(u) * (matrix @ Tensor._wrap(v))).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its largest singular value on every read (see the module docstring).

    ``_u`` and ``_v`` start as unit vectors of normal draws from glassgrad's generator, then take 15 steps
    (PyTorch draws from its own: copy its ``parametrizations.weight.0._u``/``_v`` to compare); ``dim``
    defaults to 0, and to 1 for transposed convolutions.
    """
    weight = _tensor(module, name, "spectral_norm")
    register_parametrization(module, name, _SpectralNorm(weight, check_power_iterations(n_power_iterations),
                                                         spectral_dim(module, weight, dim), eps))
    return module


# --- orthogonal --------------------------------------------------------------------------------

ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _orthogonal_part(matrix: np.ndarray) -> np.ndarray:
    """Q of ``matrix = QR`` with R's diagonal made ≥ 0 (the one QR with that sign; outside the graph)."""
    q, r = np.linalg.qr(matrix)
    return q * np.sign(np.diagonal(r))


class _Orthogonal(Module):
    """An orthogonal matrix from an unconstrained one (see the module docstring)."""

    def __init__(self, weight: Tensor, orthogonal_map: str, use_trivialization: bool) -> None:
        super().__init__()
        self.shape, self.orthogonal_map = tuple(weight.shape), orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, unconstrained: Tensor) -> Tensor:
        rows, columns = unconstrained.shape
        wide = rows < columns
        if wide:
            unconstrained, rows, columns = unconstrained.mT, columns, rows
        if self.orthogonal_map == "householder":
            below = unconstrained.tril(-1)
            tau = 2.0 / (1.0 + (below * below).sum(0))
            signs = unconstrained.diagonal().detach().trunc()  # ±1, never learned
            result = householder_product(below, tau) * signs.unsqueeze(0)
        else:
            lower = unconstrained.tril()
            if rows != columns:
                lower = cat([lower, lower.new_zeros(rows, rows - columns)], dim=1)
            skew = lower - lower.mT
            if self.orthogonal_map == "matrix_exp":
                square = matrix_exp(skew)
            else:
                identity = eye(rows, dtype=skew.dtype)
                square = solve(identity - 0.5 * skew, identity + 0.5 * skew)
            result = square[:, :columns]
        base = self._buffers.get("base")
        if base is not None:
            result = base @ result
        return result.mT if wide else result

    def right_inverse(self, weight: Tensor) -> Tensor:
        if tuple(weight.shape) != self.shape:
            raise ValueError(f"orthogonal: expected a matrix of shape {self.shape}, got {tuple(weight.shape)}")
        wide = weight.shape[0] < weight.shape[1]
        matrix = weight.array.T if wide else weight.array
        if "base" not in self._buffers:
            reflections = self._householder_inverse(matrix)
            return Tensor._wrap(np.array(reflections.T if wide else reflections))
        rows, columns = matrix.shape
        if rows != columns:  # completed to a square matrix by normal draws, as PyTorch does
            filler = default_generator.numpy_generator.standard_normal((rows, rows - columns)).astype(matrix.dtype)
            base = _orthogonal_part(np.concatenate([matrix, filler], axis=1))
        elif np.allclose(matrix.T @ matrix, np.eye(columns), atol=10 * rows * np.finfo(matrix.dtype).eps):
            base = matrix.copy()
        else:
            base = _orthogonal_part(matrix)
        self.base = Tensor._wrap(np.array(base))
        minus_identity = np.zeros(weight.shape, dtype=weight.dtype)
        np.fill_diagonal(minus_identity, -1.0)
        return Tensor._wrap(np.array(minus_identity))

    def _householder_inverse(self, matrix: np.ndarray) -> np.ndarray:
        """The reflections of ``matrix``'s QR (LAPACK's geqrf), with the signs of R's diagonal on the diagonal."""
        if self.orthogonal_map != "householder":
            raise NotImplementedError(f"orthogonal: a weight cannot be assigned to the {self.orthogonal_map} map "
                                      "with use_trivialization=False; use use_trivialization=True")
        reflections, tau = np.linalg.qr(matrix, mode="raw")
        reflections = reflections.T.copy()
        diagonal = np.sign(np.diagonal(reflections))
        diagonal[tau == 0] *= -1
        np.fill_diagonal(reflections, diagonal)
        return reflections


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Keep ``module.<name>`` orthogonal (see the module docstring).

    ``orthogonal_map``: "matrix_exp" (the default for a square weight), "cayley" or "householder" (the
    default otherwise). The weight must be one matrix (glassgrad does not take a batch of them).
    """
    weight = _tensor(module, name, "orthogonal")
    if weight.ndim != 2:
        raise ValueError(f"orthogonal: expected a matrix (2 dims; glassgrad takes no batch of matrices), got a "
                         f"tensor of {weight.ndim} dims")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[0] == weight.shape[1] else "householder"
    if orthogonal_map not in ORTHOGONAL_MAPS:
        raise ValueError(f'orthogonal: orthogonal_map has to be one of "matrix_exp", "cayley", "householder", '
                         f"got {orthogonal_map!r}")
    register_parametrization(module, name, _Orthogonal(weight, orthogonal_map, use_trivialization), unsafe=True)
    return module
