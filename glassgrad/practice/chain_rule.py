"""``chain-rule`` problems: one backward step of a real small network, one blank.

A 3→``size``→n ReLU network with MSE loss runs forward and backward under glassgrad's trace
(:mod:`glassgrad.practice.network`); the problem shows one backward step — its formula, its
inputs and its output with one blank — for ∂L/∂b₂, ∂L/∂W₂, ∂L/∂A₁, ∂L/∂b₁ or ∂L/∂W₁. The
answer is the engine's own gradient.

Difficulty 1: integer weights in ``[-1, 1]`` and n = 2 outputs (integer gradients);
difficulty 2: weights in ``[-2, 2]`` and n = 4 outputs (gradients in halves);
difficulty 3: a "real" model whose weights are drawn by ``gg.randn`` — its numbers are shown
rounded to 3 decimal places, the answer is given to 4, and the given-values mode accepts the
answer that the rounded numbers lead to as well (within ±0.001).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..creation import randn
from .answers import DEFAULT_TOLERANCE
from .network import network_steps, small_network
from .numbers import as_shown, exact, fraction_array, index_label, rounded, seeded
from .problem import Blank, Problem, with_blank

INPUTS = 3
TARGETS = (
    ("∂L/∂b₂", "∂L/∂ŷ", "ŷ = W₂·A₁ + b₂ adds b₂ directly, so ∂L/∂b₂ = ∂L/∂ŷ."),
    ("∂L/∂W₂", "∂L/∂W₂", ""),
    ("∂L/∂A₁", "∂L/∂A₁", ""),
    ("∂L/∂b₁", "∂L/∂Z₁", "Z₁ = W₁·x + b₁ adds b₁ directly, so ∂L/∂b₁ = ∂L/∂Z₁."),
    ("∂L/∂W₁", "∂L/∂W₁", ""),
)
SHOWN_PLACES = 3
ANSWER_PLACES = 4
ROUNDED_TOLERANCE = Fraction(1, 1000)


def chain_rule(seed: int, size: int = 3, difficulty: int = 1) -> Problem:
    """One backward step of a 3→size→n ReLU network; the blank is one gradient entry."""
    rng = seeded(seed)
    outputs = 4 if difficulty == 2 else 2
    if difficulty == 3:
        def draw(shape: tuple[int, ...]) -> np.ndarray:
            return randn(*shape, dtype=np.float64, generator=rng).data
    else:
        def draw(shape: tuple[int, ...]) -> np.ndarray:
            return rng.integers(-difficulty, difficulty + 1, size=shape)
    weights = small_network(rng, INPUTS, size, outputs, draw)
    steps = {step.name: step for step in network_steps(**weights)}
    label, step_name, link = TARGETS[int(rng.integers(len(TARGETS)))]
    step = steps[step_name]
    entries = list(np.ndindex(step.output.shape))
    nonzero = [i for i in entries if step.output[i] != 0]
    pool = nonzero if nonzero and rng.random() < 0.8 else entries  # mostly, but not only, non-zero answers
    index = tuple(int(i) for i in pool[int(rng.integers(len(pool)))])
    if difficulty == 3:
        def show(value: float) -> Fraction:
            return as_shown(value, SHOWN_PLACES)
        answer = rounded(step.output[index], ANSWER_PLACES)
        shown_inputs = [fraction_array(v, show).astype(np.float64) for v in step.inputs.values()]
        given_values_answer = rounded(step.recompute(*shown_inputs)[index], ANSWER_PLACES)
        extra = dict(exact=False, tolerance=ROUNDED_TOLERANCE, given_values_answer=given_values_answer,
                     given_places=SHOWN_PLACES,
                     notes=(f"The numbers are the model's, rounded to {SHOWN_PLACES} decimal places; answers "
                            f"within ±0.001 of the engine's value or of what the rounded numbers give count.",))
    else:
        show = exact
        answer = exact(step.output[index])
        extra = dict(tolerance=DEFAULT_TOLERANCE)
    tensors = {name: fraction_array(values, show) for name, values in step.inputs.items()}
    tensors[label] = with_blank(fraction_array(step.output, show), index)
    blank_label = index_label(label, index, step.output.shape)
    explanation = step.explain(step, index, show)
    solution = (link, explanation) if link else (explanation,)
    equation = step.formula if label == step_name else f"{label} = {step.formula}"
    question = (f"A {INPUTS}→{size}→{outputs} ReLU network ran forward and backward on one example with the MSE "
                f"loss L = (1/{outputs})·Σᵢ (ŷᵢ − yᵢ)². Here is one step of its backward pass, as glassgrad's trace "
                f"recorded it. Fill in the blank: {blank_label}.")
    return Problem("chain-rule", seed, size, difficulty, equation, question, tensors, Blank(label, index), answer,
                   solution, **extra)
