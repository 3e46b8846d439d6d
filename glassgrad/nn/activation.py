"""Activation layers: elementwise nonlinearities (and softmax over one dim), no parameters.

Each is the module form of a tensor method; the local derivatives used in backward:

=============  ==============================  ==========================================
layer          forward                         local derivative
=============  ==============================  ==========================================
ReLU           ``max(0, z)``                   ``1 if z > 0 else 0``
LeakyReLU      ``z if z > 0 else s·z``         ``1 if z > 0 else s``
Sigmoid        ``σ(z) = 1/(1 + e⁻ᶻ)``          ``σ(z)·(1 − σ(z))``
Tanh           ``tanh z``                      ``1 − tanh²z``
GELU           ``z·Φ(z)`` (Φ: normal CDF)      ``Φ(z) + z·Φ'(z)`` (or of the tanh form)
SiLU           ``z·σ(z)``                      ``σ(z)·(1 + z·(1 − σ(z)))``
ELU            ``z if z > 0 else α(eᶻ − 1)``   ``1 if z > 0 else α·eᶻ``
Softplus       ``(1/β)·ln(1 + e^(βz))``        ``σ(βz)`` (1 where ``βz > threshold``)
Softmax        ``eᶻ / Σ eᶻ`` along ``dim``     ``∂L/∂z = s ⊙ (∂L/∂s − Σ ∂L/∂s ⊙ s)``
LogSoftmax     ``z − logsumexp(z)``            ``∂L/∂z = ∂L/∂out − softmax(z)·Σ ∂L/∂out``
=============  ==============================  ==========================================

The layers after these (``ReLU6``, ``Mish``, ``SELU``, …) are made of the rows above (their ``F.`` forms say how),
so a trace shows the ops they are made of; ``Hardtanh``, ``Threshold``, ``Hardshrink``, ``Softshrink`` and ``PReLU``
are rows of their own, as PyTorch's, so that a second derivative through one alone is PyTorch's 0.

>>> import glassgrad as gg
>>> gg.nn.ReLU()(gg.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

from ..arguments import built_setting, float_argument, int_argument
from ..creation import full
from ..device import check_device
from ..functions import sigmoid, softmax, tanh
from ..tensor import Tensor
from . import functional as F
from . import init
from .functional import _finite_number, _written_input, elu, gelu, gelu_approximation, silu, softplus
from .linear import check_size
from .module import Module
from .parameter import Parameter


class _InPlace(Module):
    """A layer with PyTorch's ``inplace`` argument (:mod:`glassgrad.nn.in_place`): the result written into the
    input when it is True."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def config(self) -> dict[str, Any]:
        return {"inplace": True} if self.inplace else {}


class ReLU(_InPlace):
    """``max(0, z)``, elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)


class LeakyReLU(_InPlace):
    """``z`` where ``z > 0``, else ``negative_slope · z``: negative inputs keep a small gradient."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.negative_slope = float_argument(negative_slope, type(self).__name__, "negative_slope")

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, inplace=self.inplace)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope, **super().config()}


class Sigmoid(Module):
    """``σ(z) = 1/(1 + e⁻ᶻ)``: squashes to (0, 1)."""

    def forward(self, input: Tensor) -> Tensor:
        return sigmoid(input)


class Tanh(Module):
    """``tanh z``: squashes to (−1, 1)."""

    def forward(self, input: Tensor) -> Tensor:
        return tanh(input)


class GELU(Module):
    """``z·Φ(z)``, Φ the standard normal CDF; ``approximate="tanh"`` for the tanh form (as in PyTorch)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = gelu_approximation(approximate)

    def forward(self, input: Tensor) -> Tensor:
        return gelu(input, self.approximate)

    def config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


class SiLU(_InPlace):
    """``z·σ(z)``: a smooth ReLU-like curve."""

    def forward(self, input: Tensor) -> Tensor:
        return silu(input, inplace=self.inplace)


class Softmax(Module):
    """Scores to probabilities along ``dim``: ``eᶻ / Σ eᶻ`` (each slice sums to 1).

    Without ``dim`` it takes PyTorch's deprecated implicit choice, and warns: dim 1 of a (batch, classes) or
    (N, C, H, W) input, dim 0 of a 1-d or 3-d one. Do not put it before ``CrossEntropyLoss``, which applies
    softmax itself.
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = None if dim is None else built_setting(int_argument, dim, type(self).__name__, "dim")

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}


class Softmax2d(Module):
    """Softmax over the channels of each pixel: dim −3 of (N, C, H, W) or (C, H, W)."""

    def forward(self, input: Tensor) -> Tensor:
        if type(input) is not Tensor:
            input = _written_input(input, "Softmax2d")  # PyTorch's AttributeError (its input.dim())
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input of shape (N, C, H, W) or (C, H, W), got {tuple(input.shape)}")
        return softmax(input, -3)


class LogSoftmax(Softmax):
    """``log softmax(z)`` along ``dim``, computed stably as ``z − logsumexp(z)`` (pair it with ``NLLLoss``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)


class ELU(_InPlace):
    """``z`` where ``z > 0``, else ``α·(eᶻ − 1)``: smooth for negative inputs, saturating at ``−α``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.alpha = _finite_number(alpha, "ELU", "alpha")

    def forward(self, input: Tensor) -> Tensor:
        return elu(input, self.alpha, inplace=self.inplace)

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha, **super().config()}


