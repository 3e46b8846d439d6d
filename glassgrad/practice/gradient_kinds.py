"""``relu-backward`` and ``softmax-ce-gradient`` problems: one local gradient, one blank.

relu-backward
    Given Z and the upstream gradient dA = ∂L/∂A of ``A = ReLU(Z)``, one entry of
    ``dZ = dA ⊙ ReLU′(Z)`` is blank (Z always has entries on both sides of 0, and half the blanks
    are where ReLU blocks the gradient), where ``ReLU′(z) = 1`` for ``z > 0`` and ``0`` otherwise
    (``ReLU′(0) = 0``, as in glassgrad and PyTorch). ``size`` is the vector length;
    difficulty 1 uses non-zero integers, 2 allows zeros in Z, 3 uses tenths. dZ comes from
    glassgrad's ``relu().backward(dA)``.

softmax-ce-gradient
    Softmax followed by cross-entropy has the famous gradient ``∂L/∂z = ŷ − y`` (y one-hot),
    divided by the batch size N for the mean over a batch. ``size`` is the number of classes.
    Difficulty 1 gives ŷ in tenths for one sample; 2 gives ŷ in hundredths for a batch of 2;
    3 gives the logits z (tenths) instead of ŷ, so the learner computes the softmax first: that
    answer is not a short decimal, so it is given to 4 places and accepted within ±0.001.
    ∂L/∂z comes from glassgrad's ``cross_entropy(...).backward()`` on logits ``z = ln ŷ``
    (whose softmax is ŷ) or on the given logits.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..nn.functional import cross_entropy
from .answers import DEFAULT_TOLERANCE
from .numbers import (
    engine_tensor,
    exact,
    factor_text,
    fraction_array,
    index_label,
    number_text,
    rounded,
    seeded,
    stated_label,
)
from .problem import Blank, Problem, with_blank

ROUNDED_PLACES = 4
ROUNDED_TOLERANCE = Fraction(1, 1000)


def relu_backward(seed: int, size: int = 4, difficulty: int = 1) -> Problem:
    """Given Z and dA, find one entry of dZ."""
    rng = seeded(seed)
    scale = 10 if difficulty == 3 else 1
    values = np.arange(-5 * scale, 5 * scale + 1) / scale
    if difficulty == 1:
        values = values[values != 0]
    pre_activation = rng.choice(values, size=size)
    upstream = rng.choice(values[values != 0], size=size)
    passing, blocked = rng.permutation(size)[:2]  # the mask always has both: one Z > 0 and one Z ≤ 0
    pre_activation[passing] = abs(pre_activation[passing]) or 1.0
    pre_activation[blocked] = -abs(pre_activation[blocked]) or -1.0
    masked = [i for i in range(size) if pre_activation[i] <= 0]
    open_ = [i for i in range(size) if pre_activation[i] > 0]
    pool = masked if rng.random() < 0.5 else open_  # half the blanks sit where ReLU blocks the gradient
    entry = int(pool[int(rng.integers(len(pool)))])
    if difficulty == 2 and entry in masked and rng.random() < 0.5:
        pre_activation[entry] = 0.0  # practise the convention ReLU'(0) = 0
    z = engine_tensor(pre_activation, requires_grad=True)
    z.relu().backward(engine_tensor(upstream))
    downstream = z.grad.array
    blank = Blank("dZ", (entry,))
    answer = exact(downstream[entry])
    z_value, upstream_value = exact(pre_activation[entry]), exact(upstream[entry])
    passes = z_value > 0
    label = index_label("dZ", blank.index, downstream.shape)
    solution = (
        "ReLU passes the gradient where Z > 0 and blocks it elsewhere: dZ = dA ⊙ ReLU′(Z), "
        "with ReLU′(z) = 1 for z > 0 and 0 otherwise (ReLU′(0) = 0).",
        f"{index_label('Z', blank.index, downstream.shape)} = {number_text(z_value)} "
        f"{'> 0' if passes else '≤ 0'}, so ReLU′ = {1 if passes else 0}.",
        f"{label} = {factor_text(upstream_value)}·{1 if passes else 0} = {number_text(answer)}",
    )
    tensors = {"Z": fraction_array(pre_activation), "dA": fraction_array(upstream),
               "dZ": with_blank(fraction_array(downstream), blank.index)}
    question = (f"A = ReLU(Z). Given Z and the upstream gradient dA = ∂L/∂A, fill in the blank in "
                f"dZ = ∂L/∂Z: the blank is {stated_label('dZ', blank.index, downstream.shape)}.")
    return Problem("relu-backward", seed, size, difficulty, "dZ = dA ⊙ ReLU′(Z)", question, tensors, blank,
                   answer, solution)


def softmax_ce_gradient(seed: int, size: int = 3, difficulty: int = 1) -> Problem:
    """Given ŷ (or the logits) and the target class, find one entry of ∂L/∂z."""
    rng = seeded(seed)
    batch = 2 if difficulty == 2 else 1
    targets = rng.integers(size, size=batch)
    onehot = np.eye(size)[targets]
    if difficulty == 3:
        logits_values = rng.integers(-20, 21, size=(1, size)) / 10
    else:
        parts = 10 if difficulty == 1 else 100
        counts = np.array([_split(rng, parts, size) for _ in range(batch)])
        probabilities = counts / parts
        logits_values = np.log(probabilities)  # softmax(ln ŷ) = ŷ, since the ŷ sum to 1
    logits = engine_tensor(logits_values, requires_grad=True)
    cross_entropy(logits, engine_tensor(targets).long()).backward()
    gradient = logits.grad.array
    probabilities = logits.softmax(dim=-1).array
    row, column = int(rng.integers(batch)), int(rng.integers(size))
    if batch == 1:
        gradient, probabilities, onehot, logits_values = gradient[0], probabilities[0], onehot[0], logits_values[0]
        index: tuple[int, ...] = (column,)
    else:
        index = (row, column)
    blank = Blank("∂L/∂z", index)
    label = index_label("∂L/∂z", index, gradient.shape)
    y_value = int(onehot[index])
    tensors = {"y": fraction_array(onehot)}
    if difficulty == 3:
        answer = rounded(gradient[index], ROUNDED_PLACES)
        probability = rounded(probabilities[index], ROUNDED_PLACES)
        tensors = {"z": fraction_array(logits_values), **tensors}
        solution = (
            "First the softmax: ŷ[k] = exp(z[k]) / Σⱼ exp(z[j]).",
            f"{index_label('ŷ', index, gradient.shape)} = exp({number_text(exact(logits_values[index]))}) / "
            f"({' + '.join(f'exp({number_text(exact(v))})' for v in logits_values)}) ≈ {number_text(probability)}",
            f"Then ∂L/∂z = ŷ − y: {label} ≈ {number_text(probability)} - {y_value} ≈ {number_text(answer)} "
            f"(4 decimal places).",
        )
        shown_gradient = fraction_array(gradient, lambda v: rounded(v, ROUNDED_PLACES))
        given = "the logits z"
    else:
        answer = exact(gradient[index])
        probability = exact(probabilities[index])
        tensors = {"ŷ": fraction_array(probabilities), **tensors}
        shown_gradient = fraction_array(gradient)
        difference = exact((engine_tensor(probabilities) - engine_tensor(onehot)).array[index])
        per_batch = (f"Averaged over the batch of N = {batch}: ∂L/∂z = (ŷ − y)/N." if batch > 1
                     else "For one sample: ∂L/∂z = ŷ − y.")
        solution = (
            "Softmax followed by cross-entropy has the gradient ŷ − y with respect to the logits z "
            "(y is one-hot: 1 for the target class, 0 elsewhere). " + per_batch,
            f"{label} = {'(' if batch > 1 else ''}{number_text(probability)} - {y_value}"
            f"{f')/{batch}' if batch > 1 else ''} = "
            + (f"{factor_text(difference)}/{batch} = " if batch > 1 else "") + number_text(answer),
        )
        given = "the softmax output ŷ"
    tensors["∂L/∂z"] = with_blank(shown_gradient, index)
    mean = f", averaged over a batch of {batch} (reduction 'mean')" if batch > 1 else ""
    question = (f"A classifier's logits z go through softmax and cross-entropy against the one-hot target y{mean}. "
                f"Given {given} and y, fill in the blank in ∂L/∂z: the blank is "
                f"{stated_label('∂L/∂z', index, gradient.shape)}.")
    equation = "∂L/∂z = (ŷ − y)/N" if batch > 1 else "∂L/∂z = ŷ − y,  ŷ = softmax(z)"
    exact_answer = difficulty != 3
    return Problem("softmax-ce-gradient", seed, size, difficulty, equation, question, tensors, blank, answer,
                   solution, exact=exact_answer, tolerance=DEFAULT_TOLERANCE if exact_answer else ROUNDED_TOLERANCE,
                   notes=() if exact_answer else ("∂L/∂z is given to 4 decimal places; answers within ±0.001 count.",))


def _split(rng: np.random.Generator, total: int, parts: int) -> np.ndarray:
    """``parts`` positive integers that add up to ``total`` (a random composition)."""
    cuts = np.sort(rng.choice(np.arange(1, total), size=parts - 1, replace=False))
    return np.diff(np.concatenate([[0], cuts, [total]]))
