"""``Adagrad``: each weight's step shrinks with the sum of all its past squared gradients.

Weights that have seen large or frequent gradients slow down; rarely updated weights keep
taking large steps (Duchi, Hazan & Singer, 2011). The sum only grows, so every step size
decays over training.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..settings import warn_at_learners_line
from ..tensor import Tensor
from ._checks import check_eps, check_number
from .optimizer import Optimizer, count_step, gradient_formula, scalar_state


class Adagrad(Optimizer):
    """Adagrad, PyTorch's exact rule (``torch.optim.Adagrad``).

    With η = ``lr``, δ = ``lr_decay``, ε = ``eps``, λ = ``weight_decay``, t the step number
    (1, 2, ...) and ``s`` starting at ``initial_accumulator_value``::

        g ← ∇L(w) + λ·w                 (−∇L(w) + λ·w when maximize=True)
        ηₜ ← η / (1 + (t − 1)·δ)
        s ← s + g²
        w ← w − ηₜ·g / (√s + ε)

    As in PyTorch, every parameter's ``s`` is made when the optimizer is built (``state`` and ``state_dict``
    hold it before the first step), and it starts at the optimizer's own ``initial_accumulator_value``
    for every group: PyTorch does not read a group's, so a group that gives another one is warned about.
    ``foreach`` and ``fused`` (True or False) change no number (PyTorch's fused kernel may round differently);
    ``differentiable=True`` is refused at the step, as PyTorch on a CPU refuses it.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step()   # s = g², so the first step is η·sign(g)
    >>> w
    tensor([ 0.5000, -2.5000], requires_grad=True)
    """


    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param] = self._initial_state(param, group)

    _scalar_state = ("step",)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        start, own = self.defaults["initial_accumulator_value"], self.param_groups[-1]["initial_accumulator_value"]
        if own != start:
            warn_at_learners_line(f"Adagrad: parameter group {len(self.param_groups) - 1} gives "
                                  f"initial_accumulator_value={own:g}, which is not used: every accumulator starts at "
                                  f"the optimizer's {start:g}, as in PyTorch; pass initial_accumulator_value to "
                                  "Adagrad(...) itself")

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        options["lr_decay"] = check_number("lr_decay value", options["lr_decay"])
        options["initial_accumulator_value"] = check_number(
            "initial_accumulator_value value", options["initial_accumulator_value"]
        )
        options["eps"] = check_eps(options["eps"], 1e-10)
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = gradient_formula(group["weight_decay"], group["maximize"])
        if group["lr_decay"]:
            lines += ["ηₜ ← η / (1 + (t − 1)·δ)", "s ← s + g²", "w ← w − ηₜ·g / (√s + ε)"]
        else:
            lines += ["s ← s + g²", "w ← w − η·g / (√s + ε)"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": scalar_state(0.0, group),
                "sum": Tensor._wrap(np.full_like(param.array, self.defaults["initial_accumulator_value"]))}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        g = self._effective_gradient(param, grad, group["weight_decay"], group["maximize"], out=work)
        step = count_step(state)
        decayed_lr = group["lr"] / (1 + (step - 1) * group["lr_decay"])  # ηₜ
        squares = state["sum"].array
        squares += np.multiply(g, g, out=scratch)  # s ← s + g²
        denominator = np.sqrt(squares, out=scratch)
        denominator += group["eps"]
        change = np.divide(g, denominator, out=scratch)  # w ← w − ηₜ·g / (√s + ε)
        change *= decayed_lr
        np.subtract(param.array, change, out=param.array)
