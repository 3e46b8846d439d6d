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

>>> import glassgrad as gg
>>> gg.nn.ReLU()(gg.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

from ..functions import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from ..tensor import Tensor
from .functional import _finite_number, elu, gelu, gelu_approximation, silu, softplus
from .module import Module


class ReLU(Module):
    """``max(0, z)``, elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return relu(input)


class LeakyReLU(Module):
    """``z`` where ``z > 0``, else ``negative_slope · z``: negative inputs keep a small gradient."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, input: Tensor) -> Tensor:
        return leaky_relu(input, self.negative_slope)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


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


class SiLU(Module):
    """``z·σ(z)``: a smooth ReLU-like curve."""

    def forward(self, input: Tensor) -> Tensor:
        return silu(input)


class Softmax(Module):
    """Scores to probabilities along ``dim``: ``eᶻ / Σ eᶻ`` (each slice sums to 1).

    ``dim`` defaults to the last dim (PyTorch asks for it explicitly; for a (batch, classes)
    input its implicit choice is the same). Do not put it before ``CrossEntropyLoss``,
    which applies softmax itself.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, input: Tensor) -> Tensor:
        return softmax(input, self.dim)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}


class LogSoftmax(Softmax):
    """``log softmax(z)`` along ``dim``, computed stably as ``z − logsumexp(z)`` (pair it with ``NLLLoss``)."""

    def forward(self, input: Tensor) -> Tensor:
        return log_softmax(input, self.dim)


class ELU(Module):
    """``z`` where ``z > 0``, else ``α·(eᶻ − 1)``: smooth for negative inputs, saturating at ``−α``."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = _finite_number(alpha, "ELU", "alpha")

    def forward(self, input: Tensor) -> Tensor:
        return elu(input, self.alpha)

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Softplus(Module):
    """``(1/β)·ln(1 + e^(β·z))``, a smooth ReLU (the identity where ``β·z > threshold``)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = _finite_number(beta, "Softplus", "beta")
        self.threshold = _finite_number(threshold, "Softplus", "threshold")
        if self.beta == 0:
            raise ValueError("Softplus: beta must be nonzero (the curve is (1/beta)·ln(1 + exp(beta·z))); got 0")

    def forward(self, input: Tensor) -> Tensor:
        return softplus(input, self.beta, self.threshold)

    def config(self) -> dict[str, Any]:
        return {"beta": self.beta, "threshold": self.threshold}
