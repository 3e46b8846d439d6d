"""``RMSprop``: divide each gradient by the root of its recent mean square.

Weights whose gradients are usually large take smaller steps, weights with small gradients
larger ones: the running mean square ``v`` sets a per-weight scale (Hinton's lecture 6e).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_eps, check_number
from .optimizer import Optimizer, count_step, gradient_formula, lerp_into, scalar_state, zeros_state


class RMSprop(Optimizer):
    """RMSprop, PyTorch's exact rule (``torch.optim.RMSprop``).

    With η = ``lr``, α = ``alpha``, ε = ``eps``, λ = ``weight_decay``, μ = ``momentum``::

        g ← ∇L(w) + λ·w                 (−∇L(w) + λ·w when maximize=True)
        v ← α·v + (1 − α)·g²            (as ((1 − α)·g)·g, PyTorch's order)
        ḡ ← α·ḡ + (1 − α)·g             (centered=True only; as ḡ + (1 − α)·(g − ḡ), PyTorch's lerp)
        d ← √(v − ḡ²) + ε  if centered, else  d ← √v + ε
        b ← μ·b + g/d,  w ← w − η·b     (when μ > 0; b starts at 0)
        w ← w − η·g/d                   (when μ = 0)

    ``v``, ``ḡ`` start at 0. In the centered form ``v − ḡ²`` (a variance) is clipped at 0
    before the square root, so rounding can never turn it into NaN, and it is ∞ where v overflowed (an
    overflowing gradient: the weight keeps still, as PyTorch's).
    ``foreach`` (True or False) changes no number; ``capturable=True`` and ``differentiable=True`` are refused at the
    step, as PyTorch on a CPU refuses them.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0], requires_grad=True)
    >>> opt = gg.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()   # v = 0.01·2² = 0.04, w ← 1 − 0.01·2/0.2
    >>> round(w.item(), 4)
    0.9
    """


    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    _scalar_state = ("step",)

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        options["alpha"] = check_number("alpha value", options["alpha"], 0.0, 1.0, high_included=True,
                                        why="outside [0, 1] the running average α·v + (1 − α)·g² can go negative "
                                            "and its square root is NaN; use e.g. alpha=0.99")
        options["eps"] = check_eps(options["eps"], 1e-8)
        options["momentum"] = check_number("momentum value", options["momentum"])
        return options

    state_symbols = {"square_avg": "v", "grad_avg": "ḡ", "momentum_buffer": "b"}

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = [*gradient_formula(group["weight_decay"], group["maximize"]), "v ← α·v + (1 − α)·g²"]
        if group["centered"]:
            lines += ["ḡ ← α·ḡ + (1 − α)·g", "d ← √(v − ḡ²) + ε"]
        else:
            lines.append("d ← √v + ε")
        lines += ["b ← μ·b + g/d", "w ← w − η·b"] if group["momentum"] else ["w ← w − η·g/d"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": scalar_state(0.0, group), "square_avg": zeros_state(param)}
        if group["momentum"]:
            state["momentum_buffer"] = zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = zeros_state(param)
        return state

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        g = self._effective_gradient(param, grad, group["weight_decay"], group["maximize"], out=work)
        count_step(state)
        square_avg = state["square_avg"].array
        square_avg *= alpha  # v ← α·v + ((1 − α)·g)·g, PyTorch's order: g·g first overflowed from 2·10¹⁹ in float32
        square_avg += np.multiply(np.multiply(g, 1 - alpha, out=scratch), g, out=scratch)
        if group["centered"]:
            grad_avg = state["grad_avg"].array
            # ḡ ← ḡ + (1 − α)·(g − ḡ), as PyTorch's lerp rounds it
            lerp_into(grad_avg, g, 1 - alpha, scratch)
            square = np.multiply(grad_avg, grad_avg, out=scratch)
            # ḡ² held at the largest number: where it overflows v does too (v ≥ ḡ²), and v − ḡ² is then ∞, as PyTorch's
            # fused multiply-add gives it (the weight keeps still), not ∞ − ∞ = NaN
            variance = np.subtract(square_avg, np.minimum(square, np.finfo(square.dtype).max, out=scratch), out=scratch)
            denominator = np.sqrt(np.maximum(variance, 0, out=scratch), out=scratch)
        else:
            denominator = np.sqrt(square_avg, out=scratch)
        denominator += group["eps"]
        change = np.divide(g, denominator, out=scratch)  # g/d
        if momentum:
            buffer = state["momentum_buffer"].array
            buffer *= momentum  # b ← μ·b + g/d
            buffer += change
            change = np.multiply(buffer, group["lr"], out=scratch)
        else:
            change *= group["lr"]
        np.subtract(param.array, change, out=param.array)
