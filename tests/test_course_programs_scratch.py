"""Programs written the way "from scratch" courses teach deep learning: backpropagation through a character-level
MLP by hand (each intermediate's gradient written out and checked against autograd), and the "dive into" style of
building linear and softmax regression, MLPs, dropout, batch norm, LeNet, RNN/GRU/LSTM cells, seq2seq, attention,
positional encodings, anchor boxes and optimizers out of tensor ops before using the library's layers. Each runs
unchanged under PyTorch 2.13 and under glassgrad (``import torch`` giving glassgrad), with the same numbers: rtol 1e-4
in float32, 1e-9 in float64. Weights and data come from NumPy so both start alike; random draws (``torch.normal``,
dropout masks) are compared only by shape or by what every draw satisfies.

The programs live in ``tests/learner_programs/scratch/``; below them, what they once did wrong here."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learner_programs import assert_pytorchs_numbers

SCRATCH = Path(__file__).parent / "learner_programs" / "scratch"
PROGRAMS = sorted(SCRATCH.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_from_scratch_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)
