"""Practice kinds that make the learner do the step they are named for: a chain-rule problem needs
at least two chained steps, a ReLU-backward problem always has a mask that blocks something (and
often asks about a blocked entry), and forward-blank and backward-blank differ for one seed."""

from __future__ import annotations

import numpy as np
import pytest

from glassgrad.practice import generate
from glassgrad.practice.chain_rule import CHAINS
from glassgrad.practice.network import network_steps

SEEDS = range(200)


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_chain_rule_hides_every_gradient_in_between(difficulty):
    seen = set()
    for seed in SEEDS:
        problem = generate("chain-rule", seed, difficulty=difficulty)
        links = problem.equation.count(";") + 1
        assert links >= 2, f"seed {seed}: {problem.equation} is one step"
        shown = set(problem.tensors) - {problem.blank.tensor}
        hidden = {"∂L/∂A₁", "∂L/∂Z₁"} if "W₂ᵀ" in problem.equation else {"∂L/∂ŷ"}
        assert not shown & hidden, f"seed {seed}: the in-between gradient {shown & hidden} is given"
        assert problem.check(str(problem.answer)).correct
        seen.add(problem.blank.tensor)
    assert seen == {label for label, _, _ in CHAINS}


def test_chain_rule_answer_is_the_engines_gradient_through_the_chain():
    """Recompute from the shown numbers alone (W₂, ∂L/∂ŷ, Z₁, x) with NumPy: ∂L/∂W₁ = ((W₂ᵀ·∂L/∂ŷ) ⊙ [Z₁ > 0])·xᵀ."""
    checked = 0
    for seed in SEEDS:
        problem = generate("chain-rule", seed)
        if problem.blank.tensor != "∂L/∂W₁":
            continue
        t = {name: np.array(values.tolist(), dtype=object) for name, values in problem.tensors.items()}
        w2, upstream, z1, x = (t[n].astype(float) for n in ("W₂", "∂L/∂ŷ", "Z₁", "x"))
        expected = ((w2.T @ upstream) * (z1 > 0)) @ x.T
        assert float(problem.answer) == pytest.approx(expected[problem.blank.index])
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_relu_backward_always_exercises_the_mask(difficulty):
    blocked_blanks = 0
    for seed in SEEDS:
        problem = generate("relu-backward", seed, difficulty=difficulty)
        z = np.array([float(v) for v in problem.tensors["Z"]])
        assert (z > 0).any() and (z <= 0).any(), f"seed {seed}: Z = {z} has one sign only"
        blocked_blanks += z[problem.blank.index] <= 0
    assert 0.3 * len(SEEDS) <= blocked_blanks <= 0.7 * len(SEEDS)


def test_forward_and_backward_blank_are_different_arithmetic_for_one_seed():
    same = 0
    for seed in SEEDS:
        forward, backward = generate("forward-blank", seed), generate("backward-blank", seed)
        same += [v.tolist() for v in forward.tensors.values()] == [v.tolist() for v in backward.tensors.values()]
    assert same <= 2


def test_the_chain_steps_exist_in_the_network():
    names = {step.name for step in network_steps(**_weights())}
    assert all(set(chain) <= names for _, chain, _ in CHAINS)


def _weights():
    from glassgrad.practice.network import small_network
    from glassgrad.practice.numbers import seeded

    rng = seeded(0)
    return small_network(rng, 3, 3, 2, lambda shape: rng.integers(-1, 2, size=shape))
