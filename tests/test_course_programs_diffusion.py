"""Programs written the way diffusion-model courses and tutorials write PyTorch (DDPM from scratch with a small UNet,
an EMA of the weights, DDPM/DDIM samplers with eps-, x0- and v-prediction, classifier-free guidance, score matching
with Langevin sampling, a callback Learner with activation hooks and a one-cycle schedule, latent-diffusion
conditioning blocks, Karras sigmas with Euler/Heun samplers and rectified flow), each run unchanged under PyTorch
2.13 and under glassgrad (``import torch`` giving glassgrad), with the same numbers: rtol 1e-4 in float32, 1e-9 in
float64. Weights, data and noise come from NumPy so both start alike; random draws are compared only by shape.

The programs live in ``tests/learner_programs/diffusion/``; below them, what glassgrad once did differently."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learner_programs import assert_pytorchs_numbers

DIFFUSION_PROGRAMS = Path(__file__).parent / "learner_programs" / "diffusion"
PROGRAMS = sorted(DIFFUSION_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_diffusion_course_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program, same_warnings=True)
