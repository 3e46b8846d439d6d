"""Programs written the way decoder-only GPT code is written today (nanoGPT's model, training loop and sampling; the
"build a large language model from scratch" GPT with a hand-written LayerNorm and GELU, saved and resumed) and the
way classic word vectors are trained (skip-gram with negative sampling), each run unchanged under PyTorch 2.13 and
under glassgrad (``import torch`` giving glassgrad), with the same numbers: rtol 1e-4 in float32, 1e-9 in float64.
Weights and data come from NumPy so both start alike; random draws (multinomial sampling, dropout) are compared only
by shape, as the libraries draw differently by design.

The programs live in ``tests/learner_programs/gpt/``; below them, what they once did wrong here."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learner_programs import assert_pytorchs_numbers

GPT_PROGRAMS = Path(__file__).parent / "learner_programs" / "gpt"
PROGRAMS = sorted(GPT_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_gpt_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)
