"""Grouping a pass's ops into lesson steps, and giving every tensor a symbol.

Grouping: the ops one module call made form one step (a ``Linear`` is one ``linear`` op, a
``BatchNorm1d`` several); an op made outside any module is a step of its own. A step's kind
comes from its row's kind (:mod:`glassgrad.ops`): ``linear`` (an ``affine`` row), ``layer`` (a
``convolution`` row: a layer with a weight that its row writes entry by entry), ``activation``,
``loss``, ``custom`` (a user's ``gg.autograd.Function``); ``module`` (several ops), ``op`` (any other single op).

Symbols: the k-th linear or convolution layer has ``Wₖ``, ``bₖ`` and output ``Zₖ``, its
activation ``Aₖ``; a pooling step's output is ``Pₖ``, a lookup's (embedding) ``Eₖ``; the k-th
normalization layer has scale ``γₖ``, shift ``βₖ`` and output ``Nₖ``; the
prediction a loss compares with the target (its input of role ``input``, as MSE's) is ``ŷ``,
the target ``y``, the loss ``L``; the first data input is ``X``; a scalar constant is written
as its value.
A name given with ``tape.name`` replaces the symbol.

>>> subscript(12)
'₁₂'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import counting
from .records import ForwardRecord

if TYPE_CHECKING:
    from .tape import Tape

STEP_KINDS = {"affine": "linear", "activation": "activation", "loss": "loss", "custom": "custom",
              "convolution": "layer"}
"""The step kind of a one-op step, by its row's kind (any other row: ``op``)."""
WEIGHTED_STEPS = ("linear", "layer")
"""Step kinds that are numbered layers with a weight ``Wₖ``, a bias ``bₖ`` and an output ``Zₖ``."""
MODULE_LETTERS = {"BatchNorm1d": "N", "BatchNorm2d": "N", "BatchNorm3d": "N", "LayerNorm": "N", "Residual": "R",
                  "Dropout": "D", "Dropout2d": "D", "Flatten": "F"}
ROW_LETTERS = {"pooling": "P", "lookup": "E", "normalization": "N"}
"""The output letter of a one-op step by its row's kind (any other: ``v``)."""
NORM_PARAMETERS = {"weight": "γ", "bias": "β"}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(number: int) -> str:
    """``12`` → ``₁₂`` (as in ``W₁₂``)."""
    return str(number).translate(_SUBSCRIPTS)


@dataclass
class Group:
    """One step of the lesson: the ops of one layer (or one op), its outside inputs and its output.

    ``title`` says where the step comes from (``"Linear (model[0] in code)"``, or the op's name); ``name`` what it
    computes (the module's class, ``"BatchNorm1d"``, or the op's name).
    """

    kind: str
    title: str
    name: str
    records: list[ForwardRecord]
    inputs: list[int]
    output: int


def written(record: ForwardRecord, names: list[str]) -> str:
    """How the op of ``record`` applies to ``names`` (one per input), as its row writes it: ``ReLU(Z₁)``.

    A trailing input left out (a layer without a bias) takes its ``+ {bias}`` term with it
    (``Σ W₁[c,k,u,v]·X[…]``); an op called with other inputs than its roles (``cat`` of three
    tensors) is written ``name(a, b, …)``; a row of any number of inputs lists them where its template says
    ``{inputs}`` (``einsum('ij,jk->ik', X, W₁)``).
    """
    op = record.op
    template = op.written
    if "{inputs}" in template:
        return template.format(inputs=", ".join(names), **op.setting_values(record.settings))
    for role in op.roles[len(names):]:
        template = re.sub(r" \+ \{" + role + r"\}(\[[^\]]*\])?", "", template)
    try:
        if len(names) > len(op.roles):
            raise KeyError(op.name)
        return template.format(**dict(zip(op.roles, names)), **op.setting_values(record.settings))
    except KeyError:
        return f"{op.name}({', '.join(names)})"


def op_formula(record: ForwardRecord, symbols: dict[int, str]) -> str:
    """``out = a·b``-style text of one op with the tensors' symbols (a window op's output with its
    indices: ``Z₁[n,c,i,j] = Σ …``)."""
    indices = record.op.window.output if record.op.window is not None else ""
    return f"{symbols[record.output]}{indices} = {written(record, [symbols[key] for key in record.inputs])}"


def _op_kind(record: ForwardRecord) -> str:
    return STEP_KINDS.get(record.op.kind, "op")


def group_records(tape: Tape, forward: list[ForwardRecord]) -> list[Group]:
    """The forward records of one pass grouped into lesson steps, in the order they ran."""
    by_call: dict[int, list[ForwardRecord]] = {}
    groups = []
    for record in forward:
        if record.module is None:
            groups.append(Group(_op_kind(record), record.op.name, record.op.name, [record], [], record.output))
        else:
            by_call.setdefault(record.module, []).append(record)
    called_with = {}  # a module's step: the tensors it was called with, which its formula names first
    for call_index, records in by_call.items():
        call = tape.modules[call_index]
        # "Linear (model[2] in code)": the module as its model indexes it, marked as the code's index so that it is
        # never read as a step number or a layer number (those count from 1)
        title = call.kind if call.name == call.kind else counting.code_name(call.kind, call.name)
        kind = _op_kind(records[0]) if len(records) == 1 else "module"
        groups.append(Group(kind, title, call.kind, records, [], records[-1].output))
        called_with[id(groups[-1])] = call.inputs
    for group in groups:
        produced = {record.output for record in group.records}
        for record in group.records:
            group.inputs += [key for key in record.inputs if key not in produced and key not in group.inputs]
        first = [key for key in called_with.get(id(group), ()) if key in group.inputs]  # R(Z₁), not R(Z₂) of a
        group.inputs = first + [key for key in group.inputs if key not in first]      # submodule's output
    groups.sort(key=lambda group: group.records[-1].index)
    return groups


