"""Gradient checking: backprop's gradients against central finite differences, in float64.

For every element ``xⱼ`` of every input the numerical derivative is

    ∂f/∂xⱼ ≈ (f(x + ε·eⱼ) − f(x − ε·eⱼ)) / 2ε

which costs **two forward passes per element**: a network with 31 parameters needs 62
forward passes, while backprop gets all 31 derivatives from one forward and one
backward pass. ``gradcheck`` reports both Jacobians and that count.

>>> import glassgrad as gg
>>> x = gg.tensor([1.0, 2.0, 3.0], dtype=gg.float64, requires_grad=True)
>>> report = gg.gradcheck(lambda t: (t * t).sum(), [x])
>>> report.ok, report.forward_passes
(True, 6)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .autograd import enable_grad, no_grad
from .func import jvp
from .functions import cat
from .gradients import grad
from .tensor import Tensor, float64
from .trace.numbers import rounded_text, rounding_note

SMALL_JACOBIAN = 10_000
"""Jacobians with at most this many entries are kept in the report."""
ERROR_DIGITS = 3
WORST_DIGITS = 6
"""A report writes its errors with this many significant digits, and a failing entry's two numbers with
:data:`WORST_DIGITS`, by the glass box's one rule (:func:`~glassgrad.trace.numbers.rounded_text`), and says so."""


def error_text(value: float, digits: int = ERROR_DIGITS) -> str:
    """``value`` (an error, a derivative) as a report writes it: ``digits`` significant digits, a half away from zero.

    >>> error_text(1.125), error_text(2.5e-10), f"{1.125:.3g}"
    ('1.13', '2.5e-10', '1.12')
    """
    return rounded_text(value, digits, "g")


class GradcheckError(RuntimeError):
    """Backprop and finite differences disagree beyond the tolerance."""


@dataclass
class InputCheck:
    """The comparison for one input tensor."""

    index: int
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    ok: bool
    worst_element: tuple | None
    """(output entry, input index) of the worst failing entry, None when every entry passes."""
    worst_numbers: tuple[float, float] | None = None
    """(numerical, analytical) derivative at ``worst_element``."""
    numerical: np.ndarray | None = field(repr=False, default=None)
    analytical: np.ndarray | None = field(repr=False, default=None)


