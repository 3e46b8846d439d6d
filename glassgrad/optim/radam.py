"""``RAdam``: Adam whose early steps are rectified, so the adaptive step size starts only once ``v`` is trustworthy.

In its first steps Adam's ``v`` rests on a few gradients, and ``η/√v`` swings wildly. RAdam
(Liu et al., 2020) measures how many gradients the average effectively holds, ``ρₜ``: while
``ρₜ ≤ 5`` it takes plain momentum steps, then it scales Adam's step by a factor ``r`` that grows
to 1 as ``ρₜ`` approaches ``ρ∞ = 2/(1 − β₂) − 1``. No warm-up schedule is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_betas_and_eps
from ._scalars import tensor_power, tensor_quotient
from .optimizer import Optimizer, count_step, gradient_formula, lerp_into, scalar_state, zeros_state


class RAdam(Optimizer):
    """RAdam, PyTorch's exact rule (``torch.optim.RAdam``).

    With η = ``lr``, (β₁, β₂) = ``betas``, ε = ``eps``, λ = ``weight_decay`` and t the step::

        g ← ∇L(w) + λ·w          (or w ← w·(1 − η·λ) with decoupled_weight_decay)
        m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²,   m̂ = m / (1 − β₁ᵗ)
        ρₜ = ρ∞ − 2t·β₂ᵗ / (1 − β₂ᵗ)
        ρₜ > 5:  w ← w − η·m̂·r·√(1 − β₂ᵗ) / (√v + ε),  r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
        else:    w ← w − η·m̂

    ``foreach`` (True or False) changes no number; ``capturable=True`` and ``differentiable=True`` are refused at the
    step, as PyTorch on a CPU refuses them.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # ρ₁ ≤ 5: a plain momentum step, η·g
    >>> [round(v, 4) for v in w.tolist()]
    [0.8, -2.4]
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay, "differentiable": differentiable}
        super().__init__(params, defaults)

    _scalar_state = ("step",)
    _exact_tensor_options = True

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return check_betas_and_eps(super()._checked_options(options))

    def formula_for(self, group: dict[str, Any]) -> str:
        decoupled = group["decoupled_weight_decay"] and group["weight_decay"]
        lines = (["w ← w·(1 − η·λ)"] + gradient_formula(0, group["maximize"]) if decoupled
                 else gradient_formula(group["weight_decay"], group["maximize"]))
        lines += ["m ← β₁·m + (1 − β₁)·g", "v ← β₂·v + (1 − β₂)·g²", "ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)",
                  "w ← w − η·m/(1 − β₁ᵗ) · (ρₜ > 5: r·√(1 − β₂ᵗ)/(√v + ε); else 1)"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": scalar_state(0.0, group), "exp_avg": zeros_state(param), "exp_avg_sq": zeros_state(param)}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        exact = isinstance(lr, np.generic) or isinstance(beta1, np.generic) or isinstance(beta2, np.generic)
        if group["decoupled_weight_decay"]:
            if decay:
                factor = 1 - lr * decay
                np.multiply(param.array, param.array.dtype.type(factor) if exact else factor, out=param.array)
            decay = 0.0
        g = self._effective_gradient(param, grad, decay, group["maximize"], out=work)
        step, mean, square_mean = count_step(state), state["exp_avg"].array, state["exp_avg_sq"].array
        if exact:
            self._update_with_tensor_options(param, g, step, mean, square_mean, group, scratch)
            return
        lerp_into(mean, g, 1 - beta1, scratch)  # m ← m + (1 − β₁)·(g − m), as PyTorch's lerp
        np.multiply(g, 1 - beta2, out=scratch)  # v ← β₂·v + ((1 − β₂)·g)·g, as its addcmul
        scratch *= g
        square_mean *= beta2
        square_mean += scratch
        correction1, correction2 = 1 - beta1 ** step, 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * step * beta2 ** step / correction2
        change = np.divide(mean, correction1, out=scratch)
        change *= lr
        if rho > 5.0:
            rectify = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            change *= math.sqrt(correction2) / (np.sqrt(square_mean) + group["eps"])
            change *= rectify
        np.subtract(param.array, change, out=param.array)

    @staticmethod
    def _update_with_tensor_options(param: Tensor, g: np.ndarray, step: float, mean: np.ndarray,
                                    square_mean: np.ndarray, group: dict[str, Any], scratch: np.ndarray) -> None:
        """The rule for an lr or betas given as tensors (NumPy numbers of their dtypes here), as PyTorch's step works
        it out on the 0-d tensors: 1 − β, βᵗ, ρ∞, ρₜ and r in their dtypes (:func:`tensor_power`,
        :func:`tensor_quotient`), each rounded to the parameter's dtype where it meets the arrays; a float √(1 − β₂ᵗ)
        over the array ``√v + ε`` as its ``float / tensor``, ``(√v + ε).reciprocal() * float``."""
        kind, lr, (beta1, beta2) = scratch.dtype.type, group["lr"], group["betas"]
        lerp_into(mean, g, kind(1 - beta1), scratch)
        np.multiply(g, kind(1 - beta2), out=scratch)
        scratch *= g
        square_mean *= kind(beta2)
        square_mean += scratch
        correction1, correction2 = 1 - tensor_power(beta1, step), 1 - tensor_power(beta2, step)
        rho_inf = tensor_quotient(2, 1 - beta2) - 1
        rho = rho_inf - 2 * step * tensor_power(beta2, step) / correction2
        change = np.divide(mean, kind(correction1), out=scratch)
        change *= kind(lr)
        if rho > 5.0:
            ratio = (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
            denominator = np.sqrt(square_mean) + group["eps"]
            if isinstance(correction2, np.generic):
                change *= kind(np.sqrt(correction2)) / denominator
            else:
                change *= np.reciprocal(denominator, out=denominator) * correction2**0.5
            change *= kind(np.sqrt(ratio) if isinstance(ratio, np.generic) else ratio**0.5)
        np.subtract(param.array, change, out=param.array)
