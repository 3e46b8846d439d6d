"""``SGD``: gradient descent, with optional momentum, Nesterov momentum and weight decay.

Plain gradient descent moves each weight a small step against its gradient, ``w ← w − η·g``:
downhill on the loss, by an amount set by the learning rate η. Momentum keeps a running
direction ``b`` so steps build up speed along consistent slopes and damp out zig-zags.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_number
from .optimizer import Optimizer, arithmetic_dtype, gradient_formula, scaled_sum


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's exact rule (``torch.optim.SGD``).

    With η = ``lr``, μ = ``momentum``, τ = ``dampening``, λ = ``weight_decay``, each step does::

        g ← ∇L(w) + λ·w                 (−∇L(w) + λ·w when maximize=True)
        b ← μ·b + (1 − τ)·g             (only when μ > 0; on the first step b ← g)
        d ← g + μ·b if nesterov else b  (d ← g when μ = 0)
        w ← w − η·d

    Nesterov momentum needs μ > 0 and τ = 0, as in PyTorch. ``foreach`` and ``fused`` (True or False) change no
    number here (PyTorch's fused kernel may round differently); ``differentiable=True`` is refused at the step, as
    PyTorch on a CPU refuses it.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0], requires_grad=True)
    >>> opt = gg.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 4)        # b₁ = 2, w₁ = 0.8; b₂ = 0.9·2 + 1.6 = 3.4, w₂ = 0.8 − 0.34
    0.46
    """


    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        # PyTorch checks nesterov against the constructor's momentum and dampening only: a group that sets
        # nesterov=True with momentum 0 steps as plain SGD (there is no momentum to look ahead with)
        momentum, dampening = self.defaults["momentum"], self.defaults["dampening"]
        if self.defaults["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening (got momentum={momentum:g}, "
                             f"dampening={dampening:g}); set momentum > 0 and dampening=0, or nesterov=False")

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        options["momentum"] = check_number("momentum value", options["momentum"])
        # any finite dampening, as PyTorch: b ← μ·b + (1 − τ)·g is a finite number for every τ
        options["dampening"] = check_number("dampening value", options["dampening"], -math.inf)
        return options

    state_symbols = {"momentum_buffer": "b"}

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = gradient_formula(group["weight_decay"], group["maximize"])
        momentum = group["momentum"]
        if not momentum:
            return "\n".join([*lines, "w ← w − η·g"])
        damped = "(1 − τ)·g" if group["dampening"] else "g"
        lines.append(f"b ← μ·b + {damped}   (b ← g on the first step)")
        lines.append("w ← w − η·(g + μ·b)" if group["nesterov"] else "w ← w − η·b")
        return "\n".join(lines)

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        work, product = self._workspace(param)
        g = self._effective_gradient(param, grad, group["weight_decay"], group["maximize"], out=work)
        direction = g
        momentum = group["momentum"]
        if momentum:
            state = self._state_for(param, group)
            held = state.get("momentum_buffer")
            if held is None:  # first step: b ← g (an array even for a 0-d gradient held as a NumPy
                buffer = np.array(g)  # scalar, so the updates below stay in place)
                state["momentum_buffer"] = Tensor._wrap(buffer)
            else:  # b ← μ·b + (1 − τ)·g
                buffer = held.array
                np.multiply(buffer, momentum, out=buffer, dtype=arithmetic_dtype(buffer))
                dampening = group["dampening"]
                if dampening:
                    scaled_sum(buffer, g, 1 - dampening, out=buffer, scratch=product)
                else:
                    buffer += g
            if group["nesterov"]:  # d ← g + μ·b
                direction = scaled_sum(g, buffer, momentum, out=product, scratch=product)
            else:
                direction = buffer
        scaled_sum(param.array, direction, -group["lr"], out=param.array, scratch=product)  # w ← w − η·d
