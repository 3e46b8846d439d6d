"""``LBFGS``: quasi-Newton steps from the last few gradients, PyTorch's ``torch.optim.LBFGS`` without line search.

Newton's method steps by ``−H⁻¹g`` (H the Hessian). L-BFGS never forms H: from the last
``history_size`` moves ``s = Δw`` and gradient changes ``y = Δg`` it applies an estimate of ``H⁻¹`` to
``g`` with the *two-loop recursion*::

    q ← −g
    for i newest → oldest:  αᵢ = ρᵢ·sᵢ·q,   q ← q − αᵢ·yᵢ          (ρᵢ = 1/(yᵢ·sᵢ))
    d ← γ·q                                                       (γ = y·s / y·y of the newest pair)
    for i oldest → newest:  βᵢ = ρᵢ·yᵢ·d,   d ← d + (αᵢ − βᵢ)·sᵢ
    w ← w + t·d            (t = lr; the very first step min(1, 1/Σ|g|)·lr)

A pair is kept only when ``y·s > 1e-10`` (the curvature is positive). One ``step(closure)`` runs up
to ``max_iter`` such iterations, re-evaluating the loss and gradient with ``closure`` after each,
and stops early when the gradient (``max|g| ≤ tolerance_grad``), the step or the loss change
(``≤ tolerance_change``) is small, or after ``max_eval`` evaluations. All parameters are treated as
one vector (one group, as in PyTorch).

>>> import glassgrad as gg
>>> w = gg.tensor([3.0, -2.0], dtype=gg.float64, requires_grad=True)
>>> optimizer = gg.optim.LBFGS([w], lr=1.0, max_iter=20)
>>> def closure():
...     optimizer.zero_grad()
...     loss = ((w - gg.tensor([1.0, 1.0], dtype=gg.float64)) ** 2).sum()
...     loss.backward()
...     return loss
>>> _ = optimizer.step(closure); [round(v, 6) for v in w.tolist()]
[1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import bump_version, current_tape, enable_grad, note_unreplayable
from ..tensor import Tensor
from ._checks import check_number
from .optimizer import Optimizer

FORMULA = ("d = −H⁻¹g by the two-loop recursion over the last (s = Δw, y = Δg) pairs\n"
           "w ← w + t·d")


class LBFGS(Optimizer):
    """L-BFGS (``torch.optim.LBFGS``): ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations.

    ``line_search_fn``: only None (steps of ``lr``) is supported; ``"strong_wolfe"`` is refused in one line.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        if line_search_fn is not None:
            raise NotImplementedError(f"LBFGS: line_search_fn={line_search_fn!r} is not supported in glassgrad; "
                                      "leave it None (steps of lr), or use a smaller lr")
        for name, value in (("max_iter", max_iter), ("history_size", history_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LBFGS: {name} must be a whole number >= 1, got {value!r}")
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                                  "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                                  "history_size": history_size, "line_search_fn": None})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups); give one list of "
                             "parameters")
        self._params = self.param_groups[0]["params"]

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        for name in ("tolerance_grad", "tolerance_change"):
            if name in options:
                options[name] = check_number(name, options[name])
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        return FORMULA

    def _flat_grad(self) -> np.ndarray:
        """Every parameter's gradient, flattened and joined (zeros where a parameter has none)."""
        return np.concatenate([np.zeros(p.array.size, p.array.dtype) if p.grad is None else p.grad.array.reshape(-1)
                               for p in self._params])

    def _add(self, step: float, direction: np.ndarray) -> None:
        """``w ← w + step·direction``, slice by slice (reported to a trace as each parameter's update)."""
        tape = current_tape()
        offset = 0
        for param in self._params:
            size = param.array.size
            old = param.array.copy() if tape is not None else None
            param.array += step * direction[offset:offset + size].reshape(param.array.shape)
            bump_version(param.array)
            if tape is not None and hasattr(tape, "on_update"):
                grad = np.zeros_like(param.array) if param.grad is None else param.grad.array.copy()
                tape.on_update("LBFGS", FORMULA, param, old, grad, step, param.array.copy())
            offset += size

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # noqa: C901 (PyTorch's loop, kept whole)
        """Up to ``max_iter`` iterations; ``closure`` re-evaluates the model and returns the loss (required)."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that clears the gradients, computes the loss, calls "
                               "loss.backward() and returns the loss: optimizer.step(closure)")
        note_unreplayable("LBFGS.step(closure) runs the closure's Python inside the step; compile the closure")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state.setdefault(self._params[0], {"func_evals": 0, "n_iter": 0})

        with enable_grad():
            original_loss = closure()
        loss = float(original_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return original_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_steps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, previous_grad, previous_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        iteration = 0
        while iteration < max_iter:
            iteration += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_steps, ro, h_diag = -flat_grad, [], [], [], 1.0
            else:
                y = flat_grad - previous_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # keep the pair only where the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_steps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_steps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                alphas = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    alphas[i] = float(old_steps[i] @ q) * ro[i]
                    q = q - alphas[i] * old_dirs[i]
                d = q * h_diag
                for i in range(len(old_dirs)):
                    beta = float(old_dirs[i] @ d) * ro[i]
                    d = d + (alphas[i] - beta) * old_steps[i]
            previous_grad = flat_grad.copy()
            previous_loss = loss
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            if float(flat_grad @ d) > -tolerance_change:  # not a descent direction any more
                break
            self._add(t, d)
            found = 0
            if iteration != max_iter:
                with enable_grad():
                    loss = float(closure())
                flat_grad = self._flat_grad()
                found = 1
            evaluations += found
            state["func_evals"] += found
            if (iteration == max_iter or evaluations >= max_eval or np.abs(flat_grad).max() <= tolerance_grad
                    or np.abs(d * t).max() <= tolerance_change or abs(loss - previous_loss) < tolerance_change):
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_steps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=previous_grad, prev_loss=previous_loss)
        return original_loss
