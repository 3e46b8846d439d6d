"""The rule table: every differentiable primitive, its math as data, forward beside backward.

Each :class:`Op` row is the one place an op's math lives; the engine, the traces, practice
and the playground read rows by key (``RULES["relu"]``) and never switch on op names.
A row holds

* ``forward(*arrays_and_settings) -> (output, saved)`` computed with NumPy;
* ``backward(upstream, saved) -> contributions``, the vector-Jacobian product: given
  ``upstream = ∂L/∂out`` it returns ``∂L/∂input`` for every input, in order, or ``None``
  for an input that needs no gradient;
* ``derivatives``: one text per input, as PyTorch's ``derivatives.yaml`` keeps one line per
  input. For an elementwise op it is the local derivative ``∂out/∂input``; for any other op
  the whole ``∂L/∂input`` in terms of ``{up}`` (= ∂L/∂out). Placeholders: the input roles
  (``{a}``, ``{weight}`` …), ``{out}``, ``{up}`` and the named settings (``{slope}``);
* ``local(inputs, output, settings) -> [∂out/∂input, …]`` for elementwise ops: the local
  derivative as numbers, one array per input, so that ``contribution = upstream ⊙ local``;
  ``reads`` says whether it is computed from the ``input`` (ReLU) or the ``output`` (σ, tanh);
* ``kind``: ``elementwise``, ``activation`` (an elementwise nonlinearity written as a function,
  ``A = ReLU(Z)``), ``reduction``, ``slicewise`` (softmax along a dim), ``shape``,
  ``contraction`` (matmul), ``affine`` (``Z = X·Wᵀ + b``), ``loss``, ``convolution``, ``pooling``
  (a window's maximum or mean), ``lookup`` (rows of a table, ``embedding``), ``normalization`` (each slice
  standardised, ``layer_norm``) or ``custom`` (a user's
  ``gg.autograd.Function``, whose row :mod:`glassgrad.custom_function` makes on first use);
* ``written``: how the op reads in a formula (``"{a} + {b}"``, ``"σ({a})"``), and ``symbol``, its
  name in a formula (``σ``: the local derivative is written ``σ'(Z₁)``);
* ``roles``: what each input is (``a``/``b``; ``input``/``weight``/``bias``; ``logits``/``target``);
* ``settings``: the names of the op's non-array arguments, in order (``slope``, ``reduction``),
  and ``defaults``: a value for each, the one a call without it gets (or a typical one);
* ``loss``: for a loss, its written formulas and what they compute (:class:`LossForm`);
* ``vjp_tensors``: the backward rule again, written with tensor operations so that the gradient
  is itself recorded in the graph and can be differentiated (``create_graph=True``, second
  derivatives); ``None`` where a row has none yet;
* ``window``: for a sliding-window op, how one entry is written and which entries it reads
  (:class:`WindowForm`).

An elementwise op of one input is one declaration, :func:`elementwise`: its value and its
local derivative give the forward, the backward and the numbers the trace shows.

The rules see only NumPy arrays; they know nothing of tensors, graphs or traces.
A rule returns, for each input, ∂L/∂input in that input's shape and dtype, or in a shape the
input broadcasts to (the binary elementwise ops, ``where``, ``expand``, ``cat``, ``stack`` and
batched ``matmul`` return the output's shape): the engine (:mod:`glassgrad.autograd`) checks
every contribution and sums such ones back, once, for every rule; any other shape is refused
there as a bug in the rule.

Choices at kinks, shared with PyTorch:

* ``relu'(0) = 0`` (the mask is ``not x ≤ 0``);  ``|x|'(0) = 0``;
* at a NaN input relu, elu (selu, celu), hardtanh (relu6), hardswish, hardshrink and softshrink pass the gradient
  (slope 1), as PyTorch's relu always and its others on small tensors (their vectorised loop, on larger ones, gives
  NaN, or 0 for hardtanh, relu6, hardshrink and softshrink);
  hardsigmoid passes none; ``abs`` and ``sign`` keep the NaN (PyTorch's ``sign(NaN)`` is 0, which hides it);
* where an op is flat (clamped, below relu6's 0, off the maximum) its gradient is 0 even for an infinite
  upstream (``x.clamp(min=0).sqrt()`` below 0), as PyTorch's masks, not ∞·0 = NaN; except ``relu``, whose
  mask multiplies (a where is several times slower on the hot path): there such an upstream gives NaN;
* ``clamp`` passes the gradient where ``min <= x <= max`` (both ends included); ``hardtanh`` (and ``relu6``)
  and ``hardsigmoid`` only strictly inside, and ``hardswish'`` is 0 at −3 and 1 at 3;
* ties in ``max()``/``min()`` over all entries, ``amax``/``amin`` and ``maximum``/``minimum`` split the
  gradient evenly between the tied entries, as PyTorch's; ``max(dim)``/``min(dim)`` send it all to the index
  they return (the first of ties), as PyTorch's;
  a NaN is the maximum (and the minimum): it takes the gradient, NaNs tying with each
  other (PyTorch's ``amax``/``max()`` give NaN to every entry of such a slice: its tie mask ``x == max`` misses
  the NaN, 0/0), and ``maximum``/``minimum`` pass it to both inputs where either is NaN;
* ``∂(aᵇ)/∂a = 0`` where ``b = 0``, even at ``a = 0`` (where ``b·aᵇ⁻¹`` would be ``0·∞``) and for an infinite or
  NaN upstream; ``a**0.5`` is ``√a`` and ``a**−0.5`` is ``1/√a`` at ``−0`` and ``−∞`` too (``−∞`` and NaN), as
  PyTorch;
* ``var``/``std`` with no degrees of freedom (``n − correction ≤ 0``) warn and give
  ``inf``/``nan`` (see ``_var_back``); ``std``'s gradient is 0 where ``std = 0``.

``python -m glassgrad rules`` prints this table as a cheat sheet.

>>> RULES["mul"].derivative_text(0, {"a": "x", "b": "w"})
'w'
>>> RULES["relu"].written.format(a="Z₁")
'ReLU(Z₁)'
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import sliding
from .dtypes import get_default_dtype
from .float_errors import quiet
from .memory_formats import astype_in_order
from .settings import warn_at_learners_line
from .summation import IN_TURN, add_reduce, log_of_sum, narrowed, nll_total, widened

Array = np.ndarray
KINDS = ("elementwise", "activation", "reduction", "slicewise", "shape", "contraction", "affine", "loss", "custom",
         "convolution", "pooling", "lookup", "normalization")
ELEMENTWISE_KINDS = ("elementwise", "activation")


def setting_text(value: Any) -> str:
    """A setting as a formula shows it: ``0.01``, ``mean``; a float in full, as its shortest exact text (``repr``),
    since the formula states the very number the op used (a slope of 0.0123456789 is not ``0.0123457``), and
    without a bare ``.0`` (``a^2``).

    >>> setting_text(0.0123456789), setting_text(2.0), setting_text(np.float64(1e-05)), setting_text("mean")
    ('0.0123456789', '2', '1e-05', 'mean')
    """
    if isinstance(value, float):  # np.float64 too: written as the float it is, not np.float64(…)
        return repr(float(value)).removesuffix(".0")
    return str(value)


def _word_or_count(value: Any) -> bool:
    """A setting that is a word (gelu's ``approximate``) or a whole number (polygamma's ``n``), not a bool."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Derived:
    """A quantity a loss's formulas use that is computed from its inputs (``ŷ = softmax(z)``)."""

    symbol: str
    formula: str
    value: Callable[..., Array]


@dataclass(frozen=True)
class LossForm:
    """How a fused loss is written, and what its written formulas compute.

    ``item`` is one item's loss and ``gradient`` its derivative ``∂(item loss)/∂(first input)``,
    both written over the roles and the ``derived`` symbols; ``item_value`` and
    ``gradient_value`` compute exactly those expressions from the same arrays. The whole loss
    is ``sign · (1/count) Σ item`` (``"mean"``), ``sign · Σ item`` (``"sum"``) or the items
    (``"none"``); its gradient is ``gradient / count`` times the upstream gradient. ``count``
    is ``"n"`` (every entry is an item) or ``"N"`` (every row is).
    """

    item: str
    gradient: str
    item_value: Callable[..., Array]
    gradient_value: Callable[..., Array]
    count: str = "n"
    negated: bool = False
    total: str = "Σ"
    derived: tuple[Derived, ...] = ()
    shown_in_gradient: tuple[str, ...] = ()
    """The symbols the gradient's step lists as its inputs (default: the roles)."""
    shown_gradient_value: Callable[..., Array] | None = None
    """``gradient`` computed from the :attr:`shown_in_gradient` quantities, in that order (when they are set)."""
    for_probabilities: LossForm | None = None
    """The form used instead when the target holds probabilities (floats) rather than class indices."""

    def items(self, values: Array) -> int:
        """How many items ``values`` (the first input) holds: entries (``n``) or rows (``N``)."""
        return values.size if self.count == "n" else values.shape[0]

    def for_target(self, target: Array) -> LossForm:
        """The form that fits ``target``: :attr:`for_probabilities` for float targets, if there is one."""
        if self.for_probabilities is not None and np.asarray(target).dtype.kind == "f":
            return self.for_probabilities
        return self


@dataclass(frozen=True)
class WindowForm:
    """How a sliding-window op (convolution, pooling) is written entry by entry, and what one entry reads.

    ``output`` is the output entry's indices (``[n,c,i,j]``, written after its symbol) and
    ``gradients`` each input's (``[c,k,u,v]`` for a weight), both templates like the row's
    texts. ``text(settings)`` gives the placeholders the settings decide: ``{i}``, ``{j}`` (and ``{l}`` in 3-d),
    the input index kernel offset ``u`` reads at output ``i`` (``i+u``; ``2i+u`` with stride 2;
    ``i+2u`` with dilation 2), ``{k}`` the input channel, ``{pad}`` a note on the padding.
    ``reads(settings, size, kernel, at)`` lists, for output position ``at`` (its spatial
    indices) of an input of spatial ``size``, each kernel offset with the input position it
    reads (``None`` in the padding); ``kernel`` is the weight's spatial shape (a convolution)
    or ``None`` (pooling: the settings say it). ``reduce`` says how a pooling window
    combines its entries (``max`` or ``mean``); a convolution sums products.
    """

    output: str
    gradients: tuple[str, ...]
    text: Callable[[tuple], dict[str, str]]
    reads: Callable[[tuple, tuple, tuple | None, tuple], list[tuple[tuple, tuple | None]]]
    reduce: str = "sum"


