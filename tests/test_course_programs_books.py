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
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

BOOKS = Path(__file__).parent / "learner_programs" / "books"
PROGRAMS = sorted(BOOKS.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_book_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)


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


def _served_model(library, weights):
    """A small segmenter, its weights loaded, in eval mode with frozen parameters, as a book readies it to serve."""
    nn = library.nn
    model = nn.Sequential(nn.BatchNorm2d(2), nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 1, 1),
                          nn.Sigmoid()).double()
    model.load_state_dict({name: library.tensor(value) for name, value in weights.items()})
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _weights(seed):
    rng = np.random.default_rng(seed)
    shapes = {"0.weight": (2,), "0.bias": (2,), "0.running_mean": (2,), "0.running_var": (2,),
              "1.weight": (3, 2, 3, 3), "1.bias": (3,), "3.weight": (1, 3, 1, 1), "3.bias": (1,)}
    weights = {name: rng.normal(size=shape) for name, shape in shapes.items()}
    weights["0.running_var"] = np.abs(weights["0.running_var"]) + 0.5
    weights["0.num_batches_tracked"] = np.array(3)
    return weights, rng.normal(size=(2, 2, 5, 5))


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PyTorch 2.13 suggests torch.export over torch.jit
@given(seed=st.integers(0, 2**16), how=st.sampled_from(["trace", "script"]))
def test_a_traced_or_scripted_model_gives_pytorchs_numbers(seed, how, torch):
    """Deep Learning with PyTorch readies its segmentation model for serving with ``torch.jit.trace(model,
    dummy_input)`` (or ``torch.jit.script``) and calls the result: glassgrad had no ``torch.jit``
    (AttributeError). Here both give the model back, whose numbers are those of PyTorch's TorchScript module."""
    weights, x = _weights(seed)
    outputs = []
    for library in (gg, torch):
        model = _served_model(library, weights)
        dummy_input = library.zeros(1, 2, 5, 5, dtype=library.float64)
        served = library.jit.trace(model, dummy_input) if how == "trace" else library.jit.script(model)
        outputs.append(served(library.tensor(x)).numpy())
    np.testing.assert_allclose(*outputs, rtol=1e-12)


@pytest.mark.torch
def test_torch_jits_decorators_and_questions_answer_as_in_pytorchs_eager_mode(torch):
    for library in (gg, torch):
        @library.jit.ignore
        def plain(x):
            return x * 2

        @library.jit.unused
        def unused(x):
            return x + 1

        assert plain(3) == 6 and unused(3) == 4
        assert library.jit.is_scripting() is False and library.jit.annotate(list, []) == []
    with pytest.raises(RuntimeError, match=r"^torch.jit.save: TorchScript archives hold compiled code.*state_dict"):
        gg.jit.save(gg.nn.Linear(1, 1), "model.pt")
    with pytest.raises(RuntimeError, match=r"^torch.jit.load: "):
        gg.jit.load("model.pt")
