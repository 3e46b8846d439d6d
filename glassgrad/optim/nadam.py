"""``NAdam``: Adam with Nesterov momentum, looking one step ahead along the momentum.

Adam steps along the bias-corrected average ``m̂``. NAdam (Dozat, 2016) steps along a mix of
the current gradient and the *next* step's momentum, as Nesterov's method evaluates the
gradient where momentum is about to carry the weights. Its momentum coefficient μₜ warms up
over the first few hundred steps (``momentum_decay``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_betas_and_eps, check_number
from .optimizer import Optimizer, count_step, gradient_formula, lerp_into, scalar_state, zeros_state


class NAdam(Optimizer):
    """NAdam, PyTorch's exact rule (``torch.optim.NAdam``).

    With η = ``lr``, (β₁, β₂) = ``betas``, ε = ``eps``, λ = ``weight_decay``, ψ =
    ``momentum_decay`` and t the step (Πμ the product of every μ so far)::

        g ← ∇L(w) + λ·w                         (decoupled_weight_decay: w ← w − η·λ·w instead)
        μₜ ← β₁·(1 − ½·0.96^(t·ψ)),  μₜ₊₁ likewise
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        d ← √(v / (1 − β₂ᵗ)) + ε
        w ← w − η·(1 − μₜ)/(1 − Πμ)·g/d − η·μₜ₊₁/(1 − Πμ·μₜ₊₁)·m/d

    Πμ is kept in ``state["mu_product"]``, a 0-d tensor of the step's dtype (float32 unless the default dtype is
    float64), and rounds to it at each step, as PyTorch's.
    ``foreach`` (True or False) changes no number; ``capturable=True`` and ``differentiable=True`` are refused at the
    step, as PyTorch on a CPU refuses them.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # a step a little longer than η: g/d and m/d both count
    >>> [round(v, 4) for v in w.tolist()]
    [0.8944, -2.8944]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    _scalar_state = ("step", "mu_product")

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = check_betas_and_eps(super()._checked_options(options))
        options["momentum_decay"] = check_number("momentum_decay value", options["momentum_decay"])
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        decoupled = group["decoupled_weight_decay"]
        lines = ["w ← w − η·λ·w"] if decoupled and group["weight_decay"] else []
        lines += gradient_formula(0.0 if decoupled else group["weight_decay"], group["maximize"])
        lines += ["μₜ ← β₁·(1 − ½·0.96^(t·ψ))", "m ← β₁·m + (1 − β₁)·g", "v ← β₂·v + (1 − β₂)·g²",
                  "d ← √(v / (1 − β₂ᵗ)) + ε",
                  "w ← w − η·(1 − μₜ)/(1 − Πμ)·g/d − η·μₜ₊₁/(1 − Πμ·μₜ₊₁)·m/d"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": scalar_state(0.0, group), "mu_product": scalar_state(1.0, group),
                "exp_avg": zeros_state(param), "exp_avg_sq": zeros_state(param)}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        lr, decay = group["lr"], group["weight_decay"]
        if group["decoupled_weight_decay"]:
            if decay:  # w ← w − η·λ·w
                np.multiply(param.array, 1 - lr * decay, out=param.array)
            decay = 0.0
        g = self._effective_gradient(param, grad, decay, group["maximize"], out=work)
        step, (beta1, beta2), warmup = count_step(state), group["betas"], group["momentum_decay"]
        mu = beta1 * (1 - 0.5 * 0.96 ** (step * warmup))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * warmup))
        product = state["mu_product"].array  # Πμ ← Πμ·μₜ in Πμ's dtype, μₜ rounded to it first (PyTorch's mul_)
        product[()] = product[()] * product.dtype.type(mu)  # on NumPy scalars: a 0-d in-place ufunc costs more
        product = product.item()
        mean, square_mean = state["exp_avg"].array, state["exp_avg_sq"].array
        lerp_into(mean, g, 1 - beta1, scratch)  # m ← m + (1 − β₁)(g − m)
        square_mean *= beta2
        square_mean += np.multiply(np.multiply(g, g, out=scratch), 1 - beta2, out=scratch)
        denominator = np.sqrt(square_mean / (1 - beta2**step)) + group["eps"]
        np.subtract(param.array, g / denominator * (lr * (1 - mu) / (1 - product)), out=param.array)
        np.subtract(param.array, mean / denominator * (lr * mu_next / (1 - product * mu_next)), out=param.array)