@dataclass
class GradcheckReport:
    """What :func:`gradcheck` found. ``numerical``/``analytical`` Jacobians have shape
    (output elements, input elements), one pair per input, when small enough."""

    ok: bool
    inputs: list[InputCheck]
    forward_passes: int
    backward_passes: int
    eps: float
    atol: float
    rtol: float
    tangent_passes: int = 0
    """Forward mode's Jacobian-vector products, one per input element (``gradcheck(..., forward_mode=True)``)."""

    @property
    def analytical_passes(self) -> str:
        """How the analytical Jacobian was found: the backward passes, or forward mode's products."""
        if self.tangent_passes:
            return f"{self.tangent_passes} forward-mode J·v product(s)"
        return f"{self.backward_passes} backward pass(es)"

    @property
    def max_error(self) -> float:
        return max((check.max_abs_error for check in self.inputs), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return max((check.max_rel_error for check in self.inputs), default=0.0)

    def __str__(self) -> str:
        lines = [
            f"gradcheck {'passed' if self.ok else 'FAILED'}: {self.forward_passes} forward passes "
            f"(2 per input element) vs {self.analytical_passes}"
        ]
        for check in self.inputs:
            abs_text, rel_text = self.error_texts(check)
            line = f"  input {check.index} {check.shape}: max abs error {abs_text}, max rel error {rel_text}"
            if not check.ok:
                numerical, analytical = (error_text(value, WORST_DIGITS) for value in check.worst_numbers)
                line += (f"  ✗ at {check.worst_element} (output entry, input index): numerical {numerical} vs "
                         f"analytical {analytical}")
            lines.append(line)
        return "\n".join([*lines, f"  {self.note()}"])

    def error_texts(self, check: InputCheck) -> tuple[str, str]:
        """``check``'s max abs and max rel error as the report writes them (its text and its notebook table)."""
        return error_text(check.max_abs_error), error_text(check.max_rel_error)

    def note(self, with_worst: bool = True) -> str:
        """What the report's numbers were rounded to: its errors, and (``with_worst``) a failing entry's numbers."""
        note = rounding_note(ERROR_DIGITS, significant=True)
        shown = with_worst and not self.ok
        return f"{note} (a failing entry's numerical and analytical values: {WORST_DIGITS})" if shown else note

    def _repr_html_(self) -> str:
        from .notebook_display import gradcheck_html

        return gradcheck_html(self)


def _float64_inputs(inputs: Sequence[Any]) -> list[Any]:
    """Float64 copies of the floating tensors; other tensors and non-tensor arguments (a number, a flag) as given."""
    prepared = []
    for value in inputs:
        if not isinstance(value, Tensor) or value.dtype.kind != "f":
            prepared.append(value)
            continue
        copy = Tensor._wrap(value.array.astype(float64))
        copy.requires_grad = value.requires_grad
        prepared.append(copy)
    return prepared


def _evaluate(fn: Callable[..., Tensor], inputs: list[Tensor]) -> Tensor:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Any] | Tensor, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = False,
              forward_mode: bool = False, nondet_tol: float | None = None) -> GradcheckReport:
    """Compare ∂fn/∂input from backprop with central differences for each input that requires grad.

    ``fn(*inputs)`` must return a tensor (any shape). Inputs are copied to float64 first; an input that is no
    tensor (a number, a flag) is passed as given, as PyTorch's.
    An entry passes when ``|analytical − numerical| ≤ atol + rtol·|numerical|``.
    With ``raise_exception=True`` a failure raises :class:`GradcheckError`. ``forward_mode=True`` finds the
    analytical Jacobian column by column instead, ``J·eⱼ`` by :func:`glassgrad.func.jvp` (forward mode: a custom
    Function's ``jvp``), one product per input element. With ``nondet_tol`` a number, each backward pass is run
    twice and gradients that differ by more than it fail the check (PyTorch's "Backward is not reentrant").
    """
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    if eps <= 0 or not np.isfinite(eps):
        raise ValueError(f"gradcheck: eps must be a positive number, got {eps}")
    checked = _float64_inputs(inputs)
    targets = [i for i, t in enumerate(checked) if isinstance(t, Tensor) and t.requires_grad]
    if not targets:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")

    output = _evaluate(fn, checked)
    out_size = output.array.size
    analytical = {i: np.zeros((out_size, checked[i].array.size)) for i in targets}
    backward_passes = tangent_passes = 0
    if forward_mode:
        for i in targets:
            analytical[i] = _columns_by_tangents(fn, checked, i, out_size)
            tangent_passes += checked[i].array.size
    elif output.requires_grad:
        repeats = 1 if nondet_tol is None else 2
        for row in range(out_size):
            seed = np.zeros(out_size)
            seed[row] = 1.0
            for repeat in range(repeats):
                for i in targets:
                    checked[i].grad = None
                output.backward(seed.reshape(output.shape), retain_graph=True)
                backward_passes += 1
                for i in targets:
                    grad = checked[i].grad
                    found = np.zeros(checked[i].array.size) if grad is None else grad.array.reshape(-1)
                    if repeat and np.abs(found - analytical[i][row]).max(initial=0.0) > nondet_tol:
                        return _not_reentrant(i, row, nondet_tol, raise_exception, eps, atol, rtol)
                    analytical[i][row] = found

    forward_passes = 0
    numerical = {}
    with no_grad():
        for i in targets:
            values = checked[i].array  # nudged in place by index: reshape(-1) of a transposed view would be a copy
            jacobian = np.zeros((out_size, values.size))
            for j, place in enumerate(np.ndindex(*values.shape)):
                original = values[place]
                values[place] = original + eps
                plus = np.array(_evaluate(fn, checked).array, dtype=np.float64).reshape(-1)
                values[place] = original - eps
                minus = np.array(_evaluate(fn, checked).array, dtype=np.float64).reshape(-1)
                values[place] = original
                forward_passes += 2
                jacobian[:, j] = (plus - minus) / (2 * eps)
            numerical[i] = jacobian

    reports = [_compare(i, checked[i].array.shape, numerical[i], analytical[i], atol, rtol) for i in targets]
    report = GradcheckReport(all(r.ok for r in reports), reports, forward_passes, backward_passes, eps, atol, rtol,
                             tangent_passes)
    if raise_exception and not report.ok:
        raise GradcheckError(str(report))
    return report


