"""``chain-rule`` problems: a chain of backward steps of a real small network, one blank at its end.

A 3→``size``→n ReLU network with MSE loss runs forward and backward under glassgrad's trace
(:mod:`glassgrad.practice.network`); the problem shows the numbers at the start of a chain of two
or three backward steps and their formulas, hides the gradients in between, and blanks one entry of
the last: ∂L/∂W₂ or ∂L/∂A₁ from ŷ and y (through ∂L/∂ŷ), ∂L/∂Z₁ or ∂L/∂b₁ from W₂, ∂L/∂ŷ and Z₁
(through ∂L/∂A₁ and the ReLU mask), ∂L/∂W₁ from those and x (three links). The answer is the
engine's own gradient.

Difficulty 1: integer weights in ``[-1, 1]`` and n = 2 outputs (integer gradients);
difficulty 2: weights in ``[-2, 2]`` and n = 4 outputs (gradients in halves);
difficulty 3: a "real" model whose weights are drawn by ``gg.randn`` — its numbers are shown
rounded to 3 decimal places, the answer is given to 4, and the given-values mode accepts the
answer that the rounded numbers lead to as well (within ±0.001); a draw where an active unit's Z₁ would show as 0
(0 < Z₁ < 0.0005) is drawn again, since the sheet's ReLU rule would block what the engine passes.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..creation import randn
from .answers import DEFAULT_TOLERANCE
from .network import network_steps, small_network
from .numbers import as_shown, exact, fraction_array, index_label, rounded, seeded, stated_label
from .problem import Blank, Problem, with_blank

INPUTS = 3
CHAINS = (  # (the blank's name, the steps from the given numbers to it, what links the last step to the blank)
    ("∂L/∂W₂", ("∂L/∂ŷ", "∂L/∂W₂"), ""),
    ("∂L/∂A₁", ("∂L/∂ŷ", "∂L/∂A₁"), ""),
    ("∂L/∂Z₁", ("∂L/∂A₁", "∂L/∂Z₁"), ""),
    ("∂L/∂b₁", ("∂L/∂A₁", "∂L/∂Z₁"), "Z₁ = W₁·x + b₁ adds b₁ directly, so ∂L/∂b₁ = ∂L/∂Z₁."),
    ("∂L/∂W₁", ("∂L/∂A₁", "∂L/∂Z₁", "∂L/∂W₁"), ""),
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
            return randn(shape, dtype=np.float64, generator=rng).array
    else:
        def draw(shape: tuple[int, ...]) -> np.ndarray:
            return rng.integers(-difficulty, difficulty + 1, size=shape)
    while True:  # no active unit whose Z₁ shows as 0: the rule "ReLU′ = 1 where Z₁ > 0" read off it would block it
        weights = small_network(rng, INPUTS, size, outputs, draw)
        steps = {step.name: step for step in network_steps(**weights)}
        pre_activation = steps["Z₁"].output
        if all(as_shown(z, SHOWN_PLACES) > 0 for z in pre_activation[pre_activation > 0]):
            break
    label, names, link = CHAINS[int(rng.integers(len(CHAINS)))]
    chain = [steps[name] for name in names]
    last = chain[-1]
    entries = list(np.ndindex(last.output.shape))
    nonzero = [i for i in entries if last.output[i] != 0]
    pool = nonzero if nonzero and rng.random() < 0.8 else entries  # mostly, but not only, non-zero answers
    index = tuple(int(i) for i in pool[int(rng.integers(len(pool)))])
    given = {name: values for step in chain for name, values in step.inputs.items() if name not in names}
    if difficulty == 3:
        def show(value: float) -> Fraction:
            return as_shown(value, SHOWN_PLACES)
        answer = rounded(last.output[index], ANSWER_PLACES)
        known = {name: fraction_array(values, show).astype(np.float64) for name, values in given.items()}
        for step in chain:  # the chain worked from the rounded numbers, as a learner would
            known[step.name] = step.recompute(*(known[name] for name in step.inputs))
        given_values_answer = rounded(known[last.name][index], ANSWER_PLACES)
        extra = dict(exact=False, tolerance=ROUNDED_TOLERANCE, given_values_answer=given_values_answer,
                     given_places=SHOWN_PLACES,
                     notes=(f"The numbers are the model's, rounded to {SHOWN_PLACES} decimal places; answers "
                            f"within ±0.001 of the engine's value or of what the rounded numbers give count.",))
    else:
        show = exact
        answer = exact(last.output[index])
        extra = dict(tolerance=DEFAULT_TOLERANCE)
    tensors = {name: fraction_array(values, show) for name, values in given.items()}
    tensors[label] = with_blank(fraction_array(last.output, show), index)
    blank_label = index_label(label, index, last.output.shape)
    solution = [f"First {step.name}, entry by entry:" if n == 0 else f"Then {step.name}:"
                for n, step in enumerate(chain[:-1])]
    worked = []
    for n, step in enumerate(chain[:-1]):
        worked += [solution[n], *(step.explain(step, i, show) for i in np.ndindex(step.output.shape))]
    worked += [f"Last, {blank_label}:" if worked else "", last.explain(last, index, show)]
    worked += [link] if link else []
    equation = "; ".join(step.formula.split(",  ")[0] for step in chain)
    question = (f"A {INPUTS}→{size}→{outputs} ReLU network ran forward and backward on one example with the MSE "
                f"loss L = (1/{outputs})·Σᵢ (ŷᵢ − yᵢ)². Here are the numbers its backward pass starts from; the "
                f"gradients in between are not shown: work through them, one chain-rule step at a time. "
                f"Fill in the blank: {stated_label(label, index, last.output.shape)}.")
    return Problem("chain-rule", seed, size, difficulty, equation, question, tensors, Blank(label, index), answer,
                   tuple(line for line in worked if line), **extra)
