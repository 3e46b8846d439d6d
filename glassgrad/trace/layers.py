"""From a tape's records to the lesson's steps: ops grouped by layer, tensors given symbols.

A 4→3→4 ReLU network with an MSE loss reads, forward then backward::

    Z₁ = W₁·X + b₁     A₁ = ReLU(Z₁)     ŷ = W₂·A₁ + b₂     L = (1/n) Σ (ŷ − y)²
    ∂L/∂ŷ = 2(ŷ − y)/n     ∂L/∂W₂ = ∂L/∂ŷ·A₁ᵀ     ∂L/∂b₂ = ∂L/∂ŷ     ∂L/∂A₁ = W₂ᵀ·∂L/∂ŷ
    ∂L/∂Z₁ = ∂L/∂A₁ ⊙ ReLU'(Z₁)     ∂L/∂W₁ = ∂L/∂Z₁·Xᵀ     ∂L/∂b₁ = ∂L/∂Z₁

Steps and symbols come from :mod:`.grouping` (one step per layer; ``W₁``, ``Z₁``, ``ŷ``…).
A linear layer is shown in both readings: ``Z = W·X + b`` (X one sample as a column; the
lessons' form) and ``Z = X·Wᵀ + b`` (a batch of rows; what the engine computes).

:func:`describe` returns a plain document (dicts, lists, NumPy arrays) that every renderer,
the practice generator and the playground read; :mod:`.render_json` writes it in full precision.
Every formula in it is written from the op's row (:mod:`glassgrad.ops`), read by key; nothing
here switches on an op's name.

The step document (``"version": 2``). Top level: ``format`` (``"glassgrad-trace"``),
``version``, ``title``, ``precision``, ``pass``, ``passes``, ``parameters`` / ``symbols`` /
``gradients`` (by parameter name), ``loss`` (``{name, symbol, value, reduction}``: ``value`` one number, or each
item's with ``reduction="none"``), ``forward`` and ``backward`` (lists of steps), ``updates`` (each ``{parameter,
symbol, optimizer, rule, lr, old, gradient, gradient_label, new}``, a ``state`` ``{letter: {key, before, after}}``
where the rule keeps one, and a ``note`` where the ``.grad`` it read is not this pass's ∂L/∂W: ``gradient_label`` is
then ``W₁.grad``; a letter of the rule that is the parameter's own name is written apart, in the rule and the
state alike: ``B ← μ·B + ∂L/∂b; b ← b − η·B`` for a bias ``b`` with momentum), ``ops`` (the op-by-op record) and
``notes``.

An *entry* (a tensor shown with a step) is ``{"symbol", "shape", "values"}`` plus, when known,
``"name"`` (the parameter's name), ``"role"`` (the row's role of that input: ``a``/``b``,
``input``/``weight``/``bias``, ``logits``/``probabilities``/``target``, or ``derived`` for a
quantity a loss computes on the way) and ``"formula"`` (``"ŷ = softmax(Z₃)"``, for derived ones).

A *forward step*: ``layer`` (where it comes from), ``kind`` (``linear``, ``activation``, ``loss``,
``layer``, ``custom``, ``op`` or ``module``), ``op`` (the row key, ``RULES[step["op"]]``; ``None`` for a module of
several ops, which lists them as ``ops``), ``formula``, ``inputs`` (entries, with roles),
``output`` (an entry), and as they apply: ``settings`` (the row's named settings, e.g.
``{"slope": 0.01}``), ``readings`` (``{"column", "rows"}`` forms of a linear layer), ``note``,
``rule`` (the row's forward text), ``reduction`` and ``count`` (a loss: the ``n`` or ``N``
its formula divides by).

A *backward step* (one contribution ``∂L/∂input``): ``layer``, ``kind``, ``op`` (row key),
``position`` and ``role`` (which input of the op it differentiates), ``formula``, ``inputs``
(the entries the formula uses), ``upstream`` (``∂L/∂out``: ``{"symbol", "shape", "values"}``),
``local`` (elementwise ops: ``{"symbol", "formula", "shape", "values"}``, ``∂out/∂input``, so
that ``output = upstream ⊙ local``), ``output`` (the contribution: ``{"symbol", "of", "shape",
"values"}``), ``into`` (``W₁.grad`` or ``∂L/∂Z₁``), ``accumulated`` and ``earlier_grad`` (the
contribution is added to an earlier one), and as they apply ``readings``, ``rule`` (the row's
derivative text) and ``count`` (a loss). The backward step of one call with several outputs (a custom Function
returning a tuple) lists each output's ∂L/∂out it was given among its ``inputs``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ops import LossForm
from . import counting, local
from .explain import letter_apart, renamed
from .grouping import Group, assign_symbols, group_records, op_formula
from .numbers import PRECISION_NOTE
from .records import BackwardRecord, ForwardRecord, UpdateRecord

if TYPE_CHECKING:
    from .tape import Tape


def _local_rule(record: ForwardRecord, position: int, symbols: dict[int, str], upstream: str = "∂L/∂out") -> str:
    """The row's derivative text for input ``position``, in the step's symbols (``∂out/∂b = a`` of
    ``mul`` becomes ``0.5`` when ``a`` is the constant 0.5; ``{up}`` becomes ``upstream``)."""
    names = {role: _grouped(symbols[key]) for role, key in zip(record.op.roles, record.inputs)}
    names |= {"out": _grouped(symbols[record.output]), "up": upstream}
    return record.op.derivative_text(position, names, record.settings)


def _window_settings(record: ForwardRecord) -> dict[str, Any]:
    """A window op's settings by name (stride, padding …), as its row's ``window.reads`` takes them."""
    return dict(zip(record.op.settings, record.settings))


def _gradient_indices(record: ForwardRecord, position: int) -> str:
    """``[c,k,u,v]``: the indices a window op's row writes on input ``position``'s gradient (else nothing)."""
    window = record.op.window
    if window is None:
        return ""
    return window.gradients[position].format(**record.op.setting_values(record.settings))


def _top_level_sum(text: str) -> bool:
    """Does ``text`` add or subtract outside parentheses (``ŷ − y``, not ``2(ŷ − y)``)?"""
    depth = 0
    for position, character in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(character, 0)
        if depth == 0 and character in "+−" and 0 < position < len(text) - 1 and text[position - 1] == " ":
            return True
    return False


def _add_to(totals: dict[int, np.ndarray], key: int, value: np.ndarray) -> None:
    """``totals[key] += value``, the way the engine adds contributions that meet at one tensor."""
    totals[key] = totals[key] + value if key in totals else value


def _grouped(symbol: str) -> str:
    return f"({symbol})" if any(sign in symbol for sign in "·+−/ @") else symbol


def describe(tape: Tape, pass_index: int = 0, title: str = "trace", gradient_of: str | None = None) -> dict:
    """The document of one pass: parameters, gradients, loss, forward and backward steps, updates, ops.

    Gradients are written ``∂R/∂…`` with ``R`` the symbol of the tensor backward started from (``L``);
    ``gradient_of`` names it instead when backward started from a tensor with a given gradient
    (``z.backward(g)``: the gradients are those of a loss ``L`` whose ``∂L/∂z`` is ``g``).
    """
    return _Description(tape, pass_index, gradient_of).document(title)


class _Description:
    """Builds :func:`describe`'s document from one pass of a tape."""

    def __init__(self, tape: Tape, pass_index: int, gradient_of: str | None = None) -> None:
        self.tape = tape
        self.pass_index = pass_index
        self.forward, self.backward = tape.pass_records(pass_index)
        self.groups = group_records(tape, self.forward)
        self.symbols = assign_symbols(tape, self.groups)
        self.values: dict[int, np.ndarray] = {}
        for record in self.forward:
            for key, value in zip(record.inputs, record.input_values):
                self.values.setdefault(key, value)
            self.values.setdefault(record.output, record.output_value)
        self.root = gradient_of or (self.symbols.of.get(self.backward[0].node, "L") if self.backward else "L")
        self.notes = [PRECISION_NOTE, counting.CONVENTION]
        made_here = {record.output for record in self.forward}
        earlier = sum(record.node not in made_here for record in self.backward)
        if earlier:
            self.notes.append(f"backward() also walked {earlier} step(s) made before the trace began, not shown "
                              "here: start gg.trace() before the forward pass to see every step")
        self._pass_gradients = self.gradients()  # this pass's ∂L/∂W, to tell whether an update read it as it is

    # --- pieces -------------------------------------------------------------------------------

    def d(self, symbol: str) -> str:
        """``∂L/∂symbol`` (with the symbol of what backward started from); ``∂L/∂(w₁·x)`` for a compound."""
        return f"∂{self.root}/∂{_grouped(symbol)}"

    def entry(self, key: int, values: Any = None, role: str | None = None) -> dict:
        symbol = self.symbols.of[key]
        values = self.values[key] if values is None else values
        item = {"symbol": symbol, "shape": list(np.shape(values)), "values": np.asarray(values)}
        name = self.symbols.name(key)
        if name != symbol:
            item["name"] = name
        if role is not None:
            item["role"] = role
        return item

    def input_entries(self, record: ForwardRecord, order: tuple[int, ...] | None = None) -> list[dict]:
        """The op's inputs as entries with their roles (in the row's order, or positions ``order``)."""
        positions = range(len(record.inputs)) if order is None else order
        shown = [{"symbol": symbol, "shape": list(values.shape), "values": values, "role": symbol}
                 for symbol, values in record.shown]  # where's condition: read, not differentiated
        return shown + [self.entry(record.inputs[p], record.input_values[p], self.role(record, p)) for p in positions]

    @staticmethod
    def role(record: ForwardRecord | BackwardRecord, position: int) -> str:
        roles = record.op.roles
        return roles[position] if position < len(roles) else roles[-1]

    def gradient_entry(self, key: int, values: np.ndarray) -> dict:
        symbol = self.symbols.of[key]
        return {"symbol": self.d(symbol), "of": symbol, "shape": list(values.shape), "values": values}

    def one_sample(self, key: int) -> bool:
        """True when the tensor is one sample (a vector or a single row): a linear layer reads it as a column. A
        batch of one sequence, (1, T, F), is T rows of a linear layer, no column."""
        shape = self.values[key].shape
        return len(shape) < 2 or (len(shape) == 2 and shape[0] == 1)

    def is_leaf(self, key: int) -> bool:
        return self.tape.tensor(key).is_leaf

    def parameters(self) -> list[int]:
        """Leaves that require grad and feed this pass, in order of first use."""
        found: list[int] = []
        for record in self.forward:
            for key in record.inputs:
                tensor = self.tape.tensor(key)
                if tensor.requires_grad and tensor.is_leaf and key not in found:
                    found.append(key)
        return found

    def gradients(self) -> dict[int, np.ndarray]:
        """Each tensor's gradient in this pass: contributions summed, as the engine accumulates them."""
        totals: dict[int, np.ndarray] = {}
        for record in self.backward:
            for key, contribution in zip(record.inputs, record.contributions):
                if contribution is not None:
                    _add_to(totals, key, contribution)
        return totals

    # --- forward steps ------------------------------------------------------------------------

    def forward_step(self, group: Group) -> dict:
        record = group.records[-1]
        s = self.symbols.of
        single = len(group.records) == 1
        step: dict[str, Any] = {"layer": group.title, "kind": group.kind, "op": record.op.name if single else None}
        if single and record.settings and record.op.settings:
            step["settings"] = {name: value for name, value in zip(record.op.settings, record.settings)
                                if isinstance(value, (int, float, str)) and not isinstance(value, bool)}
        if single and record.op.window is not None:  # a window's geometry: what one entry reads
            step["settings"] = _window_settings(record)
        if group.kind == "linear":
            x, weight, *bias = record.inputs
            plus = f" + {s[bias[0]]}" if bias else ""
            column = f"{s[record.output]} = {s[weight]}·{s[x]}{plus}"
            rows = f"{s[record.output]} = {s[x]}·{s[weight]}ᵀ{plus}"
            one_sample = self.one_sample(x)
            step.update(formula=column if one_sample else rows, readings={"column": column, "rows": rows},
                        inputs=self.input_entries(record, (1, 0, *range(2, len(record.inputs)))))
            if one_sample:
                step["note"] = (f"{s[x]} is one sample: read as a column, {column}; "
                                f"the engine computes the row form {rows}")
        elif group.kind == "activation":
            step.update(formula=op_formula(record, s), inputs=self.input_entries(record))
        elif group.kind == "layer":
            step.update(formula=op_formula(record, s), inputs=self.input_entries(record), rule=record.op.formula)
        elif group.kind == "loss":
            step.update(self.loss_forward(record))
        else:
            inside = [op_formula(r, s) for r in group.records]
            formula = inside[0] if single else f"{s[group.output]} = {group.name}({s[group.inputs[0]]})"
            inputs = self.input_entries(record) if single else [self.entry(k) for k in group.inputs]
            step.update(formula=formula, inputs=inputs, rule=group.records[0].op.formula)
            if not single:
                step["ops"] = inside
            elif group.kind == "custom":  # a user's Function: its formula is all that says what it computes
                step["note"] = f"{record.op.name}: {record.op.formula}"
        step["output"] = self.entry(group.output)
        return step

    @staticmethod
    def loss_form(record: ForwardRecord) -> LossForm:
        """The loss row's written form for this call (cross-entropy has one for probability targets)."""
        return record.op.loss.for_target(record.input_values[record.op.roles.index("target")])

    def loss_names(self, record: ForwardRecord) -> dict[str, str]:
        """The loss row's roles and derived quantities, written with this step's symbols."""
        names = {role: self.symbols.of[key] for role, key in zip(record.op.roles, record.inputs)}
        return names | {derived.symbol: derived.symbol.format(**names) for derived in self.loss_form(record).derived}

    def loss_entries(self, record: ForwardRecord, symbols: tuple[str, ...]) -> list[dict]:
        """Entries for a loss's written symbols: its inputs (``{target}``) or what it computes (``ŷ = softmax(Z₃)``)."""
        names, form = self.loss_names(record), self.loss_form(record)
        derived = {d.symbol: d for d in form.derived}
        entries = []
        for symbol in symbols:
            if symbol not in derived:  # "{target}": an input, by its role
                position = record.op.roles.index(symbol.strip("{}"))
                entries.append(self.entry(record.inputs[position], record.input_values[position], symbol.strip("{}")))
                continue
            values = derived[symbol].value(*record.input_values)
            entry = {"symbol": names[symbol], "role": "derived", "shape": list(values.shape), "values": values}
            if derived[symbol].formula:
                entry["formula"] = f"{names[symbol]} = {derived[symbol].formula.format(**names)}"
            entries.append(entry)
        return entries

    def loss_forward(self, record: ForwardRecord) -> dict:
        """``L = −(1/n) Σ [y·log p + …]   (n = 4)``: the loss row's written item, summed as its reduction says."""
        form, reduction = self.loss_form(record), record.reduction
        count = form.items(record.input_values[0])
        scale = {"mean": f"(1/{form.count}) {form.total} ", "sum": f"{form.total} "}.get(reduction, "")
        size = f"   ({form.count} = {count})" if reduction == "mean" else ""
        item = counting.class_entries(form.item.format(**self.loss_names(record)))
        formula = f"{self.symbols.of[record.output]} = {'−' if form.negated else ''}{scale}{item}{size}"
        computed = [entry for entry in self.loss_entries(record, tuple(d.symbol for d in form.derived))
                    if "formula" in entry]
        return {"formula": formula, "inputs": self.input_entries(record) + computed, "reduction": reduction,
                "count": count}

    # --- backward steps -----------------------------------------------------------------------

    def backward_steps(self, group: Group, records: list[BackwardRecord]) -> list[dict]:
        s = self.symbols.of
        # the group's output, or (when that output got no gradient: an unused second output) the first of its
        # nodes the backward reached
        node = next((r for r in records if r.node == group.output), records[0])
        shown = group.output if node.node == group.output or node.node not in s else node.node
        upstream = {"symbol": self.d(s[shown]), "shape": list(node.upstream.shape), "values": node.upstream}
        base = {"layer": group.title, "kind": group.kind}
        if group.kind == "loss":
            return [dict(base, **self.loss_backward(node))]
        if group.kind == "linear":
            return [dict(base, **step) for step in self.linear_backward(node, upstream)]
        if group.kind == "activation":
            return [dict(base, **self.activation_backward(group.records[-1], node, upstream))]
        return [dict(base, **step) for step in self.other_backward(group, records, upstream)]

    def contribution_step(self, record: BackwardRecord, position: int, formula: str, inputs: list,
                          readings: dict | None = None) -> dict:
        key = record.inputs[position]
        symbol = self.symbols.of[key]
        step = {"op": record.op.name, "position": position, "role": self.role(record, position),
                "formula": formula, "inputs": inputs,
                "upstream": {"symbol": self.d(self.symbols.of[record.node]), "shape": list(record.upstream.shape),
                             "values": record.upstream},
                "output": self.gradient_entry(key, record.contributions[position]),
                "into": f"{symbol}.grad" if self.is_leaf(key) else self.d(symbol),
                "accumulated": record.accumulated[position], "earlier_grad": record.earlier_grad[position]}
        if readings:
            step["readings"] = readings
        return step

    def loss_backward(self, record: BackwardRecord) -> dict:
        """``∂L/∂p = (p − y)/max(p·(1 − p), 10⁻¹²)/4``: the loss row's written gradient, divided as its reduction
        says."""
        forward = self.producer(record.node)
        form = self.loss_form(forward)
        count = form.items(forward.input_values[0]) if forward.reduction == "mean" else 1
        gradient = form.gradient.format(**self.loss_names(forward))
        if count > 1:
            gradient = (f"({gradient})" if _top_level_sum(gradient) else gradient) + f"/{count}"
        formula = f"{self.d(self.symbols.of[record.inputs[0]])} = {gradient}"
        if form.shown_in_gradient:  # ŷ and onehot(y) instead of the inputs; ŷ's definition after the formula
            inputs = self.loss_entries(forward, form.shown_in_gradient)
            formula += "".join(f",  {entry.pop('formula')}" for entry in inputs if "formula" in entry)
        else:
            inputs = self.input_entries(forward)
        if not np.all(record.upstream == 1):
            formula += f"  × {self.d(self.symbols.of[record.node])}"
            inputs.append(self.gradient_entry(record.node, record.upstream))
        step = self.contribution_step(record, 0, formula, inputs)
        step["count"] = count
        return step

    def linear_backward(self, record: BackwardRecord, upstream: dict) -> list[dict]:
        s = self.symbols.of
        x, weight, *bias = record.inputs
        dz = self.d(s[record.node])
        one_sample = self.one_sample(x)
        readings = {
            weight: (f"{self.d(s[weight])} = {dz}·{s[x]}ᵀ", f"{self.d(s[weight])} = ({dz})ᵀ·{s[x]}", x),
            x: (f"{self.d(s[x])} = {s[weight]}ᵀ·{dz}", f"{self.d(s[x])} = {dz}·{s[weight]}", weight),
        }
        if bias:
            readings[bias[0]] = (f"{self.d(s[bias[0]])} = {dz}", f"{self.d(s[bias[0]])} = Σ_rows {dz}", None)
        steps = []
        for position in (1, 2, 0):
            if position >= len(record.inputs) or record.contributions[position] is None:
                continue
            column, rows, other = readings[record.inputs[position]]
            inputs = [upstream] + ([self.entry(other)] if other is not None else [])
            steps.append(self.contribution_step(record, position, column if one_sample else rows, inputs,
                                                {"column": column, "rows": rows}))
        return steps

    def activation_backward(self, forward: ForwardRecord, record: BackwardRecord, upstream: dict) -> dict:
        s = self.symbols.of
        z, a = s[forward.inputs[0]], s[forward.output]
        function = forward.op.symbol
        derivative = local.local_derivatives(forward.op, forward.input_values, forward.output_value,
                                             forward.settings)[0]
        local_entry = {"symbol": f"{function}'({z})", "formula": _local_rule(forward, 0, s),
                       "shape": list(derivative.shape), "values": derivative}
        # the local rule reads the pre-activation (ReLU, LeakyReLU) or the activation (σ, tanh), as the row says
        reads = forward.output if forward.op.reads == "output" else forward.inputs[0]
        step = self.contribution_step(record, 0, f"{self.d(z)} = {self.d(a)} ⊙ {function}'({z})",
                                      [upstream, self.entry(reads)])
        step["local"] = local_entry
        return step

    def other_backward(self, group: Group, records: list[BackwardRecord], upstream: dict) -> list[dict]:
        s = self.symbols.of
        out = s[group.output]
        if len(group.records) == 1:
            forward, record = group.records[0], records[0]
            derivatives = local.local_derivatives(forward.op, forward.input_values, forward.output_value,
                                                  forward.settings)
            is_root = record.node == self.backward[0].node and bool(np.all(record.upstream == 1))
            upstream_text = "1" if is_root else self.d(out)
            given = [upstream]
            if record.outputs:  # one call with several outputs: its backward took each one's gradient (0: none)
                is_root = False
                shown = [(key, value) for key, value in record.outputs if key in s]
                upstream_text = ", ".join(self.d(s[key]) if value is not None else "0" for key, value in shown)
                given = [{"symbol": self.d(s[key]), "shape": list(value.shape), "values": value}
                         for key, value in shown if value is not None]
            steps = []
            for position, contribution in enumerate(record.contributions):
                if contribution is None:
                    continue
                symbol = s[record.inputs[position]]
                partial = f"∂{_grouped(out)}/∂{_grouped(symbol)}"
                if derivatives is None:
                    formula = (f"{self.d(symbol)}{_gradient_indices(forward, position)} = "
                               f"{_local_rule(forward, position, s, upstream_text)}")
                else:
                    right = _local_rule(forward, position, s) if is_root else f"{self.d(out)} ⊙ {partial}"
                    formula = f"{self.d(symbol)} = {right}"
                    if contribution.shape != record.upstream.shape:
                        formula += f", summed over the entries {symbol} was broadcast to"
                step = self.contribution_step(record, position, formula, [] if is_root else given)
                if forward.op.window is not None:  # one entry's sum reads the op's inputs too
                    step["inputs"] = step["inputs"] + self.input_entries(forward)
                    step["settings"] = _window_settings(forward)
                if derivatives is not None:
                    step["local"] = {"symbol": partial, "formula": _local_rule(forward, position, s),
                                     "shape": list(derivatives[position].shape), "values": derivatives[position]}
                step["rule"] = forward.op.local_grad
                steps.append(step)
            return steps
        totals: dict[int, np.ndarray] = {}
        earlier: set[int] = set()
        added: dict[int, bool] = {}  # whether the module's first contribution to an input was added to another's
        for record in records:
            for key, contribution, held, accumulated in zip(record.inputs, record.contributions, record.earlier_grad,
                                                            record.accumulated):
                if contribution is not None and key in group.inputs:
                    _add_to(totals, key, contribution)
                    added.setdefault(key, accumulated)
                    if held:
                        earlier.add(key)
        return [{"op": None, "formula": f"{self.d(s[key])} = {upstream['symbol']} back through {group.title} "
                            f"({len(group.records)} ops, see the op level)",
                 "inputs": [upstream], "output": self.gradient_entry(key, value),
                 "into": f"{s[key]}.grad" if self.is_leaf(key) else self.d(s[key]), "accumulated": added[key],
                 "earlier_grad": key in earlier}
                for key, value in totals.items()]

    def producer(self, key: int) -> ForwardRecord:
        return next(record for record in self.forward if record.output == key)

    # --- the document ---------------------------------------------------------------------------

    def document(self, title: str) -> dict:
        s = self.symbols
        group_of = {record.output: group for group in self.groups for record in group.records}
        by_group: dict[int, list[BackwardRecord]] = {}
        for record in self.backward:
            group = group_of.get(record.node)
            if group is not None:
                by_group.setdefault(id(group), []).append(record)
        backward_steps = []
        for group in reversed(self.groups):
            if id(group) in by_group:
                backward_steps += self.backward_steps(group, by_group[id(group)])
        gradients = self._pass_gradients
        updates = [record for record in self.tape.updates if record.pass_index == self.pass_index]
        parameters = self.parameters()
        loss_group = next((g for g in self.groups if g.kind == "loss"), None)
        loss = None
        if loss_group is not None:
            record = loss_group.records[0]
            value = record.output_value  # with reduction="none", each item's loss (its sum is no loss backward saw)
            loss = {"name": record.op.name, "symbol": s.of[record.output], "reduction": record.reduction,
                    "value": value if record.reduction == "none" else float(value.sum())}
        return {
            "format": "glassgrad-trace", "version": 2, "title": title, "precision": PRECISION_NOTE,
            "pass": self.pass_index, "passes": self.tape.passes,
            "parameters": {s.name(k): self.values[k] for k in parameters},
            "symbols": {s.name(k): s.of[k] for k in parameters},
            "gradients": {s.name(k): gradients[k] for k in parameters if k in gradients},
            "loss": loss,
            "forward": [self.forward_step(group) for group in self.groups],
            "backward": backward_steps,
            "updates": [self.update_step(r) for r in updates],
            "ops": {"forward": [self.op_forward(r) for r in self.forward],
                    "backward": [self.op_backward(r) for r in self.backward]},
            "notes": self.notes,
        }

    def update_step(self, record: UpdateRecord) -> dict:
        symbol = self.symbols.of.get(record.parameter) or self.symbols.give_input(record.parameter)
        renaming = letter_apart(record.formula, symbol)  # a bias b with momentum: the buffer is B, not b
        formula = re.sub(r"\bw\b", symbol, renamed(record.formula, renaming))
        # the optimizer reads .grad: this pass's ∂L/∂W, unless something changed it since (clipping) or an earlier
        # pass's gradient is still in it (no zero_grad); then it is written as what it is, W.grad
        this_pass = self._pass_gradients.get(record.parameter)
        own = this_pass is not None and np.array_equal(this_pass, record.gradient)
        gradient = self.d(symbol) if own else f"{symbol}.grad"
        g = re.escape(renaming.get("g", "g"))
        if not re.search(rf"^{g} ←", formula, re.MULTILINE):  # g is the plain gradient: write it as ∂L/∂W
            formula = re.sub(rf"\b{g}(²)?(?!\w)", lambda m: f"({gradient})²" if m.group(1) else gradient, formula)
        step = {"parameter": self.symbols.name(record.parameter), "symbol": symbol, "optimizer": record.optimizer,
                "rule": formula, "lr": record.lr, "old": record.old, "gradient": record.gradient,
                "gradient_label": gradient, "new": record.new}
        if record.state:  # the numbers of the rule's letters: momentum's b, Adam's m and v (before: None at first)
            step["state"] = {renamed(letter, renaming): {"key": key, "before": before, "after": after}
                             for letter, (key, before, after) in record.state.items()}
        if not own:
            step["note"] = (f"{symbol}.grad, which the optimizer read, is not this pass's {self.d(symbol)}: it was "
                            "changed after backward (clipped, say) or still holds an earlier pass's gradient "
                            "(no zero_grad)")
        return step

    def op_forward(self, record: ForwardRecord) -> dict:
        s = self.symbols.of
        return {"op": record.op.name, "rule": record.op.formula, "formula": op_formula(record, s),
                "inputs": [self.entry(k, v) for k, v in zip(record.inputs, record.input_values)],
                "output": self.entry(record.output, record.output_value)}

    def op_backward(self, record: BackwardRecord) -> dict:
        s = self.symbols.of
        contributions = [{"into": s[key], "values": value, "accumulated": added or held}
                         for key, value, added, held in zip(record.inputs, record.contributions, record.accumulated,
                                                            record.earlier_grad)
                         if value is not None]
        return {"op": record.op.name, "rule": record.op.local_grad, "node": s[record.node],
                "upstream": {"symbol": self.d(s[record.node]), "values": record.upstream},
                "contributions": contributions}
