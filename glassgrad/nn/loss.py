"""Loss modules: objects wrapping the loss functions of :mod:`glassgrad.nn.functional`.

``loss_fn = gg.nn.CrossEntropyLoss()`` then ``loss_fn(model(x), y)``. Each takes
``reduction="mean"`` (the default), ``"sum"`` or ``"none"`` (one loss per item), as in PyTorch
(``KLDivLoss`` also ``"batchmean"``); PyTorch's deprecated ``size_average`` / ``reduce`` flags, where a loss has them
there, are read as the reduction they stand for, with PyTorch's warning. ``d = ŷ − y`` below.

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

import inspect
import warnings
from typing import Any

from ..arguments import float_argument, int_argument
from ..creation import as_tensor
from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    """A loss module: remembers its ``reduction`` and calls one function of ``gg.nn.functional``. PyTorch's older
    ``size_average`` / ``reduce`` flags, where given, are read as the reduction they stand for (with a warning)."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__()
        reduction = F._legacy_reduction(size_average, reduce, reduction, type(self).__name__)
        self.reduction = F._check_reduction(reduction, type(self).__name__)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}


class MSELoss(_Loss):
    """Mean squared error between predictions and targets of the same shape."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class _ClassLoss(_Loss):
    """A loss over class scores, with PyTorch's ``weight`` (a buffer, as there) and ``ignore_index``."""

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor(weight))
        self.ignore_index = int_argument(ignore_index, type(self).__name__, "ignore_index")

    def config(self) -> dict[str, Any]:  # the options given, as a repr shows them (the defaults left out)
        return {**super().config(), **({} if self.ignore_index == -100 else {"ignore_index": self.ignore_index})}


