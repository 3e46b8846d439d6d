"""``VonMises``: a distribution of angles, the circle's counterpart of the normal.

With mean direction μ (``loc``) and concentration κ (the larger, the tighter around μ):

* ``log p(x) = κ·cos(x − μ) − ln(2π) − ln I₀(κ)``, I₀ the modified Bessel function of order 0, read as
  ``ln I₀(κ) = ln i0e(κ) + κ`` (``i0e`` the scaled row of :mod:`glassgrad.special`, which does not overflow);
* mean and mode μ; variance the *circular* variance ``1 − E[cos(x − μ)] = 1 − I₁(κ)/I₀(κ)``, as PyTorch's;
* drawn by Best and Fisher's (1979) rejection sampler: a wrapped-Cauchy proposal with parameter
  ``r = (1 + ρ²)/(2ρ)``, ``ρ = (τ − √(2τ))/(2κ)``, ``τ = 1 + √(1 + 4κ²)``, kept until accepted; the angles are
  returned in ``[−π, π)``. No ``rsample`` (a rejection draw is not a smooth map of its noise).

PyTorch evaluates ln I₀ with a polynomial approximation (about 7 significant digits); glassgrad's is SciPy's
``i0e``, exact to rounding, so the two differ past the seventh digit.

>>> import glassgrad as gg
>>> round(gg.distributions.VonMises(0.0, 1e-6).log_prob(gg.tensor(2.0)).exp().item(), 4)   # κ → 0: uniform, 1/2π
0.1592
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import recorded_call
from ..creation import _stream
from ..special import i0e, i1e
from ..tensor import Tensor
from . import constraints
from .base import Distribution, broadcast_all, check_positive, check_real, validating


def _proposal(kappa: np.ndarray) -> np.ndarray:
    """The wrapped-Cauchy parameter ``r`` of the proposal (``1/κ + κ`` for κ < 10⁻⁵, where τ − √(2τ) cancels)."""
    tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
        r = (1 + rho ** 2) / (2 * rho)
        return np.where(kappa < 1e-5, 1 / kappa + kappa, r)


def _rejection_draws(kappa: np.ndarray, generator: Any) -> np.ndarray:
    """Angles ``x − μ`` in ``[−π, π]`` of VonMises(0, κ), one per entry of ``kappa``."""
    r = _proposal(kappa)
    angles = np.zeros_like(kappa)
    pending = np.ones(kappa.shape, dtype=bool)
    while pending.any():
        k, rk = kappa[pending], r[pending]
        u1, u2, u3 = generator.random((3,) + k.shape)
        z = np.cos(math.pi * u1)
        f = (1 + rk * z) / (rk + z)
        c = k * (rk - f)
        with np.errstate(divide="ignore"):
            accepted = (c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0)
        taken = np.flatnonzero(pending)[accepted]
        angles.flat[taken] = np.sign(u3[accepted] - 0.5) * np.arccos(np.clip(f[accepted], -1.0, 1.0))
        pending.flat[taken] = False
    return angles


def _angles(loc: np.ndarray, concentration: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """VonMises(loc, concentration) draws of ``shape`` in ``[−π, π)``, from glassgrad's stream, in ``loc``'s dtype:
    one kernel of a compiled step, which reads the parameters and draws again at each call, as eager does."""
    kappa = np.broadcast_to(concentration.astype(np.float64), shape)
    angles = _rejection_draws(np.ascontiguousarray(kappa), _stream(None, None))
    return np.asarray(np.mod(angles + math.pi + loc, 2 * math.pi) - math.pi, dtype=loc.dtype)

class VonMises(Distribution):
    """Angles around the mean direction ``loc`` with ``concentration`` κ > 0 (κ → 0: uniform on the circle)."""

    params = {"loc": 0, "concentration": 0}
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        check_real("VonMises", "loc", self.loc, validate_args)
        check_positive("VonMises", "concentration", self.concentration, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.loc.shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """The circular variance ``1 − I₁(κ)/I₀(κ)`` (the scaled forms' ratio is the same)."""
        return 1 - i1e(self.concentration) / i0e(self.concentration)

    def log_prob(self, value: Any) -> Tensor:
        kappa = self.concentration
        log_i0 = i0e(kappa).log() + kappa
        return kappa * (self.in_support(value) - self.loc).cos() - math.log(2 * math.pi) - log_i0

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return Tensor._wrap(recorded_call(_angles, self.loc.array, self.concentration.array,
                                          self._draw_shape(sample_shape)))
