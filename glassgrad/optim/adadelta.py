"""``Adadelta``: step sizes from running averages of squared gradients *and* of squared steps.

Adagrad's sum of squared gradients only grows, so its steps die out. Adadelta (Zeiler, 2012)
keeps a decaying average instead, and scales each step by the size of recent *steps*, so the
update has the units of the weight and needs no hand-tuned learning rate (``lr`` = 1 scales
the update as computed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_number
from .optimizer import Optimizer, count_step, gradient_formula, scalar_state, zeros_state


class Adadelta(Optimizer):
    """Adadelta, PyTorch's exact rule (``torch.optim.Adadelta``).

    With η = ``lr``, ρ = ``rho``, ε = ``eps``, λ = ``weight_decay``; ``s`` and ``u`` start at 0::

        g ← ∇L(w) + λ·w                    (−∇L(w) + λ·w when maximize=True)
        s ← ρ·s + (1 − ρ)·g²               (average squared gradient)
        Δ ← √(u + ε) / √(s + ε) · g         (the step, in the weight's units)
        u ← ρ·u + (1 − ρ)·Δ²               (average squared step)
        w ← w − η·Δ

    ``foreach`` (True or False) changes no number; ``capturable=True`` and ``differentiable=True`` are refused at the
    step, as PyTorch on a CPU refuses them.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.Adadelta([w])
    >>> (w * w).sum().backward(); opt.step()   # the first steps are tiny: u starts at 0
    >>> [round(v, 4) for v in w.tolist()]
    [0.9968, -2.9968]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    _scalar_state = ("step",)

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        options["rho"] = check_number("rho value", options["rho"], 0.0, 1.0, high_included=True)
        options["eps"] = check_number("epsilon value", options["eps"])
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = gradient_formula(group["weight_decay"], group["maximize"])
        lines += ["s ← ρ·s + (1 − ρ)·g²", "Δ ← √(u + ε) / √(s + ε) · g", "u ← ρ·u + (1 − ρ)·Δ²", "w ← w − η·Δ"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": scalar_state(0.0, group), "square_avg": zeros_state(param), "acc_delta": zeros_state(param)}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        g = self._effective_gradient(param, grad, group["weight_decay"], group["maximize"], out=work)
        count_step(state)
        rho, eps = group["rho"], group["eps"]
        squares, steps = state["square_avg"].array, state["acc_delta"].array
        squares *= rho  # s ← ρ·s + (1 − ρ)·g²
        squares += np.multiply(np.multiply(g, g, out=scratch), 1 - rho, out=scratch)
        delta = np.sqrt(steps + eps) / np.sqrt(squares + eps) * g  # Δ ← √(u + ε)/√(s + ε)·g
        steps *= rho  # u ← ρ·u + (1 − ρ)·Δ²
        steps += np.multiply(np.multiply(delta, delta, out=scratch), 1 - rho, out=scratch)
        delta *= group["lr"]
        np.subtract(param.array, delta, out=param.array)