def _not_reentrant(index: int, row: int, nondet_tol: float, raise_exception: bool, eps: float, atol: float,
                   rtol: float) -> GradcheckReport:
    """The failed check of a backward that gave other gradients the second time, with PyTorch's message."""
    if raise_exception:
        raise GradcheckError(f"Backward is not reentrant, i.e., running backward with same input and grad_output "
                             f"multiple times gives different values (input {index}, output entry {row}). The "
                             f"tolerance for nondeterminism was {nondet_tol}: raise nondet_tol if the backward is "
                             "meant to be non-deterministic")
    return GradcheckReport(False, [], 0, 0, eps, atol, rtol)


def _columns_by_tangents(fn: Callable[..., Tensor], checked: list[Tensor], index: int, out_size: int) -> np.ndarray:
    """``∂fn/∂inputs[index]`` as (output elements, input elements), column ``j`` being ``J·eⱼ`` (forward mode)."""
    def of_one(value: Tensor) -> Tensor:
        return fn(*checked[:index], value, *checked[index + 1:])

    primal = checked[index].detach()
    columns = np.zeros((out_size, primal.array.size))
    with no_grad():  # the products only: no graph to keep
        for j in range(primal.array.size):
            basis = np.zeros(primal.array.size)
            basis[j] = 1.0
            _, product = jvp(of_one, (primal,), (Tensor._wrap(basis.reshape(primal.array.shape)),))
            columns[:, j] = product.array.reshape(-1)
    return columns


def _compare(index: int, shape: tuple, numerical: np.ndarray, analytical: np.ndarray,
             atol: float, rtol: float) -> InputCheck:
    error = np.abs(analytical - numerical)
    rel = error / np.maximum(np.abs(numerical), np.finfo(np.float64).tiny)
    bad = ~(error <= atol + rtol * np.abs(numerical))
    worst = numbers = None
    if bad.any():
        row, col = np.unravel_index(np.argmax(np.where(bad, error, -1)), error.shape)
        worst = (int(row), tuple(int(i) for i in np.unravel_index(col, shape)))
        numbers = (float(numerical[row, col]), float(analytical[row, col]))
    small = numerical.size <= SMALL_JACOBIAN
    return InputCheck(
        index, tuple(shape), float(error.max(initial=0.0)), float(rel.max(initial=0.0)), not bad.any(), worst,
        numbers, numerical if small else None, analytical if small else None,
    )


def _refuse_unchecked(name: str, **asked: bool) -> None:
    """One line naming the first option of ``name`` that asks for a check glassgrad cannot make."""
    for option, on in asked.items():
        if on:
            raise NotImplementedError(f"{name}: the option {option} is not supported in glassgrad (it has no batched "
                                      "forward mode); leave it at PyTorch's default")


def _float_outputs(result: Any) -> list[Tensor]:
    """The floating tensors among what a checked function returned (one tensor or a tuple of them)."""
    results = result if isinstance(result, (tuple, list)) else (result,)
    return [value for value in results if isinstance(value, Tensor) and value.dtype.kind == "f"]


