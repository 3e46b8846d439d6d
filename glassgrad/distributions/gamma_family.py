"""The gamma family and its relatives: ``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet``, ``StudentT``.

With ``B(a, b) = Γ(a)Γ(b)/Γ(a + b)``, ``ψ`` the digamma function and ``α₀ = Σαᵢ``:

* Gamma(α, β) (shape α, rate β): ``log p(x) = α·ln β + (α − 1)·ln x − β·x − lnΓ(α)``, mean ``α/β``, variance
  ``α/β²``, mode ``max(α − 1, 0)/β``, entropy ``α − ln β + lnΓ(α) + (1 − α)·ψ(α)``;
* Chi2(ν) = Gamma(ν/2, ½): the sum of ν squared standard normals;
* Beta(a, b) on [0, 1]: ``log p(x) = (a − 1)·ln x + (b − 1)·ln(1 − x) − ln B(a, b)``, mean ``a/(a + b)``, variance
  ``ab/((a + b)²(a + b + 1))``, entropy ``ln B(a, b) − (a − 1)ψ(a) − (b − 1)ψ(b) + (a + b − 2)ψ(a + b)``;
* Dirichlet(α) on the simplex (event shape ``(K,)``): ``log p(x) = Σ(αᵢ − 1)·ln xᵢ + lnΓ(α₀) − Σ lnΓ(αᵢ)``, mean
  ``α/α₀``, variance ``αᵢ(α₀ − αᵢ)/(α₀²(α₀ + 1))``, mode ``(αᵢ − 1)⁺/Σ(αⱼ − 1)⁺`` (NaN where every αᵢ ≤ 1),
  entropy ``Σ lnΓ(αᵢ) − lnΓ(α₀) + (α₀ − K)ψ(α₀) − Σ(αᵢ − 1)ψ(αᵢ)``; Beta(a, b) is Dirichlet((a, b))'s first entry;
* StudentT(ν, μ, σ): with ``z = (x − μ)/σ``, ``log p(x) = −½(ν + 1)·ln(1 + z²/ν) − ln σ − ½ln(νπ) − lnΓ(ν/2)
  + lnΓ((ν + 1)/2)``, mean μ (for ν > 1), variance ``σ²ν/(ν − 2)`` (ν > 2; +inf for 1 < ν ≤ 2), entropy
  ``ln σ + ½(ν + 1)(ψ((ν + 1)/2) − ψ(ν/2)) + ½ln ν + ln B(ν/2, ½)``.

Draws come from NumPy's gamma sampler of glassgrad's generator. Each has ``rsample``, built on one draw, the
standard gamma ``g ~ Gamma(α, 1)`` (:func:`standard_gamma`): Gamma is ``g/β``, Dirichlet ``g/Σg``, Beta the
first entry of Dirichlet((a, b)), Chi2 Gamma(ν/2, ½), StudentT ``μ + σ·ε/√(c/ν)`` with ε normal and c a Chi2(ν)
draw. A gamma draw's derivative in its shape α has no closed form: held at its quantile, ``F(g; α) = u``, it is
the implicit ``∂g/∂α = −(∂P/∂α)(α, g)/p(g; α)`` (as PyTorch's), with ``∂P/∂α`` from a five-point difference in α
of SciPy's regularised incomplete gamma (P, or its complement Q above α, where Q keeps the digits): relative
error about 1e-8 for α ≥ 1, 1e-5 for α near 0.05 (PyTorch's approximation: about 1e-3).

``Gamma.cdf`` is ``P(α, βx)``, the regularised incomplete gamma function: differentiable in x and β, while a
gradient asked of α is refused (as PyTorch's).

>>> import glassgrad as gg
>>> round(gg.distributions.Gamma(2.0, 3.0).log_prob(gg.tensor(1.0)).item(), 4)   # 2·ln 3 + ln 1 − 3 − lnΓ(2)
-0.8028
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import Size
from ..autograd import is_grad_enabled, no_grad, recorded_call
from ..creation import _stream, as_tensor
from ..custom_function import Function
from ..dtypes import finfo
from ..functions import stack
from ..tensor import Tensor
from . import constraints
from .base import Distribution, as_float, broadcast_all, check_positive, check_real, expand_to, noise, validating


def log_beta(a: Tensor, b: Tensor) -> Tensor:
    """``ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a + b)``."""
    return a.lgamma() + b.lgamma() - (a + b).lgamma()


def standard_gamma_grad(alpha: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """``∂g/∂α = −(∂P/∂α)(α, g)/p(g; α)`` for Gamma(α, 1) draws g: ``∂P/∂α`` by the five-point difference
    ``(P(α−2h) − 8P(α−h) + 8P(α+h) − P(α+2h))/(12h)``, h = α/1000 (error of order h⁴), of −Q = P − 1 above α.
    Worked out in float64 whatever the dtype: in float32, α ± h would be rounded to 1e-7 of α, and the difference
    divided by h would keep only about four digits."""
    from scipy import special  # here, not at the top: `import glassgrad` does not load SciPy
    alpha, draws = alpha.astype(np.float64), draws.astype(np.float64)
    step = alpha / 1000
    above = draws > alpha

    def cdf(shape: np.ndarray) -> np.ndarray:
        return np.where(above, -special.gammaincc(shape, draws), special.gammainc(shape, draws))

    differences = cdf(alpha - 2 * step) - 8 * cdf(alpha - step) + 8 * cdf(alpha + step) - cdf(alpha + 2 * step)
    slope = differences / (12 * step)
    density = np.exp((alpha - 1) * np.log(draws) - draws - special.gammaln(alpha))
    return -slope / density


def standard_gamma(concentration: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Gamma(α, 1) draws g of ``shape`` (α broadcast to it), differentiable in α: ``g + (α − stop_gradient(α))·s``
    with ``s = ∂g/∂α`` (:func:`standard_gamma_grad` at the draws handed out), whose value is g (the second term is
    0; where it is not a number, α or s infinite, it is taken as 0) and whose gradient is ``s``. The draws and s are
    kernels of a compiled step (:func:`gamma_draws`, :func:`gamma_slopes`), worked out again at each replay."""
    alpha = expand_to(concentration, shape)
    draws = Tensor._wrap(recorded_call(gamma_draws, alpha.array))
    if not (alpha.requires_grad and is_grad_enabled()):
        return draws
    shift = (alpha - alpha.detach()) * Tensor._wrap(recorded_call(gamma_slopes, alpha.array, draws.array))
    return draws + shift.masked_fill(shift.detach().isfinite().logical_not(), 0.0)


