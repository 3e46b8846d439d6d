"""Programs that take second derivatives the way learners meet them — a WGAN-GP critic step (the gradient penalty
``(‖∇ₓD(x̂)‖ − 1)²``), a physics-informed network fitting ``u'' = f`` with ``torch.autograd.grad`` twice, and a
MAML inner/outer step (``create_graph=True`` grads, fast weights through ``torch.func.functional_call`` and a
hand-written functional forward) — each run unchanged under PyTorch 2.13 and under glassgrad (``import torch``
giving glassgrad), with the same numbers: rtol 1e-9 in float64. Weights and data come from seeded NumPy.

The programs live in ``tests/learner_programs/second_order/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learner_programs import assert_pytorchs_numbers

SECOND_ORDER_PROGRAMS = Path(__file__).parent / "learner_programs" / "second_order"
PROGRAMS = sorted(SECOND_ORDER_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_second_order_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)