@dataclass(frozen=True)
class Op:
    """One primitive: its name, its math as data, and its forward and backward functions."""

    name: str
    formula: str
    derivatives: tuple[str, ...]
    forward: Callable[..., tuple[Array, Any]]
    backward: Callable[[Array, Any], tuple[Array | None, ...]]
    kind: str = "elementwise"
    roles: tuple[str, ...] = ("a",)
    written: str = ""
    symbol: str = ""
    local: Callable[[tuple, Array, tuple], list[Array]] | None = None
    reads: str = "input"
    settings: tuple[str, ...] = ()
    defaults: tuple[Any, ...] = ()
    loss: LossForm | None = None
    window: WindowForm | None = None
    saves: tuple[tuple[int, ...], ...] | Callable[[Any], tuple[tuple[int, ...], ...]] = ()
    """For each input, the tensors its gradient reads back: input positions and :data:`OUT`.

    These are PyTorch's saved tensors (``tools/autograd/derivatives.yaml``): when an input
    needs a gradient, ``backward`` checks that none of them was changed in place since the
    forward (see :mod:`glassgrad.autograd`). A rule that reads anything else keeps its own
    copy. A function of the saved values where it depends on the settings (``max(dim)``).
    """
    vjp_tensors: Callable[[Any, tuple, Any, Any], tuple] | None = None
    """``backward`` on tensors, recorded in the graph: ``vjp_tensors(upstream, inputs, output, saved)``.

    The same ∂L/∂input as :attr:`backward`, computed with tensor operations on the node's own
    inputs and output (so that the gradient can be differentiated again: ``create_graph=True``);
    ``saved`` (what the forward saved) gives only the settings (axis, shape …). Like ``backward``
    it may return a gradient in a shape its input broadcasts to. These functions use only the
    methods and operators of the tensors they are given: this module still imports no tensor.
    ``None``: no second derivative yet (:mod:`glassgrad.gradient_walk` refuses, naming the row).
    """
    value: Callable[..., Array] | None = None
    """The forward's output alone, ``value(*args) == forward(*args)[0]`` (the same function the forward calls),
    for a caller that needs no saved values or can name them itself (a compiled replay, :attr:`keeps`)."""
    keeps: Any = None
    """What the forward saves, where it is one of the call's own values: :data:`OUT` (the output), ``0`` (the
    first input) or :data:`INPUTS` (the inputs as a tuple); ``None``: something else, or nothing to name."""
    passes_up: bool = False
    """Whether ``backward`` hands every input the upstream gradient itself, unchanged (``add``: ∂L/∂a = ∂L/∂b =
    ∂L/∂out): a compiled replay names it instead of calling the rule."""
    float_result: bool = False
    """Whether integer operands give a float (true division: int / int is the default float dtype). Operands of two
    dtypes then go straight to that float (:func:`glassgrad.arguments.promote_to_float`), never through their
    integer common dtype, which would wrap a number it cannot hold (uint8 / 256 is 0.39…, not 100 / 0)."""
    refuses_bool: str = ""
    """The one-line error when a bool tensor is an operand (PyTorch's subtraction and negation refuse one, where
    NumPy's TypeError would name NumPy's fix); ``""``: bools are taken."""
    reads_back: str = ""
    """What the rule reads back among the arrays it saved that are not its own copies, named for the error (``""``:
    nothing beyond :attr:`saves`): ``x[i]`` keeps the caller's index ``i`` ("its index"), a compiled forward's node
    the values its replay kept. Every array in what the forward saved is checked unchanged before backward, and one
    changed in place is refused, as PyTorch refuses it, instead of routing the gradient by the new positions or
    values (:func:`glassgrad.autograd._check_saved`)."""
    shown: tuple[tuple[int, str], ...] = ()
    """Arrays among the forward's arguments that are no input (no gradient reaches them) but that the trace shows
    as one, each ``(position among the arguments, symbol)``: ``where``'s condition ``c``, so that a learner sees
    which entries it picks (:mod:`glassgrad.trace`)."""
    joint: bool = False
    """Whether the row is one call with several outputs in the graph (a custom ``autograd.Function`` returning a
    tuple): each output is a node of its own, saving ``(ctx, its position)``, and the walks take them together
    (:func:`glassgrad.autograd.same_call`), calling ``backward`` once with a list of every output's ∂L/∂out (None
    for one that got no gradient) in place of one upstream."""
    saved_alone: Callable[..., Any] | None = None
    """What the forward saves, without its output: ``saved_alone(*args) == forward(*args)[1]`` (the same function
    the forward calls), for a compiled replay whose step never reads the output (a loss nobody returns: only what
    its backward needs is computed)."""

    keeps_no_tensor: bool = field(default=False, init=False)
    """Whether the node saves no tensor for its backward (:attr:`saves` names none for any input, and the row is no
    custom one, whose ``ctx`` may hold any): PyTorch keeps such a node through a backward without ``retain_graph``
    (``w.t()``, a ``Normal(μ, σ)``'s broadcast σ, ``x.sum()`` made once and walked again), so glassgrad frees one
    only where it reads a node that does save (:func:`glassgrad.autograd.freed_after_backward`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "keeps_no_tensor",
                           self.kind != "custom" and not callable(self.saves) and not any(self.saves))
        if self.kind not in KINDS:
            raise ValueError(f"op {self.name}: kind {self.kind!r} is not one of {KINDS}")
        if not self.written:
            object.__setattr__(self, "written", f"{self.name}({', '.join('{' + r + '}' for r in self.roles)})")
        if not self.symbol:
            object.__setattr__(self, "symbol", self.name)

    @property
    def elementwise(self) -> bool:
        """True when the op works entry by entry (its Jacobian is diagonal)."""
        return self.kind in ELEMENTWISE_KINDS

    def setting_values(self, settings: tuple) -> dict[str, str]:
        """The named settings of one call, written as text (``{"slope": "0.01"}``)."""
        values = {name: setting_text(value) for name, value in zip(self.settings, settings)}
        if self.window is not None:  # a window's index arithmetic, from its settings (``2i+u``)
            values |= self.window.text(tuple(settings))
        return values

    def derivative_text(self, position: int, names: dict[str, str] | None = None,
                        settings: tuple | None = None) -> str:
        """Input ``position``'s derivative text with the roles, ``out``, ``up`` and settings filled in.

        With no ``names`` the roles stand for themselves (the cheat sheet's ``∂out/∂a = b``).
        """
        text = self.derivatives[min(position, len(self.derivatives) - 1)]
        fill = {role: role for role in self.roles} | {"out": "out",
                                                      "up": "∂L/∂out₁, ∂L/∂out₂, …" if self.joint else "∂L/∂out"}
        # the cheat sheet writes a setting by its name (slope·a), but a mode or a count as a call without it gets it
        # (approximate='none', n = 1: not approximate='approximate', n = n), and a window with its default settings
        given = dict(zip(self.settings, self.defaults))
        fill |= {name: setting_text(given[name]) if _word_or_count(given.get(name)) else name for name in self.settings}
        if self.window is not None:
            fill |= self.window.text(self.defaults)
        if settings is not None:
            fill |= self.setting_values(settings)
        return text.format(**(fill | (names or {})))

    def derivative_lines(self) -> list[str]:
        """Each input's derivative in the roles' names: ``["∂out/∂a = b", "∂out/∂b = a"]`` (the cheat sheet)."""
        top = "∂out/∂" if self.elementwise else "∂L/∂"
        return [f"{top}{role} = {self.derivative_text(position)}"
                for position, role in enumerate(self.roles[:max(len(self.derivatives), 1)])]

    @property
    def local_grad(self) -> str:
        """Every input's derivative on one line: ``∂out/∂a = b, ∂out/∂b = a``."""
        return ", ".join(self.derivative_lines())

    def __repr__(self) -> str:
        return f"<op {self.name}: {self.formula}>"


RULES: dict[str, Op] = {}

OUT = -1
"""In :attr:`Op.saves`: the op's own output (``exp``, ``sigmoid``, ``softmax`` reuse it)."""

INPUTS = "inputs"
"""In :attr:`Op.keeps`: the forward saves its inputs, as a tuple (``mul``)."""

STEP = "step"
"""What an :func:`elementwise` row's ``tensor_local`` returns for a step function (``floor``, ``sign``): slope 0
everywhere, so its recorded gradient is a new tensor of zeros, outside the graph, as PyTorch's ``zeros_like(grad)``
(a second derivative through it alone is refused: "does not require grad")."""


TANGENTS: list[bool] = []
"""Not empty while a first backward pass of the double-backward trick runs (forward mode's ``J·v``: ``forward_ad``,
``func.jvp``; :func:`glassgrad.custom_function.tangents_by_jvp`). That pass's values are never read, only their
derivative with respect to the upstream, which is then the transpose of the op's forward-mode rule: a row whose
PyTorch forward-mode rule is not the transpose of its backward (a write at a repeated index: the last one wins in
the forward, every one gets the gradient in the backward; ``embedding``'s ``padding_idx``) gives that transpose
while it is not empty, custom Functions with a ``jvp`` their own."""


def last_writes(positions: Array) -> Array:
    """Which of the writes to ``positions`` (flat places, any shape) is the last to its place, the one a write at a
    repeated index keeps (NumPy's and PyTorch's CPU kernels: the last wins), as a mask of ``positions``' shape."""
    flat = np.asarray(positions).reshape(-1)
    kept = np.zeros(flat.size, dtype=bool)
    kept[flat.size - 1 - np.unique(flat[::-1], return_index=True)[1]] = True
    return kept.reshape(np.shape(positions))


def register(op: Op) -> Op:
    """Add ``op`` to :data:`RULES` (the table ``glassgrad rules`` prints) and return it."""
    RULES[op.name] = op
    return op


def _plus_zero_where(mask: Array, values: Array, dtype: np.dtype) -> Array:
    """``values`` (as ``dtype``) with +0 where ``mask`` holds, whatever they hold there (−0, ±∞, NaN): each entry's
    bits ANDed with all ones where kept, all zeros where not. The same numbers as ``np.where(mask, 0, values)``,
    without its branch per entry, which costs ~1 ns an entry where the mask has no long runs (a hard activation's
    flat pieces on noisy data: 37 µs against 7 for 32k float32 entries)."""
    values = np.asarray(values, dtype=dtype)
    bits = values.view(np.dtype(f"u{values.itemsize}"))
    return np.bitwise_and(bits, np.negative(np.logical_not(mask).astype(bits.dtype))).view(dtype)


def with_zero_slope(x: Any, value: Any) -> Any:
    """``value`` (a constant: a piecewise-linear op's slope on each piece, ReLU's 1 where a > 0, else 0) as a
    function of ``x`` whose own slope is 0: ``sign(x)`` with every entry filled with 0, plus ``value``.

    PyTorch's backward of ReLU, LeakyReLU, Hardtanh and max pooling is one op of the upstream and the input
    (``threshold_backward``, …), and ``|a|``'s is ``up·sgn(a)``: the gradient stays in the graph of the input, so a
    second derivative through them is 0 (the Hessian of a ReLU network with respect to its input), where
    ``up·constant`` would leave the graph and be refused ("does not require grad"). That 0 is PyTorch's
    ``zeros_like(grad)``, a constant whatever the upstream: ``sign``'s gradient, a new zero tensor, gives it (so
    ``∂²L/∂x²`` does not require grad where the first upstream does, a leaf ``v`` in ``Σ v·hardtanh(x)``).
    The zero is −0.0, the one number that adds to every value, signed zeros too, without changing it.
    """
    return x.sign().masked_fill(np.ones(tuple(x.shape), dtype=bool), -0.0) + value


def _tied(a, count):
    return a.copy(), count


def _tied_back(up, count):
    return (up, *(None,) * count)


TIED = register(Op(
    "tied", "out = a, recorded as made from b, … too (they get no gradient from it)",
    ("{up}", "none (b only keeps out in its graph)"), _tied, _tied_back, kind="shape", roles=("a", "b"),
    settings=("count",), defaults=(1,),
    vjp_tensors=lambda up, inputs, out, count: (up, *(None,) * count), value=lambda a, count: a.copy(),
))
"""A recorded gradient that PyTorch makes in one op of several inputs (``convolution_backward`` of the upstream, the
input and the weight) depends on all of them, even those it does not change with: it requires grad whenever one
does, and a second derivative through it to such an input is ``None`` ("not used"), not 0 (:func:`with_zero_slope`).
``value._tied_to(*inputs)`` records that."""


def _draw(sample, count, name, differentiable):
    return sample, (count, name, differentiable)


def _zero_for_each(saved: tuple, zero: Callable[[], Any]) -> tuple:
    """A new ``zero()`` for each of a draw's parameters, or PyTorch's refusal where it has no derivative."""
    count, name, differentiable = saved
    if not differentiable:
        raise RuntimeError(f"derivative for {name} is not implemented (as in PyTorch): draw it from parameters that "
                           "need no gradient (.detach() them, or draw under gg.no_grad())")
    return tuple(zero() for _ in range(count))


def _draw_back(up, saved):
    return _zero_for_each(saved, lambda: np.zeros_like(up))


def _draw_vjp(up, inputs, out, saved):  # PyTorch's zeros_like(grad): new zeros, outside the graph
    return _zero_for_each(saved, lambda: up.new_zeros(tuple(up.shape)))


DRAW = register(Op(
    "draw", "out = a draw of a distribution of parameters a, b, …; ∂out/∂θ = 0: no gradient through a sample",
    ("0  (no gradient through a sample)",) * 2, _draw, _draw_back, kind="shape", roles=("a", "b"),
    settings=("count", "name", "differentiable"), defaults=(1, "normal", True),
    vjp_tensors=_draw_vjp, value=lambda sample, count, name, differentiable: sample,
))
"""A random draw whose parameters are tensors that require grad (``gg.normal(mean, std)``, ``gg.bernoulli(p)``,
``x.bernoulli_(p)``, ``gg.poisson(rates)``): the sample is in their graph, as PyTorch's (``NormalBackward``,
``BernoulliBackward``), and each parameter's gradient is 0 in its shape and dtype (no gradient goes through a sample;
one that should reach the parameters is ``rsample``'s reparameterisation, ``mean + std·z``). So
``y.sum().backward()`` works and leaves ``.grad`` zeros, not ``None`` (an optimizer with weight decay or momentum
then still moves those parameters, as PyTorch's does); the recorded gradient of ``create_graph=True`` is a new zero
tensor outside the graph, as PyTorch's. Where PyTorch has no derivative (``binomial``, ``bernoulli(p, number)``:
``differentiable=False``) the sample still requires grad, and backward through it is refused, as there."""


def elementwise(name: str, formula: str, derivative: str, value: Callable[..., Array],
                local: Callable[..., Array] | None, *, reads: str = "input", kind: str = "elementwise",
                written: str = "", symbol: str = "", settings: dict[str, Any] | None = None,
                fused_backward: Callable[[Array, Array], tuple[Array]] | None = None,
                saves: tuple[tuple[int, ...], ...] | None = None, same_from_output: bool = False,
                tensor_local: Callable[..., Any] | None = None, flat: Callable[..., Array] | None = None,
                refuses_bool: str = "", numpy_warns: bool = False,
                divisor: Callable[[Any], Any] | None = None) -> Op:
    """Declare and register an elementwise op of one input from its value and its local derivative.

    ``value(a, *settings)`` is the output; ``local(x, *settings)`` is ``∂out/∂a`` entry by entry,
    written in terms of ``x`` = the input ``a`` (``reads="input"``) or the output
    (``reads="output"``: ``σ' = out·(1 − out)``). The backward is ``upstream ⊙ local`` and the
    trace shows ``local``'s numbers: one expression serves both. The forward saves only ``x``
    (with the settings, if the op has any). ``settings`` maps each setting's name to its default.
    ``same_from_output=True`` says ``local`` gives the same numbers from the output as from the input
    (ReLU: ``out > 0`` exactly where ``a > 0``): the trace still reads the input, but the backward
    keeps the output, as PyTorch saves it, so the input may change in place after the forward.
    The row's ``saves`` follows from what the backward keeps (the input or :data:`OUT`);
    ``saves=((),)`` says the local derivative reads nothing an in-place change could alter (``neg``).
    ``fused_backward(upstream, x)``, for the hottest ops only, computes ``(upstream ⊙ local(x),)`` with
    fewer Python calls; ``tests/test_ops_table.py`` checks it against ``local`` for every row.
    ``tensor_local(kept, *settings)`` is ``local`` written with tensor operations, of what the backward
    keeps (the output when ``reads="output"`` or ``same_from_output``, else the input): it gives the row's
    :attr:`Op.vjp_tensors`, ``upstream ⊙ tensor_local``, for second derivatives (:data:`STEP` for a step function).
    ``flat(x, *settings)``, for a piecewise op, is the mask of the pieces where the op is flat: there the
    gradient is 0 whatever the upstream, as PyTorch's masks give it (``hardtanh(x, 0, 1).log()`` below 0),
    where ``upstream ⊙ 0`` would be NaN for an infinite upstream. ``refuses_bool``: :attr:`Op.refuses_bool`.
    ``numpy_warns=True``: NumPy warns where PyTorch silently gives ±∞ or NaN (``log 0``, ``√−1``, ``1/√a`` at 0):
    the forward, the backward and the value run :func:`glassgrad.float_errors.quiet`.
    ``divisor(x)`` (in place of ``local`` and ``tensor_local``; a row without settings), for a derivative
    ``1/d(x)`` (``ln a``: ``1/a``):
    the backward divides, ``upstream / d(x)``, as PyTorch's does, and the trace shows ``1/d(x)``; where ``1/d``
    overflows (``a`` subnormal: ``1/1e-40`` is ∞ in float32) a zero upstream still gives 0, not ``0·∞`` = NaN
    (``log(softmax(z))`` read at one class of a batch, the others' probabilities underflowed).
    """
    if divisor is not None:
        local = tensor_local = functools.partial(_one_over, divisor)
    from_output = reads == "output"
    keeps_output = from_output or same_from_output
    settings = settings or {}
    if settings:  # saved: (x, settings)
        def forward(a: Array, *setting_values: Any) -> tuple[Array, Any]:
            out = value(a, *setting_values)
            return out, ((out if keeps_output else a), setting_values)

        def backward(up: Array, saved: Any) -> tuple[Array]:
            return (up * local(saved[0], *saved[1]),)

        if flat is not None:
            def backward(up: Array, saved: Any) -> tuple[Array]:
                x, setting_values = saved
                return (_plus_zero_where(flat(x, *setting_values), up * local(x, *setting_values), up.dtype),)
    else:  # saved: x alone (the engine calls these for every node: no work it does not need)
        if keeps_output:
            def forward(a: Array) -> tuple[Array, Any]:
                out = value(a)
                return out, out
        else:
            def forward(a: Array) -> tuple[Array, Any]:
                return value(a), a

        def backward(up: Array, kept: Array) -> tuple[Array]:
            return (up * local(kept),)

        if flat is not None:
            def backward(up: Array, kept: Array) -> tuple[Array]:
                return (_plus_zero_where(flat(kept), up * local(kept), up.dtype),)

        if divisor is not None:
            def backward(up: Array, kept: Array) -> tuple[Array]:
                return (up / divisor(kept),)

        backward = fused_backward or backward

    shown_value = value
    if numpy_warns:
        forward, backward, shown_value = quiet(forward), quiet(backward), quiet(value)

    def local_derivatives(inputs: tuple, out: Array, setting_values: tuple) -> list[Array]:
        return [local(out if from_output else inputs[0], *setting_values[:len(settings)])]

    vjp_tensors = None
    if tensor_local is not None:
        def vjp_tensors(up: Any, inputs: tuple, out: Any, saved: Any) -> tuple:
            x, setting_values = out if keeps_output else inputs[0], saved[1] if settings else ()
            slope = None if divisor is not None else tensor_local(x, *setting_values)
            if slope is STEP:  # PyTorch's zeros_like(grad): no upstream in its graph
                return (up.new_zeros(tuple(up.shape)),)
            grad = up / divisor(x) if divisor is not None else up * slope
            if flat is None:
                return (grad,)
            # as the plain backward: +0 where flat whatever the upstream (∞ · 0 would be NaN)
            return (grad.masked_fill(np.asarray(flat(x.array, *setting_values)), 0.0),)

    return register(Op(name, formula, (derivative,), forward, backward, kind=kind, written=written, symbol=symbol,
                       local=local_derivatives, reads=reads, settings=tuple(settings),
                       defaults=tuple(settings.values()), value=shown_value,
                       keeps=None if settings else OUT if keeps_output else 0,
                       saves=saves if saves is not None else ((OUT,),) if keeps_output else ((0,),),
                       vjp_tensors=vjp_tensors, refuses_bool=refuses_bool))


def _one_over(divisor: Callable[[Any], Any], x: Any) -> Any:
    """``1/d(x)``: the local derivative of a row given by its :func:`elementwise` ``divisor``."""
    return 1 / divisor(x)


_CONSTANTS: dict[tuple[float, np.dtype], Array] = {}
MAX_CONSTANTS = 1024


def constant(value: float, dtype: np.dtype) -> Array:
    """A cached 0-d array of ``value`` in ``dtype``.

    NumPy multiplies an array by a 0-d array of its own dtype about twice as fast as by a
    Python number, which matters for the small arrays of a lesson-sized network.
    """
    key = (value, dtype)
    found = _CONSTANTS.get(key)
    if found is None:
        if len(_CONSTANTS) >= MAX_CONSTANTS:  # e.g. a learning rate that changes every step
            _CONSTANTS.clear()
        found = _CONSTANTS[key] = np.array(value, dtype=dtype)
        found.flags.writeable = False
    return found


def _reduced_like(grad: Array, shape: tuple, axis, keepdim: bool) -> Array:
    """Give a reduction's upstream gradient back the reduced axes (size 1) so it broadcasts."""
    if axis is None or keepdim:
        return grad
    return np.expand_dims(grad, axis)


def _reduced_count(shape: tuple, axis) -> int:
    """How many values each output of a reduction over ``axis`` (None: all) combines."""
    if axis is None or not shape:  # a 0-d array reduced over its dim 0 (or -1) holds one value
        return math.prod(shape)
    return math.prod(shape[i] for i in (axis if isinstance(axis, tuple) else (axis,)))


def row_major(out):
    """``out`` with its entries in row-major order, as PyTorch lays out the new result of a reduction, an index
    or a join whatever its inputs' order. NumPy follows the input's order instead (``a.permute(2, 0, 1).sum(1)``
    comes out column-major), and ``view`` of such a result would need a copy where PyTorch's shares memory: it is
    copied once here, only then (a NumPy number or a row-major array comes back as it is)."""
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


def _kept_dims(shape: tuple, axis) -> tuple:
    """The shape of a reduction over ``axis`` (None: all) with the reduced axes kept, size 1."""
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    reduced = {a % len(shape) for a in axes} if shape else set()
    return tuple(1 if i in reduced else n for i, n in enumerate(shape))


def expand_to(grad: Array, shape: tuple) -> Array:
    """A new array of ``shape`` filled by broadcasting ``grad`` (writable, unlike a broadcast view)."""
    out = np.empty(shape, dtype=grad.dtype)
    out[...] = grad
    return out


def _tie_share(values: Array, extreme: Array, axis) -> Array:
    """Where ``values`` equals the reduced ``extreme``: 1/(number of ties), else 0.

    A NaN extreme (NumPy's max and min propagate NaN) is matched by the NaN entries.
    """
    hits = values == extreme
    if values.dtype.kind == "f":
        hits |= np.isnan(values) & np.isnan(extreme)
    return hits / hits.sum(axis=axis, keepdims=True)


# --- elementwise, two inputs (broadcasting) -------------------------------------------

def _add(a, b):
    return a + b, None

def _add_back(up, saved):
    return up, up

def _ones(inputs, out, settings):
    return [np.ones_like(out), np.ones_like(out)]

ADD = register(Op("add", "out = a + b", ("1", "1"), _add, _add_back, roles=("a", "b"),
                  written="{a} + {b}", local=_ones, vjp_tensors=lambda up, inputs, out, saved: (up, up),
                  value=operator.add, passes_up=True))


def _sub(a, b):
    return a - b, None

def _sub_back(up, saved):
    return up, -up

SUB = register(Op("sub", "out = a − b", ("1", "−1"), _sub, _sub_back, roles=("a", "b"),
                  written="{a} − {b}", local=lambda i, out, s: [np.ones_like(out), -np.ones_like(out)],
                  vjp_tensors=lambda up, inputs, out, saved: (up, -up), value=operator.sub,
                  refuses_bool="sub: subtracting with a bool tensor is not supported (as in PyTorch); to invert a "
                               "mask use ~mask, to mark where two masks differ a ^ b, to count with it mask.long()"))


def _mul(a, b):
    return a * b, (a, b)

def _mul_back(up, saved):
    a, b = saved
    return up * b, up * a

def _mul_vjp(up, inputs, out, saved):
    a, b = inputs
    return up * b, up * a

MUL = register(Op("mul", "out = a · b", ("{b}", "{a}"), _mul, _mul_back, roles=("a", "b"),
                  written="{a}·{b}", local=lambda i, out, s: [i[1], i[0]], saves=((1,), (0,)), vjp_tensors=_mul_vjp,
                  value=operator.mul, keeps=INPUTS))


@quiet  # 1/0 = ∞, 0/0 = NaN, silently as in PyTorch
def _div(a, b, needs=(True, True)):
    out = a / b if a.dtype.kind == "f" else np.true_divide(a, b, dtype=get_default_dtype())  # int / int: a float
    return out, (a, b, needs)

@quiet
def _div_back(up, saved):  # b's gradient only when b needs one: inf / c would make it (−∞·0 = NaN) and warn for nothing
    """∂L/∂a = up/b; ∂L/∂b = −up·((a/b)/b), in PyTorch's order: a/b first, so a zero a over a tiny b gives 0 where
    (up/b)·(a/b) would give ∞·0 = NaN (the second derivative of ln at a subnormal input)."""
    a, b, (need_a, need_b) = saved
    return (up / b if need_a else None), (-up * ((a / b) / b) if need_b else None)

def _div_vjp(up, inputs, out, saved):
    a, b = inputs
    return up / b, (-up * ((a / b) / b) if b.requires_grad else None)

quiet_true_divide = quiet(np.true_divide)
"""NumPy's division, silent at 1/0 and 0/0 as :func:`_div`: what ``x /= y`` outside the graph calls
(:meth:`glassgrad.tensor.Tensor._in_place`)."""

DIV = register(Op("div", "out = a / b", ("1/{b}", "−{a}/{b}²"), _div, _div_back,
                  roles=("a", "b"), written="{a} / {b}", local=lambda i, out, s: [1 / i[1], -i[0] / (i[1] * i[1])],
                  saves=((1,), (0, 1)), vjp_tensors=_div_vjp, float_result=True))


@quiet  # 0⁻¹ = ∞, (−1)^0.5 = NaN
def _pow(a, b):
    if b.dtype == bool and a.dtype == bool:  # NumPy's answer is int8; PyTorch has no bool power
        raise NotImplementedError("pow: a bool tensor raised to a bool power is not supported (as in PyTorch); "
                                  "convert one of them first, e.g. mask.int() ** other")
    out = _whole_power(a, b) if a.dtype.kind in "iu" and b.dtype.kind in "iu" and (b < 0).any() else a**b
    return out, (a, b, out)

def _whole_power(a, b):
    """``a ** b`` of integers where some ``b < 0``, as PyTorch: ``1/aᵇ`` cut to a whole number, so 1 for a = 1,
    ±1 for a = −1 (by b's parity) and 0 for any other a (0 too, where the true value is infinite)."""
    below = np.where(a == 1, 1, np.where(a == -1, 1 - 2 * (b % 2), 0)).astype(a.dtype)
    return np.where(b >= 0, a ** np.maximum(b, 0), below)

@quiet  # ln 0 = −∞, 0⁻¹ = ∞, ∞·0 = NaN
def _pow_back(up, saved):
    a, b, out = saved
    log_a = np.where((a == 0) & (b >= 0), 0.0, np.log(a)).astype(out.dtype, copy=False)
    # 0 where b = 0 (not 0·∞ at a = 0), for any upstream, ∞ and NaN too, as PyTorch's where (aᵇ is flat there)
    return np.where(b == 0, 0.0, up * (b * a ** (b - 1))).astype(out.dtype, copy=False), up * out * log_a

def _pow_vjp(up, inputs, out, saved):
    a, b = inputs
    a_values, b_values = saved[0], saved[1]
    # where the rule's value is 0 by definition (b = 0; ln a at a = 0), a base of 1 keeps every term finite;
    # put in by masked_fill, not added: a + 1 is 0 at a = −1 (0⁻¹·0 = NaN), and −0 + 0 is +0 (its ∞ the wrong sign)
    zero_exponent = b_values == 0
    slope = b * a.masked_fill(zero_exponent, 1.0) ** (b - 1)
    return (up * slope).masked_fill(zero_exponent, 0.0), up * out * (a + ((a_values == 0) & (b_values >= 0))).log()

POW = register(Op("pow", "out = aᵇ", ("{b}·{a}^({b} − 1)", "{a}^{b}·ln {a}"), _pow, _pow_back,
                  roles=("a", "b"), written="{a}^{b}",
                  local=lambda i, out, s: [i[1] * i[0] ** (i[1] - 1), out * np.log(i[0])],
                  saves=((0, 1), (0, 1, OUT)), vjp_tensors=_pow_vjp))


def _maximum(a, b):
    return np.maximum(a, b), (a, b)

def _larger_back(up, a, b):
    """``∂L/∂(a, b)`` of ``max(a, b)``: the upstream to the larger, halved on a tie, whole to both where either is
    NaN (no comparison holds); 0 to the smaller whatever the upstream, as PyTorch's mask (an infinite upstream,
    ``maximum(x, 0).sqrt()`` below 0, gives 0, where ``up·0`` would be NaN)."""
    shared = np.where(a == b, up / 2, up)
    return (np.where(a < b, 0, shared).astype(up.dtype, copy=False),
            np.where(a > b, 0, shared).astype(up.dtype, copy=False))

def _maximum_back(up, saved):
    return _larger_back(up, *saved)

def _larger_share(inputs, out, settings):
    a, b = inputs
    half_tie = 0.5 * (a == b)  # NaN: no comparison holds, so both inputs get 1
    return [1 - (a < b) - half_tie, 1 - (a > b) - half_tie]

def _shared_out(up, share):
    """``up · share`` with +0 where the share is 0, whatever the upstream there (∞ · 0 would be NaN), as the plain
    backward gives it: a share is constant between kinks, so it holds no graph link."""
    share = np.asarray(share)
    return (up * share.astype(up.dtype)).masked_fill(share == 0, 0.0)

def _maximum_vjp(up, inputs, out, saved):
    share_a, share_b = _larger_share(saved, out, ())  # constant between kinks
    return _shared_out(up, share_a), _shared_out(up, share_b)

MAXIMUM = register(Op(
    "maximum", "out = max(a, b)",
    ("1 where {a} > {b}, ½ on a tie, 1 where either is NaN, else 0",
     "1 where {b} > {a}, ½ on a tie, 1 where either is NaN, else 0"),
    _maximum, _maximum_back, roles=("a", "b"), local=_larger_share, saves=((0, 1), (0, 1)), vjp_tensors=_maximum_vjp,
))


def _minimum(a, b):
    return np.minimum(a, b), (a, b)

def _minimum_back(up, saved):
    a, b = saved
    return _larger_back(up, b, a)  # min(a, b) = −max(−a, −b): a's share is 0 where b < a

def _minimum_vjp(up, inputs, out, saved):
    share_a, share_b = _larger_share(saved[::-1], out, ())  # a < b is b > a; constant between kinks
    return _shared_out(up, share_a), _shared_out(up, share_b)

MINIMUM = register(Op(
    "minimum", "out = min(a, b)",
    ("1 where {a} < {b}, ½ on a tie, 1 where either is NaN, else 0",
     "1 where {b} < {a}, ½ on a tie, 1 where either is NaN, else 0"),
    _minimum, _minimum_back, roles=("a", "b"),
    local=lambda i, out, s: _larger_share(i[::-1], out, s), saves=((0, 1), (0, 1)),  # a < b is b > a
    vjp_tensors=_minimum_vjp,
))


def _where(condition, a, b):
    return np.where(condition, a, b), condition.astype(bool)  # a copy: the condition may change later

def _where_back(up, condition):
    return np.where(condition, up, 0).astype(up.dtype), np.where(condition, 0, up).astype(up.dtype)

def _where_vjp(up, inputs, out, condition):  # picks, not products: an ∞ or NaN upstream gives the other side +0
    return up.masked_fill(~condition, 0.0), up.masked_fill(condition, 0.0)

WHERE = register(Op(
    "where", "out = where(c, a, b)",
    ("1 where c, else 0", "0 where c, else 1"),
    _where, _where_back, roles=("a", "b"),  # the condition is not an input: no local numbers
    written="where(c, {a}, {b})", shown=((0, "c"),), vjp_tensors=_where_vjp,
))


# --- elementwise, one input ------------------------------------------------------------

NEG = elementwise("neg", "out = −a", "−1", np.negative, lambda a: -np.ones_like(a), written="−{a}", saves=((),),
                  tensor_local=lambda a: -1.0,
                  refuses_bool="neg: negating a bool tensor is not supported (as in PyTorch); to invert a mask use "
                               "~mask or mask.logical_not()")


def _power(a, p):
    """``aᵖ``, with ``p = −½`` as ``1/√a`` (NumPy already takes ``a**0.5`` as ``√a``): PyTorch's values, ``−∞``
    at ``a = −0`` and NaN at ``a = −∞``, where the IEEE ``pow`` gives ``+∞`` and ``0``. Floats to the power 3
    and −2 are ``a·a·a`` and ``1/(a·a)`` in float32/float64, as PyTorch computes them (its numbers, ~100×
    faster than ``pow``)."""
    if p < 0 or p % 1:
        return _negative_or_fractional_power(a, p)
    return a * a * a if p == 3 and a.dtype in (np.float32, np.float64) else a**p

@quiet  # 0⁻¹ = ∞ and (−1)^½ = NaN, silently as in PyTorch; a whole p ≥ 0 (a², the common case) needs no such care
def _negative_or_fractional_power(a, p):
    """:func:`_power` for ``p < 0`` or a fractional ``p``."""
    if a.dtype in (np.float32, np.float64) and p == -2:
        return 1 / (a * a)
    return 1 / np.sqrt(a) if p == -0.5 else a**p

def _pow_scalar(a, p):
    if isinstance(p, float) and a.dtype.kind != "f":  # int ** 0.5: float (the default dtype), as in PyTorch
        a = a.astype(get_default_dtype())
    elif p < 0 and a.dtype.kind != "f":  # 2⁻¹ is no integer: RuntimeError, as PyTorch's (NumPy: ValueError)
        raise RuntimeError(f"Integers to negative integer powers are not allowed: this tensor is {a.dtype}; "
                           f"make it float first (t.float() ** {p}) or give a float power (t ** {float(p)})")
    elif a.dtype == np.bool_:  # bool ** 2: int64, as in PyTorch (NumPy gives int8)
        a = a.astype(np.int64)
    elif a.dtype.kind in "iu" and not np.iinfo(a.dtype).min <= p <= np.iinfo(a.dtype).max:
        limits = np.iinfo(a.dtype)  # PyTorch: RuntimeError, or OverflowError past 64 bits (NumPy's OverflowError)
        raise (OverflowError if p >= 2**64 else RuntimeError)(
            f"pow: the power {p} does not fit this tensor's dtype {a.dtype} (it takes {limits.min} to {limits.max}), "
            f"as PyTorch refuses it; give a float power (t ** {float(p)}) or convert the tensor first (t.double())")
    return _power(a, p), (a, p)

def _pow_scalar_back(up, saved):
    a, p = saved
    if p == 0:
        return (np.zeros_like(up),)
    return (up * (p * _power(a, p - 1)),)

def _pow_scalar_vjp(up, inputs, out, saved):
    p = saved[1]
    return (with_zero_slope(up, 0.0) if p == 0 else up * (p * inputs[0] ** (p - 1)),)  # 0 for up = ∞ or NaN too

def _pow_scalar_local(inputs, out, settings):
    (a,), (p,) = inputs, settings
    return [np.zeros_like(out) if p == 0 else p * _power(a, p - 1)]

POW_SCALAR = register(Op("pow_scalar", "out = aᵖ (p a constant)", ("{p}·{a}^({p} − 1)",), _pow_scalar,
                         _pow_scalar_back, written="{a}^{p}", settings=("p",), defaults=(2.0,),
                         local=_pow_scalar_local, saves=((0,),), vjp_tensors=_pow_scalar_vjp))

# local derivatives written once for NumPy arrays and tensors alike (tensor_local: second derivatives)
def _same(x):
    return x

def _half_reciprocal(out):
    return 1 / (2 * out)

EXP = elementwise("exp", "out = eᵃ", "exp({a}) = {out}", np.exp, _same, reads="output", written="exp({a})",
                  tensor_local=_same, numpy_warns=True)  # e^1000 = ∞
LOG = elementwise("log", "out = ln a", "1/{a}", np.log, None, written="ln({a})", divisor=_same, numpy_warns=True)
SQRT = elementwise("sqrt", "out = √a", "1/(2√{a}) = 1/(2·{out})", np.sqrt, _half_reciprocal, reads="output",
                   written="√{a}", tensor_local=_half_reciprocal, numpy_warns=True)
ABS = elementwise("abs", "out = |a|", "sign({a})  (0 at {a} = 0)", np.abs, np.sign, written="|{a}|",
                  tensor_local=lambda a: a.sign())  # recorded, slope 0, as PyTorch's up·sgn(a): see with_zero_slope
SIN = elementwise("sin", "out = sin a", "cos {a}", np.sin, np.cos, written="sin({a})", tensor_local=lambda a: a.cos(),
                  numpy_warns=True)  # sin ∞ = NaN
COS = elementwise("cos", "out = cos a", "−sin {a}", np.cos, lambda a: -np.sin(a), written="cos({a})",
                  tensor_local=lambda a: -a.sin(), numpy_warns=True)

def _read_only_number(value: float, dtype: str) -> Array:
    number = np.full((), value, dtype)
    number.flags.writeable = False
    return number


_ZEROS = {np.dtype(name): _read_only_number(0, name) for name in ("float16", "float32", "float64")}
"""A 0-d +0 of each float dtype: NumPy compares with (or takes the maximum of) a 0-d array of the
array's own dtype faster than with the Python number 0, which it must first convert (same result)."""


def _relu(a):
    """max(a, 0): +0.0 for negative inputs (a · mask would show −0.0); NaN stays NaN.

    Against a 0-d zero of a's dtype for small arrays (4×3 float32: 0.8 µs, against 1.2 with the number 0), and
    against a whole array of zeros from 256 entries on, where NumPy's vector loop runs (32×256: 2.8 µs against
    5.2): the same numbers either way. The result is laid out as ``a`` (a channels-last input stays so).
    """
    zero = _ZEROS.get(a.dtype)
    if zero is None:
        return np.maximum(a, 0)  # integers, and booleans as the integers 0 and 1
    if a.size < 256:
        return np.maximum(a, zero)
    zeros = np.zeros(a.shape, a.dtype) if a.flags.c_contiguous else np.zeros_like(a)  # in a's order, as PyTorch's
    return np.maximum(a, zeros, out=zeros)


def _relu_local(a):  # relu'(0) = 0, and 1 at NaN (not a ≤ 0), as PyTorch; a float mask multiplies fastest
    return np.logical_not(a <= _ZEROS.get(a.dtype, 0)).astype(a.dtype)


def _relu_back(up, out):
    """``up`` where out ≠ 0 (that is, where a > 0: out is 0 elsewhere), else +0.0, as PyTorch's: ``up ⊙ mask``
    would give −0.0 under a negative upstream and NaN under an infinite one.

    A small array takes ``np.where`` with ``out`` itself as the condition (nonzero, NaN included, picks ``up``:
    one call, 0.74 µs for 1×3 float32, where testing ``out == 0`` first took 0.97); from 512 entries on, whose pick
    branches on every entry (43 µs at 128×256 float32), :func:`_plus_zero_where` masks the upstream's bits: the
    same numbers.
    """
    zero = _ZEROS.get(out.dtype, 0)
    if out.size < 512 or up.dtype is not out.dtype:
        return (np.where(out, up, zero),)
    return (_plus_zero_where(out == zero, up, up.dtype),)


RELU = elementwise(
    "relu", "out = max(0, a)", "1 where {a} > 0, else 0", _relu, _relu_local,
    kind="activation", written="ReLU({a})", symbol="ReLU", same_from_output=True, fused_backward=_relu_back,
    tensor_local=lambda out: with_zero_slope(out, (out != 0).to(out.dtype)),
    flat=lambda out: out == 0,  # flat: +0, as the plain backward
)
def _leaky_relu(a, slope):
    """``a`` where a > 0, else ``s·a``: for 0 < s ≤ 1 that is max(a, s·a) (s·a ≤ a exactly where a ≥ 0), two
    vector passes (4 µs at 128×256 float32, where picking by the mask took 100: ``np.where`` branches on each
    entry); another slope picks by the mask (s = 0 too: ∞·0 is NaN, which max would pick at a = +∞). NaN stays
    NaN either way."""
    if 0 < slope <= 1 and a.dtype.kind == "f":
        return np.maximum(a, a * slope)
    return a * np.where(a > 0, 1, slope).astype(a.dtype)


LEAKY_RELU = elementwise(
    "leaky_relu", "out = a if a > 0 else s·a", "1 where {a} > 0, else {slope}",
    _leaky_relu,
    lambda a, slope: np.where(a > 0, 1, slope).astype(a.dtype),
    kind="activation", written="LeakyReLU({a}; slope {slope})", symbol="LeakyReLU", settings={"slope": 0.01},
    tensor_local=lambda a, slope: with_zero_slope(a, (a > 0).to(a.dtype) * (1 - slope) + slope),
)


# The hard activations pass no gradient at their corners, as PyTorch: a clamp would pass it at both bounds.
def _at_or_past_bounds(a, lo, hi):
    """Where hardtanh is flat: ``a ≤ lo`` or ``a ≥ hi`` (a NaN is neither, so it passes the gradient, as PyTorch)."""
    return (a <= lo) | (a >= hi)


def _strictly_inside_three(a):
    """Where hardsigmoid is not flat: ``−3 < a < 3``."""
    return (a > -3) & (a < 3)


HARDTANH = elementwise(
    "hardtanh", "out = min(max(a, lo), hi)", "1 where {lo} < {a} < {hi}, else 0 (0 at the corners too)",
    lambda a, lo, hi: np.clip(a, lo, hi),
    lambda a, lo, hi: np.logical_not(_at_or_past_bounds(a, lo, hi)).astype(a.dtype),
    kind="activation", written="Hardtanh({a})", symbol="Hardtanh", settings={"lo": -1.0, "hi": 1.0},
    flat=_at_or_past_bounds,
    tensor_local=lambda a, lo, hi: with_zero_slope(a, 1 - _at_or_past_bounds(a, lo, hi).to(a.dtype)),
)


def _three_up_clipped(a):
    """``min(max(a + 3, 0), 6)`` in a's dtype: hardsigmoid's numerator, formed as PyTorch's. Near a = −3,
    ``a/6 + 1/2`` cancels the rounding error of a/6 into a tiny result (56 float32 ulps at a = −2.9911), where a + 3
    is exact there."""
    return np.clip(np.add(a, 3, dtype=a.dtype), 0, 6)


HARDSIGMOID = elementwise(
    "hardsigmoid", "out = min(max(a + 3, 0), 6)/6", "1/6 where −3 < {a} < 3, else 0 (0 at ±3)",
    lambda a: np.divide(_three_up_clipped(a), 6, dtype=a.dtype),
    lambda a: _strictly_inside_three(a).astype(a.dtype) * np.asarray(1 / 6, a.dtype),
    kind="activation", written="Hardsigmoid({a})", symbol="Hardsigmoid",
    flat=lambda a: ~_strictly_inside_three(a),
    tensor_local=lambda a: with_zero_slope(a, _strictly_inside_three(a).to(a.dtype) / 6),  # as hardtanh's
)
def _hardswish_slope(a):
    """0 where a ≤ −3, a/3 + 1/2 where −3 < a < 3, else 1 (NaN: 1, as PyTorch), without np.where's per-entry branch
    (see :func:`_plus_zero_where`)."""
    below_three = a < 3
    middle = _plus_zero_where(~((a > -3) & below_three), a / 3 + 0.5, a.dtype)
    return middle + np.logical_not(below_three).astype(a.dtype)


HARDSWISH = elementwise(
    "hardswish", "out = a·min(max(a + 3, 0), 6)/6", "0 where {a} ≤ −3, {a}/3 + 1/2 where −3 < {a} < 3, else 1",
    lambda a: np.divide(np.multiply(a, _three_up_clipped(a), dtype=a.dtype), 6, dtype=a.dtype),
    _hardswish_slope,
    kind="activation", written="Hardswish({a})", symbol="Hardswish", flat=lambda a: a <= -3,
    numpy_warns=True,  # hardswish(−∞) = −∞·0: NaN, which PyTorch gives silently
    # the middle's 1/2 − a/3 left out by a where outside (−3, 3), not times 0: at a = ±∞ that was ∞·0 = NaN
    tensor_local=lambda a: 1 - (a <= -3).to(a.dtype) - (0.5 - a / 3).where((a > -3) & (a < 3), 0.0),
)


# Threshold and the shrinks are flat (slope 0) on one piece and the identity (slope 1) elsewhere: rows of their own,
# as PyTorch's threshold_backward, hardshrink_backward and softshrink_backward keep the gradient in the input's
# graph (a second derivative through them alone is 0; made of masked_fill it left the graph and was refused).
def _at_most(a, threshold, value):
    """Where threshold is flat: ``a ≤ threshold`` (a NaN is not, so it passes the gradient, as PyTorch)."""
    return a <= threshold


def _within(a, lambd):
    """Where the shrinks are flat: ``−λ ≤ a ≤ λ`` (a NaN is not, so it passes the gradient, as PyTorch)."""
    return (a >= -lambd) & (a <= lambd)


def _softshrink(a, lambd):
    """``a − λ`` above λ, ``a + λ`` below −λ (a NaN stays NaN), else +0 (PyTorch's vector kernel; its scalar one, on
    short arrays and tails, gives −0 for a negative a)."""
    return np.where(_within(a, lambd), np.zeros((), a.dtype), np.where(a > lambd, a - lambd, a + lambd))


def _identity_off_flat(flat: Callable[..., Any]) -> Callable[..., Any]:
    """The recorded slope of a row that is flat where ``flat`` holds and the identity elsewhere: 1 − mask, with
    slope 0 in the input's graph (:func:`with_zero_slope`)."""
    return lambda a, *settings: with_zero_slope(a, 1 - flat(a, *settings).to(a.dtype))


def _one_off_flat(flat: Callable[..., Array]) -> Callable[..., Array]:
    """The NumPy slope of the same: 1 where ``flat`` does not hold, else 0."""
    return lambda a, *settings: np.logical_not(flat(a, *settings)).astype(a.dtype)


THRESHOLD = elementwise(
    "threshold", "out = a if a > threshold else value", "1 where {a} > {threshold}, else 0",
    lambda a, threshold, value: np.where(a <= threshold, np.asarray(value).astype(a.dtype), a),
    _one_off_flat(_at_most), kind="activation", written="Threshold({a})", symbol="Threshold",
    settings={"threshold": 0.0, "value": 0.0}, flat=_at_most, tensor_local=_identity_off_flat(_at_most),
)
HARDSHRINK = elementwise(
    "hardshrink", "out = a if |a| > λ else 0", "1 where |{a}| > {lambd}, else 0",
    lambda a, lambd: np.where(_within(a, lambd), np.zeros((), a.dtype), a),
    _one_off_flat(_within), kind="activation", written="Hardshrink({a})", symbol="Hardshrink",
    settings={"lambd": 0.5}, flat=_within, tensor_local=_identity_off_flat(_within),
)
SOFTSHRINK = elementwise(
    "softshrink", "out = a − λ if a > λ, a + λ if a < −λ, else 0", "1 where |{a}| > {lambd}, else 0",
    _softshrink, _one_off_flat(_within), kind="activation", written="Softshrink({a})", symbol="Softshrink",
    settings={"lambd": 0.5}, flat=_within, tensor_local=_identity_off_flat(_within),
)


def _prelu(a, slope):
    return np.where(a > 0, a, a * slope), (a, slope)


def _prelu_back(up, saved):
    a, slope = saved
    positive = a > 0
    return np.where(positive, up, up * slope), np.where(positive, 0, up * a).astype(up.dtype, copy=False)


def _prelu_local(inputs, out, settings):
    a, slope = inputs
    return [np.where(a > 0, 1, slope).astype(out.dtype, copy=False), np.where(a > 0, 0, a).astype(out.dtype)]


def _prelu_vjp(up, inputs, out, saved):
    """:func:`_prelu_back` on tensors (recorded), as PyTorch's ``_prelu_kernel_backward``: each gradient stays in its
    own input's graph with slope 0 (:func:`with_zero_slope`), and ``∂²L/∂a∂s`` is the upstream where a ≤ 0 (at
    a = 0 exactly PyTorch's double backward gives 0, though its first derivative there is the slope's: this one is
    the derivative of the first)."""
    a, slope = inputs
    positive = np.asarray(a.array > 0)
    grad_a = grad_slope = None
    if a.requires_grad:
        grad_a = with_zero_slope(a, up.where(positive, up * slope))  # a pick: up·s where a > 0 is left out
    if slope.requires_grad:
        grad_slope = with_zero_slope(slope, (up * a).masked_fill(positive, 0.0))
    return grad_a, grad_slope


PRELU = register(Op(
    "prelu", "out = a where a > 0, else s·a (s: a learned slope, one per channel or one for all)",
    ("1 where {a} > 0, else {slope}", "{a} where {a} ≤ 0, else 0"), _prelu, _prelu_back,
    roles=("a", "slope"), written="PReLU({a}; slope {slope})", symbol="PReLU", local=_prelu_local,
    saves=((0, 1), (0,)), vjp_tensors=_prelu_vjp, value=lambda a, slope: _prelu(a, slope)[0], keeps=INPUTS,
))


_ONES = {np.dtype(name): _read_only_number(1, name) for name in ("float16", "float32", "float64")}
"""A 0-d 1 of each float dtype: NumPy adds and divides by it faster than by the Python number 1 (same result)."""


SMALL_SIGMOID = 512
"""Up to this many float32/float64 entries, σ is SciPy's ``expit``: one pass per entry, one call."""
_EXPIT_DTYPES = (np.dtype("float32"), np.dtype("float64"))
_EXPIT: list[Callable[[Array], Any]] = []
"""``scipy.special.expit``, loaded by the first small σ (``import glassgrad`` does not load SciPy)."""


def _sigmoid(a):
    """σ(a) = 1/(1 + e⁻ᵃ).

    A small float32/float64 array (≤ :data:`SMALL_SIGMOID` entries) is one call of SciPy's ``expit``, which
    works the formula out entry by entry: 0.2 µs against 1.3 for 8 entries (the per-op cost of a lesson-sized
    network), and PyTorch's float32 number to the last bit at 94–100 % of entries where NumPy's five passes
    give it at 81–88 %. Its loop has no vector instructions, so a larger array takes NumPy's passes (4 µs
    against 9.5 at 4,096 entries), each within 2 eps of the true σ, as ``expit`` is.

    In NumPy's passes e⁻ᵃ overflows to ∞ where −a is past the dtype's range, and σ is then 0, as PyTorch's
    (σ(−100) in float32: 0, where capping −a gave 3·10⁻³⁹ for every −a past the cap). This form keeps σ's
    relative precision for very negative a, where ½·tanh(a/2) + ½ cancels (σ(−20) rounded to 0 in float32,
    σ(−40) in float64). float16 is worked out in float32 and rounded once, as PyTorch's CPU does: in float16
    e¹² already overflows, which made σ(−12) 0 where it is 6·10⁻⁶.
    """
    if a.size <= SMALL_SIGMOID and a.dtype in _EXPIT_DTYPES:  # first: the small step's path, 0.35 µs in all
        out = (_EXPIT[0] if _EXPIT else _load_expit())(a)
        return out if type(out) is np.ndarray else np.asarray(out)  # a 0-d input gives a NumPy number
    if a.dtype == np.float16:
        return _sigmoid(a.astype(np.float32)).astype(np.float16)
    out = np.negative(a)
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    with np.errstate(over="ignore"):
        np.exp(out, out)
    one = _ONES.get(out.dtype, 1)
    np.add(out, one, out)
    return np.divide(one, out, out)


def _load_expit() -> Callable[[Array], Any]:
    from scipy.special import expit  # here, not at the top: `import glassgrad` does not load SciPy

    _EXPIT.append(expit)
    return expit


def _sigmoid_back(up, out):
    """``up·(1 − σ)·σ``, in PyTorch's order (its float32 bits): an infinite upstream stays infinite, where
    ``up·σ − up·σ·σ`` was ∞ − ∞ = NaN (``glu(x)`` with a −∞ in its first half). The 1 is a 0-d array of σ's dtype
    (:data:`_ONES`): 0.2 µs a subtraction at 8 entries, against 0.4 with the Python number."""
    return (up * (_ONES.get(out.dtype, 1) - out) * out,)


def _sigmoid_local(out):
    """``σ·(1 − σ)``, as the row writes it and in the order of :func:`_sigmoid_back`, so the local slope a trace shows,
    times the upstream, is the gradient the engine computed (``σ − σ²`` rounded otherwise, off by 1 − σ relative)."""
    return (_ONES.get(out.dtype, 1) - out) * out

def _tanh_local(out):
    return _ONES.get(out.dtype, 1) - out * out


def _tanh_back(up, out):
    """``up·(1 − tanh²)``, in PyTorch's order: an infinite upstream stays infinite, where ``up − up·tanh·tanh`` was
    ∞ − ∞ = NaN. float16 in float32, rounded once, as PyTorch's kernel (three float16 roundings: 16 ulps off)."""
    if out.dtype.char == "e":
        wide = widened(out)
        return (narrowed(widened(up) * (1 - wide * wide), out),)
    return (up * (_ONES.get(out.dtype, 1) - out * out),)


SIGMOID = elementwise(
    "sigmoid", "out = σ(a) = 1/(1 + e⁻ᵃ)", "σ({a})·(1 − σ({a})) = {out}·(1 − {out})",
    _sigmoid, _sigmoid_local, reads="output",
    kind="activation", written="σ({a})", symbol="σ", fused_backward=_sigmoid_back, tensor_local=_sigmoid_local,
)
TANH = elementwise(
    "tanh", "out = tanh a", "1 − tanh²({a}) = 1 − {out}²", np.tanh,
    _tanh_local,
    reads="output", kind="activation", written="tanh({a})", symbol="tanh", fused_backward=_tanh_back,
    tensor_local=_tanh_local,
)


def entry_by_entry(function: Callable[[float], float]) -> Callable[[Array], Array]:
    """A C library function NumPy lacks (``math.erf``, ``math.erfc``) applied to each entry, in float64 (an array
    even for a 0-d input, where ``frompyfunc`` gives a Python float)."""
    entries = np.frompyfunc(function, 1, 1)

    def each(a: Array) -> Array:
        return np.asarray(entries(a), dtype=np.float64)

    return each


_erf_each = entry_by_entry(math.erf)


def _erf(a: Array) -> Array:
    """erf of each entry, in float64. A float64 input takes C's ``erf`` (``math.erf``), whose last bit matches
    PyTorch's in 97 % of entries where SciPy's does in 86 %; a narrower one takes SciPy's ``special.erf`` worked
    out in float64, the same numbers in float32 at a fifth of the time (it has no Python call per entry: 12 ns
    an entry against 67, which made an exact GELU of a 128×256 activation take 2 ms)."""
    if a.dtype == np.float64 or a.dtype.kind != "f":
        return _erf_each(a)
    from scipy.special import erf  # here, not at the top: `import glassgrad` does not load SciPy

    return np.asarray(erf(a, dtype=np.float64))

_TWO_OVER_ROOT_PI = 2 / math.sqrt(math.pi)

ERF = elementwise(
    "erf", "out = erf(a) = (2/√π) ∫₀ᵃ e^(−t²) dt", "(2/√π)·e^(−{a}²)",
    lambda a: _erf(a).astype(a.dtype), lambda a: _TWO_OVER_ROOT_PI * np.exp(-(a * a)), written="erf({a})",
    tensor_local=lambda a: _TWO_OVER_ROOT_PI * (-(a * a)).exp(),
)


# GELU and SiLU are rows, not compositions: one fused node gives the trace one activation step with its
# local derivative (the exact GELU's Φ is erf's, ½(1 + erf(a/√2))). The tanh form's cube is a·a·a, as PyTorch's
# (NumPy's a**3 calls pow: ~45 ns an entry).
_GELU_K = math.sqrt(2 / math.pi)


def _normal_cdf(a):
    """Φ(a) = ½(1 + erf(a/√2)), in float64 (erf's own dtype here): the exact GELU's costly part."""
    return 0.5 * (1 + _erf(a / math.sqrt(2)))


def _gelu(a, approximate, cdf=None):
    """``a·Φ(a)``: Φ the normal CDF, exact (erf; ``cdf``: Φ(a) if worked out already) or by the tanh
    approximation. float16 in float32, rounded once, as PyTorch's kernel (float16 arithmetic: 13 ulps off, the tanh
    form's cube far more)."""
    if a.dtype.char == "e":
        return narrowed(_gelu(widened(a), approximate, cdf), a)
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(_GELU_K * (a + 0.044715 * a * a * a)))
    return (a * (_normal_cdf(a) if cdf is None else cdf)).astype(a.dtype)


