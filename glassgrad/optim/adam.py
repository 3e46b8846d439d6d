"""``Adam`` and ``AdamW``: momentum plus a per-weight step size from the gradient's recent size.

Adam keeps two running averages per weight: ``m`` of the gradient (a momentum direction) and
``v`` of the squared gradient (how large gradients there usually are). Dividing ``m`` by ``√v``
gives every weight a step of roughly η, whatever the scale of its gradient. Both averages start
at 0, so early on they are too small; dividing by ``1 − βᵗ`` (bias correction) undoes that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_number
from .optimizer import Optimizer, gradient_formula


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch's exact rule (``torch.optim.Adam``).

    With η = ``lr``, (β₁, β₂) = ``betas``, ε = ``eps``, λ = ``weight_decay`` and t the step
    number of this parameter (1, 2, ...)::

        g ← ∇L(w) + λ·w                     (−∇L(w) + λ·w when maximize=True)
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        v_max ← max(v_max, v)               (amsgrad=True only; then v_max replaces v below)
        m̂ ← m / (1 − β₁ᵗ),   v̂ ← v / (1 − β₂ᵗ)
        w ← w − η·m̂ / (√v̂ + ε)

    Computed as PyTorch does: ``w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)``.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w                        # the first step is ≈ η·sign(g) for every weight
    tensor([ 0.9, -2.9], requires_grad=True)
    """

    formula = (
        "g ← ∇L(w) + λ·w   (−∇L(w) + λ·w when maximizing)\n"
        "m ← β₁·m + (1 − β₁)·g\n"
        "v ← β₂·v + (1 − β₂)·g²\n"
        "v_max ← max(v_max, v)   (AMSGrad only; v_max then stands for v)\n"
        "m̂ ← m / (1 − β₁ᵗ),  v̂ ← v / (1 − β₂ᵗ)\n"
        "w ← w − η·m̂ / (√v̂ + ε)"
    )
    decoupled_weight_decay = False
    """True for AdamW: ``w ← w − η·λ·w`` applied to the weight, not ``λ·w`` added to the gradient."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        betas = options["betas"]
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise TypeError(f"betas must be a pair of numbers (beta1, beta2) such as (0.9, 0.999), not {betas!r}")
        options["betas"] = tuple(
            check_number(f"beta parameter at index {index}", beta, 0.0, 1.0) for index, beta in enumerate(betas)
        )
        options["eps"] = check_number("epsilon value", options["eps"], low_included=False)
        options["amsgrad"] = bool(options["amsgrad"])
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        decay, maximize = group["weight_decay"], group["maximize"]
        if self.decoupled_weight_decay:
            lines = (["w ← w − η·λ·w"] if decay else []) + gradient_formula(0.0, maximize)
        else:
            lines = gradient_formula(decay, maximize)
        lines += ["m ← β₁·m + (1 − β₁)·g", "v ← β₂·v + (1 − β₂)·g²"]
        if group["amsgrad"]:
            lines += ["v_max ← max(v_max, v)", "m̂ ← m / (1 − β₁ᵗ),  v̂ ← v_max / (1 − β₂ᵗ)"]
        else:
            lines += ["m̂ ← m / (1 − β₁ᵗ),  v̂ ← v / (1 − β₂ᵗ)"]
        return "\n".join([*lines, "w ← w − η·m̂ / (√v̂ + ε)"])

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "exp_avg": np.zeros_like(param.data), "exp_avg_sq": np.zeros_like(param.data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param.data)
        return state

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        if self.decoupled_weight_decay:
            if decay:  # w ← w − η·λ·w
                np.multiply(param.data, 1 - lr * decay, out=param.data)
            decay = 0.0
        g = self._effective_gradient(param, grad, decay, group["maximize"], out=work)
        state["step"] += 1
        step = state["step"]
        mean, square_mean = state["exp_avg"], state["exp_avg_sq"]
        mean *= beta1  # m ← β₁·m + (1 − β₁)·g
        mean += np.multiply(g, 1 - beta1, out=scratch)
        square_mean *= beta2  # v ← β₂·v + (1 − β₂)·g²
        square_mean += np.multiply(np.multiply(g, g, out=scratch), 1 - beta2, out=scratch)
        if group["amsgrad"]:
            square_mean = np.maximum(state["max_exp_avg_sq"], square_mean, out=state["max_exp_avg_sq"])
        denominator = np.sqrt(square_mean, out=scratch)  # √v / √(1 − β₂ᵗ) + ε
        denominator /= math.sqrt(1 - beta2**step)
        denominator += group["eps"]
        step_size = lr / (1 - beta1**step)  # w ← w − η/(1 − β₁ᵗ) · m / denominator
        np.divide(mean, denominator, out=scratch)
        scratch *= step_size
        np.subtract(param.data, scratch, out=param.data)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), like ``torch.optim.AdamW``.

    Instead of adding ``λ·w`` to the gradient (which Adam then rescales, weakening the decay
    of weights with large gradients), the weight itself shrinks first::

        w ← w − η·λ·w
        g ← ∇L(w)                           (−∇L(w) when maximize=True)
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        v_max ← max(v_max, v)               (amsgrad=True only; then v_max replaces v below)
        m̂ ← m / (1 − β₁ᵗ),   v̂ ← v / (1 − β₂ᵗ)
        w ← w − η·m̂ / (√v̂ + ε)

    The default ``weight_decay`` is 0.01 (PyTorch's).
    """

    formula = "w ← w − η·λ·w\ng ← ∇L(w)   (−∇L(w) when maximizing)\n" + Adam.formula.split("\n", 1)[1]
    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