class CrossEntropyLoss(_ClassLoss):
    """Softmax + negative log-likelihood from raw scores (N, C) (or (C,), or (N, C, d₁, …)); targets are class
    indices or probabilities. ``weight``, ``ignore_index`` and ``label_smoothing`` as in ``F.cross_entropy``."""

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        self.label_smoothing = float_argument(label_smoothing, "CrossEntropyLoss", "label_smoothing")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)

    def config(self) -> dict[str, Any]:
        return {**super().config(), **({"label_smoothing": self.label_smoothing} if self.label_smoothing else {})}


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. from ``LogSoftmax``) and class indices (N,)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """PyTorch's deprecated name of :class:`NLLLoss` for images (N, C, H, W) with targets (N, H, W), which
    ``NLLLoss`` takes itself. Warns (``FutureWarning``, as PyTorch does) when made."""

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean") -> None:
        warnings.warn("NLLLoss2d is deprecated (in PyTorch too): use NLLLoss, which takes (N, C, H, W) inputs "
                      "and (N, H, W) targets the same way", FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (e.g. after ``Sigmoid``) and 0/1 targets; ``weight`` (a
    buffer) scales each item's loss."""

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor(weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(BCELoss):
    """Binary cross-entropy from raw scores: sigmoid and log fused, stable for any score; ``weight`` and
    ``pos_weight`` (buffers) as in ``F.binary_cross_entropy_with_logits``."""

    def __init__(self, weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else as_tensor(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class L1Loss(_Loss):
    """Mean absolute error ``(1/n) Σ |ŷ − y|`` between predictions and targets of the same shape."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic for errors below ``beta``, linear beyond (``F.smooth_l1_loss``)."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        F._finite_number(beta, "SmoothL1Loss", "beta")
        self.beta = beta  # as given (an int stays one), as PyTorch keeps it
        if self.beta < 0:
            raise RuntimeError(f"SmoothL1Loss: beta must be >= 0, got {self.beta:g}")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "beta": self.beta}


class HuberLoss(_Loss):
    """``½d²`` for errors below ``delta``, ``δ·(|d| − ½δ)`` beyond (``F.huber_loss``)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        F._finite_number(delta, "HuberLoss", "delta")
        self.delta = delta  # as given (an int stays one), as PyTorch keeps it
        if self.delta <= 0:
            raise RuntimeError(f"HuberLoss: delta must be > 0, got {self.delta:g}")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "delta": self.delta}


class KLDivLoss(Module):
    """KL divergence of log-probabilities from targets (``F.kl_div``); ``"batchmean"``: the per-sample KL."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__()
        reduction = F._legacy_reduction(size_average, reduce, reduction, "KLDivLoss")
        self.reduction = F._check_reduction(reduction, "KLDivLoss", F.KL_REDUCTIONS)
        self.log_target = bool(log_target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "log_target": self.log_target}


class CTCLoss(_Loss):
    """The connectionist temporal classification loss of label sequences under per-frame log-probabilities
    (``F.ctc_loss``), ``blank`` the class index of "no label"."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = int(blank), bool(zero_infinity)

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)

    def config(self) -> dict[str, Any]:
        return {"blank": self.blank, **super().config(), "zero_infinity": self.zero_infinity}


# --- distances and the losses made of other ops (F.* in glassgrad.nn.functional) --------------------

class CosineSimilarity(Module):
    """The cosine of the angle between ``x₁`` and ``x₂`` along ``dim`` (``F.cosine_similarity``)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = int_argument(dim, "CosineSimilarity", "dim")
        self.eps = float_argument(eps, "CosineSimilarity", "eps")

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim, "eps": self.eps}


class PairwiseDistance(Module):
    """``‖x₁ − x₂ + eps‖_p`` along the last dim (``F.pairwise_distance``)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = float(p), float(eps), bool(keepdim)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def config(self) -> dict[str, Any]:
        return {"p": self.norm, "eps": self.eps, "keepdim": self.keepdim}


class TripletMarginWithDistanceLoss(_Loss):
    """``max(d(a, p) − d(a, n) + margin, 0)`` with any ``distance_function`` (a ``PairwiseDistance()`` submodule
    when None, as PyTorch); ``F.triplet_margin_with_distance_loss``."""

    def __init__(self, *, distance_function: Any = None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.margin = F._finite_number(margin, "TripletMarginWithDistanceLoss", "margin")
        if self.margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {self.margin:g}")
        self.distance_function = PairwiseDistance() if distance_function is None else distance_function
        self.swap = bool(swap)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)

    def config(self) -> dict[str, Any]:
        return {"margin": self.margin, "swap": self.swap, **super().config()}


def _loss_layer(name: str, function: Any, doc: str, inputs: tuple[str, ...] = (), check: Any = None,
                **settings: Any) -> type:
    """A loss module calling ``function(*inputs, **settings, reduction=…)``; ``settings`` become its arguments, in
    PyTorch's order, then ``reduction`` (``size_average`` and ``reduce`` among them where PyTorch has them).
    ``forward`` takes the inputs in order or by the names of PyTorch's ``forward``: ``inputs``, where they are not
    ``function``'s. ``check(arguments)``, where given, refuses the arguments as PyTorch's constructor does."""
    arguments = [*settings, "reduction"]
    names = [key for key in settings if key not in ("size_average", "reduce")]
    inputs_named = list(inputs) or [key for key in inspect.signature(function).parameters if key not in arguments]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(arguments) or set(kwargs) - set(arguments):
            raise TypeError(f"{name}: takes {', '.join(arguments)}")
        given = {**settings, "reduction": "mean"} | dict(zip(arguments, args)) | kwargs
        if check is not None:
            check(given)
        _Loss.__init__(self, given.get("size_average"), given.get("reduce"), given["reduction"])
        for key in names:
            if key == "weight":  # a buffer, as in PyTorch
                self.register_buffer("weight", None if given[key] is None else as_tensor(given[key]))
            else:
                setattr(self, key, given[key])

    def forward(self, *given: Tensor, **named: Tensor) -> Tensor:
        """The loss of the inputs, given in order or by PyTorch's names (``loss(h1, h2, target=y)``)."""
        if named:
            rest = inputs_named[len(given):len(given) + len(named)]
            if set(named) != set(rest):
                raise TypeError(f"{name}.forward() takes {', '.join(inputs_named)}; got {', '.join(named)} by name "
                                f"after {len(given)} in order")
            given = (*given, *(named[key] for key in rest))
        return function(*given, **{key: getattr(self, key) for key in names}, reduction=self.reduction)

    def config(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in names if key != "weight"} | {"reduction": self.reduction}

    return type(name, (_Loss,), {"__init__": __init__, "forward": forward, "config": config, "__doc__": doc,
                                 "__module__": __name__})


MarginRankingLoss = _loss_layer("MarginRankingLoss", F.margin_ranking_loss, "``max(0, −y·(x₁ − x₂) + margin)``.",
                                margin=0.0, size_average=None, reduce=None)
HingeEmbeddingLoss = _loss_layer("HingeEmbeddingLoss", F.hinge_embedding_loss,
                                 "``x`` where y = 1, ``max(0, margin − x)`` where y = −1.", margin=1.0,
                                 size_average=None, reduce=None)
SoftMarginLoss = _loss_layer("SoftMarginLoss", F.soft_margin_loss, "``ln(1 + e^(−y·x))``.", size_average=None,
                             reduce=None)
CosineEmbeddingLoss = _loss_layer("CosineEmbeddingLoss", F.cosine_embedding_loss,
                                  "``1 − cos`` where y = 1, ``max(0, cos − margin)`` where y = −1.", margin=0.0,
                                  size_average=None, reduce=None)
def _positive_margin(given: dict[str, Any]) -> None:
    """PyTorch's TripletMarginLoss refuses a margin ≤ 0 when built (the loss would be 0 or reward collapse)."""
    if not given["margin"] > 0:
        raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {given['margin']} instead")


def _margin_power_and_weight(given: dict[str, Any]) -> None:
    """PyTorch's MultiMarginLoss refuses, when built, a ``p`` other than 1 or 2 and a ``weight`` that is not 1-d."""
    if given["p"] not in (1, 2):
        raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={given['p']}")
    weight = given["weight"]
    if weight is not None and as_tensor(weight).ndim != 1:
        raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {as_tensor(weight).ndim}D "
                         "instead")


TripletMarginLoss = _loss_layer("TripletMarginLoss", F.triplet_margin_loss,
                                "``max(d(a, p) − d(a, n) + margin, 0)``.", check=_positive_margin, margin=1.0, p=2.0,
                                eps=1e-6, swap=False, size_average=None, reduce=None)
MultiLabelSoftMarginLoss = _loss_layer("MultiLabelSoftMarginLoss", F.multilabel_soft_margin_loss,
                                       "Per sample, the mean over classes of the binary cross-entropy with logits.",
                                       weight=None, size_average=None, reduce=None)
MultiLabelMarginLoss = _loss_layer("MultiLabelMarginLoss", F.multilabel_margin_loss,
                                   "``Σ_(j ∈ y) Σ_(i ∉ y) max(0, 1 − (x[j] − x[i])) / C`` per sample.",
                                   size_average=None, reduce=None)
MultiMarginLoss = _loss_layer("MultiMarginLoss", F.multi_margin_loss,
                              "``Σ_(i≠y) max(0, margin − x[y] + x[i])^p / C`` per sample.",
                              check=_margin_power_and_weight, p=1, margin=1.0,
                              weight=None, size_average=None, reduce=None)
GaussianNLLLoss = _loss_layer("GaussianNLLLoss", F.gaussian_nll_loss, "``½(ln v + (x − y)²/v)`` per entry.",
                              full=False, eps=1e-6)
PoissonNLLLoss = _loss_layer("PoissonNLLLoss", F.poisson_nll_loss, "``eˣ − y·x`` (x a log-rate) per entry.",
                             inputs=("log_input", "target"), log_input=True, full=False, size_average=None, eps=1e-8,
                             reduce=None)
