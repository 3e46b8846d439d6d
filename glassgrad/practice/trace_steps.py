"""Worksheet steps from a recorded trace: the glass box's own forward and backward steps.

``tape.describe()`` — and the JSON of ``glassgrad trace NAME --format json`` — lists one
pass as ``"forward"`` and ``"backward"`` steps, each ``{"formula", "inputs": [{"symbol",
"values"}, …], "output": {"symbol", "values"}}``. :func:`steps_from_trace` turns every one
into a :class:`~glassgrad.practice.worksheet.Step` that holds everything its formula uses,
so a blank in it can be solved from what a worksheet shows:

* a tensor the formula names but the entry does not list (the trace shows
  ``∂L/∂Z₁ = ∂L/∂A₁ ⊙ ReLU'(Z₁)`` with the upstream gradient only) becomes an input,
  taken from the step that made it; the local derivative's rule is added to the formula
  (``ReLU'(Z₁) = 1 where Z₁ > 0, else 0``), so the learner applies it to Z₁; a step without
  a rule (below) also shows the local derivative's numbers;
* an input computed on the way (``ŷ = softmax(Z₃)`` inside cross-entropy) becomes a step;
* a step that only copies another (``∂L/∂b₂ = ∂L/∂ŷ``) is folded into it as an alias, so a
  blank is never printed again, filled in, right below;
* one sample read as a column (the lessons' ``Z = W·X + b``) is shown as columns.

Steps of a one-sample network of linear layers, activations (ReLU, tanh, σ, GELU, …) and a
loss (MSE, cross-entropy, binary cross-entropy, …) get their rule (:mod:`.step_rules`): the
op's own row recomputes them and the key writes each blank's equation out; other steps are
still blanked and checked, with the formula as explanation. Which rule a step gets is read
from the data of the row the step names (``RULES[step["op"]]``: its kind, how its local
derivative reads, its loss form), the phase and the role of the input it differentiates (see
:mod:`glassgrad.trace.layers`); never from the op's name nor the text of its formula.

>>> from glassgrad.lessons import lesson
>>> [step.name for step in steps_from_trace(lesson("diagonal-flip"))][:4]
['Z₁', 'A₁', 'ŷ', 'L']
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..ops import RULES, Op
from ..trace.render_json import values_array
from . import step_rules
from .step_rules import Layout, Rule
from .worksheet import Step

SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"


def load_trace(source: str) -> dict:
    """A trace document: a worked example by name (``diagonal-flip``, ``mlp3``, ``linear-regression``)
    or a JSON file written by ``glassgrad trace NAME --format json``."""
    from ..lessons import LESSONS, lesson

    if source in LESSONS:
        return lesson(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{source!r} is neither a worked example ({', '.join(LESSONS)}) nor a trace file")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); write a trace with "
                         f"'glassgrad trace diagonal-flip --format json --out {path.name}'") from None
    if not isinstance(document, dict) or document.get("format") != "glassgrad-trace":
        raise ValueError(f"{path} is not a glassgrad trace: write one with "
                         f"'glassgrad trace diagonal-flip --format json --out {path.name}'")
    return document


def steps_from_trace(document: dict) -> list[Step]:
    """The worksheet steps of a trace document (forward, then backward), each solvable on its own."""
    try:
        return _Reader(document).steps()
    except (KeyError, TypeError, IndexError, AttributeError) as error:
        raise ValueError(f"the trace is incomplete ({error!r} is missing or malformed): every step needs a "
                         "formula, inputs and an output, as tape.describe() writes them") from None


def mentions(formula: str, symbol: str) -> bool:
    """Does the right-hand side of ``formula`` use ``symbol`` as a tensor of its own?

    ``Z₁`` counts in ``ReLU'(Z₁)`` but not inside ``∂L/∂Z₁``, nor ``Z₁`` inside ``Z₁₂``.
    """
    right = formula.split(" = ", 1)[-1]
    for match in re.finditer(re.escape(symbol), right):
        before = right[match.start() - 1] if match.start() else " "
        after = right[match.end()] if match.end() < len(right) else " "
        if before == "∂" or _name_character(before) or _name_character(after) or unicodedata.combining(after):
            continue
        return True
    return False


def _name_character(character: str) -> bool:
    return (character.isascii() and (character.isalnum() or character == "_")) or character in SUBSCRIPTS


def _is_number(symbol: str) -> bool:
    try:
        float(symbol)
    except ValueError:
        return False
    return True


class _Reader:
    """Reads one trace document into steps."""

    def __init__(self, document: dict) -> None:
        if not isinstance(document, dict) or not (document.get("forward") or document.get("backward")):
            raise ValueError("not a trace document: it needs 'forward' and 'backward' steps "
                             "(from tape.describe() or 'glassgrad trace NAME --format json')")
        self.forward = list(document.get("forward") or [])
        self.backward = list(document.get("backward") or [])
        self.loss = document.get("loss") or {}
        linear = [entry for entry in self.forward if entry.get("kind") == "linear"]
        self.columns = bool(linear) and all(entry.get("formula") == entry.get("readings", {}).get("column")
                                            for entry in linear)
        self.layers = {entry.get("layer"): [item["symbol"] for item in entry["inputs"]] for entry in linear}
        self.weights = {symbols[0] for symbols in self.layers.values()}
        self.made: dict[str, np.ndarray] = {}
        self.forward_of = {entry.get("layer"): entry for entry in self.forward}

    def values(self, item: dict, of: str | None = None) -> np.ndarray:
        """An entry's values as float64; one sample becomes a column (weights and their gradients keep shape)."""
        try:
            values = values_array(item["values"])
        except ValueError:
            raise ValueError(f"the values of {item['symbol']} in the trace are not an array of numbers") from None
        if self.columns and values.ndim in (1, 2) and item["symbol"] not in self.weights and of not in self.weights:
            if values.ndim == 1 or values.shape[0] == 1:
                values = values.reshape(-1, 1)
        return values

    def steps(self) -> list[Step]:
        steps: list[Step] = []
        for phase, entries in (("forward", self.forward), ("backward", self.backward)):
            for number, entry in enumerate(entries, 1):
                try:
                    steps += self.entry_steps(entry, phase)
                except (KeyError, TypeError, IndexError, AttributeError) as error:
                    raise ValueError(f"{phase} step {number} of the trace is incomplete ({error!r} is missing "
                                     "or malformed): every step needs a formula, inputs and an output") from None
        return self.complete(self.fold_copies(steps))

    def entry_steps(self, entry: dict, phase: str) -> list[Step]:
        """The step of one trace entry, after any step for an input it computes on the way (ŷ = softmax(z))."""
        found = []
        inputs: dict[str, np.ndarray] = {}
        for item in entry["inputs"]:
            symbol = item["symbol"]
            if _is_number(symbol):
                continue  # a constant: the formula shows it
            values = self.made.get(symbol)
            if values is None:
                values = self.values(item)
            if "formula" in item and symbol not in self.made:
                uses = {name: made for name, made in self.made.items() if mentions(item["formula"], name)}
                rule = self.derived_rule(entry, item, uses) if item.get("role") == "derived" else None
                found.append(self.step(symbol, item["formula"], uses, values, phase, rule))
            inputs[symbol] = values
        output = entry["output"]
        formula = entry["formula"]
        local = entry.get("local")
        if local and local.get("symbol") != output["symbol"]:
            formula += f",  {local['symbol']} = {local['formula']}"
        rule, inputs = self.rule(entry, phase, inputs)
        if rule is None and local and local.get("symbol") != output["symbol"]:
            inputs[local["symbol"]] = self.values(local)  # its numbers, in case its rule needs more than is shown
        found.append(self.step(output["symbol"], formula, inputs, self.values(output, output.get("of")), phase, rule))
        return found

    def step(self, name: str, formula: str, inputs: dict, output: np.ndarray, phase: str, rule: Rule | None) -> Step:
        self.made[name] = output
        return Step(name, formula, inputs, output, phase, recompute=rule.recompute if rule else None,
                    explain=rule.explain if rule else None)

    # --- which rule a step gets: the row's kind and the role of the input it differentiates -----------

    def settings(self, row: Op, entry: dict) -> tuple:
        """The row's settings of the step's call (a backward step reads its layer's forward step), in order."""
        forward = self.forward_of.get(entry.get("layer"), entry)
        given = forward.get("settings") or {}
        if any(name not in given for name in row.settings[len(row.defaults):]):
            raise LookupError("a setting the trace does not record")
        return tuple(given.get(name, default) for name, default in zip(row.settings, row.defaults))

    def rule(self, entry: dict, phase: str, inputs: dict) -> tuple[Rule | None, dict]:
        """The rule of a one-sample layer step, with its inputs in the rule's order; (None, inputs) otherwise."""
        row = RULES.get(entry.get("op") or "")
        if row is None:
            return None, inputs
        try:
            if row.kind == "loss" and row.loss is not None:
                return self.loss_rule(row, entry, phase, inputs)
            if row.kind == "activation" and row.local is not None:
                return self.activation_rule(row, entry, phase, inputs)
            if row.kind == "affine" and self.columns:
                return self.affine_rule(entry, phase, inputs)
        except LookupError:
            pass
        return None, inputs

    def affine_rule(self, entry: dict, phase: str, inputs: dict) -> tuple[Rule | None, dict]:
        names = list(inputs)
        if phase == "forward":
            return step_rules.AFFINE, inputs
        weight = self.layers.get(entry.get("layer"), [None])[0]
        if entry.get("role") == "weight" and len(names) == 2:
            return step_rules.WEIGHT_GRADIENT, inputs
        if entry.get("role") == "bias" and len(names) == 1:  # ∂L/∂b = ∂L/∂Z, kept where ∂L/∂Z is given
            return step_rules.BIAS_GRADIENT, inputs
        if entry.get("role") == "input" and weight in inputs and len(names) == 2:  # Wᵀ·∂L/∂Z
            upstream = next(name for name in names if name != weight)
            return step_rules.INPUT_GRADIENT, {weight: inputs[weight], upstream: inputs[upstream]}
        return None, inputs

    def activation_rule(self, row: Op, entry: dict, phase: str, inputs: dict) -> tuple[Rule | None, dict]:
        names = list(inputs)
        settings = self.settings(row, entry)
        if phase == "forward":
            return (step_rules.activation_rule(row, settings), inputs) if len(names) == 1 else (None, inputs)
        local = entry.get("local") or {}
        pre_activation = entry["output"].get("of")
        forward = self.forward_of.get(entry.get("layer"), {})
        read = pre_activation if row.reads == "input" else forward.get("output", {}).get("symbol")
        if read in self.made and names[1:] in ([], [read]) and "symbol" in local:  # Z (or A) listed or not
            rule = step_rules.local_rule(row, settings, local["symbol"], local.get("formula", ""))
            return rule, {names[0]: inputs[names[0]], read: self.made[read]}
        return None, inputs

    def loss_parts(self, row: Op, entry: dict) -> tuple[dict, dict]:
        """The loss's first input and target, as its forward step lists them (symbol → values; the target raw)."""
        forward = self.forward_of.get(entry.get("layer"), entry)
        items = {item.get("role"): item for item in forward["inputs"]}
        first, target = items[row.roles[0]], items[row.roles[1]]
        values = self.made.get(first["symbol"])
        shown = {first["symbol"]: self.values(first) if values is None else values,
                 target["symbol"]: self.values(target)}
        return shown, {target["symbol"]: values_array(target["values"])}

    def loss_rule(self, row: Op, entry: dict, phase: str, inputs: dict) -> tuple[Rule | None, dict]:
        reduction = self.loss.get("reduction") or entry.get("reduction")
        if reduction not in ("mean", "sum"):
            return None, inputs
        shown, raw = self.loss_parts(row, entry)
        (target,) = raw.values()
        form = row.loss.for_target(target)
        layout = Layout(self.columns, classes=target.dtype.kind in "iub")
        if phase == "forward":
            return step_rules.loss_rule(row, form, reduction, layout), shown
        upstream = entry.get("upstream")
        from_the_loss = upstream is None or bool(np.all(values_array(upstream["values"]) == 1))
        if not from_the_loss or entry.get("role") != row.roles[0]:
            return None, inputs
        names = dict(zip(row.roles, shown))
        listed = [symbol.format(**names) for symbol in form.shown_in_gradient]
        if listed and form.shown_gradient_value is not None and list(inputs) == listed:  # ŷ, onehot(y) as shown
            return step_rules.loss_gradient_rule(row, form, reduction, layout, names), inputs
        return step_rules.loss_gradient_rule(row, form, reduction, layout), shown

    def derived_rule(self, entry: dict, item: dict, uses: dict) -> Rule | None:
        """The rule of a quantity a loss computes from its first input alone (``ŷ = softmax(Z₃)``)."""
        row = RULES.get(entry.get("op") or "")
        if row is None or row.loss is None or not self.columns or len(uses) != 1:
            return None
        target = next((i for i in entry["inputs"] if i.get("role") == row.roles[1]), None)
        form = row.loss if target is None else row.loss.for_target(values_array(target["values"]))
        for derived in form.derived:
            reads = [role for role in row.roles if "{" + role + "}" in derived.formula]
            if derived.symbol == item["symbol"] and reads == [row.roles[0]]:
                return step_rules.derived_rule(derived, row.roles[0], Layout(self.columns))
        return None

    @staticmethod
    def fold_copies(steps: list[Step]) -> list[Step]:
        """Drop each step that only copies another step's output (``∂L/∂b₂ = ∂L/∂ŷ``); name it on that step."""
        producer = {step.name: step for step in steps}
        aliases: dict[str, list[str]] = {}
        kept = []
        for step in steps:
            source = next(iter(step.inputs), None) if len(step.inputs) == 1 else None
            if (source in producer and step.formula.split(" = ", 1)[-1].strip() == source
                    and np.array_equal(np.ravel(producer[source].output), np.ravel(step.output))):
                aliases.setdefault(source, []).append(step.name)
            else:
                kept.append(step)
        return [replace(step, aliases=tuple(aliases.get(step.name, ()))) for step in kept]

    @staticmethod
    def complete(steps: list[Step]) -> list[Step]:
        """Give each step without a rule, as inputs, the earlier steps' outputs that its formula names."""
        completed = []
        for position, step in enumerate(steps):
            inputs = dict(step.inputs)
            if step.recompute is None:
                for earlier in steps[:position]:
                    if earlier.name not in inputs and mentions(step.formula, earlier.name):
                        inputs[earlier.name] = earlier.output
            completed.append(replace(step, inputs=inputs))
        return completed
