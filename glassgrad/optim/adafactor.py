"""``Adafactor``: Adam-like steps with the second moment of a matrix kept as one row and one column.

Adam keeps ``v``, an average of g², as large as the parameter. Adafactor (Shazeer & Stern, 2018) keeps, for a
parameter of two or more dims, only the average of g² over each row ``R`` and over each column ``C`` of its last
two dims, and estimates ``v`` from their outer product (a rank-1 factorisation): memory ``m + n`` instead of
``m·n``. Its step size follows the parameter's own scale (RMS of ``w``), and each update is clipped to RMS ≤ d.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._checks import check_number, check_pair
from .optimizer import Optimizer, count_step, lerp_into, scalar_state, zeros_state


def _rms(array: np.ndarray) -> float:
    """Root mean square: ``‖a‖₂ / √(number of entries)``."""
    return float(np.linalg.norm(array.ravel())) / array.size ** 0.5


class Adafactor(Optimizer):
    """Adafactor, PyTorch 2.13's rule (``torch.optim.Adafactor``).

    With η = ``lr``, c = ``beta2_decay`` (≤ 0), (ε₁, ε₂) = ``eps`` (ε₁ = None: the dtype's machine epsilon),
    λ = ``weight_decay`` and t the step::

        β̃ₜ = tᶜ                              (the weight of the new g²; 1 at t = 1)
        α = max(ε₂, RMS(w))·min(η, 1/√t)
        w ← (1 − η·λ)·w                       (decoupled weight decay)
        a parameter of ≥ 2 dims (last two dims m × n):
            R ← R + β̃ₜ·(mean over columns of g² − R)      (m × 1)
            C ← C + β̃ₜ·(mean over rows of g² − C)         (1 × n)
            v̂ = R·C / max(mean(R), ε₁)
        otherwise:  v̂ = V ← V + β̃ₜ·(g² − V)
        U = g / √max(v̂, ε₁²)
        w ← w − α / max(1, RMS(U)/d) · U

    >>> import glassgrad as gg
    >>> w = gg.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    >>> opt = gg.optim.Adafactor([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> sorted(opt.state[w])
    ['col_var', 'row_var', 'step']
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    _scalar_state = ("step",)

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        options["beta2_decay"] = -check_number("beta2_decay (negated, it must be >= 0)", -options["beta2_decay"])
        eps = options["eps"]
        check_pair(eps, "eps must be a pair (eps1 or None, eps2) such as (None, 1e-3)")
        options["eps"] = (None if eps[0] is None else check_number("epsilon1", eps[0]), check_number("epsilon2",
                                                                                                      eps[1]))
        options["d"] = check_number("clipping threshold d", options["d"], 1.0)
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = ["g ← −∇L(w)" if group["maximize"] else "g ← ∇L(w)", "α ← max(ε₂, RMS(w))·min(η, 1/√t)"]
        if group["weight_decay"]:
            lines.append("w ← (1 − η·λ)·w")
        lines += ["R, C ← R, C + tᶜ·(row and column means of g² − R, C)   (V for vectors)",
                  "v̂ ← R·C / max(mean(R), ε₁)", "U ← g / √max(v̂, ε₁²)", "w ← w − α / max(1, RMS(U)/d) · U"]
        return "\n".join(lines)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        if param.array.ndim < 2:
            return {"step": scalar_state(0.0, group), "variance": zeros_state(param)}
        return {"step": scalar_state(0.0, group),
                "row_var": Tensor._wrap(np.zeros(self._saved_shape(param, "row_var"), dtype=param.array.dtype)),
                "col_var": Tensor._wrap(np.zeros(self._saved_shape(param, "col_var"), dtype=param.array.dtype))}

    @staticmethod
    def _state_shape_error(param_shape: tuple[int, ...], state_shape: tuple[int, ...]) -> type[Exception]:
        """PyTorch's Adafactor asserts that a parameter of ≥ 2 dims has ``row_var`` and ``col_var`` (a 1-D one a
        ``variance``): AssertionError where the parameter crossed between the two since its state was made."""
        return AssertionError if (len(param_shape) >= 2) != (len(state_shape) >= 2) else RuntimeError

    def _saved_shape(self, param: Tensor, name: str) -> tuple[int, ...]:
        """``row_var`` keeps one number per row (last dim 1), ``col_var`` one per column (dim −2 of size 1)."""
        shape = list(param.array.shape)
        if name in ("row_var", "col_var") and len(shape) >= 2:  # (a parameter now of fewer dims: its own shape)
            shape[-1 if name == "row_var" else -2] = 1
        return tuple(shape)

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, _ = self._workspace(param)
        g = self._effective_gradient(param, grad, 0.0, group["maximize"], out=work)
        step, w = count_step(state), param.array
        eps1 = np.finfo(w.dtype).eps if group["eps"][0] is None else group["eps"][0]
        new_weight = step ** group["beta2_decay"]
        alpha = max(group["eps"][1], _rms(w)) * min(group["lr"], 1 / step ** 0.5)
        if group["weight_decay"]:
            w *= 1 - group["lr"] * group["weight_decay"]
        squared = g * g
        if w.ndim >= 2:  # PyTorch's lerp_ of each average towards this step's mean of g²
            rows, columns = state["row_var"].array, state["col_var"].array
            mean = squared.mean(-1, keepdims=True)
            lerp_into(rows, mean, new_weight, np.empty_like(mean))
            mean = squared.mean(-2, keepdims=True)
            lerp_into(columns, mean, new_weight, np.empty_like(mean))
            estimate = rows @ columns / np.maximum(rows.mean(-2, keepdims=True), eps1)
        else:
            estimate = lerp_into(state["variance"].array, squared, new_weight, np.empty_like(squared))
        update = g / np.sqrt(np.maximum(estimate, eps1 * eps1))
        w -= alpha / max(1.0, _rms(update) / group["d"]) * update