class Symbols:
    """The symbol of each tensor (``W₁``, ``Z₁``, ``ŷ``) and its name (``0.weight``)."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.of: dict[int, str] = {}
        self.used: set[str] = set()
        self.constants = 0
        self.temporaries = 0

    def give(self, key: int, symbol: str, shared: bool = False) -> str:
        """Give ``key`` this symbol unless it has one (a ``tape.name`` label wins); returns its symbol.

        Symbols are unique (a second ``y`` becomes ``y′``) unless ``shared``: constants written by
        their value keep it (two ``1e-05`` stay ``1e-05``, not ``1e-05′``, which would read as a derivative).
        """
        if key not in self.of:
            symbol = self.tape.labels.get(key, symbol)
            while symbol in self.used and not (shared and key not in self.tape.labels):
                symbol += "′"
            self.of[key] = symbol
            self.used.add(symbol)
        return self.of[key]

    def give_input(self, key: int) -> str:
        """A tensor from outside the steps: a module's parameter (by its name), the first multi-element
        input ``X``, any other tensor that requires grad ``θ``, a number (by its value) or a constant ``cₖ``."""
        if key in self.of:
            return self.of[key]
        tensor = self.tape.tensor(key)
        if key in self.tape.parameter_names:
            return self.give(key, self.tape.parameter_names[key])
        if tensor.array.size > 1 and "X" not in self.used:
            return self.give(key, "X")
        if tensor.requires_grad:
            return self.give(key, "θ")
        if tensor.array.size == 1 and tensor.array.dtype.kind == "f":
            return self.give(key, f"{tensor.array.item():g}", shared=True)
        self.constants += 1
        return self.give(key, f"c{subscript(self.constants)}")

    def temporary(self, key: int) -> str:
        """An op-level symbol for a tensor inside a layer: ``t₁``, ``t₂``…"""
        if key not in self.of:
            self.temporaries += 1
            self.give(key, f"t{subscript(self.temporaries)}")
        return self.of[key]

    def name(self, key: int) -> str:
        return self.tape.labels.get(key) or self.tape.parameter_names.get(key) or self.of[key]


def assign_symbols(tape: Tape, groups: list[Group]) -> Symbols:
    """Symbols by role, in the order the steps ran (see the module docstring)."""
    symbols = Symbols(tape)
    predictions = {g.records[0].inputs[0] for g in groups if g.kind == "loss" and g.records[0].op.roles[0] == "input"}
    for group in groups:  # the targets first, so that a target sliced in the trace is still y
        if group.kind == "loss":
            symbols.give(group.records[0].inputs[1], "y")
    layer, counters = 0, {}
    for group in groups:
        record = group.records[-1]
        if group.kind in WEIGHTED_STEPS:
            layer += 1
            x, weight, *bias = record.inputs
            symbols.give(weight, f"W{subscript(layer)}")
            if bias:
                symbols.give(bias[0], f"b{subscript(layer)}")
            symbols.give_input(x)
            symbols.give(record.output, "ŷ" if record.output in predictions else f"Z{subscript(layer)}")
        elif group.kind == "activation":
            symbols.give_input(record.inputs[0])
            fallback = f"A{subscript(layer)}" if layer else "A"
            symbols.give(record.output, "ŷ" if record.output in predictions else fallback)
        elif group.kind == "loss":
            symbols.give_input(record.inputs[0])
            symbols.give(record.inputs[1], "y")
            symbols.give(record.output, "L")
        else:
            letter = (MODULE_LETTERS.get(group.name, "H") if len(group.records) > 1
                      else ROW_LETTERS.get(record.op.kind, "v"))
            counters[letter] = counters.get(letter, 0) + 1
            number = subscript(counters[letter])
            for key in group.inputs:
                if letter == "N":  # a normalization layer's scale and shift: γ and β, as in the papers
                    kind = tape.parameter_names.get(key, "").rpartition(".")[2]
                    if kind in NORM_PARAMETERS:
                        symbols.give(key, f"{NORM_PARAMETERS[kind]}{number}")
                symbols.give_input(key)
            symbols.give(group.output, f"{letter}{number}")
    for group in groups:
        for record in group.records:
            for key in (*record.inputs, record.output):
                if key not in symbols.of:
                    symbols.temporary(key)
    for record in tape.backward:  # a backward that reaches ops made before the trace began: their tensors too
        for key in (record.node, *record.inputs):
            if key not in symbols.of:
                (symbols.give_input if tape.tensor(key).is_leaf else symbols.temporary)(key)
    return symbols
