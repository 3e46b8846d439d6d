"""``ASGD``: SGD with a decaying step and, from step ``t0`` on, a running average of the weights.

Averaged SGD (Polyak & Juditsky, 1992) lets the weights wander around a minimum and keeps
their average ``ax``, which lands closer to it than any single iterate; the step size decays as
``η/(1 + κ·η·t)^α``. The model itself keeps the last iterate: read ``optimizer.state[w]["ax"]``
for the average.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_number
from .optimizer import Optimizer, gradient_formula


class ASGD(Optimizer):
    """ASGD, PyTorch's exact rule (``torch.optim.ASGD``).

    With η = ``lr``, κ = ``lambd``, α = ``alpha``, ``t0``, λ = ``weight_decay`` and t the step (ηₜ starts at η,
    μₜ at 1)::

        g ← ∇L(w) + λ·w
        w ← w·(1 − κ·ηₜ) − ηₜ·g
        ax ← ax + μₜ·(w − ax)                 (ax ← w while μₜ = 1)
        ηₜ₊₁ = η / (1 + κ·η·t)^α,   μₜ₊₁ = 1 / max(1, t − t0)

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.ASGD([w], lr=0.1, lambd=0.0)
    >>> (w * w).sum().backward(); opt.step()   # a plain SGD step: w − η·2w
    >>> [round(v, 4) for v in w.tolist()]
    [0.8, -2.4]
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        for name in ("lambd", "alpha", "t0"):
            options[name] = check_number(f"{name} value", options[name])
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = gradient_formula(group["weight_decay"], group["maximize"])
        lines += ["w ← w·(1 − κ·ηₜ) − ηₜ·g", "ax ← ax + μₜ·(w − ax)",
                  "ηₜ₊₁ = η/(1 + κ·η·t)^α,  μₜ₊₁ = 1/max(1, t − t0)"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "eta": group["lr"], "mu": 1.0, "ax": np.zeros_like(param.array)}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        g = self._effective_gradient(param, grad, group["weight_decay"], group["maximize"], out=work)
        state["step"] += 1
        eta, mu, step = state["eta"], state["mu"], state["step"]
        param.array *= 1 - group["lambd"] * eta
        np.subtract(param.array, np.multiply(g, eta, out=scratch), out=param.array)
        if mu != 1:
            state["ax"] += np.multiply(np.subtract(param.array, state["ax"], out=scratch), mu, out=scratch)
        else:
            np.copyto(state["ax"], param.array)
        state["eta"] = group["lr"] / (1 + group["lambd"] * group["lr"] * step) ** group["alpha"]
        state["mu"] = 1 / max(1, step - group["t0"])
