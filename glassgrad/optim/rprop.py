"""``Rprop``: steps of a learned size in the direction of the gradient's sign; the size grows while the sign holds.

Resilient backpropagation (Riedmiller & Braun, 1993) ignores how large the gradient is. Each
weight keeps its own step size: when the gradient keeps its sign the step grows (``η₊``), when the
sign flips (a minimum was jumped over) it shrinks (``η₋``) and that step is skipped. It suits
full-batch training; mini-batch noise flips signs at random.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..arguments import broadcasts_to
from ..tensor import Tensor
from ._checks import as_given, check_number, check_pair
from .optimizer import Optimizer, count_step, scalar_state, zeros_state


class Rprop(Optimizer):
    """Rprop, PyTorch's exact rule (``torch.optim.Rprop``).

    With (η₋, η₊) = ``etas``, [Δmin, Δmax] = ``step_sizes``, each weight's step size Δ starting at ``lr``::

        s = sign(g · g_prev)
        Δ ← clamp(Δ · (η₊ if s > 0, η₋ if s < 0, else 1), Δmin, Δmax)
        g ← 0 where s < 0   (the step after a sign flip is skipped)
        w ← w − sign(g)·Δ,   g_prev ← g

    ``foreach`` (True or False) changes no number; ``capturable=True`` and ``differentiable=True`` are refused at the
    step, as PyTorch on a CPU refuses them.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # Δ = lr, in the gradient's sign
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -2.9]
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2), step_sizes: tuple[float, float] = (1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        super().__init__(params, {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable, "capturable": capturable})

    _scalar_state = ("step",)

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        check_pair(options["etas"], "etas must be a pair of numbers (etaminus, etaplus) such as (0.5, 1.2)")
        check_pair(options["step_sizes"], "step_sizes must be a pair of numbers (min, max) such as (1e-6, 50)")
        shrink, grow = (check_number(f"eta at index {i}", eta) for i, eta in enumerate(options["etas"]))
        if not 0 < shrink < 1 < grow:
            raise ValueError(f"Invalid eta values: {shrink}, {grow} (need 0 < etaminus < 1 < etaplus)")
        low, high = (check_number(f"step size at index {i}", size, why="a negative step size moves the weights "
                                  "uphill; use e.g. step_sizes=(1e-6, 50)")
                     for i, size in enumerate(options["step_sizes"]))
        if not low <= high:
            raise ValueError(f"Invalid step sizes: {low}, {high} (need the smallest first: step_sizes is (min, max), "
                             f"and with min > max every step size would be clamped to {high}); pass ({high}, {low})")
        options["etas"] = as_given(options["etas"], (shrink, grow))
        options["step_sizes"] = as_given(options["step_sizes"], (low, high))
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = ["g ← −∇L(w)"] if group["maximize"] else []
        lines += ["s = sign(g·g_prev)", "Δ ← clamp(Δ·(η₊ if s > 0, η₋ if s < 0, else 1), Δmin, Δmax)",
                  "g ← 0 where s < 0", "w ← w − sign(g)·Δ"]
        return "\n".join(lines)

    @staticmethod
    def _state_shape_error(param_shape: tuple[int, ...], state_shape: tuple[int, ...]) -> type[Exception]:
        """PyTorch's Rprop multiplies g by g_prev (broadcasting), scales its step sizes in place by that product's
        sign, then zeroes ``g[sign == η₋]``: where the parameter's shape broadcasts to its state's (a (3,) state, a
        parameter now (1,) or 0-d) the first two pass and that mask indexing raises IndexError; else RuntimeError."""
        return IndexError if broadcasts_to(param_shape, state_shape) else RuntimeError

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": scalar_state(0.0, group), "prev": zeros_state(param),
                "step_size": Tensor._wrap(np.full_like(param.array, group["lr"]))}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        if group["maximize"]:
            np.negative(grad, out=work)
        else:
            np.copyto(work, grad)
        g = work  # a copy: the entries after a sign flip are zeroed below
        count_step(state)
        (shrink, grow), (low, high), previous, size = group["etas"], group["step_sizes"], state["prev"].array, \
            state["step_size"].array
        agreement = np.sign(np.multiply(g, previous, out=scratch), out=scratch)
        factor = np.where(agreement > 0, grow, np.where(agreement < 0, shrink, 1.0)).astype(g.dtype)
        np.clip(size * factor, low, high, out=size)
        g[agreement < 0] = 0
        np.subtract(param.array, np.sign(g) * size, out=param.array)
        np.copyto(previous, g)
