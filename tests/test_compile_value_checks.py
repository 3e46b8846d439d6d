"""Checks of values that an op makes in Python before it computes (an integer divisor holding 0, a triangular
system's zero diagonal, ``mvlgamma``'s domain, ``lu_unpack``'s pivots), and a permutation worked out in Python from
the pivots, inside a ``gg.compile``d step.

They ran only on the capture calls: a later call's bad values went through the replayed NumPy kernels without a
word (integer ``//`` by 0 gave 0 with NumPy's warning, a singular triangular solve gave inf, ``mvlgamma`` out of its
domain gave a number) where eager refuses in one line. Each check is now a kernel of the step, run at every call.
The oracle is eager: the same results on the good calls, bit for bit, and the same error at the bad one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

GOOD = 4


def _outcomes(wrap, step, inputs):
    step = wrap(step)
    seen = []
    for x in inputs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # NumPy's divide-by-zero warning, or a refusal to compile, fails
                seen.append(step(x).numpy().copy())
        except (RuntimeError, gg.linalg.LinAlgError) as error:
            seen.append(f"{type(error).__name__}: {error}")
    return seen, step


CASES = {
    "integer //": (lambda x: x // (x - 2), [gg.tensor([3, 5, 7])] * GOOD + [gg.tensor([2, 5, 7])]),
    "integer %": (lambda x: x % (x - 2), [gg.tensor([3, 5, 7])] * GOOD + [gg.tensor([3, 2, 7])]),
    "solve_triangular": (lambda a: gg.linalg.solve_triangular(a, gg.ones(2, 1, dtype=a.dtype), upper=True),
                         [gg.tensor([[1.0, 2.0], [0.0, 3.0]])] * GOOD + [gg.tensor([[1.0, 2.0], [0.0, 0.0]])]),
    "mvlgamma": (lambda x: gg.mvlgamma(x, 2), [gg.tensor([2.0, 3.0])] * GOOD + [gg.tensor([0.2, 3.0])]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_value_after_the_captures_is_refused_as_eager_refuses_it(case):
    function, inputs = CASES[case]
    eager, _ = _outcomes(lambda step: step, function, inputs)
    compiled, step = _outcomes(gg.compile, function, inputs)
    assert isinstance(eager[-1], str)  # eager refuses the last call
    assert compiled[-1] == eager[-1]
    for mine, theirs in zip(compiled[:-1], eager[:-1], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert sum(entry.replays for entry in step.entries.values()) == GOOD - 2 + 1  # the bad call is a replay too


def test_an_antialiased_shrink_runs_eagerly_as_its_way_depends_on_the_values():
    """``interpolate(antialias=True)`` shrinking by many entries per output takes one matrix product where the input
    is finite, else one read per tap (a NaN reaches only the outputs that read it). A replay kept the captures' way:
    a NaN in a later call reached every output. Now such a step runs eagerly, saying why; the outputs are eager's."""
    def run(wrap):
        step = wrap(lambda x: gg.nn.functional.interpolate(x, size=(2, 2), mode="bilinear", antialias=True))
        rng = np.random.default_rng(0)
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for call in range(5):
                batch = rng.standard_normal((1, 1, 32, 32))
                if call == 4:
                    batch[0, 0, 0, 0] = np.nan
                seen.append(step(gg.tensor(batch)).numpy().copy())
        return seen, [str(warning.message) for warning in caught]

    eager, _ = run(lambda step: step)
    compiled, messages = run(gg.compile)
    for mine, theirs in zip(compiled, eager, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert np.isnan(compiled[-1]).sum() == 1
    assert len(messages) == 1 and "antialiased resize" in messages[0] and "running it eagerly" in messages[0]


def _factored(matrices):
    return [gg.linalg.lu_factor(gg.tensor(matrix)) for matrix in matrices]


SWAPPED = [np.array([[1.0, 2.0], [3.0, 4.0]])] * GOOD + [np.array([[4.0, 2.0], [3.0, 1.0]])]


@pytest.mark.parametrize("use", ["lu_unpack", "lu_solve"])
def test_a_permutation_worked_out_from_pivots_is_worked_out_at_every_call(use):
    """``lu_unpack`` and ``lu_solve`` turn the pivots into P in Python: a replay kept the captures' P (the identity),
    and the last call, whose factorisation swapped the rows, came out wrong without a word. P is now a kernel."""
    def step(lu, pivots):
        if use == "lu_unpack":
            return gg.lu_unpack(lu, pivots)[0] * 1.0
        return gg.linalg.lu_solve(lu, pivots, gg.ones(2, 1, dtype=lu.dtype))

    runs = []
    for wrap in (lambda function: function, gg.compile):
        compiled = wrap(step)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            runs.append([compiled(lu, pivots).numpy().copy() for lu, pivots in _factored(SWAPPED)])
    for mine, theirs in zip(runs[1], runs[0], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert sum(entry.replays for entry in compiled.entries.values()) == GOOD - 1


def test_bad_pivots_after_the_captures_are_refused_as_eager_refuses_them():
    lu, pivots = _factored(SWAPPED[:1])[0]
    inputs = [(lu, pivots)] * GOOD + [(lu, gg.tensor(np.array([3, 1], dtype=np.int32)))]
    outcomes = []
    for wrap in (lambda function: function, gg.compile):
        step, seen = wrap(lambda lu, pivots: gg.lu_unpack(lu, pivots)[0] * 1.0), []
        for arguments in inputs:
            try:
                seen.append(step(*arguments).numpy().copy())
            except RuntimeError as error:
                seen.append(str(error))
        outcomes.append(seen)
    assert "pivots must have shape" in outcomes[0][-1]
    assert outcomes[1][-1] == outcomes[0][-1]


def test_geqrf_in_a_compiled_step_factorizes_each_calls_matrix():
    """``geqrf`` called SciPy's LAPACK in Python, outside the kernels: where the two captures met one matrix, a
    replay gave their ``(a, tau)`` for every later matrix, without a word. It is now one kernel of the step."""
    def step(a):
        packed, tau = gg.geqrf(a)
        return packed.sum() + tau.sum()

    rng = np.random.default_rng(0)
    same = rng.normal(size=(3, 3))
    matrices = [same, same, *rng.normal(size=(4, 3, 3))]
    compiled = gg.compile(step)
    for matrix in matrices:
        assert compiled(gg.tensor(matrix)).item() == step(gg.tensor(matrix)).item()
    assert sum(entry.replays for entry in compiled.entries.values()) == len(matrices) - 2
