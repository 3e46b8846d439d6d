"""``LBFGS``: quasi-Newton steps from the last few gradients, PyTorch's ``torch.optim.LBFGS``.

Newton's method steps by ``−H⁻¹g`` (H the Hessian). L-BFGS never forms H: from the last
``history_size`` moves ``s = Δw`` and gradient changes ``y = Δg`` it applies an estimate of ``H⁻¹`` to
``g`` with the *two-loop recursion*::

    q ← −g
    for i newest → oldest:  αᵢ = ρᵢ·sᵢ·q,   q ← q − αᵢ·yᵢ          (ρᵢ = 1/(yᵢ·sᵢ))
    d ← γ·q                                                       (γ = y·s / y·y of the newest pair)
    for i oldest → newest:  βᵢ = ρᵢ·yᵢ·d,   d ← d + (αᵢ − βᵢ)·sᵢ
    w ← w + t·d

A pair is kept only when ``y·s > 1e-10`` (the curvature is positive). One ``step(closure)`` runs up
to ``max_iter`` such iterations, re-evaluating the loss and gradient with ``closure`` after each,
and stops early when the gradient (``max|g| ≤ tolerance_grad``), the step or the loss change
(``≤ tolerance_change``) is small, or after ``max_eval`` evaluations. All parameters are treated as
one vector (one group, as in PyTorch).

The step length ``t``. Without a line search it is ``lr`` (the very first step ``min(1, 1/Σ|g|)·lr``).
With ``line_search_fn="strong_wolfe"`` that value is only the first guess: the closure is evaluated
at trial points ``w + t·d`` until one meets the *strong Wolfe conditions* (Nocedal & Wright,
*Numerical Optimization*, Algorithms 3.5 and 3.6)::

    f(w + t·d) ≤ f(w) + c1·t·gᵀd              (sufficient decrease, c1 = 1e-4)
    |∇f(w + t·d)ᵀd| ≤ c2·|gᵀd|                (the slope has flattened, c2 = 0.9)

First *bracketing*: while the trial point is still going downhill and lower, the next guess is
extrapolated (a cubic through the last two points, kept in ``[t + 0.01·(t − t_prev), 10·t]``);
once a trial fails the first condition, is no lower than the one before, or has an uphill slope,
an interval holding an acceptable ``t`` is known. Then *zoom*: the interval shrinks around the
minimiser of the cubic through its two ends (moved 10 % of the width inside when it keeps landing
at an end), until a trial meets both conditions or the interval is narrower than ``1e-9/max|d|``.
The search returns the lowest point it has seen; its loss and gradient become the iteration's, so
no extra evaluation is needed. Every trial counts toward ``max_eval``: after its first trial a search
may make as many more as there are evaluations left (``max_eval`` − those made so far in this ``step``),
so, as in PyTorch, a step can end one evaluation past ``max_eval``.

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

import math
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from ..autograd import bump_version, current_tape, enable_grad, note_unreplayable
from ..tensor import Tensor
from ._checks import check_number, check_steps
from .optimizer import Optimizer

FORMULA = ("d = −H⁻¹g by the two-loop recursion over the last (s = Δw, y = Δg) pairs\n"
           "w ← w + t·d")
WOLFE_FORMULA = (FORMULA + "\nt: f(w + t·d) ≤ f(w) + c1·t·gᵀd and |∇f(w + t·d)ᵀd| ≤ c2·|gᵀd| "
                 "(c1 = 1e-4, c2 = 0.9)")

LINE_SEARCHES = (None, "strong_wolfe")
SUFFICIENT_DECREASE = 1e-4  # c1
CURVATURE = 0.9  # c2
SEARCH_TOLERANCE = 1e-9  # the search's own: PyTorch does not pass the group's tolerance_change to it


class TrialPoint(NamedTuple):
    """One evaluation along the direction: the step ``t``, ``f(w + t·d)``, its gradient and slope ``∇fᵀd``."""

    step: float
    loss: float
    grad: np.ndarray
    slope: float


def cubic_minimiser(a: TrialPoint, b: TrialPoint, bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through ``a`` and ``b`` (their losses and slopes), clamped into ``bounds``.

    With ``l ≤ r`` the two points ordered by step::

        d₁ = sₗ + sᵣ − 3·(fₗ − fᵣ)/(tₗ − tᵣ)        d₂ = √(d₁² − sₗ·sᵣ)
        t* = tᵣ − (tᵣ − tₗ)·(sᵣ + d₂ − d₁)/(sᵣ − sₗ + 2·d₂)

    ``bounds`` defaults to ``[tₗ, tᵣ]``; where ``d₁² < sₗ·sᵣ`` the cubic has no minimum and the middle of
    the bounds is returned.
    """
    left, right = (a, b) if a.step <= b.step else (b, a)
    low, high = (left.step, right.step) if bounds is None else bounds
    d1 = left.slope + right.slope - 3 * (left.loss - right.loss) / (left.step - right.step)
    under_root = d1 * d1 - left.slope * right.slope
    if not under_root >= 0:
        return (low + high) / 2.0
    d2 = math.sqrt(under_root)
    minimiser = right.step - (right.step - left.step) * ((right.slope + d2 - d1) / (right.slope - left.slope + 2 * d2))
    return min(max(minimiser, low), high)