def _gelu_local(a, approximate, cdf=None):
    """``Φ(a) + a·Φ'(a)`` for the same Φ (``cdf``: the exact Φ(a), if its forward kept it)."""
    if approximate == "tanh":
        inner = _GELU_K * (a + 0.044715 * a * a * a)
        t = np.tanh(inner)
        return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * _GELU_K * (1 + 3 * 0.044715 * a * a)
    cdf = _normal_cdf(a) if cdf is None else cdf
    return (cdf + a * np.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)).astype(a.dtype)


def _gelu_forward(a, approximate):
    """The output, and what the backward keeps: the input, the setting and, for the exact form, Φ(a), so that erf
    (12 ns an entry, by far the costliest part: 0.27 ms for 128×256) is worked out once, not again backward."""
    cdf = None if approximate == "tanh" else _normal_cdf(widened(a))
    return _gelu(a, approximate, cdf), (a, (approximate,), cdf)


def _gelu_back(up, saved):
    a, (approximate,), cdf = saved
    if a.dtype.char == "e":  # in float32, rounded once
        return (narrowed(widened(up) * _gelu_local(widened(a), approximate, cdf), a),)
    return (up * _gelu_local(a, approximate, cdf),)


def _gelu_local_tensors(a, approximate):
    """:func:`_gelu_local` on tensors (recorded: the exact form's Φ through the ``erf`` row)."""
    if approximate != "tanh":
        return 0.5 * (1 + (a / math.sqrt(2)).erf()) + a * (-0.5 * a * a).exp() / math.sqrt(2 * math.pi)
    t = (_GELU_K * (a + 0.044715 * a * a * a)).tanh()
    return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * _GELU_K * (1 + 3 * 0.044715 * a * a)


