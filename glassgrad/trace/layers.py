"""From a tape's records to the lesson's steps: ops grouped by layer, tensors given symbols.

A 4→3→4 ReLU network with an MSE loss reads, forward then backward::

    Z₁ = W₁·X + b₁     A₁ = ReLU(Z₁)     ŷ = W₂·A₁ + b₂     L = (1/n) Σ (ŷ − y)²
    ∂L/∂ŷ = 2(ŷ − y)/n     ∂L/∂W₂ = ∂L/∂ŷ·A₁ᵀ     ∂L/∂b₂ = ∂L/∂ŷ     ∂L/∂A₁ = W₂ᵀ·∂L/∂ŷ
    ∂L/∂Z₁ = ∂L/∂A₁ ⊙ ReLU'(Z₁)     ∂L/∂W₁ = ∂L/∂Z₁·Xᵀ     ∂L/∂b₁ = ∂L/∂Z₁

Steps and symbols come from :mod:`.grouping` (one step per layer; ``W₁``, ``Z₁``, ``ŷ``…).
A linear layer is shown in both readings: ``Z = W·X + b`` (X one sample as a column; the
lessons' form) and ``Z = X·Wᵀ + b`` (a batch of rows; what the engine computes).

:func:`describe` returns a plain document (dicts, lists, NumPy arrays) that every renderer
reads; :mod:`.render_json` writes it in full precision.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..ops import softmax_array
from . import local
from .grouping import Group, assign_symbols, group_records, op_formula
from .numbers import PRECISION_NOTE
from .tape import BackwardRecord, ForwardRecord, Tape, UpdateRecord


def _local_rule(record: ForwardRecord, position: int, symbols: dict[int, str]) -> str:
    """The right-hand side of the op's ``local_grad`` for input ``position``, in the step's symbols
    (``∂out/∂b = a`` of ``mul`` becomes ``0.5`` when ``a`` is the constant 0.5)."""
    parts = record.op.local_grad.split(", ")
    rule = parts[position] if len(parts) == len(record.inputs) else record.op.local_grad
    names = {"out": symbols[record.output], "a": symbols[record.inputs[0]]}
    if len(record.inputs) > 1:
        names["b"] = symbols[record.inputs[1]]
    rule = rule.split(" = ", 1)[-1]
    return re.sub(r"\b(out|a|b)\b", lambda match: _grouped(names.get(match.group(1), match.group(1))), rule)


def _add_to(totals: dict[int, np.ndarray], key: int, value: np.ndarray) -> None:
    """``totals[key] += value``, the way the engine adds contributions that meet at one tensor."""
    totals[key] = totals[key] + value if key in totals else value


def _grouped(symbol: str) -> str:
    return f"({symbol})" if any(sign in symbol for sign in "·+−/ @") else symbol


def describe(tape: Tape, pass_index: int = 0, title: str = "trace") -> dict:
    """The document of one pass: parameters, gradients, loss, forward and backward steps, updates, ops."""
    return _Description(tape, pass_index).document(title)


class _Description:
    """Builds :func:`describe`'s document from one pass of a tape."""

    def __init__(self, tape: Tape, pass_index: int) -> None:
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
        self.root = self.symbols.of.get(self.backward[0].node, "L") if self.backward else "L"
        self.notes = [PRECISION_NOTE]

    # --- pieces -------------------------------------------------------------------------------

    def d(self, symbol: str) -> str:
        """``∂L/∂symbol`` (with the symbol of what backward started from); ``∂L/∂(w₁·x)`` for a compound."""
        return f"∂{self.root}/∂{_grouped(symbol)}"

    def entry(self, key: int, values: Any = None) -> dict:
        symbol = self.symbols.of[key]
        values = self.values[key] if values is None else values
        item = {"symbol": symbol, "shape": list(np.shape(values)), "values": np.asarray(values)}
        name = self.symbols.name(key)
        if name != symbol:
            item["name"] = name
        return item

    def gradient_entry(self, key: int, values: np.ndarray) -> dict:
        symbol = self.symbols.of[key]
        return {"symbol": self.d(symbol), "of": symbol, "shape": list(values.shape), "values": values}

    def one_sample(self, key: int) -> bool:
        """True when the tensor is one sample (a vector or a single row): a linear layer reads it as a column."""
        shape = self.values[key].shape
        return len(shape) < 2 or shape[0] == 1

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
        step: dict[str, Any] = {"layer": group.title, "kind": group.kind}
        if group.kind == "linear":
            x, weight, *bias = record.inputs
            plus = f" + {s[bias[0]]}" if bias else ""
            column = f"{s[record.output]} = {s[weight]}·{s[x]}{plus}"
            rows = f"{s[record.output]} = {s[x]}·{s[weight]}ᵀ{plus}"
            one_sample = self.one_sample(x)
            step.update(formula=column if one_sample else rows, readings={"column": column, "rows": rows},
                        inputs=[self.entry(k) for k in (weight, x, *bias)])
            if one_sample:
                step["note"] = (f"{s[x]} is one sample: read as a column, {column}; "
                                f"the engine computes the row form {rows}")
        elif group.kind == "activation":
            applied = local.activation_text(record.op, record.settings, s[record.inputs[0]])
            step.update(formula=f"{s[record.output]} = {applied}", inputs=[self.entry(record.inputs[0])])
        elif group.kind == "loss":
            step.update(self.loss_forward(record))
        else:
            inside = [op_formula(r, s) for r in group.records]
            formula = inside[0] if len(inside) == 1 else f"{s[group.output]} = {group.name}({s[group.inputs[0]]})"
            step.update(formula=formula, inputs=[self.entry(k) for k in group.inputs], rule=group.records[0].op.formula)
            if len(inside) > 1:
                step["ops"] = inside
        step["output"] = self.entry(group.output)
        return step

    def loss_forward(self, record: ForwardRecord) -> dict:
        s = self.symbols.of
        prediction, target = s[record.inputs[0]], s[record.inputs[1]]
        reduction, values = record.reduction, record.input_values[0]
        scale = {"mean": "(1/n) Σ ", "sum": "Σ "}.get(reduction, "")
        size = f"   (n = {values.size})" if reduction == "mean" else ""
        inputs = [self.entry(record.inputs[0]), self.entry(record.inputs[1])]
        if record.op.name == "mse_loss":
            formula = f"{s[record.output]} = {scale}({prediction} − {target})²{size}"
        elif record.op.name == "cross_entropy":
            rows = f"   (N = {values.shape[0]})" if reduction == "mean" else ""
            total = {"mean": "−(1/N) Σᵢ ", "sum": "−Σᵢ "}.get(reduction, "−")
            formula = f"{s[record.output]} = {total}log softmax({prediction})ᵢ[{target}ᵢ]{rows}"
            inputs.append({"symbol": "ŷ", "formula": f"ŷ = softmax({prediction})", "shape": list(values.shape),
                           "values": softmax_array(values, 1)})
        else:
            formula = (f"{s[record.output]} = −{scale}[{target}·log σ({prediction}) + "
                       f"(1 − {target})·log(1 − σ({prediction}))]{size}")
        return {"formula": formula, "inputs": inputs, "reduction": reduction}

    # --- backward steps -----------------------------------------------------------------------

    def backward_steps(self, group: Group, records: list[BackwardRecord]) -> list[dict]:
        s = self.symbols.of
        node = records[0] if len(records) == 1 else next(r for r in records if r.node == group.output)
        upstream = {"symbol": self.d(s[group.output]), "shape": list(node.upstream.shape), "values": node.upstream}
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
        step = {"formula": formula, "inputs": inputs,
                "output": self.gradient_entry(key, record.contributions[position]),
                "into": f"{symbol}.grad" if self.is_leaf(key) else self.d(symbol),
                "accumulated": record.accumulated[position], "earlier_grad": record.earlier_grad[position]}
        if readings:
            step["readings"] = readings
        return step

    def loss_backward(self, record: BackwardRecord) -> dict:
        forward = self.producer(record.node)
        s = self.symbols.of
        prediction, target = s[record.inputs[0]], s[record.inputs[1]]
        values = forward.input_values[0]
        count = {"mean": values.size, "sum": 1}.get(forward.reduction, 1)
        divide = f"/{count}" if count > 1 else ""
        inputs = [self.entry(record.inputs[0]), self.entry(record.inputs[1])]
        d_prediction = self.d(prediction)
        if forward.op.name == "mse_loss":
            formula = f"{d_prediction} = 2({prediction} − {target}){divide}"
        elif forward.op.name == "cross_entropy":
            rows = values.shape[0] if forward.reduction == "mean" else 1
            probabilities = softmax_array(values, 1)
            target_values = forward.input_values[1]
            classes = target_values.dtype.kind != "f"  # class indices, or already probabilities
            onehot = np.eye(values.shape[1])[target_values] if classes else target_values
            wanted = f"onehot({target})" if classes else target
            formula = f"{d_prediction} = " + (f"(ŷ − {wanted})/{rows}" if rows > 1 else f"ŷ − {wanted}")
            formula += f",  ŷ = softmax({prediction})"
            inputs = [{"symbol": "ŷ", "shape": list(values.shape), "values": probabilities},
                      {"symbol": wanted, "shape": list(onehot.shape), "values": onehot}]
        else:
            formula = f"{d_prediction} = (σ({prediction}) − {target}){divide}"
        if not np.all(record.upstream == 1):
            formula += f"  × {self.d(s[record.node])}"
            inputs.append(self.gradient_entry(record.node, record.upstream))
        return self.contribution_step(record, 0, formula, inputs)

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
        function = local.NAMES[forward.op.name]
        derivative = local.local_derivatives(forward.op, forward.input_values, forward.output_value,
                                             forward.settings)[0]
        rule = local.derivative_text(forward.op, forward.settings, z, a)
        local_entry = {"symbol": f"{function}'({z})", "formula": rule, "shape": list(derivative.shape),
                       "values": derivative}
        # the local rule reads the pre-activation (ReLU, LeakyReLU) or the activation (σ, tanh)
        reads = forward.inputs[0] if forward.op.name in ("relu", "leaky_relu") else forward.output
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
            steps = []
            for position, contribution in enumerate(record.contributions):
                if contribution is None:
                    continue
                symbol = s[record.inputs[position]]
                partial = f"∂{_grouped(out)}/∂{_grouped(symbol)}"
                if derivatives is None:
                    formula = f"{self.d(symbol)} = {self.d(out)} through {forward.op.name}"
                else:
                    right = _local_rule(forward, position, s) if is_root else f"{self.d(out)} ⊙ {partial}"
                    formula = f"{self.d(symbol)} = {right}"
                    if contribution.shape != record.upstream.shape:
                        formula += f", summed over the entries {symbol} was broadcast to"
                step = self.contribution_step(record, position, formula, [] if is_root else [upstream])
                if derivatives is not None:
                    step["local"] = {"symbol": partial, "formula": _local_rule(forward, position, s),
                                     "shape": list(derivatives[position].shape), "values": derivatives[position]}
                step["rule"] = forward.op.local_grad
                steps.append(step)
            return steps
        totals: dict[int, np.ndarray] = {}
        earlier: set[int] = set()
        for record in records:
            for key, contribution, held in zip(record.inputs, record.contributions, record.earlier_grad):
                if contribution is not None and key in group.inputs:
                    _add_to(totals, key, contribution)
                    if held:
                        earlier.add(key)
        return [{"formula": f"{self.d(s[key])} = {self.d(out)} back through {group.title} "
                            f"({len(group.records)} ops, see the op level)",
                 "inputs": [upstream], "output": self.gradient_entry(key, value),
                 "into": f"{s[key]}.grad" if self.is_leaf(key) else self.d(s[key]), "accumulated": False,
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
        gradients = self.gradients()
        parameters = self.parameters()
        loss_group = next((g for g in self.groups if g.kind == "loss"), None)
        loss = None
        if loss_group is not None:
            record = loss_group.records[0]
            loss = {"name": record.op.name, "symbol": s.of[record.output], "value": float(record.output_value.sum()),
                    "reduction": record.reduction}
        return {
            "format": "glassgrad-trace", "version": 1, "title": title, "precision": PRECISION_NOTE,
            "pass": self.pass_index, "passes": self.tape.passes,
            "parameters": {s.name(k): self.values[k] for k in parameters},
            "symbols": {s.name(k): s.of[k] for k in parameters},
            "gradients": {s.name(k): gradients[k] for k in parameters if k in gradients},
            "loss": loss,
            "forward": [self.forward_step(group) for group in self.groups],
            "backward": backward_steps,
            "updates": [self.update_step(r) for r in self.tape.updates if r.pass_index == self.pass_index],
            "ops": {"forward": [self.op_forward(r) for r in self.forward],
                    "backward": [self.op_backward(r) for r in self.backward]},
            "notes": self.notes,
        }

    def update_step(self, record: UpdateRecord) -> dict:
        symbol = self.symbols.of.get(record.parameter) or self.symbols.give_input(record.parameter)
        formula = re.sub(r"\bw\b", symbol, record.formula)
        if not re.search(r"^g ←", formula, re.MULTILINE):  # g is the plain gradient: write it as ∂L/∂W
            gradient = self.d(symbol)
            formula = re.sub(r"\bg(²)?(?!\w)", lambda m: f"({gradient})²" if m.group(1) else gradient, formula)
        return {"parameter": self.symbols.name(record.parameter), "symbol": symbol, "optimizer": record.optimizer,
                "rule": formula, "lr": record.lr, "old": record.old, "gradient": record.gradient,
                "new": record.new}

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
