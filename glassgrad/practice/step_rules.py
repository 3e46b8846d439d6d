"""The rules of a small network's steps, each run by the op's own row and written out for one entry.

A worksheet or a chain-rule problem shows one step ``output = rule(inputs)`` of a traced
network. Which rule a step gets follows the data of the op row the step names (its ``kind``)
and the role of the input it differentiates, never the op's name. For one sample read as a
column (the lessons' form), with ``f`` the row's function and ``f'`` its local derivative::

    affine, forward            Z = W·a + b              Z[i] = Σⱼ W[i,j]·a[j] + b[i]
    affine, backward, weight   ∂L/∂W = ∂L/∂Z·aᵀ         ∂L/∂W[i,j] = ∂L/∂Z[i]·a[j]
    affine, backward, input    ∂L/∂a = Wᵀ·∂L/∂Z         ∂L/∂a[j] = Σᵢ W[i,j]·∂L/∂Z[i]
    activation, forward        A = f(Z)                 A[i] = f(Z[i])            (row.forward)
    activation, backward       ∂L/∂Z = ∂L/∂A ⊙ f'(Z)    ∂L/∂Z[i] = ∂L/∂A[i]·f'(Z)[i]   (row.local)
    loss, forward              L = ±(1/n)·Σ item        (the row's LossForm: item_value)
    loss, backward             ∂L/∂ŷ = gradient/n       (the row's LossForm: gradient_value)
    loss, derived              ŷ = softmax(z)           (the row's LossForm: a derived quantity)

``f'`` is read at the pre-activation Z or at the activation A, as the row's ``reads`` says
(``ReLU'(Z) = 1 where Z > 0``; ``tanh'(Z) = 1 − A²``). So a network of tanh, σ, LeakyReLU,
GELU or SiLU layers with MSE, cross-entropy or binary cross-entropy gets its rules with no
code per op: a new row brings its own.

Each :class:`Rule` has ``recompute(*inputs)``: the row evaluating the rule on the inputs
(in the step's order; the given-values mode runs it on the numbers as shown, rounded), and
``explain(step, index, show)``: the scalar equation of entry ``index`` with the numbers as
``show`` writes them, ending in ``= value``, written by the glass box's one per-entry explainer
(:mod:`glassgrad.trace.explain`, which the playground's click-to-explain uses too).

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> activation_rule(RULES["relu"], ()).recompute(np.array([[2.0], [-1.0]])).ravel().tolist()
[2.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..creation import zeros
from ..ops import Derived, LossForm, Op
from ..tensor import float64
from ..trace import explain
from ..trace.counting import class_entries
from ..trace.explain import Entry, Operand, Writer
from .numbers import engine_tensor, factor_text, number_text

if TYPE_CHECKING:
    from .worksheet import Step

Show = Callable[[float], Fraction]


@dataclass(frozen=True)
class Rule:
    """How the engine computes a step from its inputs, and how one entry is written out."""

    recompute: Callable[..., np.ndarray]
    explain: Callable[[Step, tuple, Show], str]


@dataclass(frozen=True)
class Layout:
    """How the sheet's arrays map to the arrays the row computed on.

    ``columns``: one sample shown as a column (the row computed on a 1×n row); ``classes``: the
    target holds class indices (integers), one per row of the first input.
    """

    columns: bool
    classes: bool = False

    def first(self, values: np.ndarray) -> np.ndarray:
        return values.reshape(1, -1) if self.columns else values

    def target(self, values: np.ndarray, first: np.ndarray) -> np.ndarray:
        if self.classes:
            values = np.rint(values).astype(np.int64)
            return values.reshape(-1) if self.columns else values
        return values.reshape(first.shape) if self.columns and values.size == first.size else values

    def shown(self, values: np.ndarray, like: np.ndarray) -> np.ndarray:
        """A row-layout result back in the sheet's shape of ``like`` (a column stays a column)."""
        values = np.asarray(values, dtype=np.float64)
        return values.reshape(like.shape) if values.size == like.size else values


# --- one entry written out, with the numbers as shown (the glass box's per-entry explainer) -------


def _vector(values: np.ndarray) -> np.ndarray:
    """A column (one sample, as the sheet shows it) as the vector the explainer reads."""
    return values[:, 0] if values.ndim == 2 and values.shape[1] == 1 else values


def _written(step: Step, index: tuple, show: Show) -> tuple[Operand, tuple, list[Operand], Writer]:
    out = Operand(step.name, _vector(step.output))
    index = index[:1] if np.ndim(out.values) == 1 else index
    operands = [Operand(name, _vector(values)) for name, values in step.inputs.items()]
    writer = Writer(factor=lambda value: factor_text(show(value)), result=lambda value: number_text(show(value)),
                    rounds=lambda value: abs(float(show(value)) - value) > 1e-9 * max(1.0, abs(value)))
    return out, index, operands, writer