GELU = register(Op(
    "gelu", "out = a·Φ(a)  (Φ the standard normal CDF)",
    ("Φ({a}) + {a}·Φ'({a}), Φ'(x) = e^(−x²/2)/√(2π)  (approximate='{approximate}': with 'tanh', "
     "Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))) and its derivative)",),
    _gelu_forward, _gelu_back, kind="activation", written="GELU({a})", symbol="GELU", settings=("approximate",),
    defaults=("none",), local=lambda inputs, out, settings: [_gelu_local(inputs[0], *settings[:1])], value=_gelu,
    saves=((0,),), vjp_tensors=lambda up, inputs, out, saved: (up * _gelu_local_tensors(inputs[0], *saved[1]),),
))
SILU = elementwise(
    "silu", "out = a·σ(a)", "σ({a})·(1 + {a}·(1 − σ({a})))",
    lambda a: a * _sigmoid(a), lambda a: _sigmoid(a) * (1 + a * (1 - _sigmoid(a))),
    kind="activation", written="SiLU({a})", symbol="SiLU",
    tensor_local=lambda a: a.sigmoid() * (1 + a * (1 - a.sigmoid())),
)


def _clamp(a, low, high):
    inside = np.ones(a.shape, dtype=bool)
    if low is not None:
        inside &= a >= low
    if high is not None:
        inside &= a <= high
    return np.clip(a, low, high), inside

def _clamp_back(up, inside):
    """The upstream where ``a`` was inside, 0 where clamped: 0 even for an infinite upstream, as PyTorch
    (``clamp(min=0).sqrt()`` below 0), where ``up·inside`` would give ∞·0 = NaN."""
    return (up if inside.all() else np.where(inside, up, 0).astype(up.dtype, copy=False),)

CLAMP = register(Op(  # the bounds may be arrays, which a trace does not keep: its local reads out == a
    "clamp", "out = min(max(a, lo), hi)", ("1 where {a} was not clamped (lo ≤ {a} ≤ hi), else 0",),
    _clamp, _clamp_back, local=lambda i, out, s: [(out == i[0]).astype(out.dtype)],
    settings=("lo", "hi"), defaults=(-0.5, 0.5), saves=((0,),),
    vjp_tensors=lambda up, inputs, out, inside: (up.masked_fill(~inside, 0.0),),
))


def _cast(a, dtype, strides=None):  # with PyTorch's strides for the copy (memory_formats.copy_strides)
    return astype_in_order(a, dtype, strides), a.dtype

def _cast_back(up, dtype):
    return (up.astype(dtype),)

CAST = register(Op("cast", "out = a as another dtype", ("1 (cast back to the dtype of {a})",), _cast, _cast_back,
                   local=lambda i, out, s: [np.ones_like(out)], settings=("dtype", "strides"),
                   defaults=(np.float64, None),
                   vjp_tensors=lambda up, inputs, out, dtype, strides=None: (up.to(dtype),)))


# --- reductions --------------------------------------------------------------------------

def _sum(a, axis, keepdim):
    # int32 stays int32, and bools (only with sum(dtype=bool)) give a bool, whether any is True, as PyTorch's; the
    # ufunc's own reduce (pairwise along every axis: glassgrad.summation), so that NumPy warns (inf − inf) from
    # glassgrad's line, which glassgrad.float_errors silences, not from inside ndarray.sum
    total = add_reduce(a, axis, keepdim, a.dtype)
    return row_major(total), (a.shape, axis, keepdim)

def _sum_back(up, saved):
    shape, axis, keepdim = saved
    return (expand_to(_reduced_like(up, shape, axis, keepdim), shape),)

def _sum_vjp(up, inputs, out, saved):
    shape, axis, _ = saved
    return (up.reshape(_kept_dims(shape, axis)).expand(shape),)

SUM = register(Op("sum", "out = Σ a", ("{up} copied to every entry",), _sum, _sum_back, kind="reduction",
                   written="Σ {a}", vjp_tensors=_sum_vjp))


def _nll_sum(rows, ignored):
    """``Σ rows`` of ``nll_loss``'s rows (N, 1): float16 as PyTorch's kernel adds them (:func:`nll_total`; the rows
    ``ignored`` are skipped, which moves where its partial sums are added up), any other dtype as :func:`_sum`."""
    if rows.dtype.char != "e":
        return _sum(rows, None, False)
    kept = ~ignored.reshape(-1)
    return np.asarray(nll_total(rows.reshape(-1)[kept], kept)), (rows.shape, None, False)

def _nll_sum_back(up, saved):
    return _sum_back(up, saved)[0], None

NLL_SUM = register(Op("nll_sum", "out = Σ a (float16: PyTorch's nll_loss total, in float16)",
                      ("{up} copied to every entry", "none (which rows are ignored)"), _nll_sum, _nll_sum_back,
                      kind="reduction", roles=("a", "ignored"), written="Σ {a}",
                      vjp_tensors=lambda up, inputs, out, saved: (*_sum_vjp(up, inputs, out, saved), None)))


def _mean(a, axis, keepdim):
    total = add_reduce(widened(a), axis, keepdim)
    count = _reduced_count(a.shape, axis)
    out = total / count if count else np.full_like(total, np.nan)  # the mean of no values: NaN, as in PyTorch
    return row_major(narrowed(out, a)), (a.shape, axis, keepdim, count)

def _mean_back(up, saved):
    shape, axis, keepdim, count = saved
    if not count:  # a mean of no values: nothing to send back to
        return (np.zeros(shape, dtype=up.dtype),)
    return (expand_to(_reduced_like(up, shape, axis, keepdim) / count, shape),)

def _mean_vjp(up, inputs, out, saved):
    shape, axis, _, count = saved
    return (up.reshape(_kept_dims(shape, axis)).expand(shape) * (1 / count if count else 0.0),)

MEAN = register(Op("mean", "out = (1/n) Σ a", ("{up}/n copied to every entry",), _mean, _mean_back,
                    kind="reduction", written="mean({a})", vjp_tensors=_mean_vjp))


_CLOSE = 2.0 ** -14
"""(2¹⁶ ε)² of float32: a slice whose σ² is below it times μ² has its float32 mean corrected once, by the mean of
x − μ. A constant slice's x − μ becomes exactly 0 (var 0, a normalisation's output β, as PyTorch's Welford mean
gives, whatever ε); the rounded μ's error δ added δ² to var (1% of σ² for 1000 ± 1e-3) and gave layer_norm's x̂ up
to ±1 at ε = 1e-12. float64's rounding is 2⁻²⁹ of float32's: not corrected, no cost."""


def mean_rounding_shows(mean: np.ndarray, variance: np.ndarray) -> bool:
    """Whether a float32 mean ``μ`` must be corrected once, by the mean of ``x − μ``: some slice's ``σ²``
    (``variance``, without ε) is below ``2⁻¹⁴·max μ²`` (:data:`_CLOSE`), where μ's rounding shows in ``x − μ``. The
    one rule of var (var_mean, batch_norm), layer_norm (group_norm) and instance_norm; float64 is never corrected
    (no cost)."""
    return mean.dtype == np.float32 and variance.size > 0 and variance.min() < _CLOSE * np.abs(mean).max() ** 2


def mean_rounding(centred: np.ndarray, axis: Any, count: int) -> np.ndarray:
    """``δ = mean(x − μ)`` over ``axis`` (kept) of ``centred`` = x − μ, ``count`` values each: the rounding of a
    float32 mean ``μ``, the correction ``μ + δ`` (``x − μ − δ``) where :func:`mean_rounding_shows` asks for it."""
    return add_reduce(centred, axis, True) / count


def _var(a, axis, correction, keepdim):
    out, saved = _wide_var(a, axis, correction, keepdim)
    return row_major(narrowed(out, a)), saved

