"""``torch.special``: the special functions under PyTorch's names, each the glassgrad op that computes it.

``expit`` is the logistic σ, ``logit`` its inverse ``ln(p/(1 − p))``, ``erf``/``erfc`` the error function
and its complement; ``log_softmax``, ``softmax``, ``logsumexp``, ``xlogy``, ``log1p``, ``expm1``, ``exp2``,
``sinc`` and ``round`` as in ``gg``. Their gradients are those of the rows they use.

>>> import glassgrad as gg
>>> round(gg.special.expit(gg.tensor(0.0)).item(), 3), round(gg.special.logit(gg.tensor(0.5)).item(), 3)
(0.5, 0.0)
"""

from __future__ import annotations

import math
from typing import Any

from .composed import xlogy as xlogy
from .creation import as_tensor
from .functions import erf as erf
from .functions import expm1 as expm1
from .functions import log1p as log1p
from .functions import log_softmax as log_softmax
from .functions import logsumexp as logsumexp
from .functions import round as round
from .functions import softmax as softmax
from .tensor import Tensor


def expit(input: Any) -> Tensor:
    """``σ(x) = 1/(1 + e⁻ˣ)`` (``sigmoid``)."""
    return as_tensor(input).sigmoid()


def logit(input: Any, eps: float | None = None) -> Tensor:
    """``ln(p/(1 − p))``, σ's inverse; ``eps`` first clamps p to ``[eps, 1 − eps]``."""
    p = as_tensor(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return (p / (1 - p)).log()


def erfc(input: Any) -> Tensor:
    """``1 − erf(x)``."""
    return 1 - as_tensor(input).erf()


def exp2(input: Any) -> Tensor:
    """``2ˣ``."""
    return (as_tensor(input) * math.log(2)).exp()


def sinc(input: Any) -> Tensor:
    """``sin(πx)/(πx)``, and 1 at x = 0."""
    x = as_tensor(input)
    at_zero = x.detach() == 0
    angle = (x * math.pi).masked_fill(at_zero, 1.0)
    return (angle.sin() / angle).masked_fill(at_zero, 1.0)