def strong_wolfe_search(evaluate: Callable[[float], TrialPoint], start: TrialPoint, step: float,
                        direction_size: float, budget: int) -> tuple[TrialPoint, int]:
    """A step meeting the strong Wolfe conditions from ``start`` (``t = 0``), first guess ``step``.

    ``evaluate(t)`` gives the trial point at ``w + t·d``; ``direction_size`` is ``max|d|``; ``budget``
    caps the trials after the first. Returns the accepted point and the number of evaluations.
    """
    def above_decrease_line(point: TrialPoint) -> bool:  # the first condition fails
        return point.loss > start.loss + SUFFICIENT_DECREASE * point.step * start.slope

    def flat_enough(point: TrialPoint) -> bool:
        return abs(point.slope) <= -CURVATURE * start.slope

    # bracketing: step further out until an interval [ends[0], ends[1]] must hold an acceptable step
    previous, trial = start, evaluate(step)
    evaluations, tries = 1, 0
    ends, accepted = [start, trial], False
    while tries < budget:
        if above_decrease_line(trial) or (tries > 1 and trial.loss >= previous.loss):
            ends = [previous, trial]
            break
        if flat_enough(trial):
            ends, accepted = [trial], True
            break
        if trial.slope >= 0:  # uphill already: the minimum lies behind
            ends = [previous, trial]
            break
        guess = cubic_minimiser(previous, trial, (trial.step + 0.01 * (trial.step - previous.step), trial.step * 10))
        previous, trial = trial, evaluate(guess)
        evaluations, tries = evaluations + 1, tries + 1
    if tries == budget:  # out of evaluations: keep the better of the start and the last trial
        ends = [start, trial]

    # zoom: shrink the interval; `low` indexes its end with the lower loss (the first end on a tie)
    low = 0 if ends[0].loss <= ends[-1].loss else 1
    near_an_end = False  # the previous guess landed close to an end of the interval
    while not accepted and tries < budget:
        left, right = min(ends[0].step, ends[1].step), max(ends[0].step, ends[1].step)
        if (right - left) * direction_size < SEARCH_TOLERANCE:
            break
        guess = cubic_minimiser(ends[0], ends[1])
        margin = 0.1 * (right - left)
        if min(right - guess, guess - left) < margin:
            if near_an_end or guess >= right or guess <= left:
                guess = right - margin if abs(guess - right) < abs(guess - left) else left + margin
                near_an_end = False
            else:
                near_an_end = True
        else:
            near_an_end = False
        trial = evaluate(guess)
        evaluations, tries = evaluations + 1, tries + 1
        if above_decrease_line(trial) or trial.loss >= ends[low].loss:
            ends[1 - low] = trial
            low = 0 if ends[0].loss <= ends[1].loss else 1
        else:
            if flat_enough(trial):
                accepted = True
            elif trial.slope * (ends[1 - low].step - ends[low].step) >= 0:
                ends[1 - low] = ends[low]
            ends[low] = trial
    return ends[low], evaluations