def _wide_var(a, axis, correction, keepdim):
    """The variance in :func:`widened`'s dtype (std takes its root before rounding back to float16), and what the
    backward reads, in ``a``'s dtype."""
    count = _reduced_count(a.shape, axis)
    divisor = max(count - correction, 0)
    if divisor == 0:
        warn_at_learners_line(
            f"var/std over {count} value(s) with correction={correction:g}: no degrees of freedom "
            "(n − correction ≤ 0), so the result is inf or nan; reduce over more values or lower the correction"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        wide = widened(a)
        mean = add_reduce(wide, axis, True) / count
        centred = wide - mean
        out = add_reduce(centred * centred, axis, keepdim) / divisor
        if mean_rounding_shows(mean, out):  # a float32 μ's rounding δ would add δ² (up to 1% of σ² here)
            centred -= mean_rounding(centred, axis, count)
            out = add_reduce(centred * centred, axis, keepdim) / divisor
    return out, (narrowed(centred, a), axis, keepdim, divisor)

def _var_back(up, saved):
    """``2(aᵢ − ā)/(n − c)``; with no degrees of freedom PyTorch's values: over all elements
    ``nan`` where ``aᵢ = ā`` and ``+inf`` elsewhere, over dims ``2(aᵢ − ā)/0`` (±inf, or nan).
    (Over dims with ``correction > n`` PyTorch divides by the negative ``n − c`` and returns a
    finite gradient of an infinite value; glassgrad divides by 0 there too.)
    """
    centred, axis, keepdim, divisor = saved
    up = _reduced_like(up, centred.shape, axis, keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        if divisor == 0 and axis is None:
            return (up * np.where(centred == 0, np.nan, np.inf).astype(centred.dtype, copy=False),)
        return (up * centred * (2 / divisor if divisor else np.inf),)

def _var_vjp(up, inputs, out, saved):
    _, axis, _, divisor = saved
    if not divisor:
        raise RuntimeError(
            "create_graph=True: no second derivative for var/std with no degrees of freedom (n − correction ≤ 0); "
            "reduce over more values or lower the correction"
        )
    a = inputs[0]
    return (up.reshape(_kept_dims(a.shape, axis)) * (a - a.mean(dim=axis, keepdim=True)) * (2 / divisor),)

VAR = register(Op("var", "out = Σ(a − ā)² / (n − c)", ("{up}·2({a} − ā)/(n − c)",), _var, _var_back,
                   kind="reduction", saves=((0,),), vjp_tensors=_var_vjp))


def _std(a, axis, correction, keepdim):
    """√var; a float32 ``a`` in float64, as PyTorch accumulates it (the squares of numbers past ~1.8e19 overflow
    float32: std([3e19, −3e19]) is 4.24e19, not inf), rounded once at the end."""
    variance, (centred, *rest) = _wide_var(a.astype(np.float64) if a.dtype == np.float32 else a, axis, correction,
                                           keepdim)
    out = row_major(np.sqrt(variance).astype(a.dtype, copy=False))
    return out, (out, (centred.astype(a.dtype, copy=False), *rest))

def _std_back(up, saved):
    out, var_saved = saved
    with np.errstate(divide="ignore", invalid="ignore"):
        up_var = np.where(out == 0, 0, up / (2 * out)).astype(out.dtype, copy=False)  # 0 where std = 0, as in PyTorch
    return _var_back(up_var, var_saved)

def _std_vjp(up, inputs, out, saved):
    zero = np.asarray(out.numpy() == 0)  # 0 where std = 0, as in PyTorch
    return _var_vjp(up / (2 * (out + zero)) * ~zero, inputs, None, saved[1])

STD = register(Op(
    "std", "out = √(Σ(a − ā)² / (n − c))",
    ("{up}·({a} − ā)/((n − c)·{out})  (0 where {out} = 0)",),
    _std, _std_back, kind="reduction", saves=((0, OUT),), vjp_tensors=_std_vjp,
))


def _max(a, axis, keepdim):
    out = a.max(axis=axis, keepdims=True)
    share = _tie_share(a, out, axis)
    return row_major(out if keepdim else np.squeeze(out, axis=axis)), (share, axis, keepdim)

def _max_back(up, saved):  # 0 off the maximum whatever the upstream (∞·0 would be NaN): PyTorch's max; its amax
    share, axis, keepdim = saved  # multiplies, and gives NaN there
    spread = _reduced_like(up, share.shape, axis, keepdim) * share.astype(up.dtype, copy=False)
    return (np.where(share != 0, spread, 0).astype(up.dtype, copy=False),)

def _max_vjp(up, inputs, out, saved):
    share, axis, _ = saved  # constant between kinks
    return (_shared_out(up.reshape(_kept_dims(share.shape, axis)), share),)

def _extreme_saves(saved):
    """PyTorch saves the input and the output of ``max()``, only the indices of ``max(dim)``."""
    return ((0, OUT),) if saved[1] is None else ((),)

MAX = register(Op("max", "out = max a", ("{up} at the maximum (split evenly between ties), else 0",), _max, _max_back,
                   kind="reduction", saves=_extreme_saves, vjp_tensors=_max_vjp))


def _min(a, axis, keepdim):
    out = a.min(axis=axis, keepdims=True)
    share = _tie_share(a, out, axis)
    return row_major(out if keepdim else np.squeeze(out, axis=axis)), (share, axis, keepdim)

MIN = register(Op("min", "out = min a", ("{up} at the minimum (split evenly between ties), else 0",), _min, _max_back,
                   kind="reduction", saves=_extreme_saves, vjp_tensors=_max_vjp))


def _logsumexp(a, axis, keepdim):
    if a.size == 0:  # no values: the peak is an empty sum (0), and the result ln 0 = −inf, as in PyTorch
        peak = np.add.reduce(a, axis=axis, keepdims=True)
    else:
        peak = a.max(axis=axis, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)
    exps = np.exp(a - peak)
    total = add_reduce(exps, axis, True)
    with np.errstate(divide="ignore", invalid="ignore"):  # all −inf: ln 0 = −inf, and 0/0 for the gradient (NaN,
        out = np.log(total) + peak                        # as PyTorch's), without NumPy's warnings
        probs = exps / total
    return row_major(out if keepdim else np.squeeze(out, axis=axis)), (probs, axis, keepdim)

def _logsumexp_back(up, saved):
    probs, axis, keepdim = saved
    return (_reduced_like(up, probs.shape, axis, keepdim) * probs,)

def _logsumexp_vjp(up, inputs, out, saved):
    a, axis = inputs[0], saved[1]
    kept = _kept_dims(a.shape, axis)
    return (up.reshape(kept) * (a - out.reshape(kept)).exp(),)

LOGSUMEXP = register(Op(
    "logsumexp", "out = ln Σ eᵃ (stable: m + ln Σ eᵃ⁻ᵐ)",
    ("{up}·softmax({a})",),
    _logsumexp, _logsumexp_back, kind="reduction", saves=((0, OUT),), vjp_tensors=_logsumexp_vjp,
))


def softmax_array(a: Array, axis: int) -> Array:
    """Stable softmax of a NumPy array: ``e^(a − max) / Σ e^(a − max)``; float16 worked out in float32 and rounded
    once, as PyTorch's CPU kernel. The sum is NumPy's own, not :func:`add_reduce`'s: along an outer axis both add
    one row at a time, PyTorch's softmax/log_softmax kernels too (bit for bit the same numbers, 1% off at 10⁶
    float32 terms of 0.1), where PyTorch's sum and logsumexp cascade."""
    if a.size == 0:  # nothing to normalise: an empty result, as in PyTorch
        return np.exp(a)
    wide = widened(a)
    exps = np.exp(wide - wide.max(axis=axis, keepdims=True))
    exps /= exps.sum(axis=axis, keepdims=True)
    return narrowed(exps, a)


@quiet  # a row holding +∞, or only −∞ (attention masked out entirely): NaN, silently as in PyTorch
def _softmax(a, axis):
    out = row_major(softmax_array(a, axis))
    return out, (out, axis)

def _softmax_back(up, saved):  # float16 in float32, rounded once, as PyTorch's softmax_backward_data
    out, axis = saved
    wide = widened(out)
    weighted = widened(up) * wide
    return (narrowed(weighted - wide * weighted.sum(axis=axis, keepdims=True), out),)

def _softmax_vjp(up, inputs, out, saved):
    weighted = up * out
    return (weighted - out * weighted.sum(dim=saved[1], keepdim=True),)

SOFTMAX = register(Op(
    "softmax", "out = eᵃ / Σ eᵃ",
    ("{out} ⊙ ({up} − Σ {up} ⊙ {out})",),
    _softmax, _softmax_back, kind="slicewise", written="softmax({a})", settings=("dim",), saves=((OUT,),),
    vjp_tensors=_softmax_vjp,
))


@quiet  # as softmax
def _log_softmax(a, axis):
    if a.size == 0:  # nothing to normalise: an empty result, as in PyTorch
        out = softmax_array(a, axis)
        return out, (out, axis)
    wide = widened(a)  # float16 in float32, rounded once, as PyTorch's CPU kernel
    shifted = wide - wide.max(axis=axis, keepdims=True)
    total = np.exp(shifted).sum(axis=axis, keepdims=True)  # NumPy's order, as softmax_array
    # PyTorch's last-dim kernel keeps Σ and ln Σ of float16 in float16; its other kernel, in float32
    log_total = log_of_sum(total, a) if axis in (-1, a.ndim - 1) else np.log(total)
    out = row_major(narrowed(shifted - log_total, a))
    return out, (out, axis)

def _log_softmax_back(up, saved):  # float16 in float32, rounded once, as PyTorch's log_softmax_backward_data
    out, axis = saved
    wide = widened(up)
    return (narrowed(wide - np.exp(widened(out)) * wide.sum(axis=axis, keepdims=True), out),)

LOG_SOFTMAX = register(Op(
    "log_softmax", "out = a − logsumexp(a)",
    ("{up} − softmax({a})·Σ {up}",),
    _log_softmax, _log_softmax_back, kind="slicewise", written="log softmax({a})", settings=("dim",),
    saves=((OUT,),), vjp_tensors=lambda up, inputs, out, saved: (up - out.exp() * up.sum(dim=saved[1], keepdim=True),),
))


# --- shapes --------------------------------------------------------------------------------

def _reshape(a, shape):
    return a.reshape(shape), a.shape

def _reshape_back(up, shape):
    return (up.reshape(shape),)

RESHAPE = register(Op(
    "reshape", "out = a viewed with a new shape",
    ("{up} reshaped back",),
    _reshape, _reshape_back, kind="shape", vjp_tensors=lambda up, inputs, out, shape: (up.reshape(shape),),
))


def _permute(a, axes):
    return a.transpose(axes), np.argsort(axes)

def _permute_back(up, inverse):
    return (up.transpose(inverse),)

PERMUTE = register(Op(
    "permute", "out = a with axes reordered",
    ("{up} with the order undone",),
    _permute, _permute_back, kind="shape",
    vjp_tensors=lambda up, inputs, out, inverse: (up.permute(tuple(int(axis) for axis in inverse)),),
))


def _expand(a, shape):
    """``a`` seen in ``shape``. Where that repeats no entry (it adds or keeps size-1 dims, keeps the other sizes:
    ``numel(out) = numel(a)``) the view is ``a`` reshaped, writable as PyTorch's is; one that repeats entries
    (stride 0 over a size > 1) is NumPy's read-only ``broadcast_to``, whose writes PyTorch refuses."""
    if math.prod(shape) == a.size:
        return a.reshape(shape, copy=False), None  # adding or dropping size-1 dims never copies
    return np.broadcast_to(a, shape), None

def _expand_back(up, saved):
    return (up,)  # the engine sums the broadcast axes back

EXPAND = register(Op(
    "expand", "out = a broadcast to a larger shape",
    ("Σ {up} over the copies",),
    _expand, _expand_back, kind="shape", vjp_tensors=lambda up, inputs, out, saved: (up,),
))


def _contiguous(a):
    return np.ascontiguousarray(a), None

def _contiguous_back(up, saved):
    return (up,)

CONTIGUOUS = register(Op(
    "contiguous", "out = a, copied into row-major order",
    ("{up} unchanged",),
    _contiguous, _contiguous_back, kind="shape", vjp_tensors=lambda up, inputs, out, saved: (up,),
    value=np.ascontiguousarray, passes_up=True,
))


@quiet  # ∞ and −∞ added at one place give NaN, silently as in PyTorch (np.add.at costs µs: 0.2 µs more is little)
def _add_at(target: Array, where: tuple, values: Array) -> None:
    """``np.add.at(target, where, values)`` for ``where`` one integer array per axis (broadcast together; a
    negative counts from the end) and a row-major ``target``: the same sums in the same order, added along each
    entry's flat position ``Σₖ whereₖ·strideₖ``, where NumPy's add runs its fast loop (with a tuple of index arrays
    it takes 2–15× as long: the gradient of a 128×256 gather 0.41 ms → 0.2 ms)."""
    positions = np.zeros((), np.intp)
    stride = 1
    for index, size in zip(where[::-1], target.shape[::-1]):
        if index.size and index.min() < 0:
            index = index % size
        positions = positions + index * stride
        stride *= size
    np.add.at(target.reshape(-1), positions.reshape(-1), np.broadcast_to(values, positions.shape).reshape(-1))


INDEXING = "indexing a tensor of shape {shape}: {error}"
"""How ``t[index]`` names a NumPy ``IndexError`` (an index past the end): said by the kernel, so that a compiled
step's replay, which runs the kernel alone, says it as eager does (:func:`indexing_error`)."""

_NUMPY_INDEX_WORDS = (  # NumPy's IndexError for an index that does not fit, in PyTorch's words with the fix
    (re.compile(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)"),
     lambda m: f"index {m[1]} is out of bounds for dimension {m[2]} with size {m[3]} (expected "
               f"{-int(m[3])} <= index < {m[3]})"),
    (re.compile(r"boolean index did not match indexed array along (?:axis|dimension) (\d+); size of (?:axis|dimension)"
                r" is (\d+) but size of corresponding boolean (?:axis|dimension) is (\d+)"),
     lambda m: f"the mask has {m[3]} entries along dim {m[1]}, where the tensor has {m[2]}: a mask must have the "
               "sizes of the dims it indexes"),
    (re.compile(r"too many indices for array: array is 0-dimensional, but (\d+) were indexed"),
     lambda m: "invalid index of a 0-dim tensor: it has no dims to index; use t.item() for its number"),
    (re.compile(r"too many indices for array: array is (\d+)-dimensional, but (\d+) were indexed"),
     lambda m: f"too many indices for tensor of dimension {m[1]} ({m[2]} given; a mask counts one per dim)"),
    (re.compile(r"arrays used as indices must be of integer \(or boolean\) type"),
     lambda m: "tensors used as indices must be long, int, byte or bool tensors; convert a float index with .long()"),
    (re.compile(r"only integers, slices .* are valid indices"),
     lambda m: "only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors are valid indices"),
    (re.compile(r"shape mismatch: indexing arrays could not be broadcast together with shapes (.*)"),
     lambda m: f"shape mismatch: indexing tensors could not be broadcast together with shapes {m[1].strip()}"),
)


def index_words(error: IndexError) -> str:
    """NumPy's refusal of an index (``error``) in PyTorch's words (dims, not axes), with what to give instead."""
    text = str(error)
    for pattern, words in _NUMPY_INDEX_WORDS:
        found = pattern.search(text)
        if found:
            return words(found)
    return text


def indexing_error(shape: tuple, error: IndexError) -> IndexError:
    """The ``IndexError`` for ``t[index]`` (or ``t[index] = v``) of a tensor of ``shape`` where NumPy refused the
    index (``error``): :func:`index_words`, naming the shape."""
    shown = "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")
    return IndexError(INDEXING.format(shape=shown, error=index_words(error)))


def _getitem(a, index, advanced):
    try:
        picked = a[index]
    except IndexError as error:
        raise indexing_error(a.shape, error) from None
    return (row_major(picked) if advanced else picked), (a.shape, index, advanced)  # basic: a view

def _getitem_back(up, saved):
    shape, index, advanced = saved
    grad = np.zeros(shape, dtype=up.dtype)
    if advanced and grad.size <= 4 * up.size + 65536:  # each picked entry's flat place, from the index as given
        _add_at(grad.reshape(-1), (np.arange(grad.size).reshape(shape)[index],), up)  # (slices, masks, arrays)
    elif advanced:  # a few rows of a large table: numbering all its entries would cost more than NumPy's slow path
        np.add.at(grad, index, up)
    else:
        grad[index] = up
    return (grad,)

def _getitem_vjp(up, inputs, out, saved):
    """``up`` written into zeros of the input's shape at ``index`` (a recorded ``setitem``); with an index array,
    added at each picked entry's flat position (a recorded ``scatter_add``: repeats add up)."""
    shape, index, advanced = saved
    if advanced:
        picked = np.arange(math.prod(shape)).reshape(shape)[index].reshape(-1)
        flat = up.reshape(-1)
        return (flat.new_zeros((math.prod(shape),)).scatter_add(0, picked, flat).reshape(shape),)
    return (written_into_zeros(up, shape, index),)

def written_into_zeros(up: Any, shape: tuple, index: Any) -> Any:
    """``up`` written at ``index`` of zeros of ``shape``, as a Tensor: ``g = 0; g[index] = up`` (a recorded
    ``setitem``, so a second derivative flows back to ``up``): the VJP of every op that picks one place of its input
    (getitem with a basic index, a piece of unbind/tensor_split)."""
    scattered = up._plain(np.zeros(shape, dtype=up.dtype))  # a fresh leaf (Tensor._plain), written in place
    scattered[index] = up
    return scattered

GETITEM = register(Op(
    "getitem", "out = a[index]",
    ("{up} scattered back (repeats add up)",),
    _getitem, _getitem_back, kind="shape", vjp_tensors=_getitem_vjp, reads_back="its index",
))


def _setitem(a, value, index):
    a[index] = value  # into a's own memory: recorded only for an in-place change (t[index] = v, t.copy_(v))
    return a, index

def _setitem_back(up, index):
    kept = np.array(up)  # a writable copy (a 0-d upstream may come as a NumPy scalar)
    kept[index] = 0  # the old entries there were overwritten: they get no gradient
    return kept, up[index]

def _setitem_vjp(up, inputs, out, index):
    """Forward mode (:data:`TANGENTS`): the value's tangent is written as its entries are, the last write to a
    repeated place kept, so only that write's upstream reaches it (PyTorch's ``index_put`` of the tangent)."""
    kept = np.ones(up.shape, dtype=bool)
    kept[index] = False  # the old entries there were overwritten
    picked = up[index]
    if TANGENTS:
        picked = picked.masked_fill(~last_writes(np.arange(up.numel()).reshape(up.shape)[index]), 0.0)
    return (up.masked_fill(~kept, 0.0) if inputs[0].requires_grad else None), picked  # +0 even under an ∞

SETITEM = register(Op(
    "setitem", "out = a with out[index] = v",
    ("{up} with the written entries set to 0", "{up}[index], summed back to the shape of {value}"),
    _setitem, _setitem_back, kind="shape", roles=("a", "value"), vjp_tensors=_setitem_vjp,
))


def _cat(*arrays_and_axis):
    *arrays, axis = arrays_and_axis
    ends = np.cumsum([x.shape[axis] for x in arrays])[:-1]
    return row_major(np.concatenate(arrays, axis=axis)), (ends, axis)

def _cat_back(up, saved):
    ends, axis = saved
    return tuple(np.split(up, ends, axis=axis))

def _cat_vjp(up, inputs, out, saved):
    ends, axis = saved
    starts = (0, *(int(end) for end in ends))
    stops = (*(int(end) for end in ends), None)
    before = (slice(None),) * (axis % up.ndim)
    return tuple(up[(*before, slice(start, stop))] for start, stop in zip(starts, stops))

CAT = register(Op(
    "cat", "out = [a₁, a₂, …] joined along a dim",
    ("the slice of {up} that {a} filled",),
    _cat, _cat_back, kind="shape", vjp_tensors=_cat_vjp,
))


def _stack(*arrays_and_axis):
    *arrays, axis = arrays_and_axis
    return row_major(np.stack(arrays, axis=axis)), axis

def _stack_back(up, axis):
    return tuple(np.moveaxis(up, axis, 0))

def _stack_vjp(up, inputs, out, axis):
    before = (slice(None),) * (axis % up.ndim)
    return tuple(up[(*before, k)] for k in range(len(inputs)))

STACK = register(Op(
    "stack", "out = [a₁, a₂, …] stacked on a new dim",
    ("{up}[k] along that dim, for the k-th input {a}",),
    _stack, _stack_back, kind="shape", vjp_tensors=_stack_vjp,
))


# --- products ------------------------------------------------------------------------------

def _matmul(a, b, needs):
    return a @ b, (a, b, needs)

def _matmul_back(up, saved):
    a, b, (need_a, need_b) = saved
    # treat a vector as a matrix with one row (a) or one column (b), as matmul does
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    up2 = up
    if b.ndim == 1:  # first: for vector·vector the upstream is 0-d and becomes (1,), then (1, 1)
        up2 = np.expand_dims(up2, -1)
    if a.ndim == 1:
        up2 = np.expand_dims(up2, -2)
    grad_a = grad_b = None
    if need_a:
        grad_a = up2 @ np.swapaxes(b2, -1, -2)
        if a.ndim == 1:
            grad_a = grad_a[..., 0, :]
    if need_b:
        grad_b = np.swapaxes(a2, -1, -2) @ up2
        if b.ndim == 1:
            grad_b = grad_b[..., 0]
    return grad_a, grad_b

def _matmul_vjp(up, inputs, out, saved):
    a, b = inputs
    # as _matmul_back: a vector is a matrix with one row (a) or one column (b)
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    up2 = up.unsqueeze(-1) if b.ndim == 1 else up
    up2 = up2.unsqueeze(-2) if a.ndim == 1 else up2
    grad_a = grad_b = None
    if a.requires_grad:
        grad_a = up2 @ b2.transpose(-1, -2)
        grad_a = grad_a.squeeze(-2) if a.ndim == 1 else grad_a
    if b.requires_grad:
        grad_b = a2.transpose(-1, -2) @ up2
        grad_b = grad_b.squeeze(-1) if b.ndim == 1 else grad_b
    return grad_a, grad_b

MATMUL = register(Op(
    "matmul", "out = A @ B",
    ("{up} @ {b}ᵀ", "{a}ᵀ @ {up}"),
    _matmul, _matmul_back, kind="contraction", roles=("a", "b"), written="{a} @ {b}",
    saves=((1,), (0,)), vjp_tensors=_matmul_vjp,
))


def _linear(x, weight, bias, needs):
    """``x·Wᵀ + b``; extra leading dims of x are more rows of one product (NumPy's dot of a 3-d x runs its own
    loop, not BLAS: 1.2 ms for 20×32×64 by 64×256, against 0.17 as 640 rows). float16 with a bias: in float32,
    rounded once, as PyTorch's addmm (the product rounded, then the sum: up to 1,500 ulps off near 0)."""
    if bias is not None and x.dtype.char == "e":
        return narrowed(_linear(widened(x), widened(weight), widened(bias), needs)[0], x), (x, weight, needs)
    if x.ndim > 2:
        rows = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        out = rows.dot(weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
    else:
        out = x.dot(weight.T)  # np.dot's own method: less call overhead than matmul, no __array_function__ dispatch
    if bias is not None:
        if out.ndim == 2 and len(out) == 1:  # one sample: b as a row adds by NumPy's plain loop (0.36 µs with
            out += bias[None]                # the indexing), the (n,) vector by its broadcasting iterator (0.65)
        else:
            out += bias
    return out, (x, weight, needs)

def _linear_back(up, saved):
    x, weight, (need_x, need_w, need_b) = saved
    if up.ndim > 2:  # extra leading dims (a batch of sequences, say) are more rows of one product, as in _linear
        rows = up.reshape(-1, up.shape[-1])
        grad_x = rows.dot(weight).reshape(up.shape[:-1] + weight.shape[1:]) if need_x else None
        up, x = rows, x.reshape(-1, x.shape[-1])
    else:
        grad_x = up.dot(weight) if need_x else None  # the method: np.dot without its dispatch (as in _linear)
        if up.ndim == 1:  # one sample: one row
            up, x = up.reshape(1, -1), x.reshape(1, -1)
    grad_w = up.T.dot(x) if need_w else None
    grad_b = _sum_rows(up) if need_b else None
    return grad_x, grad_w, grad_b


def _sum_rows(rows):
    """Σ over the rows of a 2-d array; one row is added to 0 (−0.0 becomes 0.0, as a sum from 0 gives, and as
    PyTorch's), 0.2 µs where the reduction's call takes 0.7: the bias gradient of a one-sample step."""
    if len(rows) == 1:
        return np.add(rows[0], _ZEROS.get(rows.dtype, 0))
    if len(rows) <= IN_TURN and rows.dtype.char != "e":  # float16 is summed in float32 (add_reduce)
        return np.add.reduce(rows, axis=0)
    return add_reduce(rows, 0)

def _linear_vjp(up, inputs, out, saved):
    x, weight, *bias = inputs
    rows, x_rows = up.reshape(-1, up.shape[-1]), x.reshape(-1, x.shape[-1])  # extra leading dims are more rows
    return (up @ weight if x.requires_grad else None,
            rows.transpose(0, 1) @ x_rows if weight.requires_grad else None,
            *(rows.sum(dim=0) for _ in bias))

LINEAR = register(Op("linear", "Z = X·Wᵀ + b  (per sample: z = W·x + b)",
                     ("{up}·{weight}", "({up})ᵀ·{input}", "Σ_rows {up}"), _linear, _linear_back,
                     kind="affine", roles=("input", "weight", "bias"), written="{input}·{weight}ᵀ + {bias}",
                     saves=((1,), (0,), ()), vjp_tensors=_linear_vjp))


# --- fused losses (kept whole for stability and speed) ---------------------------------------

def _reduce_loss(per_item: Array, reduction: str, count: int | None = None, rounded_sum: bool = False) -> Array:
    """The loss from its items: themselves (``none``), their sum, or their mean over ``count`` (default: all; the
    mean of no items is NaN, as in PyTorch). float16 items are summed in float32 (:func:`add_reduce`) and divided
    there, as PyTorch's mean; with ``rounded_sum`` the sum is rounded to float16 first and divided in float16, as
    PyTorch's cross_entropy does (nll_loss's total; the probabilities' ``−Σ t·log p``): 40,000 rows of loss 5 give
    inf there, as PyTorch's."""
    if reduction == "none":
        return per_item
    total = add_reduce(per_item if rounded_sum else widened(per_item))
    if reduction != "mean":
        return np.asarray(total, dtype=per_item.dtype)
    count = per_item.size if count is None else count
    if not count:  # no items: NaN, without NumPy's 0/0 warning (an errstate block here cost every loss ~1 µs)
        return np.asarray(math.nan, dtype=per_item.dtype)
    return np.asarray(total / count, dtype=per_item.dtype)


def _loss_upstream(up: Array, reduction: str, count: int, item_shape: tuple) -> Array:
    """∂L/∂(per-item loss) for each reduction, shaped to broadcast over ``item_shape`` (NaN for the mean of no
    items, whose gradient is empty)."""
    if reduction == "mean":
        return float(up) / count if count else math.nan
    if reduction == "sum":
        return float(up)
    return up.reshape(up.shape + (1,) * (len(item_shape) - up.ndim))


def _recorded_upstream(up: Any, reduction: str, count: int) -> Any:
    """:func:`_loss_upstream` on tensors (``vjp_tensors``): ``up/n`` for the mean, else ``up`` (it broadcasts)."""
    return up / count if reduction == "mean" else up


def _pair_loss_vjp(slope: Callable[[Any], Any]) -> Callable[[Any, tuple, Any, Any], tuple]:
    """``vjp_tensors`` of a loss of ``d = input − target`` with ``∂item/∂d = slope(d)`` written on tensors."""
    def vjp_tensors(up, inputs, out, saved):
        prediction, target = inputs
        diff = prediction - target
        grad = slope(diff) * _recorded_upstream(up, saved[1], diff.numel())
        return grad, -grad
    return vjp_tensors


def _mse(prediction, target, reduction, needs):
    diff = prediction - target
    return _reduce_loss(diff * diff, reduction), (diff, reduction, needs)


def _mse_saved(prediction, target, reduction, needs):
    """``_mse``'s saved values alone (its first line; an eager loss makes one call, not two)."""
    return prediction - target, reduction, needs


def _mse_back(up, saved):
    diff, reduction, (need_prediction, need_target) = saved
    grad = diff * (2 * _loss_upstream(up, reduction, diff.size, diff.shape))
    return (grad if need_prediction else None), (-grad if need_target else None)


MSE_LOSS = register(Op(
    "mse_loss", "L = (1/n) Σ (ŷ − y)²", ("{up}·2({input} − {target})/n", "−{up}·2({input} − {target})/n"),
    _mse, _mse_back, kind="loss", roles=("input", "target"), settings=("reduction", "needs"),
    loss=LossForm("({input} − {target})²", "2({input} − {target})",
                  lambda prediction, target: (prediction - target) ** 2,
                  lambda prediction, target: 2 * (prediction - target)), saves=((0, 1), (0, 1)),
    vjp_tensors=_pair_loss_vjp(lambda diff: 2 * diff), saved_alone=_mse_saved,
))


def _cross_entropy(logits, target, reduction, ignore_index=-100):
    """``logits`` (N, C); ``target`` class indices (N,) or probabilities (N, C).

    Saves softmax(logits), the target and, for class indices, each row's class as a position in the
    flat array: the backward subtracts the target (or 1 at those positions) from the probabilities.
    Class indices read only the picked log-probabilities:
    ``−(shifted[i, yᵢ] − log Σⱼ e^shifted[i, j])``, the same numbers as the full table gives.
    A row whose class is ``ignore_index`` counts for nothing: its loss and gradient are 0 and the
    mean divides by the rows that count (by 1 when none does: a loss of 0 where PyTorch gives NaN; the
    gradients are 0 in both), except that an ignored row whose softmax is NaN (all −inf, a +inf) has the
    gradient NaN, as PyTorch's. A class outside [0, C) that is not ``ignore_index`` raises ``IndexError``.
    float16 logits are worked out as PyTorch's kernels do: the log-probabilities in float32 from Σ and ln Σ rounded
    to float16, each rounded once to float16 (log_softmax over the last dim; scores (N, C, d…) differ from PyTorch's,
    which keep Σ in float32 there, in the last bits), ``Σⱼ tⱼ·log pⱼ`` summed in float32, and the loss's sum rounded
    to float16 before the mean divides (``rounded_sum``).
    """
    numbers, starts = _rows_of(*logits.shape)
    wide = widened(logits)
    # each row's max, read at its argmax (one fast call; a max along a short axis is several times slower)
    shifted = wide - wide.take(starts + wide.argmax(axis=1, keepdims=True))
    exps = np.exp(shifted)
    total = np.add.reduce(exps, axis=1, keepdims=True)
    log_total = log_of_sum(total, logits)  # float16: ln of Σ rounded to float16, as PyTorch's log_softmax
    exps /= total  # now softmax(logits)
    exps = narrowed(exps, logits)
    if target.dtype.kind == "f":
        per_item = -add_reduce(target * narrowed(shifted - log_total, logits), 1)
        positions = None
    else:
        positions, kept = _class_positions(numbers, target, ignore_index, logits.shape)
        if wide is logits:  # the picked log-probabilities alone
            per_item = -(shifted.take(positions) - log_total.reshape(-1))
        else:  # float16: every log p rounded to float16, whose e^(log p) the backward reads, as PyTorch's log_softmax's
            log_probs = narrowed(shifted - log_total, logits)
            per_item, exps = -log_probs.take(positions), np.exp(log_probs.astype(np.float32))
        if kept is not None:
            per_item = np.where(kept, per_item, per_item.dtype.type(0))
        return _class_loss(per_item, reduction, kept), (exps, target, positions, reduction, kept)
    return _reduce_loss(per_item, reduction, rounded_sum=True), (exps, target, positions, reduction, None)


def _class_loss(per_item: Array, reduction: str, kept: Array | None) -> Array:
    """The loss from the rows' ``−log p[yᵢ]`` (0 where not ``kept``) as PyTorch's ``nll_loss`` reduces them: float16
    rows are added in float16 (:func:`nll_total`) and their mean is that total ÷ the count rounded to float16, a
    float16 division; any other dtype as :func:`_reduce_loss` with ``rounded_sum``."""
    count = len(per_item) if kept is None else _counted(kept)
    if per_item.dtype.char != "e" or reduction == "none" or not count:
        return _reduce_loss(per_item, reduction, count, rounded_sum=True)
    total = nll_total(per_item if kept is None else per_item[kept], kept)
    return np.asarray(total if reduction == "sum" else total / np.float16(count))


@functools.lru_cache(maxsize=16)
def _rows_of(rows: int, width: int) -> tuple[Array, Array]:
    """The row numbers of a (rows, width) array, and where each row begins in its flat (C-order) form as a
    (rows, 1) column; made once per shape (a training loop asks for the same one at every step), read-only."""
    numbers, starts = np.arange(rows), np.arange(0, rows * width, width).reshape(-1, 1)
    numbers.flags.writeable = starts.flags.writeable = False
    return numbers, starts


def _counted(kept: Array) -> int:
    """How many rows a mean divides by: those kept, or 1 when none is (the loss is then 0, not 0/0)."""
    return max(int(np.count_nonzero(kept)), 1)


def label_out_of_range(name: str, label: Any, classes: int, ignore_index: int) -> IndexError:
    """The one-line refusal of a class label outside [0, classes) that is not ``ignore_index``."""
    return IndexError(f"{name}: target label {label} is out of range: labels must be in [0, {classes - 1}] "
                      f"(or ignore_index, {ignore_index})")


def _class_positions(numbers: Array, target: Array, ignore_index: int, shape: tuple) -> tuple[Array, Array | None]:
    """Each row's class as a position in the flat (rows, classes) array, and which rows count (their class is
    not ``ignore_index``), or None when all do; an ignored row reads class 0.

    The common case takes one call, which also checks that every class is in [0, classes) (PyTorch's
    default ``ignore_index``, −100, is never one). A class outside that is not ``ignore_index`` raises
    ``IndexError``: it would read another row's score (``cross_entropy`` checks before it records; a
    compiled step's replay runs this row alone).
    """
    try:
        positions = np.ravel_multi_index((numbers, target), shape)
    except ValueError:  # a class outside [0, classes): allowed only where it is ignore_index
        positions = None
    classes = shape[1]
    if positions is not None and not 0 <= ignore_index < classes:
        return positions, None
    kept = target != ignore_index
    if positions is None:
        wrong = kept & ((target < 0) | (target >= classes))
        if wrong.any():
            raise label_out_of_range("cross_entropy", target[wrong][0], classes, ignore_index)
    elif kept.all():
        return positions, None
    return np.ravel_multi_index((numbers, np.where(kept, target, 0)), shape), kept


def _times_scale(grad: Array, scale: Any) -> Array:
    """``grad · scale``: in place when ``scale`` is a Python number (the dtype stays), else a new array
    (an upstream array may promote)."""
    if isinstance(scale, float):
        grad *= scale
        return grad
    return grad * scale


def _cross_entropy_back(up, saved):
    probs, target, positions, reduction, kept = saved
    if up.dtype.char == "e" and positions is not None:
        return _half_class_back(up, saved), None
    if positions is None:  # target probabilities
        grad = probs * np.add.reduce(target, axis=1, keepdims=True) - target
    else:
        grad = probs.copy()
        grad.reshape(-1)[positions] -= 1  # − onehot(target)
        if kept is not None:  # an ignored row: +0 whatever the upstream, as PyTorch's (times a 0 mask gave −0, or NaN),
            grad = _times_scale(grad, _loss_upstream(up, reduction, _counted(kept), probs.shape))  # but NaN where its
            zeroed = ~kept & ~np.isnan(probs[:, 0])  # softmax is (all −inf, a +inf: then the whole row), as PyTorch's
            return _plus_zero_where(zeroed.reshape(-1, 1), grad, grad.dtype), None  # log_softmax backward: 0 − NaN·0
    return _times_scale(grad, _loss_upstream(up, reduction, len(probs), probs.shape)), None


def _half_class_back(up: Array, saved: tuple) -> Array:
    """The gradient of float16 class-index rows as PyTorch's kernels give it: ``nll_loss``'s backward puts
    ``v = −up`` (the mean's ``−(up ÷ n)``, in float16) at each kept row's class, and ``log_softmax``'s backward,
    in float32 rounded once, gives ``v·onehot − e^(log p)·v`` (``probs`` holds ``e^(log p)``, log p rounded to
    float16): up to 8192 ulps from ``(p − onehot)·v`` where p is near 1 (``1 − p`` read from a float16 p)."""
    probs, _, positions, reduction, kept = saved
    count = len(probs) if kept is None else _counted(kept)
    upstream = -(up / np.float16(count)) if reduction == "mean" else -up
    rows = np.broadcast_to(upstream.astype(np.float32).reshape(-1), (len(probs),))
    if kept is not None:
        rows = np.where(kept, rows, np.float32(0))
    scaled = probs * rows.reshape(-1, 1)
    grad = np.subtract(np.float32(0), scaled)
    grad.reshape(-1)[positions] = rows - scaled.reshape(-1)[positions]
    return grad.astype(np.float16)


def _loss_scale_tensor(up, reduction: str, count: int, item_ndim: int):
    """:func:`_loss_upstream` for a recorded (tensor) upstream gradient."""
    if reduction == "mean":
        return up / count
    if reduction == "sum":
        return up
    return up.reshape(tuple(up.shape) + (1,) * (item_ndim - up.ndim))


def _cross_entropy_vjp(up, inputs, out, saved):
    _, target, _, reduction, kept = saved
    count = len(target)
    if target.dtype.kind == "f":
        onehot, mass = target, target.sum(axis=1, keepdims=True)
    elif kept is None:
        onehot, mass = _onehot(inputs[0].array, target), 1
    else:  # an ignored row: no one-hot and no mass, so its gradient is 0
        onehot = _onehot(inputs[0].array, np.where(kept, target, 0)) * kept.reshape(-1, 1)
        mass, count = kept.reshape(-1, 1).astype(onehot.dtype), _counted(kept)
    probabilities = inputs[0].softmax(dim=1)
    return (probabilities * mass - onehot) * _loss_scale_tensor(up, reduction, count, onehot.ndim), None


def _onehot(logits: Array, target: Array) -> Array:
    """Class indices as rows of 0s with a 1 at the class."""
    return np.eye(logits.shape[1], dtype=np.result_type(logits, np.float32))[target]


CROSS_ENTROPY = register(Op(
    "cross_entropy", "L = −(1/N) Σᵢ log softmax(zᵢ)[yᵢ]", ("{up}·(softmax({logits}) − onehot({target}))/N",),
    _cross_entropy, _cross_entropy_back, kind="loss", roles=("logits", "target"),
    settings=("reduction", "ignore_index"),
    loss=LossForm(
        "log softmax({logits})ᵢ[{target}ᵢ]", "ŷ − onehot({target})",
        lambda logits, target: np.log(softmax_array(logits, 1))[np.arange(len(logits)), target],
        lambda logits, target: softmax_array(logits, 1) - _onehot(logits, target),
        count="N", negated=True, total="Σᵢ",
        derived=(Derived("ŷ", "softmax({logits})", lambda logits, target: softmax_array(logits, 1)),
                 Derived("onehot({target})", "", _onehot)),
        shown_in_gradient=("ŷ", "onehot({target})"),
        shown_gradient_value=lambda probabilities, onehot: probabilities - onehot,
        for_probabilities=LossForm(  # each row of y a distribution over the classes (its mass Σⱼ yⱼ, usually 1)
            "Σⱼ {target}ᵢⱼ·log softmax({logits})ᵢⱼ", "ŷ·Σⱼ {target}ⱼ − {target}",
            lambda logits, target: (target * np.log(softmax_array(logits, 1))).sum(axis=1),
            lambda logits, target: softmax_array(logits, 1) * target.sum(axis=1, keepdims=True) - target,
            count="N", negated=True, total="Σᵢ",
            derived=(Derived("ŷ", "softmax({logits})", lambda logits, target: softmax_array(logits, 1)),),
            shown_in_gradient=("ŷ", "{target}"),
            shown_gradient_value=lambda p, target: p * target.sum(axis=1, keepdims=True) - target,
        ),
    ), saves=((1,), ()), vjp_tensors=_cross_entropy_vjp,
))


LOSS_EPSILON = float(np.float32(1e-12))
"""The floor PyTorch keeps binary_cross_entropy's denominator ``p(1 − p)`` above, and adds to the squared lengths
in cosine_embedding_loss: its 1e-12 is a float, so it is 1e-12 rounded to float32, 9.99999996e-13 (with 1e-12 itself
a saturated ``p`` had its float64 gradient 4e-9 off, 1e12 where PyTorch's is 1000000003995.8). The row's written
gradient shows the floor, ``max(p·(1 − p), 10⁻¹²)``: a trace of a saturated σ then reads the engine's number off its
formula (written without it, ``(p − y)/(p·(1 − p))`` gave −0.125 where the step showed −5.6e-05)."""


def _clamped_logs(probs):
    """``log p`` and ``log(1 − p)``, each clamped at −100 as in PyTorch: p = 0 or 1 gives finite numbers."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(probs), -100), np.maximum(np.log1p(-probs), -100)


def _bce(probs, target, reduction, needs=(True, False)):
    log_p, log_not_p = _clamped_logs(probs)
    per_item = -(target * log_p + (1 - target) * log_not_p)
    return _reduce_loss(per_item, reduction), (probs, target, reduction, needs)


def _bce_back(up, saved):
    probs, target, reduction, (need_probs, need_target) = saved
    scale = _loss_upstream(up, reduction, probs.size, probs.shape)
    # the denominator is kept ≥ ε, as in PyTorch, so p = 0 or 1 gives a large finite gradient, never NaN
    grad_probs = (probs - target) / np.maximum(probs * (1 - probs), LOSS_EPSILON) * scale if need_probs else None
    if not need_target:
        return grad_probs, None
    log_p, log_not_p = _clamped_logs(probs)  # ∂L/∂y = log(1 − p) − log p (finite at p = 0 or 1; PyTorch: ±∞)
    return grad_probs, (log_not_p - log_p) * scale


def _bce_vjp(up, inputs, out, saved):
    probabilities, target = inputs
    scale = _loss_scale_tensor(up, saved[2], target.numel(), target.ndim)
    return ((probabilities - target) / (probabilities * (1 - probabilities)).maximum(LOSS_EPSILON) * scale,
            ((-probabilities).log1p().clamp(min=-100) - probabilities.log().clamp(min=-100)) * scale)


BCE = register(Op(
    "binary_cross_entropy", "L = −mean(y·log p + (1 − y)·log(1 − p))",
    ("{up}·({probabilities} − {target})/max({probabilities}·(1 − {probabilities}), 10⁻¹²)/n",
     "{up}·(log(1 − {probabilities}) − log {probabilities})/n"), _bce, _bce_back,
    kind="loss", roles=("probabilities", "target"), settings=("reduction", "needs"),
    loss=LossForm("[{target}·log {probabilities} + (1 − {target})·log(1 − {probabilities})]",
                  "({probabilities} − {target})/max({probabilities}·(1 − {probabilities}), 10⁻¹²)",
                  lambda p, y: y * np.log(p) + (1 - y) * np.log(1 - p),
                  lambda p, y: (p - y) / np.maximum(p * (1 - p), LOSS_EPSILON), negated=True), saves=((0, 1), (0,)),
    vjp_tensors=_bce_vjp,
))


def _bce_with_logits(logits, target, reduction, needs=(True, False)):
    # (1 − y)·z + max(−z, 0) + log(1 + e^{-|z|}), stable for any z, and ∞ at z = +∞, y = 0 as PyTorch's (the same sum
    # written max(z, 0) − z·y gave ∞ − ∞ there: NaN)
    per_item = (1 - target) * logits + np.maximum(-logits, 0) + np.log1p(np.exp(-np.abs(logits)))
    return _reduce_loss(per_item, reduction), (logits, target, reduction, needs)


def _bce_with_logits_back(up, saved):
    logits, target, reduction, (need_logits, need_target) = saved
    scale = _loss_upstream(up, reduction, logits.size, logits.shape)
    return ((_sigmoid(logits) - target) * scale if need_logits else None,
            -logits * scale if need_target else None)  # ∂L/∂y = −z


def _bce_with_logits_vjp(up, inputs, out, saved):
    logits, target = inputs
    scale = _loss_scale_tensor(up, saved[2], target.numel(), target.ndim)
    return (logits.sigmoid() - target) * scale, -logits * scale


BCE_WITH_LOGITS = register(Op(
    "binary_cross_entropy_with_logits", "L = −mean(y·log σ(z) + (1 − y)·log(1 − σ(z)))",
    ("{up}·(σ({logits}) − {target})/n", "−{up}·{logits}/n"), _bce_with_logits, _bce_with_logits_back,
    kind="loss", roles=("logits", "target"), settings=("reduction", "needs"),
    loss=LossForm("[{target}·log σ({logits}) + (1 − {target})·log(1 − σ({logits}))]", "(σ({logits}) − {target})",
                  lambda z, y: y * np.log(_sigmoid(z)) + (1 - y) * np.log(1 - _sigmoid(z)),
                  lambda z, y: _sigmoid(z) - y, negated=True), saves=((0, 1), (0,)),
    vjp_tensors=_bce_with_logits_vjp,
))


# --- issue 11: ELU, Softplus, and the L1 / Huber / KL losses -------------------------------

def _mask_blend(mask, inside, outside):
    """``inside`` where the bool tensor ``mask`` holds, else ``outside``, as tensor arithmetic (recorded)."""
    chosen = mask.to(outside.dtype)
    return chosen * inside + (1 - chosen) * outside


def _elu(a, alpha):
    """``a`` where a > 0, else ``α·(eᵃ − 1)``: for α > 0 the sum ``max(a, −0) + α·expm1(−max(−a, 0))``, whose
    other term is ±0 on each side (−0 below 0, so an α·expm1 that underflows to −0 stays −0), in vector passes;
    ``np.where``'s pick by the mask branches on each entry. Another α picks by the mask (for α < 0 the sum's
    zeros would take other signs)."""
    if alpha > 0 and a.dtype in _ZEROS:
        negative_zeros = np.full(a.shape, -0.0, a.dtype)
        above = np.maximum(negative_zeros, a, out=negative_zeros)  # on a tie NumPy gives the second: a
        return (above + alpha * np.expm1(-_relu(-a))).astype(a.dtype, copy=False)
    return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))).astype(a.dtype, copy=False)


def _elu_local(a, alpha):
    """1 where a > 0 (or NaN, as PyTorch), else ``α·eᵃ``: for α > 0 as ``above + (1 − above)·α·e^fmin(a, 0)``
    with ``above`` the float mask (fmin: 0 at NaN, so the unused term is finite and 0 times it is 0)."""
    if alpha > 0 and a.dtype in _ZEROS:
        above = np.logical_not(a <= _ZEROS[a.dtype]).astype(a.dtype)
        return (above + (1 - above) * (alpha * np.exp(np.fmin(a, _ZEROS[a.dtype])))).astype(a.dtype, copy=False)
    return np.where(a <= 0, alpha * np.exp(np.minimum(a, 0)), 1).astype(a.dtype, copy=False)


# ELU and Softplus are rows for a readable trace (one activation step with its local derivative)
# and, for Softplus, for stability: above the threshold it is the identity, as in PyTorch.
ELU = elementwise(
    "elu", "out = a if a > 0 else α·(eᵃ − 1)", "1 where {a} > 0, else {alpha}·e^{a}  ({alpha} at {a} = 0)",
    _elu, _elu_local,
    kind="activation", written="ELU({a})", symbol="ELU", settings={"alpha": 1.0},
    # recorded: α·e^a below 0 as a where (its slope 0 at a = 0, where clamp's would be 1), so that the second
    # derivative at exactly 0 is PyTorch's 0 (its double backward masks a < 0); the mask "not a ≤ 0" gives a NaN
    # slope 1, as the plain backward's (create_graph=True gave it α)
    tensor_local=lambda a, alpha: _mask_blend((a <= 0).logical_not(), 1, alpha * a.where(a < 0, 0).exp()),
)


def _celu(a, alpha):
    """``a`` where a > 0, else ``α·(e^(a/α) − 1)``, for either sign of α (−0 stays −0, NaN stays NaN); the branch
    not taken may overflow, unread. float16 is worked out in float32, as PyTorch's CPU does (α = 1e-30 is 0 in
    float16)."""
    wide = widened(a)
    return narrowed(np.where(wide > 0, wide, alpha * np.expm1(wide / alpha)), a).astype(a.dtype, copy=False)


def _celu_local(a, alpha):
    """1 where a > 0 (or NaN, as PyTorch), else ``e^(a/α)`` (float16 in float32)."""
    wide = widened(a)
    return narrowed(np.where(wide <= 0, np.exp(wide / alpha), 1), a).astype(a.dtype, copy=False)


# a row for range: as α·elu(a/α) the quotient a/α overflowed for a small α (celu(1e30, α = 1e-30) in float32 was
# ∞, not 1e30) and underflowed for a large one (celu(1e-20, α = 1e30) was 0), on the side where the value is a
CELU = elementwise(
    "celu", "out = a if a > 0 else α·(e^(a/α) − 1)", "1 where {a} > 0, else e^({a}/{alpha})  (1 at {a} = 0)",
    _celu, _celu_local,
    kind="activation", written="CELU({a})", symbol="CELU", settings={"alpha": 1.0},
    numpy_warns=True,  # e^(a/α) overflows in the branch not taken, and far below 0 for α < 0 (PyTorch's ±∞ too)
    # recorded as ELU's: the exponential below 0 through a where, so that the second derivative at 0 is PyTorch's 0
    tensor_local=lambda a, alpha: _mask_blend(a > 0, 1, (a.where(a < 0, 0) / alpha).exp()),
)


def _softplus(a, beta, threshold):
    scaled = a * beta
    with np.errstate(over="ignore"):
        smooth = np.log1p(np.exp(np.minimum(scaled, threshold))) / beta
    return np.where(scaled > threshold, a, smooth).astype(a.dtype, copy=False)


def _softplus_local(a, beta, threshold):
    scaled = a * beta
    return np.where(scaled > threshold, 1, _sigmoid(np.minimum(scaled, threshold))).astype(a.dtype, copy=False)


SOFTPLUS = elementwise(
    "softplus", "out = (1/β)·ln(1 + e^(β·a)), or a where β·a > threshold",
    "σ({beta}·{a}), or 1 where {beta}·{a} > {threshold}",
    _softplus, _softplus_local, kind="activation", written="Softplus({a})", symbol="Softplus",
    settings={"beta": 1.0, "threshold": 20.0},
    # recorded: σ(β·a) up to the threshold through a where (its slope 0 at β·a = threshold, where clamp's would be
    # 1), so that the second derivative there is PyTorch's 0 (its double backward masks β·a < threshold); a NaN
    # keeps its β·a ("not ≥ threshold"), so its slope is NaN, as the plain backward's (it was σ(threshold))
    tensor_local=lambda a, beta, threshold: _mask_blend(
        a * beta > threshold, 1, (a * beta).where((a * beta >= threshold).logical_not(), threshold).sigmoid()),
)


def _log_sigmoid(a):
    """``ln σ(a) = min(a, 0) − ln(1 + e^(−|a|))``, PyTorch's form: ``e^(−|a|) ≤ 1`` never overflows, and every digit
    of ``−ln(1 + eᵃ)`` stays where a ≪ 0 (ln σ(−21) = −21 − 7.6·10⁻¹⁰)."""
    return (np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))).astype(a.dtype, copy=False)


# a row for stability: as −softplus(−a) it took softplus's threshold, ln σ(a) = a exactly below a = −20, so its
# value lost e^a (−21 for −21.00000000076), its slope was 1 for σ(−a) and its second derivative 0 for −σ(a)·σ(−a)
LOG_SIGMOID = elementwise(
    "log_sigmoid", "out = ln σ(a) = −ln(1 + e⁻ᵃ)", "σ(−{a}) = 1 − σ({a})",
    _log_sigmoid, lambda a: _sigmoid(-a), kind="activation", written="LogSigmoid({a})", symbol="LogSigmoid",
    # recorded from the σ below ½ on each side, whose slope σ·(1 − σ) keeps its digits (from σ(20) = 1 − 2·10⁻⁹,
    # 1 − σ would keep 8 of them, and none at σ(50) = 1)
    tensor_local=lambda a: (1 - a.sigmoid()).where(a < 0, (-a).sigmoid()),
)


def _tanh_softplus(wide):
    """``tanh(ln(1 + eᵃ))``, mish's gate, as PyTorch forms it: past the dtype's range eᵃ is ∞ and the gate 1."""
    return np.tanh(np.log1p(np.exp(wide)))


def _mish(a):
    """``a·tanh(softplus(a))``; float16 worked out in float32 and rounded once, as PyTorch's CPU does."""
    wide = widened(a)
    return narrowed(wide * _tanh_softplus(wide), a).astype(a.dtype, copy=False)


