"""``ASGD``: SGD with a decaying step and, from step ``t0`` on, a running average of the weights.

Averaged SGD (Polyak & Juditsky, 1992) lets the weights wander around a minimum and keeps
their average ``ax``, which lands closer to it than any single iterate; the step size decays as
``η/(1 + κ·η·t)^α``. The model itself keeps the last iterate: read ``optimizer.state[w]["ax"]``
for the average.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_number
from .optimizer import Optimizer, count_step, gradient_formula, scalar_state, zeros_state


class ASGD(Optimizer):
    """ASGD, PyTorch's exact rule (``torch.optim.ASGD``).

    With η = ``lr``, κ = ``lambd``, α = ``alpha``, ``t0``, λ = ``weight_decay`` and t the step (ηₜ starts at η,
    μₜ at 1)::

        g ← ∇L(w) + λ·w
        w ← w·(1 − κ·ηₜ) − ηₜ·g
        ax ← ax + μₜ·(w − ax)                 (ax ← w while μₜ = 1)
        ηₜ₊₁ = η / (1 + κ·η·t)^α,   μₜ₊₁ = 1 / max(1, t − t0)

    ηₜ and μₜ are kept in ``state["eta"]`` and ``state["mu"]``, 0-d tensors of the step's dtype (float32 unless the
    default dtype is float64), and round to it, as PyTorch's.
    ``foreach`` (True or False) changes no number; ``capturable=True`` and ``differentiable=True`` are refused at the
    step, as PyTorch on a CPU refuses them.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.ASGD([w], lr=0.1, lambd=0.0)
    >>> (w * w).sum().backward(); opt.step()   # a plain SGD step: w − η·2w
    >>> [round(v, 4) for v in w.tolist()]
    [0.8, -2.4]
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    _scalar_state = ("step", "eta", "mu")

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        options["lambd"] = check_number("lambd value", options["lambd"],
                                        why="with lambd < 0 the step size η/(1 + λ·η·t)^α divides by 0 once "
                                            "t = 1/(|λ|·η), and is NaN after; use lambd >= 0 such as 1e-4")
        options["alpha"] = check_number("alpha value", options["alpha"])
        # any finite t0, as PyTorch: μ = 1/max(1, t − t0) is finite (t0 < 0 averages from the first step)
        options["t0"] = check_number("t0 value", options["t0"], -math.inf)
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = gradient_formula(group["weight_decay"], group["maximize"])
        lines += ["w ← w·(1 − κ·ηₜ) − ηₜ·g", "ax ← ax + μₜ·(w − ax)",
                  "ηₜ₊₁ = η/(1 + κ·η·t)^α,  μₜ₊₁ = 1/max(1, t − t0)"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": scalar_state(0.0, group), "eta": scalar_state(group["lr"], group),
                "mu": scalar_state(1.0, group), "ax": zeros_state(param)}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        g = self._effective_gradient(param, grad, group["weight_decay"], group["maximize"], out=work)
        step, average = count_step(state), state["ax"].array
        eta, mu = state["eta"].array, state["mu"].array
        rate, weight = eta.item(), mu.item()
        param.array *= 1 - group["lambd"] * rate
        np.subtract(param.array, np.multiply(g, rate, out=scratch), out=param.array)
        if weight != 1:
            average += np.multiply(np.subtract(param.array, average, out=scratch), weight, out=scratch)
        else:
            if param.array.ndim > average.ndim:  # copyto drops w's leading 1s, PyTorch's ax.copy_(w) does not:
                raise ValueError("a state of fewer dims")  # Optimizer.step names it
            np.copyto(average, param.array)
        eta[()] = group["lr"] / (1 + group["lambd"] * group["lr"] * step) ** group["alpha"]
        mu[()] = 1 / max(1, step - group["t0"])