def gamma_draws(alpha: np.ndarray) -> np.ndarray:
    """One Gamma(α, 1) draw per entry of ``alpha`` from glassgrad's stream, in its dtype, kept ≥ the dtype's smallest
    normal number (as PyTorch clamps): one kernel of a compiled step, which draws again at each call."""
    return np.asarray(np.maximum(_stream(None, None).gamma(alpha), finfo(alpha.dtype).tiny), dtype=alpha.dtype)


def gamma_slopes(alpha: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """:func:`standard_gamma_grad` in the draws' dtype: one kernel of a compiled step."""
    return np.asarray(standard_gamma_grad(alpha, draws), dtype=draws.dtype)


class GammaDrawn(Distribution):
    """A family drawn from standard gamma draws: ``rsample`` is :meth:`draw` (differentiable in every parameter),
    ``sample`` the same without a gradient."""

    has_rsample = True

    def draw(self, sample_shape: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define draw()")

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.draw(sample_shape)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            return self.draw(sample_shape)


class Gamma(GammaDrawn):
    """The gamma distribution with shape ``concentration`` α and ``rate`` β (mean ``α/β``)."""

    params = {"concentration": 0, "rate": 0}
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        check_positive(type(self).__name__, "concentration", self.concentration, validate_args)
        check_positive(type(self).__name__, "rate", self.rate, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.concentration.shape)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate ** 2

    def draw(self, sample_shape: Any) -> Tensor:
        """``g/β``, g ~ Gamma(α, 1)."""
        return standard_gamma(self.concentration, self._draw_shape(sample_shape)) / self.rate

    def log_prob(self, value: Any) -> Tensor:
        """The density of ``value`` read in the parameters' dtype (as PyTorch's, which casts it first: a float64
        value scores in float32 for float32 parameters, and a Python number is accepted)."""
        x = self.in_support(as_tensor(value, dtype=self.rate.dtype))
        return (self.concentration.xlogy(self.rate) + (self.concentration - 1).xlogy(x) - self.rate * x
                - self.concentration.lgamma())

    def cdf(self, value: Any) -> Tensor:
        """``P(α, βx)``, the regularised lower incomplete gamma function; differentiable in x and β (not in α)."""
        y = self.rate * self.in_support(value, "cdf")
        return RegularisedGamma.apply(expand_to(self.concentration, tuple(y.shape)), y)

    def entropy(self) -> Tensor:
        alpha = self.concentration
        return alpha - self.rate.log() + alpha.lgamma() + (1 - alpha) * alpha.digamma()


class RegularisedGamma(Function):
    """``P(α, y) = γ(α, y)/Γ(α)`` (SciPy's ``gammainc``), with ``∂P/∂y = y^{α−1}e^{−y}/Γ(α)``, the Gamma(α, 1)
    density; ``∂P/∂α`` has no closed form, so a gradient asked of α is refused (as PyTorch's)."""

    @staticmethod
    def forward(ctx: Any, concentration: Tensor, y: Tensor) -> Tensor:
        from scipy import special  # here, not at the top: `import glassgrad` does not load SciPy
        ctx.save_for_backward(concentration, y)
        return y.new_tensor(special.gammainc(concentration.numpy(), y.numpy()))

    @staticmethod
    def backward(ctx: Any, upstream: Tensor) -> tuple[None, Tensor]:
        concentration, y = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("Gamma.cdf: no gradient with respect to the concentration (the incomplete gamma "
                                      "function's derivative in its shape has no closed form); detach it first")
        return None, upstream * ((concentration - 1).xlogy(y) - y - concentration.lgamma()).exp()


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` ν degrees of freedom: Gamma(ν/2, rate ½)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        (df,) = broadcast_all(df)
        check_positive("Chi2", "df", df, validate_args)
        super().__init__(df / 2, 0.5, validate_args)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2


class Beta(GammaDrawn):
    """The beta distribution on ``[0, 1]`` with ``concentration1`` a (pulling towards 1) and ``concentration0`` b."""

    params = {"concentration1": 0, "concentration0": 0}
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        check_positive("Beta", "concentration1", self.concentration1, validate_args)
        check_positive("Beta", "concentration0", self.concentration0, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.concentration1.shape)

    @property
    def dirichlet(self) -> Dirichlet:
        """Dirichlet((a, b)), whose first entry this is."""
        return Dirichlet(stack([self.concentration1, self.concentration0], -1), validate_args=False)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self.dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def draw(self, sample_shape: Any) -> Tensor:
        """The first entry of a Dirichlet((a, b)) draw: ``g₁/(g₁ + g₀)``."""
        return self.dirichlet.draw(sample_shape)[..., 0]

    def log_prob(self, value: Any) -> Tensor:
        x = self.in_support(value)
        a, b = self.concentration1, self.concentration0
        return (a - 1).xlogy(x) + (b - 1).xlogy(1 - x) - log_beta(a, b)

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return log_beta(a, b) - (a - 1) * a.digamma() - (b - 1) * b.digamma() + (a + b - 2) * (a + b).digamma()



class Dirichlet(GammaDrawn):
    """The Dirichlet distribution over probability vectors of length K, with ``concentration`` α (last dim K)."""

    params = {"concentration": 1}
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def __init__(self, concentration: Any, validate_args: bool | None = None) -> None:
        self.concentration = as_float(concentration)
        if self.concentration.ndim < 1:
            raise ValueError("Dirichlet: concentration needs the K entries along a last dim, got a 0-d tensor; "
                             "pass a vector such as [1.0, 1.0, 1.0]")
        check_positive("Dirichlet", "concentration", self.concentration, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.concentration.shape[:-1])

    @property
    def event_shape(self) -> Size:
        return self.concentration.shape[-1:]

    @property
    def total(self) -> Tensor:
        """``α₀ = Σαᵢ``, kept as a last dim of 1."""
        return self.concentration.sum(-1, keepdim=True)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.total

    @property
    def mode(self) -> Tensor:
        """``(αᵢ − 1)⁺/Σ(αⱼ − 1)⁺``; NaN where every αᵢ ≤ 1 (PyTorch answers a corner when all αᵢ < 1, but the
        density is unbounded at every corner there: no single mode)."""
        excess = (self.concentration - 1).clamp(min=0)
        total = excess.sum(-1, keepdim=True)
        flat = total.detach() == 0
        return (excess / total.masked_fill(flat, 1.0)).masked_fill(flat, math.nan)

    @property
    def variance(self) -> Tensor:
        total = self.total
        return self.concentration * (total - self.concentration) / (total ** 2 * (total + 1))

    def draw(self, sample_shape: Any) -> Tensor:
        """Independent Gamma(αᵢ, 1) draws divided by their sum (each ≥ the smallest normal number, so a tiny α
        cannot give 0/0)."""
        draws = standard_gamma(self.concentration, self._draw_shape(sample_shape))
        return draws / draws.sum(-1, keepdim=True)

    def log_prob(self, value: Any) -> Tensor:
        x = self.in_support(value)
        alpha = self.concentration
        return (alpha - 1).xlogy(x).sum(-1) + alpha.sum(-1).lgamma() - alpha.lgamma().sum(-1)

    def entropy(self) -> Tensor:
        alpha, k = self.concentration, self.concentration.shape[-1]
        total = alpha.sum(-1)
        return (alpha.lgamma().sum(-1) - total.lgamma() + (total - k) * total.digamma()
                - ((alpha - 1) * alpha.digamma()).sum(-1))


class StudentT(GammaDrawn):
    """Student's t distribution with ``df`` ν degrees of freedom, location ``loc`` and ``scale``."""

    params = {"df": 0, "loc": 0, "scale": 0}
    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        check_real("StudentT", "loc", self.loc, validate_args)
        check_positive("StudentT", "df", self.df, validate_args)
        check_positive("StudentT", "scale", self.scale, validate_args)
        self.validates = validating(validate_args)
        self._batch = tuple(self.df.shape)

    @property
    def mean(self) -> Tensor:
        """μ, NaN for ν ≤ 1 (the integral diverges)."""
        return self.loc.masked_fill(self.df.detach() <= 1, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """``σ²ν/(ν − 2)`` for ν > 2, +inf for 1 < ν ≤ 2, NaN for ν ≤ 1."""
        df = self.df.detach()
        finite = df > 2
        spread = self.scale ** 2 * self.df / (self.df - 2).masked_fill(finite.logical_not(), 1.0)
        return spread.masked_fill(finite.logical_not(), math.inf).masked_fill(df <= 1, math.nan)

    def draw(self, sample_shape: Any) -> Tensor:
        """``μ + σ·ε/√(c/ν)``: ε ~ N(0, 1), c ~ Chi2(ν) = 2·Gamma(ν/2, 1)."""
        shape = self._draw_shape(sample_shape)
        chi2 = 2 * standard_gamma(self.df / 2, shape)
        return self.loc + self.scale * noise(self.df, shape, "standard_normal") * (chi2 / self.df).rsqrt()

    def log_prob(self, value: Any) -> Tensor:
        z = (self.in_support(value) - self.loc) / self.scale
        half_df = self.df / 2
        normaliser = (self.scale.log() + 0.5 * (self.df * math.pi).log() + half_df.lgamma()
                      - (half_df + 0.5).lgamma())
        return -(half_df + 0.5) * (z ** 2 / self.df).log1p() - normaliser

    def entropy(self) -> Tensor:
        half_df = self.df / 2
        return (self.scale.log() + (half_df + 0.5) * ((half_df + 0.5).digamma() - half_df.digamma())
                + 0.5 * self.df.log() + log_beta(half_df, half_df.new_tensor(0.5)))