class LBFGS(Optimizer):
    """L-BFGS (``torch.optim.LBFGS``): ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations.

    ``line_search_fn``: None (steps of ``lr``) or ``"strong_wolfe"``: each step length is searched for
    along ``d`` until ``f(w + t·d) ≤ f(w) + c1·t·gᵀd`` and ``|∇f(w + t·d)ᵀd| ≤ c2·|gᵀd|`` (c1 = 1e-4,
    c2 = 0.9, at most the ``max_eval`` evaluations left); see the module docstring.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1, max_iter: float = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        max_iter = check_steps("max_iter", max_iter)  # PyTorch loops `while n_iter < max_iter`: 2.5 runs 3
        if isinstance(history_size, bool) or not isinstance(history_size, int):  # PyTorch: TypeError at the step
            raise TypeError(f"LBFGS: history_size must be an int >= 1, got {type(history_size).__name__} "
                            f"{history_size!r}; pass int(history_size)")
        if history_size < 1:
            raise ValueError(f"LBFGS: history_size must be a whole number >= 1, got {history_size!r}")
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                                  "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                                  "history_size": history_size, "line_search_fn": line_search_fn})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups); give one list of "
                             "parameters")
        self._params = self.param_groups[0]["params"]

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        for name in ("tolerance_grad", "tolerance_change"):
            if name in options:
                options[name] = check_number(name, options[name])
        search = options.get("line_search_fn")
        if search not in LINE_SEARCHES:
            raise ValueError(f"LBFGS: line_search_fn must be 'strong_wolfe' or None, got {search!r}")
        if search is not None and options.get("max_eval", 1) < 1:
            raise ValueError(f"LBFGS: max_eval must be >= 1 with line_search_fn={search!r} (each search evaluates "
                             f"the closure at least once), got {options['max_eval']!r}")
        return options

    def _saved_shape(self, param: Tensor, name: str) -> tuple[int, ...]:
        """``d``, ``prev_flat_grad`` and the history's vectors hold every parameter as one flat vector (kept under
        the first parameter)."""
        if name in ("d", "prev_flat_grad", "old_dirs", "old_stps"):
            return (sum(p.array.size for p in self._params),)
        return param.shape

    def formula_for(self, group: dict[str, Any]) -> str:
        return FORMULA if group["line_search_fn"] is None else WOLFE_FORMULA

    def _flat_grad(self) -> np.ndarray:
        """Every parameter's gradient, flattened and joined (zeros where a parameter has none)."""
        return np.concatenate([np.zeros(p.array.size, p.array.dtype) if p.grad is None else p.grad.array.reshape(-1)
                               for p in self._params])

    def _add(self, step: float, direction: np.ndarray, report: bool = True) -> None:
        """``w ← w + step·direction``, slice by slice (reported to a trace as each parameter's update)."""
        tape = current_tape() if report else None
        formula = self.formula_for(self.param_groups[0])
        offset = 0
        for param in self._params:
            size = param.array.size
            old = param.array.copy() if tape is not None else None
            param.array += step * direction[offset:offset + size].reshape(param.array.shape)
            bump_version(param.array)
            if tape is not None and hasattr(tape, "on_update"):
                grad = np.zeros_like(param.array) if param.grad is None else param.grad.array.copy()
                tape.on_update("LBFGS", formula, param, old, grad, step, param.array.copy())
            offset += size

    def _evaluate_along(self, closure: Callable[[], Any], direction: np.ndarray, step: float) -> TrialPoint:
        """The loss and gradient at ``w + step·direction``; the parameters are put back to ``w`` after."""
        saved = [param.array.copy() for param in self._params]
        self._add(step, direction, report=False)
        with enable_grad():
            loss = _loss_number(closure())
        grad = self._flat_grad()
        for param, values in zip(self._params, saved):
            np.copyto(param.array, values)
            bump_version(param.array)
        return TrialPoint(step, loss, grad, float(grad @ direction))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # noqa: C901 (PyTorch's loop, kept whole)
        """Up to ``max_iter`` iterations; ``closure`` re-evaluates the model and returns the loss (required)."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure that clears the gradients, computes the loss, calls "
                               "loss.backward() and returns the loss: optimizer.step(closure)")
        note_unreplayable("LBFGS.step(closure) runs the closure's Python inside the step; compile the closure")
        group = self.param_groups[0]
        lr = check_number("learning rate", group["lr"])  # a tensor lr: the number it holds now, read at each step
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]
        self._refuse_state_of_another_shape()  # a parameter resized since the last step: before anything changes
        state = self.state.setdefault(self._params[0], {})
        for counter in ("func_evals", "n_iter"):
            state.setdefault(counter, 0)

        with enable_grad():
            original_loss = closure()
        loss = _loss_number(original_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return original_loss

        t = state.get("t")
        d, previous_grad = (None if state.get(key) is None else state[key].array for key in ("d", "prev_flat_grad"))
        # the history lists are copied, so a state dict saved or loaded earlier never changes under this step
        old_dirs, old_steps, ro = (list(state.get(key) or []) for key in ("old_dirs", "old_stps", "ro"))
        h_diag, previous_loss = state.get("H_diag"), state.get("prev_loss")
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
                    old_dirs.append(Tensor._wrap(y)), old_steps.append(Tensor._wrap(s)), ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                alphas = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    alphas[i] = float(old_steps[i].array @ q) * ro[i]
                    q = q - alphas[i] * old_dirs[i].array
                d = q * h_diag
                for i in range(len(old_dirs)):
                    beta = float(old_dirs[i].array @ d) * ro[i]
                    d = d + (alphas[i] - beta) * old_steps[i].array
            previous_grad = flat_grad.copy()
            previous_loss = loss
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            slope = float(flat_grad @ d)
            if slope > -tolerance_change:  # not a descent direction any more
                break
            found = 0
            if line_search is not None:
                start = TrialPoint(0.0, loss, flat_grad, slope)
                accepted, found = strong_wolfe_search(partial(self._evaluate_along, closure, d), start, t,
                                                      float(np.abs(d).max()), max_eval - evaluations)
                t, loss, flat_grad = accepted.step, accepted.loss, accepted.grad
                self._add(t, d)
            else:
                self._add(t, d)
                if iteration != max_iter:
                    with enable_grad():
                        loss = _loss_number(closure())
                    flat_grad = self._flat_grad()
                    found = 1
            evaluations += found
            state["func_evals"] += found
            if (iteration == max_iter or evaluations >= max_eval or np.abs(flat_grad).max() <= tolerance_grad
                    or np.abs(d * t).max() <= tolerance_change or abs(loss - previous_loss) < tolerance_change):
                break

        state.update(d=Tensor._wrap(d), t=t, old_dirs=old_dirs, old_stps=old_steps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=Tensor._wrap(previous_grad), prev_loss=previous_loss)
        return original_loss


def _loss_number(loss: Any) -> float:
    """The closure's loss (a tensor, or a number) as a Python float: ``.item()``, which, unlike ``float(loss)`` of a
    tensor in the graph, warns of nothing (PyTorch's step reads it with grad mode off, so a learner sees no warning)."""
    return loss.item() if isinstance(loss, Tensor) else float(loss)
