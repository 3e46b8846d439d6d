"""One entry of one step, written out: the scalar equation behind a number the glass box shows.

A step ``out = rule(inputs)`` (a trace step, a practice step) computes every entry of ``out``
the same way. Clicking one entry in the playground, or blanking it on a practice sheet, asks
for that entry's equation with the engine's numbers plugged in, e.g. for one sample read as
a column::

    Z₁[1] = Σⱼ W₁[1,j]·X[j] + b₁[1] = 0.5·1 + (-0.3)·0 + 0.1 = 0.6        (weighted_sum, along a row)
    ∂L/∂X[2] = Σᵢ W₁[i,2]·∂L/∂Z₁[i] = …                                  (weighted_sum, along a column)
    ∂L/∂W₂[2,1] = ∂L/∂Z₂[2] · A₁[1] = 0.42 · 1.5 = 0.63                  (product: an outer product)
    ∂L/∂Z₁[3] = ∂L/∂A₁[3] · tanh'(Z₁)[3] = 0.3 · 0.91 = 0.273            (product: chain rule, entrywise)
    ∂L/∂b₁[3] = ∂L/∂Z₁[3] = 0.3                                          (copy)
    A₁[3] = tanh(Z₁[3]) = tanh(0.31) = 0.3                               (entrywise: the step's own formula)
    L = (1/n) Σ (ŷ − y)² = (1/4)·((0.1 − 1)² + … ) = 0.8963                (loss_items: the row's item template)
    ŷ[2] = softmax(Z₃)[2] = softmax([0.27, -0.22, 0.17])[2] = 0.24       (whole: every entry at once)
    Z₁[1,2,3,3] = W₁[2,1,1,1]·X[1,1,2,2] + … + b₁[2] = 0.2·0.5 + … = 0.41  (window: one window of a convolution)
    P₁[1,2,1,1] = max(A₁[1,2,1,1], A₁[1,2,1,2], …) = max(0.3, 0.7, …) = 0.7 (window: pooling)

Entries are named as the learner counts, from 1 (:mod:`.counting`); the engine's index of the same
entry (0-based, as NumPy) travels with each :class:`Term`.

The patterns are shapes of arithmetic (which entries of which operands meet, and how), not
ops: the formula text comes from the step (and so from the op's row), the numbers from the
tape, and the value explained is the engine's own number, never recomputed here. Each number
plugged in is also listed as a :class:`Term` (its symbol, index and full value), so a reader —
or a test — can check every one against the engine's tensors.

:func:`trace_entry` picks the pattern of a trace step (``tape.describe()``'s document) from
the kind of the op row the step names and the roles of its inputs; practice (:mod:`glassgrad.practice.step_rules`)
names its pattern per rule. Both write with a :class:`Writer` (how numbers and indices look).

>>> import numpy as np
>>> w = Writer(factor=lambda v: f"{v:g}", result=lambda v: f"{v:g}")
>>> entry = weighted_sum(Operand("Z", np.array([3.0])), (0,), Operand("W", np.array([[1.0, 2.0]])),
...                      Operand("X", np.array([1.0, 1.0])), w)
>>> entry.text(w)
'Z[1] = Σⱼ W[1,j]·X[j] = 1·1 + 2·1 = 3'
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..ops import RULES, Op
from . import counting
from .numbers import entry_writer, relation, written_number

BOOL_NOTE = "True counts as 1, False as 0"
"""Said beside an explanation whose arithmetic has a bool entry in it (``X[2]·True``), as PyTorch counts one."""
COUNTED_BOOL = re.compile(r"[·+−*/-] ?(True|False)\b|\b(True|False) ?[·+−*/-]")
"""A bool next to an operator: counted as a number (``0.5·True``; not ``where(True, 0.5, 3)``, which picks)."""
NOTE_SEPARATOR = ",  "
"""How a trace step appends a definition to its formula (``∂L/∂Z₃ = ŷ − onehot(y),  ŷ = softmax(Z₃)``)."""


@dataclass(frozen=True)
class Writer:
    """How an explanation writes numbers; entries are named by the one counting convention (:mod:`.counting`).

    ``factor`` writes a number inside a formula (negatives in parentheses), ``result`` the value.
    """

    factor: Callable[[float], str]
    result: Callable[[float], str]
    rounds: Callable[[float], bool] | None = None
    """Whether ``factor`` (or ``result``) writes a number rounded (a worksheet's numbers): an entry whose plugged
    numbers or whose value are rounded ends ``≈ value``, since the written arithmetic need not give the value shown
    (``(-0.3)·0.5 + 0.2·0 + 0.5·0.2 + (-0.2)`` is -0.25, shown at one place as -0.2)."""

    def entry(self, symbol: str, index: Sequence) -> str:
        """``W₁[1,3]`` for the engine's index ``(0, 2)``; a scalar has no index; a letter (``j``) stays as it is."""
        return counting.entry(symbol, index)

    def number(self, term: Term) -> str:
        """``term``'s number inside a formula: a bool or integer entry as the displays write it (``True``, ``3``:
        :func:`.numbers.entry_writer`), a float by :attr:`factor`."""
        if not term.text:
            return self.factor(term.value)
        return f"({term.text})" if term.text.startswith("-") else term.text  # negatives in parentheses, as factor


@dataclass(frozen=True)
class Operand:
    """A tensor of a step: its symbol and the engine's values (a vector for one sample is 1-D)."""

    symbol: str
    values: np.ndarray

    @property
    def shape(self) -> tuple:
        return np.shape(self.values)


@dataclass(frozen=True)
class Term:
    """One number plugged into an explanation: which entry of which tensor, and its full value."""

    label: str
    symbol: str
    index: tuple
    value: float
    text: str = ""
    """How a bool or integer entry is written, exactly (``True``, ``3``); ``""`` for a float, which the writer
    rounds."""


@dataclass
class Entry:
    """One entry explained: ``label = formula = plugged = value``; ``terms`` are the numbers in ``plugged``.

    ``summands``: where ``plugged`` is a sum of products of the terms, in order, how many terms each summand
    multiplies (``(2, 2, 1)``: ``a·b + c·d + e``; ``(3,)``: ``a·b·c``), so that it can be done exactly on the
    numbers as written; empty where it is a function of them (``tanh(0.31)``, a softmax).
    """

    label: str
    formula: str
    plugged: str
    value: float
    terms: list[Term] = field(default_factory=list)
    note: str = ""
    summands: tuple[int, ...] = ()

    def text(self, writer: Writer) -> str:
        """The entry in one line, ending ``= value`` or ``≈ value`` by :func:`.numbers.relation`: ``=`` where the
        plugged sum of products, done exactly on its numbers as the writer writes them, gives the value as written
        (or, for a function, where no number is written rounded). A writer that does not say which numbers it rounds
        (``rounds`` None), and an entry with no numbers plugged in, always write ``=``."""
        counted = BOOL_NOTE if COUNTED_BOOL.search(self.plugged) else ""
        note = "; ".join(filter(None, [self.note, counted]))
        parts = [self.label, self.formula + (f"  ({note})" if note else "")]
        if self.plugged:
            parts.append(self.plugged)
        result = writer.result(self.value)
        equals = "=" if writer.rounds is None or not self.plugged else relation(
            self.value, *(term.value for term in self.terms), rounds=writer.rounds,
            written=(self._written_sum(writer), result))
        return " = ".join(parts) + f" {equals} " + result

    def _written_sum(self, writer: Writer) -> Fraction | None:
        """The plugged sum of products done exactly on the numbers as ``writer`` writes them (None: not a sum of
        products, or a number written is not finite)."""
        if sum(self.summands) != len(self.terms) or not self.summands:
            return None
        numbers = [Fraction(term.value) if term.text else written_number(writer.number(term))
                   for term in self.terms]
        if None in numbers:
            return None
        total, start = Fraction(0), 0
        for count in self.summands:
            total += math.prod(numbers[start:start + count])
            start += count
        return total


def _term(writer: Writer, operand: Operand, index: tuple) -> Term:
    value = np.asarray(operand.values)[index]
    exact = np.asarray(value).dtype.kind in "biu"  # a mask's True, a class index: written as the displays write them
    return Term(writer.entry(operand.symbol, index), operand.symbol, tuple(index), float(value),
                entry_writer(np.asarray(value).dtype)(value) if exact else "")


def weighted_sum(out: Operand, index: tuple, matrix: Operand, vector: Operand, writer: Writer,
                 bias: Operand | None = None, along: str = "row") -> Entry:
    """``out[i] = Σⱼ M[i,j]·v[j] (+ c[i])`` (``along="row"``) or ``out[j] = Σᵢ M[i,j]·v[i]`` (``"column"``)."""
    (k,) = index
    if along == "row":
        pairs = [((k, j), (j,)) for j in range(matrix.shape[1])]
        formula = f"Σⱼ {writer.entry(matrix.symbol, (k, 'j'))}·{writer.entry(vector.symbol, ('j',))}"
    else:
        pairs = [((i, k), (i,)) for i in range(matrix.shape[0])]
        formula = f"Σᵢ {writer.entry(matrix.symbol, ('i', k))}·{writer.entry(vector.symbol, ('i',))}"
    terms = [t for m, v in pairs for t in (_term(writer, matrix, m), _term(writer, vector, v))]
    plugged = " + ".join(f"{writer.number(terms[n])}·{writer.number(terms[n + 1])}"
                         for n in range(0, len(terms), 2))
    if bias is not None:
        terms.append(_term(writer, bias, index))
        formula += f" + {writer.entry(bias.symbol, index)}"
        plugged += f" + {writer.number(terms[-1])}"
    summands = (2,) * len(pairs) + ((1,) if bias is not None else ())
    return Entry(writer.entry(out.symbol, index), formula, plugged, float(out.values[index]), terms, summands=summands)


def product(out: Operand, index: tuple, factors: Sequence[tuple[Operand, tuple]], writer: Writer,
            note: str = "") -> Entry:
    """``out[index] = u[…]·v[…]``: each factor with the index of its entry (an outer product, or the chain rule)."""
    terms = [_term(writer, operand, where) for operand, where in factors]
    return Entry(writer.entry(out.symbol, index), " · ".join(t.label for t in terms),
                 " · ".join(writer.number(t) for t in terms), float(out.values[index]), terms, note,
                 (len(terms),))


def copy(out: Operand, index: tuple, source: Operand, writer: Writer, note: str = "") -> Entry:
    """``out[i] = u[i]``: the entry passes through unchanged (a bias's gradient is its layer's ``∂L/∂Z``)."""
    term = _term(writer, source, index)
    return Entry(writer.entry(out.symbol, index), term.label, "", float(out.values[index]), [term], note)


def _symbol_pattern(symbol: str) -> re.Pattern:
    """``symbol`` as a whole tensor name: not inside ``∂L/∂Z₁``, ``Z₁₂`` or ``XY``."""
    return re.compile(rf"(?<![\w∂/]){re.escape(symbol)}(?![\w₀-₉'′(\[\u0300-\u036f])")  # nor v in v̂


def _letter_pattern(letter: str, written_from: bool = True) -> re.Pattern:
    """``letter`` in an optimizer's rule, squared too (``g²``), never inside ``max`` or ``∂L/∂m``; with
    ``written_from``, also where a letter is written from it: ``m`` in ``m̂``, ``v`` in ``v_max``."""
    after = r"[^\W_²³]|[₀-₉'′(\[]" if written_from else r"[^\W²³]|[₀-₉'′(\[\u0300-\u036f]"
    return re.compile(rf"(?<![\w∂/]){re.escape(letter)}(?!{after})")


def letter_apart(rule: str, symbol: str) -> dict[str, str]:
    """A new name for the letter of an optimizer's ``rule`` that a parameter named ``symbol`` would share.

    ``rule`` writes the parameter ``w`` (:meth:`~glassgrad.optim.Optimizer.formula_for`). For a bias named ``b``,
    SGD's momentum rule would read ``b ← μ·b + g; b ← b − η·b``, two b's no reader tells apart; its buffer is
    written with the letter's other case instead (``B``), or, where that is in the rule too, with a prime (``b′``).
    Returns ``{letter: new}`` (``{}``: no letter of the rule is ``symbol``); :func:`renamed` writes the rule, and
    each state letter, with it.

    >>> letter_apart("b ← μ·b + g\\nw ← w − η·b", "b"), letter_apart("m ← β₁·m + (1 − β₁)·g\\nw ← w − η·m̂", "W")
    ({'b': 'B'}, {})
    """
    if symbol == "w" or not _letter_pattern(symbol, written_from=False).search(rule):
        return {}
    other_case = [symbol.swapcase()] if symbol.isascii() and symbol.isalpha() else []
    primed = (symbol + "′" * count for count in itertools.count(1))
    return {symbol: next(new for new in itertools.chain(other_case, primed) if not _letter_pattern(new).search(rule))}


def renamed(text: str, renaming: dict[str, str]) -> str:
    """``text`` with each letter of ``renaming`` (:func:`letter_apart`) and the letters written from it renamed:
    ``M̂ ← M / (1 − β₁ᵗ)`` for ``m̂ ← m / (1 − β₁ᵗ)`` with ``{"m": "M"}``."""
    for letter, new in renaming.items():
        text = _letter_pattern(letter).sub(lambda match, new=new: new, text)
    return text


def _put(pattern: re.Pattern, replacement: str, text: str) -> str:
    """``text`` with every match of ``pattern`` replaced by ``replacement``, taken literally.

    A parenthesised number already inside parentheses loses its own: ``ReLU(-0.3)``, not ``ReLU((-0.3))``.
    """
    bare = replacement[1:-1] if replacement.startswith("(") and replacement.endswith(")") else replacement

    def put(match: re.Match) -> str:
        inside = text[match.start() - 1:match.start()] == "(" and text[match.end():match.end() + 1] == ")"
        return bare if inside else replacement

    return pattern.sub(put, text)


def entrywise(out: Operand, index: tuple, formula: str, operands: Sequence[Operand], writer: Writer,
              note: str = "") -> Entry:
    """``out[i] = f(u[i], v[i], …)`` with ``f`` written as the step writes it (``tanh(Z₁)``, ``2(ŷ − y)/4``).

    Every operand shaped like ``out`` is read at the same entry (a scalar, such as η, as it is); the
    step's formula is shown with each such symbol indexed, and again with the numbers in their place.
    """
    shown, plugged, terms = formula, formula, []
    for operand in sorted(operands, key=lambda o: -len(o.symbol)):  # longer names first: ŷ before y
        if operand.shape not in (out.shape, ()):
            continue
        pattern = _symbol_pattern(operand.symbol)
        if not pattern.search(shown):
            continue
        term = _term(writer, operand, index if operand.shape else ())
        terms.append(term)
        shown = _put(pattern, term.label, shown)
        plugged = _put(pattern, writer.number(term), plugged)
    terms.sort(key=lambda term: formula.find(term.symbol))  # in the order the formula reads them
    return Entry(writer.entry(out.symbol, index), shown, plugged if terms else "", float(out.values[index]),
                 terms, note)


def whole(out: Operand, index: tuple, formula: str, operands: Sequence[Operand], writer: Writer) -> Entry:
    """``out = f(U, V)`` where one entry reads every entry (a loss): each tensor is plugged in whole, a matrix
    row by row (``softmax([[0.5, -1], [2, 0]])``: the flat list read as one softmax of 4)."""
    plugged, terms = formula, []
    for operand in sorted(operands, key=lambda o: -len(o.symbol)):
        pattern = _symbol_pattern(operand.symbol)
        if not pattern.search(plugged) or not np.ndim(operand.values):
            continue
        entries = [_term(writer, operand, where) for where in np.ndindex(operand.shape)]
        terms += entries
        numbers = [writer.number(t) for t in entries]
        plugged = _put(pattern, _nested(numbers, operand.shape) if len(entries) > 1 else numbers[0], plugged)
    return Entry(writer.entry(out.symbol, index), formula, plugged if terms else "", float(out.values[index]), terms)


def _nested(numbers: list[str], shape: tuple) -> str:
    """Written numbers (in NumPy's order) as a tensor of ``shape`` is written, a row in brackets:
    ``[[0.5, -1], [2, 0]]`` for a 2×2, so that a row-wise softmax reads its rows."""
    if len(shape) <= 1:
        return "[" + ", ".join(numbers) + "]"
    size = len(numbers) // shape[0]
    return "[" + ", ".join(_nested(numbers[k * size:(k + 1) * size], shape[1:]) for k in range(shape[0])) + "]"


def _sum_of_products(out: Operand, index: tuple, pairs: Sequence[tuple[tuple[Operand, tuple], ...]],
                     writer: Writer, extra: tuple[Operand, tuple] | None = None, note: str = "") -> Entry:
    """``out[index] = Σ u[…]·v[…] (+ c[…])`` with every product written out (a window's sum)."""
    terms, labels, numbers, summands = [], [], [], []
    for factors in pairs:
        parts = [_term(writer, operand, where) for operand, where in factors]
        terms += parts
        summands.append(len(parts))
        labels.append("·".join(part.label for part in parts))
        numbers.append("·".join(writer.number(part) for part in parts))
    if extra is not None:
        terms.append(_term(writer, *extra))
        labels.append(terms[-1].label)
        numbers.append(writer.number(terms[-1]))
        summands.append(1)
    return Entry(writer.entry(out.symbol, index), " + ".join(labels) or "0", " + ".join(numbers),
                 float(out.values[index]), terms, note, tuple(summands))


def broadcast_index(shape: tuple[int, ...], out_shape: tuple[int, ...], index: tuple[int, ...]) -> tuple[int, ...]:
    """The entry of an input of ``shape`` that broadcasting pairs with the output entry ``index`` (axes aligned from
    the right, as NumPy broadcasts; along an axis of length 1 it is entry 0).

    >>> broadcast_index((3,), (2, 3), (1, 2)), broadcast_index((2, 1), (2, 2), (1, 1))
    ((2,), (1, 0))
    """
    offset = len(out_shape) - len(shape)
    return tuple(0 if n == 1 else index[offset + k] for k, n in enumerate(shape))


def broadcast_from(shape: tuple, index: tuple, broadcast: tuple) -> list[tuple]:
    """The entries of an array of shape ``broadcast`` that entry ``index`` of an array of ``shape`` was broadcast
    to: those :func:`broadcast_index` pairs with it.

    >>> broadcast_from((3,), (1,), (2, 3)), broadcast_from((2, 1), (1, 0), (2, 2))
    ([(0, 1), (1, 1)], [(1, 0), (1, 1)])
    """
    return [at for at in np.ndindex(*broadcast) if broadcast_index(shape, broadcast, at) == tuple(index)]


def _batch_affine(out: Operand, index: tuple, roles: dict[str, Operand], writer: Writer) -> Entry:
    """``Z[…,i] = Σⱼ W[i,j]·X[…,j] + b[i]``: one entry of an affine layer's output for a batch (a row per sample,
    or any leading dimensions ``…``: a batch of sequences)."""
    *lead, i = index
    weight, x, bias = roles["weight"], roles["input"], roles.get("bias")
    pairs = [((weight, (i, j)), (x, (*lead, j))) for j in range(weight.shape[1])]
    return _sum_of_products(out, index, pairs, writer, (bias, (i,)) if bias is not None else None)


def _batch_affine_gradient(out: Operand, index: tuple, role: str, upstream: Operand, other: Operand | None,
                           writer: Writer) -> Entry:
    """One entry of an affine layer's gradient for a batch, ``∂L/∂Z`` a row per sample (``…``: every leading
    index, a sample's or a sequence position's): ``∂L/∂W[i,j] = Σ_… ∂L/∂Z[…,i]·X[…,j]``, ``∂L/∂b[i] =
    Σ_… ∂L/∂Z[…,i]`` (the rows add up), ``∂L/∂X[…,j] = Σᵢ W[i,j]·∂L/∂Z[…,i]``."""
    *leading, outputs = upstream.shape
    rows = list(np.ndindex(*leading))
    if role == "bias":
        return _sum_of_products(out, index, [((upstream, (*row, index[0])),) for row in rows], writer)
    if role == "weight":
        i, j = index
        return _sum_of_products(out, index, [((upstream, (*row, i)), (other, (*row, j))) for row in rows], writer)
    *lead, j = index
    return _sum_of_products(out, index, [((other, (i, j)), (upstream, (*lead, i))) for i in range(outputs)], writer)


def _padding_note(skipped: int) -> str:
    return f"{skipped} product{'s' if skipped > 1 else ''} with the zero padding left out" if skipped else ""


def window_entry(step: dict, phase: str, index: tuple, row: Op, operands: dict[str, Operand],
                 upstream: Operand | None, out: Operand, writer: Writer) -> Entry | None:
    """One entry of a sliding-window step (convolution, pooling), each term read by the row's ``window.reads``.

    Forward: a convolution's entry is the sum of one window's products plus the bias; a pooling
    entry the window's maximum or mean. Backward (a convolution): ``∂L/∂W[c,k,u,v]`` sums
    ``∂L/∂Z[n,c,i,j]·X[…]`` over every position whose window used that weight, ``∂L/∂X`` sums
    ``W·∂L/∂Z`` over the windows that read that input, ``∂L/∂b[c]`` sums ``∂L/∂Z[n,c,…]``.
    ``None`` for a step this does not cover (a pooling step's backward).
    """
    settings = tuple(_as_tuple(step["settings"][name]) for name in row.settings)
    window = row.window
    x = operands.get("input")
    weight = operands.get("weight")
    shape = weight.shape if weight is not None else None
    if phase == "forward":
        reads = window.reads(settings, x.shape, shape, index)
        inside = [(kernel, where) for kernel, where in reads if where is not None]
        note = _padding_note(len(reads) - len(inside))
        if row.kind == "convolution":
            bias = operands.get("bias")
            return _sum_of_products(out, index, [((weight, kernel), (x, where)) for kernel, where in inside], writer,
                                    (bias, index[1:2]) if bias is not None else None, note)
        terms = [_term(writer, x, where) for _, where in inside]
        listed = ", ".join(term.label for term in terms)
        numbers = ", ".join(writer.number(term) for term in terms)
        if window.reduce == "max":
            return Entry(writer.entry(out.symbol, index), f"max({listed})", f"max({numbers})",
                         float(out.values[index]), terms, note.replace("zero padding", "−∞ padding"))
        count = row.setting_values(settings).get("count", "")
        count = int(count) if count.isdigit() else len(terms)
        return Entry(writer.entry(out.symbol, index), f"({' + '.join(t.label for t in terms)})/{count}",
                     f"({' + '.join(writer.number(t) for t in terms)})/{count}", float(out.values[index]),
                     terms, note)
    if row.kind != "convolution":
        return None
    positions = list(np.ndindex(*upstream.shape))
    if step["role"] == "bias":
        return _sum_of_products(out, index, [((upstream, at),) for at in positions if at[1] == index[0]], writer)
    if step["role"] == "weight":
        pairs = [((upstream, at), (x, where)) for at in positions if at[1] == index[0]
                 for kernel, where in window.reads(settings, x.shape, shape, at)
                 if kernel == tuple(index) and where is not None]
        return _sum_of_products(out, index, pairs, writer)
    pairs = [((weight, kernel), (upstream, at)) for at in positions if at[0] == index[0]
             for kernel, where in window.reads(settings, x.shape, shape, at) if where == tuple(index)]
    return _sum_of_products(out, index, pairs, writer)


def _as_tuple(value: object) -> object:
    """A setting read back from JSON (lists) as the row takes it (tuples)."""
    return tuple(_as_tuple(item) for item in value) if isinstance(value, list) else value


def loss_items(out: Operand, row: Op, operands: dict[str, Operand], reduction: str | None, writer: Writer,
               formula: str) -> Entry | None:
    """A loss of one item per entry, ``L = (1/n)·Σ item``, each item written by the row's own template.

    ``row.loss.item`` (``({input} − {target})²`` for MSE) is filled with each entry's numbers:
    ``(1/4)·((0.1 − 1)² + …)``. ``None`` when the row's items are not entries (a row per item,
    as cross-entropy's) or its template needs more than the operands given.
    """
    form = row.loss
    first = operands.get(row.roles[0])
    if form is None or form.count != "n" or first is None or reduction not in ("mean", "sum"):
        return None
    if any(operand.shape != first.shape for operand in operands.values()):
        return None
    items, terms = [], []
    for where in np.ndindex(*first.shape):
        entry = {role: _term(writer, operand, where) for role, operand in operands.items()}
        try:
            items.append(form.item.format(**{role: writer.number(term) for role, term in entry.items()}))
        except (KeyError, IndexError):
            return None
        terms += entry.values()
    scale = f"(1/{first.values.size})·" if reduction == "mean" else ""
    plugged = ("−" if form.negated else "") + f"{scale}(" + " + ".join(items) + ")"
    return Entry(writer.entry(out.symbol, ()), formula, plugged, float(out.values[()]), terms)


def given(out: Operand, index: tuple, source: str, writer: Writer) -> Entry:
    """A number nobody computed here (an input, a target, a weight as given): says where it came from."""
    return Entry(writer.entry(out.symbol, index), "", "", float(out.values[index]), [], source)


def update(out: Operand, index: tuple, old: float, lr: float, gradient: float, rule: str, writer: Writer,
           note: str = "", gradient_label: str | None = None, kept: dict | None = None) -> Entry:
    """One entry of an optimizer's update, by the rule it recorded (``W₁ ← W₁ − η·∂L/∂W₁``).

    The rule's last line (the parameter's own ``←``) is read entry by entry with the value before the
    step, the learning rate η and the gradient the optimizer used (``gradient_label``: how the rule names
    it, ``∂L/∂W₁`` unless given, e.g. a trace step's ``gradient_label``). A rule of several lines keeps a
    state (momentum's ``b``, Adam's ``m``, ``v``, ``m̂`` and ``v̂``): its earlier lines, with the gradient's
    number in, go to the note; where an earlier line already changed the parameter (AdamW's decay), its
    value before the step is not plugged into the last line.

    ``kept`` (a trace step's ``state``: ``{"b": {"key": "momentum_buffer", "before": …, "after": …}}``) holds
    the numbers of the state the optimizer keeps, its own, before and after the step: each letter's entry goes
    to the note, and its number after the step into the last line (``W ← W − η·b`` read with b's number),
    where the letter is not the parameter's own name. A state the optimizer does not keep (Adam's ``m̂``,
    ``v̂``: its step folds them into two constants) stays a letter, so no plugged arithmetic claims a number
    it does not have.
    """
    *state, last = [line for line in rule.splitlines() if line.strip()] or [rule]
    target, _, right = last.rpartition("←")
    right = right.strip()
    changed = any(line.partition("←")[0].strip() == target.strip() for line in state)
    operands = [Operand("η", np.asarray(lr)),
                Operand(gradient_label or f"∂L/∂{out.symbol}", np.full(out.shape, gradient))]
    defined = [entrywise(out, index, line, operands, writer) for line in state]
    if not changed:
        operands.insert(0, Operand(out.symbol, np.full(out.shape, old)))
    notes = [entry.plugged or line for entry, line in zip(defined, state)]
    for letter, numbers in (kept or {}).items():
        after, before = np.asarray(numbers["after"]), numbers["before"]
        was = "" if before is None else f", {writer.result(float(np.asarray(before)[index]))} before"
        notes.append(f"{letter} = {writer.result(float(after[index]))} after this step{was} "
                     f"(optimizer.state[{out.symbol}]['{numbers['key']}'])")
        if letter != out.symbol:
            operands.append(Operand(letter, after))
    return entrywise(out, index, right, operands, writer, "; ".join(filter(None, [note, *notes])))


# --- trace steps ------------------------------------------------------------------------------


def sample_values(values: object, whole: bool = False) -> np.ndarray:
    """A tensor's numbers as the lessons write them: a single row (one sample) read as a vector.

    ``whole=True`` keeps the shape (a parameter: a 1×n weight matrix is no sample).
    """
    array = np.asarray(values)
    return array[0] if not whole and array.ndim == 2 and array.shape[0] == 1 else array


def _operand(item: dict, parameters: frozenset[str]) -> Operand:
    return Operand(item["symbol"], sample_values(item["values"], item.get("of", item["symbol"]) in parameters))


def step_operands(step: dict, parameters: frozenset[str] = frozenset()) -> tuple[Operand, list[Operand]]:
    """A trace step's output and inputs as operands (one-sample rows as vectors, ``parameters`` kept whole)."""
    return _operand(step["output"], parameters), [_operand(item, parameters) for item in step["inputs"]]


def trace_entry(step: dict, phase: str, index: tuple, writer: Writer,
                parameters: frozenset[str] = frozenset()) -> Entry:
    """Entry ``index`` of one step of ``tape.describe()`` (``phase`` "forward" or "backward"), written out.

    The pattern follows the kind of the step's op row (``RULES[step["op"]].kind``) and the roles
    the step names: an affine layer's output is a weighted sum along a row of its ``weight``; the
    gradient of its ``input`` one along a column; of its ``weight`` an outer product; of its
    ``bias`` a copy (for a batch, a row per sample: sums over the samples, written out). An
    elementwise op's gradient is the upstream gradient times the local derivative the step
    carries, summed over the entries a broadcast input was repeated to (``∂L/∂b[2] =
    ∂L/∂Z[1,2]·∂Z/∂b[1,2] + ∂L/∂Z[2,2]·∂Z/∂b[2,2]`` for ``Z = X + b``, ``X`` 2×3). Any other step
    whose inputs are shaped like its output is read entry by entry through the step's formula,
    and the rest whole (a loss, a softmax).
    ``parameters``: the symbols of tensors that are no sample (kept whole, even when 1×n).
    """
    out, inputs = step_operands(step, parameters)
    formula, _, note = step["formula"].partition(NOTE_SEPARATOR)
    right = formula.split(" = ", 1)[-1]
    row = RULES.get(step.get("op") or "")
    kind = row.kind if row is not None else None
    if row is not None and row.window is not None:
        roles = {item.get("role"): operand for item, operand in zip(step["inputs"], inputs) if item.get("role")}
        upstream = _operand(step["upstream"], parameters) if "upstream" in step else None
        entry = window_entry(step, phase, index, row, roles, upstream, out, writer)
        if entry is not None:
            return entry
    if kind == "affine" and phase == "forward":
        roles = {item.get("role"): operand for item, operand in zip(step["inputs"], inputs)}
        if len(index) >= 2:
            return _batch_affine(out, index, roles, writer)
        return weighted_sum(out, index, roles["weight"], roles["input"], writer, roles.get("bias"))
    upstream = _operand(step["upstream"], parameters) if "upstream" in step else None
    if kind == "affine":
        other = next((operand for operand in inputs if operand.symbol != upstream.symbol), None)
        if len(upstream.shape) >= 2:
            return _batch_affine_gradient(out, index, step["role"], upstream, other, writer)
        if step["role"] == "bias":
            return copy(out, index, upstream, writer)
        if step["role"] == "weight":  # ∂L/∂W = ∂L/∂Z·Xᵀ: one entry is one product
            return product(out, index, [(upstream, index[:1]), (other, index[1:])], writer)
        return weighted_sum(out, index, other, upstream, writer, along="column")
    local = step.get("local")
    if local is not None and upstream is not None:  # ∂L/∂a = ∂L/∂out ⊙ ∂out/∂a, the local derivative as numbers
        slope = _operand(local, parameters)
        note = f"{local['symbol']} = {local['formula']}"
        if upstream.shape == out.shape:
            return product(out, index, [(upstream, index), (slope, index)], writer, note=note)
        # a broadcast input: its entry met every output entry it was broadcast to, and its gradient sums them
        return _sum_of_products(out, index, [((upstream, at), (slope, at)) for at in broadcast_from(out.shape, index,
                                                                                                 upstream.shape)],
                                writer, note=note)
    if all(operand.shape in (out.shape, ()) for operand in inputs) and out.shape:
        return entrywise(out, index, right, inputs, writer, note=note)
    if kind == "loss" and phase == "forward":
        roles = {item["role"]: operand for item, operand in zip(step["inputs"], inputs)
                 if item.get("role") in row.roles}
        itemised = loss_items(out, row, roles, step.get("reduction"), writer, right)
        if itemised is not None:
            return itemised
    return whole(out, index, right, inputs, writer)
