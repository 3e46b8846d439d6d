"""Programs written the way probabilistic and scientific machine learning courses write their PyTorch (Gaussian-process
regression from scratch with Cholesky solves and fitted hyperparameters, RealNVP and planar normalizing flows,
variational inference with the reparameterization trick and a Gumbel-softmax, a mixture density network, EM for a
Gaussian mixture and k-means, PCA four ways and probabilistic PCA, a neural ODE through a hand-written RK4, a
Hamiltonian network and a Hamiltonian Monte Carlo step, a Kalman filter and smoother, Bayesian logistic regression
with a Laplace approximation), each run unchanged under PyTorch 2.13 and under glassgrad (``import torch`` giving
glassgrad), with the same numbers: rtol 1e-9 in float64. Weights, data and noise come from NumPy so both start
alike; random draws are compared only by shape.

The programs live in ``tests/learner_programs/probml/``; below them, what glassgrad once did differently."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

PROBML_PROGRAMS = Path(__file__).parent / "learner_programs" / "probml"
PROGRAMS = sorted(PROBML_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_probabilistic_ml_course_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)