def _mish_slope(wide):
    """``t + a·σ(a)·(1 − t²)`` with ``t = tanh(softplus(a))``, in PyTorch's order."""
    gate = _tanh_softplus(wide)
    return gate + wide * _sigmoid(wide) * (1 - gate * gate)


def _mish_local(a):
    return narrowed(_mish_slope(widened(a)), a).astype(a.dtype, copy=False)


def _mish_back(up, a):
    """``up·slope``, float16 worked out in float32 and rounded once, as PyTorch's (a float16 slope times a float16
    upstream rounded twice, and lost the subnormal gradients below a = −17)."""
    return (narrowed(widened(up) * _mish_slope(widened(a)), a).astype(a.dtype, copy=False),)


def _mish_tensor_local(a):
    gate = a.exp().log1p().tanh()
    return gate + a * a.sigmoid() * (1 - gate * gate)


# a row for stability: as a·tanh(softplus(a)) the backward multiplied the upstream by a before tanh's slope 0, so an
# upstream of 2 at a = 3·10³⁸ in float32 was ∞·0 = NaN where PyTorch's slope is 1
MISH = elementwise(
    "mish", "out = a·tanh(softplus(a)) = a·tanh(ln(1 + eᵃ))",
    "t + {a}·σ({a})·(1 − t²), t = tanh(softplus({a}))",
    _mish, _mish_local, kind="activation", written="Mish({a})", symbol="Mish", numpy_warns=True,  # e^1000 = ∞
    fused_backward=_mish_back, tensor_local=_mish_tensor_local,
)


