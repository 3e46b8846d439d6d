"""Random numbers drawn with NumPy inside a compiled step: ``np.random.rand()`` named through the ``np`` module, a
NumPy ``Generator`` (``rng = np.random.default_rng(0)``: ``rng.random()``, ``rng.integers``), held by name or passed
as an argument.

Only Python's ``random`` and functions taken from NumPy's global generator by name were found: these draws ran at
the captures only, and a replay took the captures' branch at every later call (a flip applied always, or never),
without a word. Now the step runs eagerly, saying why, and draws as eager does: the outputs are eager's, call by
call, from the same seeds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

CALLS = 12
RNG = [np.random.default_rng(0)]


def _module_rand(x):
    return x.flip(-1) if np.random.rand() < 0.5 else x * 1


def _generator(x):
    return x.flip(-1) if RNG[0].random() < 0.5 else x * 1


def _generator_integers(x):
    return x.flip(-1) if RNG[0].integers(0, 2) else x * 1


def _generator_argument(x, rng):
    return x.flip(-1) if rng.random() < 0.5 else x * 1


STEPS = {"np.random.rand()": _module_rand, "Generator.random()": _generator,
         "Generator.integers()": _generator_integers, "a Generator passed": _generator_argument}


def _firsts(step, compile_it):
    np.random.seed(1)
    RNG[0] = np.random.default_rng(1)
    passed = (np.random.default_rng(1),) if step is _generator_argument else ()
    run = gg.compile(step) if compile_it else step
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        firsts = [run(gg.tensor([1.0, 2.0]), *passed)[0].item() for _ in range(CALLS)]
    return firsts, [str(w.message) for w in caught]


@pytest.mark.parametrize("kind", sorted(STEPS))
def test_a_step_drawing_with_numpy_runs_eagerly_and_draws_as_eager(kind):
    (eager, _), (compiled, messages) = _firsts(STEPS[kind], False), _firsts(STEPS[kind], True)
    assert compiled == eager and len(set(eager)) == 2  # both branches taken
    assert len(messages) == 1 and "draws random numbers outside glassgrad's kernels" in messages[0], messages
