"""``Adamax``: Adam with the running *maximum* of gradient sizes in place of their mean square.

Adam divides by √v, an average of g²; Adamax (Kingma & Ba, 2015, §7) divides by ``u``, a
decaying maximum of |g| (the ∞-norm instead of the 2-norm), which needs no bias correction
and is less thrown by a single huge gradient.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_betas_and_eps
from ._scalars import tensor_power, tensor_quotient
from .optimizer import Optimizer, count_step, gradient_formula, lerp_into, scalar_state, zeros_state


class Adamax(Optimizer):
    """Adamax, PyTorch's exact rule (``torch.optim.Adamax``).

    With η = ``lr``, (β₁, β₂) = ``betas``, ε = ``eps``, λ = ``weight_decay`` and t the step::

        g ← ∇L(w) + λ·w                  (−∇L(w) + λ·w when maximize=True)
        m ← β₁·m + (1 − β₁)·g
        u ← max(β₂·u, |g| + ε)
        w ← w − (η / (1 − β₁ᵗ))·m / u

    ``foreach`` (True or False) changes no number; ``capturable=True`` and ``differentiable=True`` are refused at the
    step, as PyTorch on a CPU refuses them.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # the first step is ≈ η·sign(g)
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -2.9]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    _scalar_state = ("step",)
    _exact_tensor_options = True

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return check_betas_and_eps(super()._checked_options(options))

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = gradient_formula(group["weight_decay"], group["maximize"])
        lines += ["m ← β₁·m + (1 − β₁)·g", "u ← max(β₂·u, |g| + ε)", "w ← w − (η / (1 − β₁ᵗ))·m / u"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": scalar_state(0.0, group), "exp_avg": zeros_state(param), "exp_inf": zeros_state(param)}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        g = self._effective_gradient(param, grad, group["weight_decay"], group["maximize"], out=work)
        count = count_step(state)
        (beta1, beta2), lr, mean, peak = group["betas"], group["lr"], state["exp_avg"].array, state["exp_inf"].array
        if isinstance(lr, np.generic) or isinstance(beta1, np.generic) or isinstance(beta2, np.generic):
            # options given as tensors: worked out in their dtypes, as PyTorch's 0-d tensors, then the parameter's
            kind = scratch.dtype.type
            weight, beta2 = kind(1 - beta1), kind(beta2)
            step_size = kind(tensor_quotient(lr, 1 - tensor_power(beta1, count)))
        else:
            weight, step_size = 1 - beta1, lr / (1 - beta1**count)  # 1 − β₁, η / (1 − β₁ᵗ)
        lerp_into(mean, g, weight, scratch)  # m ← m + (1 − β₁)(g − m)
        peak *= beta2  # u ← max(β₂·u, |g| + ε)
        np.maximum(peak, np.abs(g, out=scratch) + group["eps"], out=peak)
        step = np.multiply(mean, step_size, out=scratch)  # (η/(1 − β₁ᵗ))·m / u in PyTorch's order (its addcdiv)
        step /= peak
        np.subtract(param.array, step, out=param.array)