def _flat(tensors: Sequence[Tensor]) -> Tensor:
    """Several tensors as one vector (how a check of several outputs or gradients sees them)."""
    return cat([tensor.reshape(-1) for tensor in tensors])


def autograd_gradcheck(func: Callable[..., Any], inputs: Sequence[Any] | Tensor, *, eps: float = 1e-6,
                       atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                       nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                       check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
                       check_forward_ad: bool = False, check_backward_ad: bool = True, fast_mode: bool = False,
                       masked: bool | None = None) -> bool:
    """PyTorch's ``torch.autograd.gradcheck``: True when backprop agrees with finite differences.

    As :func:`gradcheck` (float64 copies of the inputs, every input that requires grad; an input that is no
    tensor is passed as given), for ``func`` returning one tensor or a tuple of them; a disagreement raises
    :class:`GradcheckError` with the report, or returns False with ``raise_exception=False``. Each backward pass
    runs twice: gradients that differ by more than ``nondet_tol`` (a custom Function's random backward) fail, as
    PyTorch's "Backward is not reentrant". Accepted, as they change nothing here: ``fast_mode`` (the check is
    always the full one), ``check_undefined_grad`` and ``check_grad_dtypes`` (a missing gradient counts as zeros,
    and gradients come in the input's dtype), ``check_batched_grad`` (glassgrad's ``vmap`` runs the backward once
    per item: the plain check covers it), ``masked`` (every glassgrad tensor is dense: a masked check is the plain
    one, as PyTorch's for dense inputs). ``check_forward_ad`` also checks forward mode's Jacobian (a custom
    Function's ``jvp``), and ``check_backward_ad=False`` leaves backprop's out, as PyTorch's. Batched forward mode
    (``check_batched_forward_grad``) is refused in one line.
    """
    _refuse_unchecked("gradcheck", check_batched_forward_grad=check_batched_forward_grad)
    if not check_forward_ad and not check_backward_ad:
        raise ValueError("gradcheck: Expected at least one of check_forward_ad or check_backward_ad to be True "
                         "(there is nothing to check)")
    def flat(*values: Tensor) -> Tensor:
        return _flat(_float_outputs(func(*values)))

    modes = [mode for mode, wanted in ((False, check_backward_ad), (True, check_forward_ad)) if wanted]
    return all(gradcheck(flat, inputs, eps, atol, rtol, raise_exception, forward_mode=mode,
                         nondet_tol=None if mode else nondet_tol).ok for mode in modes)


def gradgradcheck(func: Callable[..., Any], inputs: Sequence[Any] | Tensor,
                  grad_outputs: Sequence[Tensor] | Tensor | None = None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """PyTorch's ``torch.autograd.gradgradcheck``: second derivatives against finite differences of the first.

    The first derivative ``v·∂func/∂input`` is computed with ``create_graph=True`` (for ``v`` =
    ``grad_outputs``, by default fixed random numbers), and :func:`autograd_gradcheck` compares
    its backprop derivative (``check_rev_over_rev``) and its forward-mode one (``check_fwd_over_rev``) with its
    finite differences. The options as :func:`autograd_gradcheck`'s (``gen_non_contig_grad_outputs``: NumPy's
    memory layout changes no number).
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        draws = np.random.default_rng(0)
        with no_grad():
            shapes = [output.shape for output in _float_outputs(func(*_float64_inputs(inputs)))]
        grad_outputs = [Tensor._wrap(draws.normal(size=shape)) for shape in shapes]

    def first_derivative(*values: Tensor) -> Tensor:
        with enable_grad():  # the finite differences run under no_grad
            wanted = [value for value in values if isinstance(value, Tensor) and value.requires_grad]
            found = grad(_float_outputs(func(*values)), wanted, grad_outputs, create_graph=True,
                         materialize_grads=True)
            return _flat(found)

    return autograd_gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception,
                              nondet_tol=nondet_tol, check_forward_ad=check_fwd_over_rev,
                              check_backward_ad=check_rev_over_rev)
