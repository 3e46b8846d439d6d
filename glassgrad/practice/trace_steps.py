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

Steps of a one-sample network of linear layers, ReLU, MSE or softmax + cross-entropy get
their rule (:mod:`.step_rules`): the engine recomputes them and the key writes each blank's
equation out; other steps are still blanked and checked, with the formula as explanation.
Which rule a step gets is read from the step document (its op's row key, the phase and the
role of the input it differentiates; see :mod:`glassgrad.trace.layers`), never from the text
of its formula.

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

from .. import ops
from ..trace.render_json import values_array
from .step_rules import RULES
from .worksheet import Step

SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"
STEP_RULES = {
    (ops.LINEAR.name, "forward", None): "affine",
    (ops.LINEAR.name, "backward", "weight"): "weight_grad",
    (ops.LINEAR.name, "backward", "input"): "input_grad",
    (ops.RELU.name, "forward", None): "relu",
    (ops.RELU.name, "backward", "a"): "relu_grad",
    (ops.MSE_LOSS.name, "forward", None): "mse",
    (ops.MSE_LOSS.name, "backward", "input"): "mse_grad",
    (ops.CROSS_ENTROPY.name, "forward", None): "cross_entropy",
    (ops.CROSS_ENTROPY.name, "backward", "logits"): "ce_grad",
    (ops.CROSS_ENTROPY.name, "derived", None): "softmax",
}
"""(row key, phase, role of the differentiated input) → the :mod:`.step_rules` rule for such a step."""


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
                derived = STEP_RULES.get((entry.get("op"), "derived", None)) if item.get("role") == "derived" else None
                rule = derived if self.columns and len(uses) == 1 else None
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

    def step(self, name: str, formula: str, inputs: dict, output: np.ndarray, phase: str, rule: str | None) -> Step:
        self.made[name] = output
        chosen = RULES.get(rule) if rule else None
        return Step(name, formula, inputs, output, phase, recompute=chosen.recompute if chosen else None,
                    explain=chosen.explain if chosen else None)

    def rule(self, entry: dict, phase: str, inputs: dict) -> tuple[str | None, dict]:
        """The rule of a one-sample layer step, with its inputs in the rule's order; (None, inputs) otherwise."""
        kind = entry.get("kind")
        rule = STEP_RULES.get((entry.get("op"), phase, entry.get("role") if phase == "backward" else None))
        names = list(inputs)
        if rule is None:
            return None, inputs
        if kind == "loss":
            upstream = entry.get("upstream")
            from_the_loss = upstream is None or bool(np.all(values_array(upstream["values"]) == 1))
            if rule in ("mse", "mse_grad"):
                return (rule if self.loss.get("reduction") == "mean" and from_the_loss else None), inputs
            if not self.columns:
                return None, inputs
            if phase == "forward" and len(names) >= 2:
                return rule, {name: inputs[name] for name in names[:2]}
            if phase == "backward" and len(names) == 2 and from_the_loss:
                return rule, inputs
            return None, inputs
        if kind == "activation":
            if phase == "forward":
                return rule, inputs
            pre_activation = entry["output"].get("of")
            if pre_activation in self.made and names[1:] in ([], [pre_activation]):  # Z listed by the trace or not
                return rule, {names[0]: inputs[names[0]], pre_activation: self.made[pre_activation]}
            return None, inputs
        if kind != "linear" or not self.columns:
            return None, inputs
        if phase == "forward":
            return rule, inputs
        weight = self.layers.get(entry.get("layer"), [None])[0]
        if entry.get("role") == "weight" and len(names) == 2:
            return rule, inputs
        if weight in inputs and len(names) == 2:  # the input's gradient: Wᵀ·∂L/∂Z
            upstream = next(name for name in names if name != weight)
            return rule, {weight: inputs[weight], upstream: inputs[upstream]}
        return None, inputs

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
