"""Programs written the way popular books teach PyTorch ("Deep Learning with PyTorch", "Machine Learning with
PyTorch and Scikit-Learn", fast.ai's "from the foundations"), each run unchanged under PyTorch 2.13 and under
glassgrad (``import torch`` giving glassgrad), with the same numbers: rtol 1e-4 in float32, 1e-9 in float64.

The programs live in ``tests/learner_programs/books/``; below them, what they once did wrong here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_learner_programs import TOLERANCE, assert_close, run

import glassgrad as gg

BOOKS = Path(__file__).parent / "learner_programs" / "books"
PROGRAMS = sorted(BOOKS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_book_program_gives_pytorchs_numbers(program, torch):
    theirs = run(program)
    ours = run(program, "--glassgrad")
    assert ours["dtype"] == theirs["dtype"]
    assert_close(ours["results"], theirs["results"], TOLERANCE[theirs["dtype"]], program.stem)


@pytest.mark.torch
@given(rows=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_a_model_wrapped_in_data_parallel_runs_and_unwraps_as_pytorchs(rows, seed, torch):
    """Deep Learning with PyTorch's training script wraps the model in ``nn.DataParallel`` when it finds GPUs and,
    before saving, always asks ``isinstance(model, nn.DataParallel)`` to unwrap ``model.module``: glassgrad had
    no ``nn.DataParallel`` (AttributeError). On a CPU PyTorch's wrapper calls the model as it is."""
    rng = np.random.default_rng(seed)
    x, weight, bias = rng.normal(size=(rows, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    found = []
    for library in (gg, torch):
        model = library.nn.Linear(3, 2).double()
        model.load_state_dict({"weight": library.tensor(weight), "bias": library.tensor(bias)})
        wrapped = library.nn.DataParallel(model)
        out = wrapped(library.tensor(x))
        out.pow(2).sum().backward()
        unwrapped = wrapped.module if isinstance(wrapped, library.nn.DataParallel) else wrapped
        found.append((out.detach().numpy(), model.weight.grad.numpy(), list(wrapped.state_dict()),
                      unwrapped is model, wrapped.device_ids,
                      library.nn.parallel.DataParallel is library.nn.DataParallel))
    (out, grad, *rest), (their_out, their_grad, *their_rest) = found
    np.testing.assert_allclose(out, their_out, rtol=1e-12)
    np.testing.assert_allclose(grad, their_grad, rtol=1e-12)
    assert rest == their_rest
