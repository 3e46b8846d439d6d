"""Programs in the spirit of the University of Amsterdam deep-learning tutorials, run unchanged under PyTorch 2.13
and under glassgrad (``import torch`` giving glassgrad), with the same numbers (rtol 1e-4 in float32, 1e-9 in
float64):

* activation functions as ``nn.Module`` subclasses (sigmoid, tanh, ReLU, LeakyReLU, ELU, Swish), their gradients
  over a grid by ``x.grad`` and ``torch.autograd.grad``, and the gradient each layer of a deep network receives;
* optimizers written from scratch as ``OptimizerTemplate`` subclasses (SGD, SGD with momentum, Adam with bias
  correction) on a pathological curvature function and a small MLP, next to ``torch.optim``'s;
* a Transformer piece by piece: masked ``scaled_dot_product``, multi-head attention with one fused qkv ``Linear``,
  an encoder block, a positional-encoding buffer, a cosine-warmup ``_LRScheduler`` subclass, on reversing digits;
* graph networks on a dense adjacency matrix: a GCN layer (``torch.bmm``), GAT layers (``nonzero``,
  ``index_select``, ``masked_fill`` with -9e15, ``einsum``), and node classification;
* a normalizing flow: dequantization, checkerboard and channel-masked affine coupling layers with a gated
  convolutional network, a squeeze flow, bits per dimension and the flow run in reverse;
* an energy-based model sampled by Langevin dynamics (``torch.set_grad_enabled``, and ``torch.autograd.grad`` under
  ``torch.enable_grad()`` inside ``torch.no_grad()``) and trained by contrastive divergence.

Weights and data come from seeded NumPy, and random draws are replaced by fixed tables, so both libraries take the
same steps. The programs live in ``tests/learner_programs/uva_dl/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learner_programs import assert_pytorchs_numbers

UVA_DL_PROGRAMS = Path(__file__).parent / "learner_programs" / "uva_dl"
PROGRAMS = sorted(UVA_DL_PROGRAMS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_uva_deep_learning_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program, same_warnings=True)
