"""Loss modules: objects wrapping the loss functions of :mod:`glassgrad.nn.functional`.

``loss_fn = gg.nn.CrossEntropyLoss()`` then ``loss_fn(model(x), y)``. Each takes
``reduction="mean"`` (the default), ``"sum"`` or ``"none"`` (one loss per item), as in PyTorch
(``KLDivLoss`` also ``"batchmean"``). ``d = ŷ − y`` below.

=====================  ==========================================  =============================
module                 loss (mean reduction)                       gradient
=====================  ==========================================  =============================
MSELoss                ``(1/n) Σ (ŷ − y)²``                        ``2(ŷ − y)/n``
CrossEntropyLoss       ``−(1/N) Σᵢ log softmax(zᵢ)[yᵢ]``           ``(softmax(z) − onehot(y))/N``
NLLLoss                ``−(1/N) Σᵢ input[i, yᵢ]``                  ``−onehot(y)/N``
BCELoss                ``−mean(y·log p + (1 − y)·log(1 − p))``     ``(p − y)/(p(1 − p)·n)``
BCEWithLogitsLoss      BCELoss of ``σ(z)``, computed stably         ``(σ(z) − y)/n``
L1Loss                 ``(1/n) Σ |ŷ − y|``                         ``sign(ŷ − y)/n``
SmoothL1Loss           ``½d²/β`` where ``|d| < β``, else ``|d| − ½β``  ``clamp(d/β, −1, 1)/n``
HuberLoss              ``½d²`` where ``|d| < δ``, else ``δ(|d| − ½δ)``  ``clamp(d, −δ, δ)/n``
KLDivLoss              ``(1/n) Σ y·(ln y − x)`` (x: log-probs)     ``−y/n``
=====================  ==========================================  =============================

>>> import glassgrad as gg
>>> gg.nn.MSELoss()(gg.tensor([0.1, -0.1, -0.05, -0.25]), gg.tensor([1.0, 1.0, 0.0, 1.0])).item()
0.89625...
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    """A loss module: remembers its ``reduction`` and calls one function of ``gg.nn.functional``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}


class MSELoss(_Loss):
    """Mean squared error between predictions and targets of the same shape."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax + negative log-likelihood from raw scores (N, C); targets are class indices (N,) or probabilities."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. from ``LogSoftmax``) and class indices (N,)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (e.g. after ``Sigmoid``) and 0/1 targets."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from raw scores: sigmoid and log fused, stable for any score."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``(1/n) Σ |ŷ − y|`` between predictions and targets of the same shape."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic for errors below ``beta``, linear beyond (``F.smooth_l1_loss``)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = F._finite_number(beta, "SmoothL1Loss", "beta")
        if self.beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {self.beta:g}")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "beta": self.beta}


class HuberLoss(_Loss):
    """``½d²`` for errors below ``delta``, ``δ·(|d| − ½δ)`` beyond (``F.huber_loss``)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = F._finite_number(delta, "HuberLoss", "delta")
        if self.delta <= 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {self.delta:g}")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "delta": self.delta}


class KLDivLoss(Module):
    """KL divergence of log-probabilities from targets (``F.kl_div``); ``"batchmean"``: the per-sample KL."""

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        if reduction not in F.KL_REDUCTIONS:
            raise ValueError(f"KLDivLoss: reduction must be one of {F.KL_REDUCTIONS}, got {reduction!r}")
        self.reduction, self.log_target = reduction, bool(log_target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, self.reduction, self.log_target)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "log_target": self.log_target}
