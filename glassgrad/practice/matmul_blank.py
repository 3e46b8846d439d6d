"""``forward-blank`` (``Z = W·X``) and ``backward-blank`` (``dZ = dW·X``) problems.

The rules of the lessons' drill: W (or dW) is always given in full; the blank is one entry
of X or one entry of Z (dZ).

* A blank in Z is a row of W dotted with a column of X: ``Z[i,c] = Σⱼ W[i,j]·X[j,c]``.
* A blank in X is solved from a row ``i`` of W whose coefficient ``W[i,j]`` on it is not
  zero: ``X[j,c] = (Z[i,c] − Σ_{l≠j} W[i,l]·X[l,c]) / W[i,j]``. The generator makes sure such
  a row exists, so the answer is unique.

``dZ = dW·X`` has the same structure: it is how much Z moves when W moves by dW (with X
held fixed). Sizes: W is ``size × size``; X has one column (two at difficulty 3); entries
are integers in ``[-3, 3]``, ``[-5, 5]`` or ``[-9, 9]`` for difficulty 1, 2, 3. Z and the
solved X entries are computed by glassgrad (float64 matmul).
"""

from __future__ import annotations

import numpy as np

from ..trace import counting
from .numbers import (
    engine_tensor,
    exact,
    factor_text,
    fraction_array,
    index_label,
    number_text,
    products_text,
    seeded,
    stated_label,
)
from .problem import Blank, Problem, with_blank

VALUE_LIMIT = {1: 3, 2: 5, 3: 9}


def forward_blank(seed: int, size: int = 3, difficulty: int = 1) -> Problem:
    """A ``Z = W·X`` problem with one blank in X or in Z."""
    return _product_blank("forward-blank", seed, size, difficulty, ("W", "X", "Z"), stream=0)


def backward_blank(seed: int, size: int = 3, difficulty: int = 1) -> Problem:
    """A ``dZ = dW·X`` problem with one blank in X or in dZ."""
    return _product_blank("backward-blank", seed, size, difficulty, ("dW", "X", "dZ"), stream=1)


def _product_blank(kind: str, seed: int, size: int, difficulty: int, names: tuple[str, str, str],
                   stream: int) -> Problem:
    """``stream``: each kind draws its own numbers, so one seed is not the same arithmetic in both kinds."""
    weight_name, input_name, output_name = names
    rng = seeded(seed, stream)
    limit = VALUE_LIMIT[difficulty]
    columns = 2 if difficulty == 3 else 1
    weights = rng.integers(-limit, limit + 1, size=(size, size))
    inputs = rng.integers(-limit, limit + 1, size=(size, columns))
    column = int(rng.integers(columns))
    blank_in_inputs = bool(rng.random() < 0.5)
    entry = int(rng.integers(size))
    if blank_in_inputs:
        forced_row = int(rng.integers(size))
        if weights[forced_row, entry] == 0:  # guarantee a row that can solve for the blank
            weights[forced_row, entry] = int(rng.choice([-1, 1]) * rng.integers(1, limit + 1))
    outputs = (engine_tensor(weights) @ engine_tensor(inputs)).array
    shown = {weight_name: fraction_array(weights), input_name: fraction_array(inputs),
             output_name: fraction_array(outputs)}
    equation = f"{output_name} = {weight_name}·{input_name}"
    if blank_in_inputs:
        blank = Blank(input_name, (entry, column))
        answer, solution = _solve_input(weights, inputs, outputs, blank, names)
    else:
        blank = Blank(output_name, (entry, column))
        answer = exact(outputs[entry, column])
        solution = _dot_solution(weights, inputs, blank, names, answer)
    shown[blank.tensor] = with_blank(shown[blank.tensor], blank.index)
    what = ("each entry of dZ is how much that entry of Z moves when W moves by dW"
            if kind == "backward-blank" else "each entry of Z is a row of W dotted with a column of X")
    question = (f"Fill in the blank (?) in {equation}: {what}. {weight_name} is given in full; "
                f"the blank is {stated_label(blank.tensor, blank.index, shown[blank.tensor].shape)}.")
    return Problem(kind, seed, size, difficulty, equation, question, shown, blank, answer, solution)


def _dot_solution(weights: np.ndarray, inputs: np.ndarray, blank: Blank, names: tuple, answer) -> tuple[str, ...]:
    weight_name, input_name, output_name = names
    row, column = blank.index
    label = index_label(output_name, blank.index, inputs.shape)
    terms = (engine_tensor(weights[row]) * engine_tensor(inputs[:, column])).array
    which_column = f"{counting.ordinal('column', column)} of {input_name}" if inputs.shape[1] > 1 else input_name
    indent = " " * len(label)
    return (
        f"{label} is {counting.ordinal('row', row)} of {weight_name} dotted with {which_column}.",
        f"{label} = {products_text(weights[row], inputs[:, column])}",
        f"{indent} = {' + '.join(factor_text(exact(t)) for t in terms)}",
        f"{indent} = {number_text(answer)}",
    )


def _solve_input(weights: np.ndarray, inputs: np.ndarray, outputs: np.ndarray, blank: Blank,
                 names: tuple) -> tuple:
    """The blank X entry from the row with the smallest non-zero coefficient on it (engine arithmetic)."""
    weight_name, input_name, output_name = names
    entry, column = blank.index
    coefficients = weights[:, entry]
    candidates = [i for i in range(len(coefficients)) if coefficients[i] != 0]
    row = min(candidates, key=lambda i: (abs(coefficients[i]), i))
    known_inputs = inputs.copy()
    known_inputs[entry, column] = 0
    known = (engine_tensor(weights) @ engine_tensor(known_inputs))[row, column]
    target = engine_tensor(outputs)[row, column]
    residual = target - known
    answer = exact((residual / float(coefficients[row])).item())
    known, target, residual = exact(known.item()), exact(target.item()), exact(residual.item())
    coefficient = int(coefficients[row])
    written = [("?" if j == entry else factor_text(inputs[j, column])) for j in range(len(inputs))]
    output_label = index_label(output_name, (row, column), inputs.shape)
    label = index_label(input_name, blank.index, inputs.shape)
    dot = " + ".join(f"{factor_text(w)}·{x}" for w, x in zip(weights[row], written))
    known_terms = " + ".join(f"{factor_text(w)}·{x}" for j, (w, x) in enumerate(zip(weights[row], written))
                             if j != entry)
    return answer, (
        f"{label} is multiplied by {counting.ordinal('column', entry)} of {weight_name}. "
        f"{counting.ordinal('Row', row)} has the non-zero "
        f"coefficient {index_label(weight_name, (row, entry), weights.shape)} = {coefficient} on it, so use "
        f"{output_label}:",
        f"{number_text(target)} = {dot}",
        f"{factor_text(coefficient)}·? = {number_text(target)} - ({known_terms}) = {number_text(target)} - "
        f"{factor_text(known)} = {number_text(residual)}",
        f"? = {number_text(residual)} / {factor_text(coefficient)} = {number_text(answer)}",
    )
