"""Programs from two well-known tutorial series, run unchanged under PyTorch 2.13 and under glassgrad
(``import torch`` giving glassgrad), with the same numbers (rtol 1e-4 in float32, 1e-9 in float64):

* PyTorch's ``torch.func`` tutorials: per-sample gradients (``vmap(grad(loss), in_dims=(None, 0, 0))`` over
  ``functional_call``, against a loop of ``.backward()``), model ensembling (``stack_module_state`` and a base
  model on the meta device), Jacobians and Hessians (``vjp``, ``jacrev``, ``jacfwd``, ``hessian``, hvp as
  ``jvp(grad(f))``), and the empirical neural tangent kernel (``jacrev`` + ``einsum``, and ``vjp``/``jvp`` under
  ``vmap``).
* makemore part 4 ("becoming a backprop ninja": every gradient of a character MLP derived by hand and compared with
  autograd's) and part 5 (the hand-written layer classes of a WaveNet-style hierarchical model, trained by SGD).

Weights and data come from seeded NumPy, so both libraries start from the same numbers.
The programs live in ``tests/learner_programs/func_and_makemore/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learner_programs import assert_pytorchs_numbers

FUNC_AND_MAKEMORE_PROGRAMS = Path(__file__).parent / "learner_programs" / "func_and_makemore"
PROGRAMS = sorted(FUNC_AND_MAKEMORE_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_func_or_makemore_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)