def _pair_loss(item: Callable[[Array], Array], slope: Callable[[Array], Array]):
    """Forward and backward of a loss of ``d = input − target`` entry by entry: ``item(d)``, ``∂item/∂d = slope(d)``.

    The target gets ``−slope(d)`` (PyTorch differentiates both inputs).
    """
    def forward(prediction, target, reduction, needs):
        diff = prediction - target
        return _reduce_loss(item(diff), reduction), (diff, reduction, needs)

    def backward(up, saved):
        diff, reduction, (need_prediction, need_target) = saved
        grad = slope(diff) * _loss_upstream(up, reduction, diff.size, diff.shape)
        return (grad if need_prediction else None), (-grad if need_target else None)

    return forward, backward


def _huber_item(diff):
    """Huber with δ = 1 (= smooth L1 with β = 1): ½d² where |d| < 1, else |d| − ½; as ``m·(|d| − ½m)`` with
    ``m = min(|d|, 1)``, the same numbers in vector passes where ``np.where``'s pick by the mask took longer than
    the rest together (½|d|·|d| and ½d·d round alike)."""
    size = np.abs(diff)
    smaller = np.minimum(size, np.ones((), diff.dtype))
    return (smaller * (size - 0.5 * smaller)).astype(diff.dtype, copy=False)


def _huber_slope(diff):
    """d where |d| < 1, else sign(d): ``clip(d, −1, 1)`` (NaN stays NaN)."""
    return np.clip(diff, -1, 1).astype(diff.dtype, copy=False)


L1_LOSS = register(Op(
    "l1_loss", "L = (1/n) Σ |ŷ − y|", ("{up}·sign({input} − {target})/n", "−{up}·sign({input} − {target})/n"),
    *_pair_loss(np.abs, np.sign), kind="loss", roles=("input", "target"), settings=("reduction", "needs"),
    loss=LossForm("|{input} − {target}|", "sign({input} − {target})",
                  lambda prediction, target: np.abs(prediction - target),
                  lambda prediction, target: np.sign(prediction - target)), saves=((), ()),
    vjp_tensors=_pair_loss_vjp(lambda diff: diff.sign()),
))

# smooth L1 (β) and Huber (δ) are written at their unit setting, where both are the same function;
# F.smooth_l1_loss and F.huber_loss scale other settings around these rows (so every written
# formula is one the trace can show with its own numbers).
_HUBER_ITEM = ("([|{input} − {target}| < 1]·½({input} − {target})² "  # [condition]: 1 where it holds, else 0
               "+ [|{input} − {target}| ≥ 1]·(|{input} − {target}| − ½))")
_HUBER_GRADIENT = ("[|{input} − {target}| < 1]·({input} − {target}) "
                   "+ [|{input} − {target}| ≥ 1]·sign({input} − {target})")
_HUBER_FORM = LossForm(_HUBER_ITEM, _HUBER_GRADIENT, lambda prediction, target: _huber_item(prediction - target),
                       lambda prediction, target: _huber_slope(prediction - target))
# = _huber_slope, recorded: d inside, sign(d) from |d| = 1 on (as PyTorch's second derivative: 0 at the bound,
# where clamp's would be 1)
_HUBER_VJP = _pair_loss_vjp(lambda diff: diff.where(diff.abs() < 1, diff.sign()))

SMOOTH_L1_LOSS = register(Op(
    "smooth_l1_loss", "L = (1/n) Σ (½(ŷ − y)² where |ŷ − y| < 1, else |ŷ − y| − ½)  (β = 1)",
    ("{up}·clamp({input} − {target}, −1, 1)/n", "−{up}·clamp({input} − {target}, −1, 1)/n"),
    *_pair_loss(_huber_item, _huber_slope), kind="loss", roles=("input", "target"),
    settings=("reduction", "needs"), loss=_HUBER_FORM, saves=((), ()), vjp_tensors=_HUBER_VJP,
))
HUBER_LOSS = register(Op(
    "huber_loss", "L = (1/n) Σ (½(ŷ − y)² where |ŷ − y| < 1, else |ŷ − y| − ½)  (δ = 1)",
    ("{up}·clamp({input} − {target}, −1, 1)/n", "−{up}·clamp({input} − {target}, −1, 1)/n"),
    *_pair_loss(_huber_item, _huber_slope), kind="loss", roles=("input", "target"),
    settings=("reduction", "needs"), loss=_HUBER_FORM, saves=((), ()), vjp_tensors=_HUBER_VJP,
))


def _plogp(p):
    """``p·ln p``, 0 where ``p = 0`` (its limit), as PyTorch's ``xlogy(p, p)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), np.where(p == 0, 0, np.nan)).astype(p.dtype)


def _kl_div(log_probs, target, reduction, needs):
    return _reduce_loss(_plogp(target) - target * log_probs, reduction), (log_probs, target, reduction, needs)


def _kl_div_back(up, saved):
    log_probs, target, reduction, (need_input, need_target) = saved
    scale = _loss_upstream(up, reduction, log_probs.size, log_probs.shape)
    grad_target = None
    if need_target:
        with np.errstate(divide="ignore", invalid="ignore"):  # −∞ at y = 0, the slope of y·ln y there
            grad_target = (np.log(target) + 1 - log_probs) * scale
    return ((-target * scale) if need_input else None), grad_target


def _kl_div_vjp(up, inputs, out, saved):
    log_probs, target = inputs
    scale = _recorded_upstream(up, saved[2], log_probs.numel())
    return -target * scale, (target.log() + 1 - log_probs) * scale


KL_DIV = register(Op(
    "kl_div", "L = (1/n) Σ y·(ln y − x)  (x = log-probabilities; an item is 0 where y = 0)",
    ("−{up}·{target}/n", "{up}·(ln {target} + 1 − {input})/n"),
    _kl_div, _kl_div_back, kind="loss", roles=("input", "target"), settings=("reduction", "needs"),
    loss=LossForm("{target}·(log {target} − {input})", "−{target}",
                  lambda x, y: y * (np.log(y) - x), lambda x, y: -y), saves=((1,), (0, 1)),
    vjp_tensors=_kl_div_vjp,
))


def _kl_div_log_target(log_probs, log_target, reduction, needs):
    probs = np.exp(log_target)
    return _reduce_loss(probs * (log_target - log_probs), reduction), (log_probs, log_target, reduction, needs)


def _kl_div_log_target_back(up, saved):
    log_probs, log_target, reduction, (need_input, need_target) = saved
    scale = _loss_upstream(up, reduction, log_probs.size, log_probs.shape)
    probs = np.exp(log_target)
    return ((-probs * scale) if need_input else None), \
        ((probs * (log_target - log_probs + 1) * scale) if need_target else None)


def _kl_div_log_target_vjp(up, inputs, out, saved):
    log_probs, log_target = inputs
    scale = _recorded_upstream(up, saved[2], log_probs.numel())
    probs = log_target.exp()
    return -probs * scale, probs * (log_target - log_probs + 1) * scale


KL_DIV_LOG_TARGET = register(Op(
    "kl_div_log_target", "L = (1/n) Σ e^t·(t − x)  (x, t = log-probabilities)",
    ("−{up}·e^{target}/n", "{up}·e^{target}·({target} − {input} + 1)/n"),
    _kl_div_log_target, _kl_div_log_target_back, kind="loss", roles=("input", "target"),
    settings=("reduction", "needs"),
    loss=LossForm("exp({target})·({target} − {input})", "−exp({target})",
                  lambda x, t: np.exp(t) * (t - x), lambda x, t: -np.exp(t)), saves=((1,), (0, 1)),
    vjp_tensors=_kl_div_log_target_vjp,
))


# --- convolution, pooling, embedding (sliding windows: glassgrad/sliding.py does the NumPy) ---------
# Rows for speed and for a readable trace: one node per layer, written entry by entry
# (``Z₁[n,c,i,j] = Σ W₁[c,k,u,v]·X[n,k,i+u,j+v] + b₁[c]``) instead of hundreds of slices.

_POSITION_LETTERS = (("i", "u"), ("j", "v"), ("l", "w"))
"""Per spatial dim: the output position's letter and the kernel offset's (a 1-d window uses the first)."""


def _letters(dims: int) -> tuple[str, str, str, str]:
    """A ``dims``-d window's letters joined by commas: output positions (``i,j``), kernel offsets (``u,v``),
    the placeholders of the input positions they read (``{i},{j}``) and an input entry's own (``y,x``;
    ``z,y,x`` in 3-d)."""
    letters = _POSITION_LETTERS[:dims]
    targets = ("y", "x")[:dims] if dims < 3 else ("z", "y", "x")
    return (",".join(letter for letter, _ in letters), ",".join(offset for _, offset in letters),
            ",".join("{" + letter + "}" for letter, _ in letters), ",".join(targets))


def _reads_text(dims: int, dilated: bool = True) -> str:
    """``s(i−1)+d(u−1)+1, s(j−1)+d(v−1)+1``: the input index each window entry reads, counting from 1."""
    return ", ".join(f"s({letter}−1)+{'d(' + offset + '−1)+1' if dilated else offset}"
                     for letter, offset in _POSITION_LETTERS[:dims])


def _scaled(factor: int, letter: str) -> str:
    return letter if factor == 1 else f"{factor}{letter}"


def _padding_note(padding: tuple, fill: str) -> str:
    """``",  the input padded by 1 on each side with zeros"`` (empty without padding)."""
    if not any(before or after for before, after in padding):
        return ""
    if len({side for pair in padding for side in pair}) == 1:
        return f",  the input padded by {padding[0][0]} on each side with {fill}"
    pairs = ", ".join(f"({before}, {after})" for before, after in padding)
    return f",  the input padded with {fill}, (before, after) per dim: {pairs}"


def _window_text(stride: tuple, padding: tuple, dilation: tuple, fill: str, groups: int = 1) -> dict[str, str]:
    """The placeholders of a strided window: ``{i}``, ``{k}``, ``{pad}``.

    Positions count from 1, as a learner reads them (:mod:`glassgrad.trace.counting`): output ``i``
    reads the input at ``s·(i−1) + d·(u−1) + 1 − p = s·i + d·u − (s + d − 1 + p)`` with ``p`` zeros
    of padding before it, written ``i+u−1`` (``2i+u−2`` with stride 2, ``i+2u−2`` with dilation 2,
    ``i+u−2`` with padding 1, where an index outside the input reads the padding).
    """
    text = {letter: f"{_scaled(s, letter)}+{_scaled(d, offset)}−{s + d - 1 + before}"
            for (letter, offset), s, d, (before, _) in zip(_POSITION_LETTERS, stride, dilation, padding)}
    text["k"] = "k" if groups == 1 else "g(c)+k"  # g(c): the input channels before output channel c's group
    text["pad"] = _padding_note(padding, fill)
    return text


def _strided_reads(stride: tuple, padding: tuple, dilation: tuple, kernel: tuple,
                   size: tuple, at: tuple) -> list[tuple[tuple, tuple | None]]:
    """Each kernel offset of the window at spatial position ``at`` with the input position it reads
    (``i·s + u·d − pad`` per dim; ``None`` in the padding)."""
    reads = []
    for offset in np.ndindex(*kernel):
        where = tuple(sliding.source(i, u, s, d, before) for i, u, s, d, (before, _)
                      in zip(at, offset, stride, dilation, padding))
        reads.append((offset, where if all(0 <= p < n for p, n in zip(where, size)) else None))
    return reads


def _conv(x, weight, stride, padding, dilation, groups, needs, bias=None):
    """float16: in float32, rounded once, as PyTorch's CPU kernel (NumPy's float16 product, then ``+ b`` rounded
    again: up to 200 ulps off where they cancel); the im2col matrix is saved in float32 for :func:`_conv_back`."""
    out, cols = sliding.convolve(widened(x), widened(weight), None if bias is None else widened(bias), stride,
                                 padding, dilation, groups)
    return narrowed(out, x), (cols, weight, x.shape, stride, padding, dilation, groups, needs)


def _conv_back(up, saved):
    """float16: each gradient in float32, rounded once, as PyTorch's (∂L/∂X added up in float16: 300 ulps off)."""
    cols, weight, shape, stride, padding, dilation, groups, needs = saved
    if up.dtype.char == "e":
        grads = sliding.convolve_back(widened(up), cols, widened(weight), shape, stride, padding, dilation, groups,
                                      needs)
        return tuple(None if grad is None else narrowed(grad, up) for grad in grads)
    return sliding.convolve_back(up, cols, weight, shape, stride, padding, dilation, groups, needs)