def _explainer(pattern: Callable[[Operand, tuple, list[Operand], Writer], Entry]) -> Callable[[Step, tuple, Show], str]:
    def explain_entry(step: Step, index: tuple, show: Show) -> str:
        out, index, operands, writer = _written(step, index, show)
        return pattern(out, index, operands, writer).text(writer)

    return explain_entry


# --- affine: Z = W·a + b, one sample as a column --------------------------------------------------


def _affine(weight: np.ndarray, inputs: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    product = engine_tensor(weight) @ engine_tensor(inputs)
    return (product if bias is None else product + engine_tensor(bias)).array


def _weight_grad(upstream: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """∂L/∂W of ``Z = W·a`` by the engine's backward: ``∂L/∂Z · aᵀ``."""
    weight = zeros(upstream.shape[0], inputs.shape[0], dtype=float64, requires_grad=True)
    (weight @ engine_tensor(inputs)).backward(engine_tensor(upstream))
    return weight.grad.array


def _input_grad(weight: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    """∂L/∂a of ``Z = W·a`` by the engine's backward: ``Wᵀ · ∂L/∂Z``."""
    inputs = zeros(weight.shape[1], upstream.shape[1], dtype=float64, requires_grad=True)
    (engine_tensor(weight) @ inputs).backward(engine_tensor(upstream))
    return inputs.grad.array


def _bias_grad(upstream: np.ndarray) -> np.ndarray:
    """∂L/∂b of ``Z = W·a + b`` (one sample as a column) by the engine's backward: ``∂L/∂Z`` itself."""
    bias = zeros(upstream.shape, dtype=float64, requires_grad=True)
    (bias * 1.0).backward(engine_tensor(upstream))
    return bias.grad.numpy()


def _affine_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    weight, vector, *bias = inputs
    return explain.weighted_sum(out, index, weight, vector, writer, bias[0] if bias else None)


def _weight_grad_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    upstream, vector = inputs
    return explain.product(out, index, [(upstream, index[:1]), (vector, index[1:])], writer)


def _input_grad_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    weight, upstream = inputs
    return explain.weighted_sum(out, index, weight, upstream, writer, along="column")


def _bias_grad_entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
    (upstream,) = inputs
    return explain.copy(out, index, upstream, writer)


AFFINE = Rule(_affine, _explainer(_affine_entry))
"""``Z = W·a + b`` (inputs: W, a, b)."""
WEIGHT_GRADIENT = Rule(_weight_grad, _explainer(_weight_grad_entry))
"""``∂L/∂W = ∂L/∂Z·aᵀ`` (inputs: ∂L/∂Z, a)."""
INPUT_GRADIENT = Rule(_input_grad, _explainer(_input_grad_entry))
"""``∂L/∂a = Wᵀ·∂L/∂Z`` (inputs: W, ∂L/∂Z)."""
BIAS_GRADIENT = Rule(_bias_grad, _explainer(_bias_grad_entry))
"""``∂L/∂b = ∂L/∂Z`` (input: ∂L/∂Z; a copy of another step is folded into it instead, see trace_steps)."""


# --- an activation: A = f(Z), and ∂L/∂Z = ∂L/∂A ⊙ f'(Z) --------------------------------------------


def activation_rule(row: Op, settings: tuple) -> Rule:
    """``A = f(Z)`` by the row's forward (inputs: Z)."""

    def recompute(pre_activation: np.ndarray) -> np.ndarray:
        return row.forward(np.asarray(pre_activation, dtype=np.float64), *settings)[0]

    def entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
        written = row.written.format(**{row.roles[0]: inputs[0].symbol} | row.setting_values(settings))
        return explain.entrywise(out, index, written, inputs, writer)

    return Rule(recompute, _explainer(entry))


def local_rule(row: Op, settings: tuple, local_symbol: str, local_formula: str) -> Rule:
    """``∂L/∂Z = ∂L/∂A ⊙ f'`` with ``f'`` the row's local derivative, read at Z or at A as the row says
    (inputs: ∂L/∂A, then Z or A). ``local_symbol``/``local_formula``: how the trace writes ``f'``."""

    def local(read: np.ndarray) -> np.ndarray:
        read = np.asarray(read, dtype=np.float64)
        return row.local((read,), read, settings)[0]

    def recompute(upstream: np.ndarray, read: np.ndarray) -> np.ndarray:
        return np.asarray(upstream, dtype=np.float64) * local(read)

    def entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
        upstream, read = inputs  # the row's local derivative of the engine's Z (or A), even where it shows as 0
        derivative = Operand(local_symbol, local(read.values))
        return explain.product(out, index, [(upstream, index), (derivative, index)], writer,
                               f"{local_symbol} = {local_formula}")

    return Rule(recompute, _explainer(entry))


# --- a loss, by its row's written form ---------------------------------------------------------------


def _scale(form: LossForm, first: np.ndarray, reduction: str) -> int:
    """What the sum of the items is divided by: their count for ``mean``, 1 for ``sum``."""
    return form.items(first) if reduction == "mean" else 1


def loss_rule(row: Op, form: LossForm, reduction: str, layout: Layout) -> Rule:
    """``L = ±(1/n)·Σ item`` by the row's :class:`~glassgrad.ops.LossForm` (inputs: the first input, the target)."""

    def recompute(first: np.ndarray, target: np.ndarray) -> np.ndarray:
        rows = layout.first(np.asarray(first, dtype=np.float64))
        total = np.sum(form.item_value(rows, layout.target(np.asarray(target), rows))) / _scale(form, rows, reduction)
        return np.asarray(-total if form.negated else total)

    def entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
        first, target = inputs
        names = {row.roles[0]: first.symbol, row.roles[1]: target.symbol}
        count = _scale(form, layout.first(first.values), reduction)
        formula = ("−" if form.negated else "") + (f"(1/{count})·" if reduction == "mean" and count != 1 else "")
        formula += f"{form.total} {class_entries(form.item.format(**names))}"
        itemised = explain.loss_items(out, row, dict(zip(row.roles, inputs)), reduction, writer, formula)
        if itemised is not None and form is row.loss:
            return itemised
        indexed = [Operand(f"{operand.symbol}ᵢ", operand.values) if f"{operand.symbol}ᵢ" in formula else operand
                   for operand in inputs]  # a class index yᵢ is plugged in as itself
        return explain.whole(out, (), formula, indexed, writer)

    return Rule(recompute, _explainer(entry))


def _derived_values(form: LossForm, layout: Layout, first: np.ndarray, target: np.ndarray,
                    names: dict[str, str]) -> list[Operand]:
    """The quantities the loss's formulas use on the way (``ŷ``, ``onehot(y)``), by the row, shaped as shown."""
    rows = layout.first(np.asarray(first, dtype=np.float64))
    classes = layout.target(np.asarray(target), rows)
    return [Operand(derived.symbol.format(**names), _vector(layout.shown(derived.value(rows, classes), first)))
            for derived in form.derived]


def _over(text: str, count: int) -> str:
    """``text/count``, with ``text`` in parentheses when it adds or subtracts outside them (``(ŷ − y)/4``)."""
    if count == 1:
        return text
    depth, sums = 0, False
    for position, character in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(character, 0)
        sums |= depth == 0 and character in "+−" and position > 0
    return f"({text})/{count}" if sums else f"{text}/{count}"


def loss_gradient_rule(row: Op, form: LossForm, reduction: str, layout: Layout,
                       names: dict[str, str] | None = None) -> Rule:
    """``∂L/∂(first input) = gradient/n`` by the row's LossForm, for the loss's own step (upstream 1).

    Inputs: the first input and the target; or, given the roles' symbols ``names``, the quantities
    the gradient is written over (``ŷ``, ``onehot(y)``: the form's ``shown_in_gradient``), as the
    trace lists them, computed with the form's ``shown_gradient_value``.
    """

    def recompute(first: np.ndarray, second: np.ndarray) -> np.ndarray:
        first = np.asarray(first, dtype=np.float64)
        rows = layout.first(first)
        if names is not None:
            gradient = form.shown_gradient_value(rows, layout.first(np.asarray(second, dtype=np.float64)))
        else:
            gradient = form.gradient_value(rows, layout.target(np.asarray(second), rows))
        return layout.shown(gradient / _scale(form, rows, reduction), first)

    def entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
        first, second = inputs
        count = _scale(form, layout.first(first.values), reduction)
        if names is not None:
            gradient, operands = form.gradient.format(**names), inputs
        else:
            roles = {row.roles[0]: first.symbol, row.roles[1]: second.symbol}
            gradient = form.gradient.format(**roles)
            operands = [*_derived_values(form, layout, first.values, second.values, roles), *inputs]
        return explain.entrywise(out, index, _over(gradient, count), operands, writer)

    return Rule(recompute, _explainer(entry))


def derived_rule(derived: Derived, role: str, layout: Layout) -> Rule:
    """A quantity a loss computes from its first input on the way (``ŷ = softmax(z)``), by the row
    (inputs: the first input)."""

    def recompute(first: np.ndarray) -> np.ndarray:
        first = np.asarray(first, dtype=np.float64)
        return layout.shown(derived.value(layout.first(first), None), first)

    def entry(out: Operand, index: tuple, inputs: list[Operand], writer: Writer) -> Entry:
        written = derived.formula.format(**{role: inputs[0].symbol})
        return explain.whole(out, index, writer.entry(written, index), inputs, writer)

    return Rule(recompute, _explainer(entry))