class Softplus(Module):
    """``(1/β)·ln(1 + e^(β·z))``, a smooth ReLU (the identity where ``β·z > threshold``)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        for name, value in (("beta", beta), ("threshold", threshold)):
            _finite_number(value, "Softplus", name)
        self.beta, self.threshold = beta, threshold  # as given (an int stays one), as PyTorch keeps them
        if self.beta == 0:
            raise ValueError("Softplus: beta must be nonzero (the curve is (1/beta)·ln(1 + exp(beta·z))); got 0")

    def forward(self, input: Tensor) -> Tensor:
        return softplus(input, self.beta, self.threshold)

    def config(self) -> dict[str, Any]:
        return {"beta": self.beta, "threshold": self.threshold}



# --- layers made of other ops (their F. forms in glassgrad.nn.functional) ---------------------------

def _layer(name: str, function: Any, doc: str, check: Any = None, **settings: Any) -> type:
    """A parameterless layer calling ``function(input, **settings)``; ``settings`` become its arguments.
    ``check(values)``, where given, refuses the arguments as PyTorch's constructor does."""
    names = list(settings)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        Module.__init__(self)
        if len(args) > len(names) or set(kwargs) - set(names):
            raise TypeError(f"{name}: takes {', '.join(names) or 'no arguments'}")
        values = dict(settings) | dict(zip(names, args)) | kwargs
        if check is not None:
            check(values)
        for key, value in values.items():
            setattr(self, key, value)

    def forward(self, input: Tensor) -> Tensor:
        return function(input, **{key: getattr(self, key) for key in names})

    def config(self) -> dict[str, Any]:  # inplace only when set, as PyTorch's repr shows it
        return {key: getattr(self, key) for key in names if key != "inplace" or getattr(self, key)}

    return type(name, (Module,), {"__init__": __init__, "forward": forward, "config": config, "__doc__": doc,
                                  "__module__": __name__})


def _ordered_bounds(values: dict[str, Any]) -> None:
    """Hardtanh's bounds: ``max_val > min_val``, or an AssertionError as PyTorch's (an assert there)."""
    if not values["max_val"] > values["min_val"]:
        raise AssertionError(f"Hardtanh: max_val ({values['max_val']}) must be greater than min_val "
                             f"({values['min_val']})")


Hardtanh = _layer("Hardtanh", F.hardtanh, "``z`` clipped to ``[min_val, max_val]``.", check=_ordered_bounds,
                  min_val=-1.0, max_val=1.0, inplace=False)


class ReLU6(Hardtanh):  # type: ignore[misc,valid-type]
    """``min(max(0, z), 6)``: ``Hardtanh(0.0, 6.0)``, as PyTorch's (a Hardtanh, its ``min_val`` and ``max_val``
    readable)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def config(self) -> dict[str, Any]:
        return {"inplace": True} if self.inplace else {}


Hardsigmoid = _layer("Hardsigmoid", F.hardsigmoid, "``(z + 3)/6`` clipped to ``[0, 1]``.", inplace=False)
Hardswish = _layer("Hardswish", F.hardswish, "``z · hardsigmoid(z)``.", inplace=False)
Mish = _layer("Mish", F.mish, "``z · tanh(softplus(z))``.", inplace=False)
SELU = _layer("SELU", F.selu, "``λ·elu(z, α)``, λ ≈ 1.0507, α ≈ 1.6733.", inplace=False)
CELU = _layer("CELU", F.celu, "``z`` where ``z > 0``, else ``α·(e^(z/α) − 1)``.", alpha=1.0, inplace=False)
Softsign = _layer("Softsign", F.softsign, "``z / (1 + |z|)``.")
LogSigmoid = _layer("LogSigmoid", F.logsigmoid, "``ln σ(z)``.")
Tanhshrink = _layer("Tanhshrink", F.tanhshrink, "``z − tanh(z)``.")
Softshrink = _layer("Softshrink", F.softshrink, "``z − λ·sign(z)`` where ``|z| > λ``, else 0.", lambd=0.5)
Hardshrink = _layer("Hardshrink", F.hardshrink, "``z`` where ``|z| > λ``, else 0.", lambd=0.5)
Threshold = _layer("Threshold", F.threshold, "``z`` where ``z > threshold``, else ``value``.", threshold=0.0,
                   value=0.0, inplace=False)
GLU = _layer("GLU", F.glu, "The first half of ``dim`` times σ of the second half.", dim=-1)
Softmin = _layer("Softmin", F.softmin, "``softmax(−z)`` along ``dim``.", dim=None)


class RReLU(_InPlace):
    """Leaky ReLU whose negative slope is drawn from ``[lower, upper]`` per entry while training (their mean
    in eval mode)."""

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.lower = float_argument(lower, type(self).__name__, "lower")
        self.upper = float_argument(upper, type(self).__name__, "upper")

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, inplace=self.inplace)

    def config(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper, **super().config()}


class PReLU(Module):
    """``z`` where ``z > 0``, else ``a·z``, the slope ``a`` learned: one for all channels or one per channel."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        check_device(device)
        super().__init__()
        self.init = float_argument(init, type(self).__name__, "init")
        count = check_size(num_parameters, "num_parameters", type(self).__name__, smallest=0, too_small=RuntimeError)
        self.weight = Parameter(full((count,), self.init, dtype=dtype))

    def reset_parameters(self) -> None:
        """Every slope back to ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def config(self) -> dict[str, Any]:  # (num_parameters() is every Module's parameter count: not an attribute here)
        return {"num_parameters": self.weight.numel(), "init": self.init}