def _conv_reads(settings: tuple, input_shape: tuple, weight_shape: tuple, at: tuple) -> list:
    """Output entry ``at`` = (n, c, *position): pairs (weight entry, input entry or ``None`` in the padding)."""
    stride, padding, dilation, groups = settings[:4]
    n, channel, *position = at
    group_channels, per_group = weight_shape[1], weight_shape[0] // groups
    first = (channel // per_group) * group_channels
    return [((channel, k, *offset), None if where is None else (n, first + k, *where))
            for k in range(group_channels)
            for offset, where in _strided_reads(stride, padding, dilation, weight_shape[2:], input_shape[2:],
                                                tuple(position))]


def windows_tensor(x, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple):
    """Every window of ``x`` (…, *size) as a tensor (…, K, L): kernel offsets × output positions, the padding
    read as 0 (recorded: one ``index_select`` of the flattened planes, so second derivatives flow through it; a
    ``gather`` would copy the positions once per plane)."""
    lead, size = tuple(x.shape[:-len(kernel)]), tuple(x.shape[-len(kernel):])
    where, inside = sliding.window_positions(size, kernel, stride, dilation, padding)
    picked = x.reshape(*lead, math.prod(size)).index_select(-1, where.reshape(-1))
    if not inside.all():  # filled, not multiplied by 0: a ∞ or NaN the padding's place points at stays out
        picked = picked.masked_fill(~inside.reshape(-1), 0.0)
    return picked.reshape(*lead, *where.shape)


def windows_added_back(window_grads, size: tuple, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple):
    """:func:`windows_tensor`'s adjoint: each entry of ``window_grads`` (…, K, L) added to the input entry its
    window read, the padding's share dropped (recorded: one ``scatter_add``); the result is (…, *size)."""
    lead = tuple(window_grads.shape[:-2])
    where, inside = sliding.window_positions(size, kernel, stride, dilation, padding)
    if not inside.all():  # filled, not multiplied by 0: a ∞ or NaN read from the padding stays out
        window_grads = window_grads.masked_fill(~inside, 0.0)
    flat = window_grads.reshape(*lead, where.size)
    index = np.broadcast_to(where.reshape(-1), tuple(flat.shape))
    return flat.new_zeros(lead + (math.prod(size),)).scatter_add(-1, index, flat).reshape(*lead, *size)


def conv_input_gradient(up, weight, size: tuple, stride: tuple, padding: tuple, dilation: tuple, groups: int):
    """``∂L/∂X`` of a convolution on tensors (recorded): ``Wᵀ·∂L/∂Z`` per group, added back to the windows it
    came from, for an input of spatial ``size``. It is also the transposed convolution of ``up`` by ``weight``
    (:func:`glassgrad.nn.conv_transpose.conv_transpose2d`)."""
    out_channels, group_channels, *kernel = weight.shape
    kernel, positions = tuple(kernel), math.prod(up.shape[2:])
    flat_up = up.reshape(up.shape[0], groups, out_channels // groups, positions)  # (N, g, O/g, L)
    flat_w = weight.reshape(groups, out_channels // groups, -1).transpose(1, 2)  # (g, C/g·K, O/g)
    window_grads = (flat_w @ flat_up).reshape(up.shape[0], groups * group_channels, math.prod(kernel), positions)
    return windows_added_back(window_grads, tuple(size), kernel, stride, dilation, padding)


def _conv_vjp(up, inputs, out, saved):
    """:func:`_conv_back` on tensors (recorded): ``∂L/∂W = Σ_n ∂L/∂Z·colsᵀ`` per group, and ``Wᵀ·∂L/∂Z`` added
    back to the windows it came from for ``∂L/∂X``; each gradient is tied to the input and the weight
    (:data:`TIED`), as PyTorch's ``convolution_backward`` of both makes them: ∂L/∂X requires grad with a constant
    weight too, and differentiated again with respect to the input alone it gives ``None``, as PyTorch's."""
    x, weight, *bias = inputs
    shape, stride, padding, dilation, groups = saved[2:7]
    out_channels, group_channels, *kernel = weight.shape
    kernel, positions = tuple(kernel), math.prod(up.shape[2:])
    flat_up = up.reshape(shape[0], groups, out_channels // groups, positions)  # (N, g, O/g, L)
    grad_x = grad_w = None
    if x.requires_grad:
        grad_x = conv_input_gradient(up, weight, tuple(shape[2:]), stride, padding, dilation, groups)
    if weight.requires_grad:
        cols = windows_tensor(x, kernel, stride, dilation, padding)
        cols = cols.reshape(shape[0], groups, group_channels * math.prod(kernel), positions)
        grad_w = (flat_up @ cols.transpose(2, 3)).sum(dim=0).reshape(out_channels, group_channels, *kernel)
    grads = (grad_x, grad_w, *(up.sum(dim=(0, *range(2, up.ndim))) for _ in bias))
    return tuple(None if grad is None else grad._tied_to(x, weight) for grad in grads)


def _conv_row(name: str, dims: int) -> Op:
    """``conv1d``, ``conv2d`` or ``conv3d``: one row each, the same NumPy (im2col and one matrix product)."""
    positions, offsets, reads_at, targets = _letters(dims)
    return register(Op(
        name, f"Z[n,c,{positions}] = Σ_{{k,{offsets}}} W[c,k,{offsets}]·X̃[n,k,"
              f"{_reads_text(dims).replace(', ', ',')}] + b[c]  (X̃ the zero-padded input; "
              "with groups the k-th channel of c's group)",
        (f"Σ {{up}}[n,c,{positions}]·{{weight}}[c,k,{offsets}] over c, {offsets} and the ({positions}) with "
         + ", ".join(f"{{{letter}}} = {target}" for (letter, _), target in zip(_POSITION_LETTERS, targets.split(",")))
         + "{pad}",
         f"Σ_{{{{n,{positions}}}}} {{up}}[n,c,{positions}]·{{input}}[n,{{k}},{reads_at}]{{pad}}",
         f"Σ_{{{{n,{positions}}}}} {{up}}[n,c,{positions}]"),
        _conv, _conv_back, kind="convolution", roles=("input", "weight", "bias"),
        written=f"Σ_{{{{k,{offsets}}}}} {{weight}}[c,k,{offsets}]·{{input}}[n,{{k}},{reads_at}] + {{bias}}[c]{{pad}}",
        symbol=name, settings=("stride", "padding", "dilation", "groups", "needs"),
        defaults=((1,) * dims, ((0, 0),) * dims, (1,) * dims, 1, (True, True, True)),
        saves=((1,), (0,), ()), vjp_tensors=_conv_vjp,
        window=WindowForm(f"[n,c,{positions}]", (f"[n,{{k}},{targets}]", f"[c,k,{offsets}]", "[c]"),
                          lambda settings: _window_text(settings[0], settings[1], settings[2], "zeros", settings[3]),
                          _conv_reads),
    ))


CONV1D = _conv_row("conv1d", 1)
CONV2D = _conv_row("conv2d", 2)
CONV3D = _conv_row("conv3d", 3)


def _max_pool(a, kernel, stride, padding, dilation):
    out, where = sliding.max_windows(a, kernel, stride, dilation, padding)
    return out, (where, a.shape, kernel, stride, padding, dilation)


def _max_pool_back(up, saved):
    where, shape, kernel, stride, padding, dilation = saved
    return (sliding.max_windows_back(up, where, shape, kernel, stride, dilation, padding),)


def _max_pool_vjp(up, inputs, out, saved):
    """:func:`_max_pool_back` on tensors (recorded): each window's ``∂L/∂P`` to the entry it chose."""
    where, shape, kernel, stride, padding, dilation = saved
    offsets = np.arange(math.prod(kernel)).reshape(-1, 1)
    planes, positions = where.shape[:-len(kernel)], math.prod(where.shape[-len(kernel):])
    chosen = where.reshape(*planes, 1, positions) == offsets  # (…, K, L): the window's maximum
    window_grads = up.reshape(*planes, 1, positions) * up.new_tensor(chosen)
    back = windows_added_back(window_grads, tuple(shape[-len(kernel):]), kernel, stride, dilation, padding)
    return (with_zero_slope(inputs[0], back),)  # in the input's graph, as PyTorch's


def _pool_reads(kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, input_shape: tuple,
                at: tuple) -> list:
    """Output entry ``at`` = (n, c, i, j): pairs (kernel offset, input entry or ``None`` in the padding)."""
    n, channel, *position = at
    return [(offset, None if where is None else (n, channel, *where))
            for offset, where in _strided_reads(stride, padding, dilation, kernel, input_shape[2:], tuple(position))]


def _max_pool_row(name: str, dims: int) -> Op:
    """``max_pool2d`` or ``max_pool3d``: the same NumPy (each window's maximum and where it is)."""
    positions, offsets, reads_at, targets = _letters(dims)
    return register(Op(
        name, f"P[n,c,{positions}] = max_{{{offsets}}} X̃[n,c,{_reads_text(dims)}]  (X̃ padded with −∞)",
        (f"{{up}}[n,c,{positions}] to the entry that was its window's maximum (on a tie the first in row-major "
         "order; a NaN is the maximum), summed over the windows that chose it",),
        _max_pool, _max_pool_back, kind="pooling", roles=("input",),
        written=f"max_{{{{{offsets}}}}} {{input}}[n,c,{reads_at}]{{pad}}", symbol="maxpool",
        settings=("kernel_size", "stride", "padding", "dilation"),
        defaults=((2,) * dims, (2,) * dims, ((0, 0),) * dims, (1,) * dims),
        saves=((),),  # the positions of the maxima are kept; PyTorch saves them too (as indices)
        vjp_tensors=_max_pool_vjp,
        window=WindowForm(f"[n,c,{positions}]", (f"[n,c,{targets}]",),
                          lambda settings: _window_text(settings[1], settings[2], settings[3], "−∞"),
                          lambda settings, shape, _, at: _pool_reads(*settings[:4], shape, at), reduce="max"),
    ))


MAX_POOL2D = _max_pool_row("max_pool2d", 2)
MAX_POOL3D = _max_pool_row("max_pool3d", 3)


def _avg_pool(a, kernel, stride, padding, count_include_pad, divisor_override):
    out, counts = sliding.mean_windows(a, kernel, stride, padding, count_include_pad, divisor_override)
    return out, (counts, a.shape, kernel, stride, padding)


def _avg_pool_back(up, saved):
    counts, shape, kernel, stride, padding = saved
    return (sliding.mean_windows_back(up, counts, shape, kernel, stride, padding),)


def _avg_pool_vjp(up, inputs, out, saved):
    """:func:`_avg_pool_back` on tensors (recorded): ``∂L/∂P / count`` to every entry of the window, in the input's
    graph with slope 0, as PyTorch's ``avg_pool2d_backward`` keeps it (a second derivative through it alone is 0)."""
    counts, shape, kernel, stride, padding = saved
    shares = up / up.new_tensor(counts)
    lead, positions = tuple(shares.shape[:-len(kernel)]), math.prod(shares.shape[-len(kernel):])
    window_grads = shares.reshape(*lead, 1, positions).expand(*lead, math.prod(kernel), positions)
    back = windows_added_back(window_grads, tuple(shape[-len(kernel):]), kernel, stride, (1,) * len(kernel), padding)
    return (with_zero_slope(inputs[0], back),)


def _avg_pool_text(settings: tuple) -> dict[str, str]:
    kernel, stride, padding, count_include_pad, divisor = settings
    text = _window_text(stride, padding, (1,) * len(stride), "zeros")
    padded = any(before or after for before, after in padding)
    text["count"] = (str(divisor) if divisor is not None
                     else str(math.prod(kernel)) if count_include_pad or not padded
                     else "the number of its entries inside the input")
    return text


def _avg_pool_row(name: str, dims: int) -> Op:
    """``avg_pool2d`` or ``avg_pool3d``: the same NumPy (each window's sum over its count)."""
    positions, offsets, reads_at, targets = _letters(dims)
    return register(Op(
        name, f"P[n,c,{positions}] = (1/count) Σ_{{{offsets}}} X̃[n,c,{_reads_text(dims, dilated=False)}]  "
              "(count: the window's size)",
        (f"{{up}}[n,c,{positions}]/{{count}} to every entry of its window, summed over the windows that read it",),
        _avg_pool, _avg_pool_back, kind="pooling", roles=("input",),
        written=f"(1/{{count}}) Σ_{{{{{offsets}}}}} {{input}}[n,c,{reads_at}]{{pad}}", symbol="avgpool",
        settings=("kernel_size", "stride", "padding", "count_include_pad", "divisor_override"),
        defaults=((2,) * dims, (2,) * dims, ((0, 0),) * dims, True, None), saves=((),), vjp_tensors=_avg_pool_vjp,
        window=WindowForm(f"[n,c,{positions}]", (f"[n,c,{targets}]",), _avg_pool_text,
                          lambda settings, shape, _, at: _pool_reads(*settings[:3], (1,) * dims, shape, at),
                          reduce="mean"),
    ))


AVG_POOL2D = _avg_pool_row("avg_pool2d", 2)
AVG_POOL3D = _avg_pool_row("avg_pool3d", 3)


def _along(a, axis: int, matrix):
    """``a`` with dim ``axis`` multiplied by ``matrix``: ``Σ_h A[i, h]·a[…, h, …]`` (one BLAS product)."""
    return np.moveaxis(np.tensordot(matrix, a, axes=(1, axis)), 0, axis)


def _adaptive_avg_pool(a, output_size):
    """Each window's mean, one dim after the other: a product with the dim's averaging matrix when every entry is
    finite (BLAS: 5–10 times faster), else each window's own sum, so that a NaN or ∞ reaches only its windows'
    outputs (in a product, 0·NaN spreads it over the whole plane)."""
    dims = len(output_size)
    sizes, finite = a.shape[-dims:], np.isfinite(a).all()
    for axis, out in zip(range(a.ndim - dims, a.ndim), output_size):
        a = (_along(a, axis, sliding.adaptive_matrix(a.shape[axis], out, a.dtype)) if finite
             else sliding.adaptive_mean(a, axis, out))
    return row_major(a), sizes


def _adaptive_avg_pool_back(up, sizes):
    finite = np.isfinite(up).all()
    for axis, size in zip(range(up.ndim - len(sizes), up.ndim), sizes):
        up = (_along(up, axis, sliding.adaptive_matrix(size, up.shape[axis], up.dtype).T) if finite
              else sliding.adaptive_mean_back(up, axis, size))
    return (row_major(up),)


def _adaptive_avg_pool_vjp(up, inputs, out, sizes):
    """:func:`_adaptive_avg_pool_back` on tensors (recorded): each window's ``upstream / length`` added to the entries
    it read; with every upstream entry finite, one product with the dim's averaging matrix per dim, else one
    ``index_add`` per window (no 0·NaN). In the input's graph with slope 0, as PyTorch's keeps it."""
    finite = np.isfinite(up.array).all()
    for axis, size in zip(range(up.ndim - len(sizes), up.ndim), sizes):
        if finite:
            matrix = up.new_tensor(sliding.adaptive_matrix(size, up.shape[axis], up.dtype))
            up = (up.transpose(axis, -1) @ matrix).transpose(axis, -1)
            continue
        grad = up.new_zeros(up.shape[:axis] + (size,) + up.shape[axis + 1:])
        for number, (start, end) in enumerate(sliding.adaptive_ranges(size, up.shape[axis])):
            share = up.narrow(axis, number, 1) / (end - start)
            grad = grad.index_add(axis, np.arange(start, end), share.expand(grad.shape[:axis] + (end - start,)
                                                                            + grad.shape[axis + 1:]))
        up = grad
    return (with_zero_slope(inputs[0], up),)


def _adaptive_reads(settings: tuple, input_shape: tuple, weight_shape: tuple | None, at: tuple) -> list:
    dims = len(settings[0])
    lead, position = at[:-dims], at[-dims:]
    ranges = [sliding.adaptive_ranges(size, out)[k]
              for size, out, k in zip(input_shape[-dims:], settings[0], position)]
    return [(tuple(p - start for p, (start, _) in zip(where, ranges)), (*lead, *where))
            for where in itertools.product(*(range(start, end) for start, end in ranges))]


def _adaptive_avg_pool_row(name: str, dims: int) -> Op:
    """``adaptive_avg_pool2d`` or ``adaptive_avg_pool3d``: a mean over each window, one dim after the other."""
    positions = _letters(dims)[0]
    entries = ("t", "h", "w")[-dims:]  # an input entry: (h, w), or (t, h, w) in 3-d
    sizes = ("T", "H", "W")[-dims:]
    return register(Op(
        name,
        f"P[n,c,{positions}] = mean of X[n,c,{','.join(entries)}] over "
        + ", ".join(f"{entry} ∈ [⌊{letter}·{size}/{size}′⌋, ⌈({letter}+1)·{size}/{size}′⌉)"
                    for entry, (letter, _), size in zip(entries, _POSITION_LETTERS, sizes)),
        (f"{{up}}[n,c,{positions}]/(its window's size) to every entry of its window, summed over the windows "
         "that read it",),
        _adaptive_avg_pool, _adaptive_avg_pool_back, kind="pooling", roles=("input",),
        written=f"mean of {{input}}[n,c,{','.join(entries)}] over the window of ({', '.join(positions.split(','))})  "
                "(output size {output_size})",
        symbol="adaptive avgpool", settings=("output_size",), defaults=((1,) * dims,), saves=((),),
        vjp_tensors=_adaptive_avg_pool_vjp,
        window=WindowForm(f"[n,c,{positions}]", (f"[n,c,{','.join(entries)}]",), lambda settings: {},
                          _adaptive_reads, reduce="mean"),
    ))


ADAPTIVE_AVG_POOL2D = _adaptive_avg_pool_row("adaptive_avg_pool2d", 2)
ADAPTIVE_AVG_POOL3D = _adaptive_avg_pool_row("adaptive_avg_pool3d", 3)


def _embedding(indices, weight, padding_idx, scale_grad_by_freq):
    return weight[indices], (indices.copy(), weight.shape, padding_idx, scale_grad_by_freq)


def _embedding_back(up, saved):
    indices, shape, padding_idx, scale_grad_by_freq = saved
    flat = indices.reshape(-1)
    rows = up.reshape(len(flat), shape[1])
    if scale_grad_by_freq:  # each row's gradient divided by how often its index occurs in the batch
        rows = rows / np.bincount(flat, minlength=shape[0])[flat, None].astype(up.dtype)
    grad = np.zeros(shape, dtype=up.dtype)
    _add_at(grad, (flat[:, None], np.arange(shape[1])), rows)  # a repeated index adds up every position's gradient
    if padding_idx is not None:
        grad[padding_idx] = 0
    return None, grad


def _embedding_vjp(up, inputs, out, saved):
    """:func:`_embedding_back` on tensors (recorded): each position's row of ``∂L/∂E`` added to its index's row."""
    indices, shape, padding_idx, scale_grad_by_freq = saved
    flat = indices.reshape(-1)
    rows = up.reshape(len(flat), shape[1])
    if scale_grad_by_freq and not TANGENTS:  # forward mode's tangent is the lookup of W's: neither applies there
        rows = rows / up.new_tensor(np.bincount(flat, minlength=shape[0])[flat, None])
    if padding_idx is not None and not TANGENTS:
        rows = rows * up.new_tensor((flat != padding_idx)[:, None])
    index = np.broadcast_to(flat[:, None], (len(flat), shape[1]))
    return None, rows.new_zeros(shape).scatter_add(0, index, rows)


EMBEDDING = register(Op(
    "embedding", "E[…, :] = W[index[…], :]  (row index of the table W)",
    ("none: indices are not differentiable",
     "row r: Σ {up}[p, :] over the positions p whose index is r (0 for padding_idx)"),
    _embedding, _embedding_back, kind="lookup", roles=("input", "weight"), written="{weight}[{input}]",
    symbol="embedding", settings=("padding_idx", "scale_grad_by_freq"), defaults=(None, False), saves=((), ()),
    vjp_tensors=_embedding_vjp,
))
