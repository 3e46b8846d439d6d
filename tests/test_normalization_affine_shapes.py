"""γ and β of the functional normalizations must have PyTorch's shape: one entry per channel for ``group_norm``,
``instance_norm`` and ``batch_norm``, the normalised dims' shape for ``layer_norm`` and ``rms_norm``.

A γ of another shape used to broadcast silently in ``group_norm``, ``instance_norm`` and ``rms_norm`` (shape (1,):
one scale for all channels; shape (N, D) in ``rms_norm``: a scale per sample), or fail inside a multiplication
(``GroupNorm(2, 4)`` given 6 channels: "mul: shapes (2, 6, 3) and (4, 1) cannot be broadcast"). PyTorch refuses
each with a RuntimeError; so does glassgrad, naming the function, the shape and the one it needs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional

CALLS = {  # name: call(library, x, γ) for an input x of shape (N, C, L) and γ to check against C (or L)
    "group_norm": lambda lib, x, weight: lib.nn.functional.group_norm(x, 1, weight),
    "group_norm bias": lambda lib, x, weight: lib.nn.functional.group_norm(x, 1, None, weight),
    "instance_norm": lambda lib, x, weight: lib.nn.functional.instance_norm(x, weight=weight),
    "batch_norm": lambda lib, x, weight: lib.nn.functional.batch_norm(x, None, None, weight, training=True),
    "rms_norm": lambda lib, x, weight: lib.nn.functional.rms_norm(x, (x.shape[-1],), weight),
    "layer_norm": lambda lib, x, weight: lib.nn.functional.layer_norm(x, (x.shape[-1],), weight),
}
PER_POSITION = {"rms_norm", "layer_norm"}  # γ over the last dim; the others one per channel (dim 1)


def _wrong_shapes(size: int) -> list[tuple[int, ...]]:
    return [shape for shape in [(1,), (size + 1,), (size, 1), (2, size)] if shape != (size,)]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(sorted(CALLS)), st.integers(2, 4), st.integers(2, 5), st.data())
def test_a_gamma_of_another_shape_is_refused_by_name(name: str, channels: int, length: int, data) -> None:
    size = length if name in PER_POSITION else channels
    shape = data.draw(st.sampled_from(_wrong_shapes(size)))
    x = gg.tensor(np.random.default_rng(0).normal(size=(2, channels, length)))
    with pytest.raises(RuntimeError, match="shape"):
        CALLS[name](gg, x, gg.ones(shape, dtype=gg.float64))


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(sorted(CALLS)), st.integers(2, 4), st.integers(2, 5), st.data())
def test_pytorch_refuses_the_same_shapes_and_agrees_on_the_right_one(name: str, channels: int, length: int,
                                                                       data) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    size = length if name in PER_POSITION else channels
    values = np.random.default_rng(1).normal(size=(2, channels, length))
    wrong = data.draw(st.sampled_from(_wrong_shapes(size)))
    with pytest.raises(RuntimeError):
        CALLS[name](torch, torch.tensor(values), torch.ones(wrong, dtype=torch.float64))
    gamma = np.linspace(0.5, 2.0, size)
    mine = CALLS[name](gg, gg.tensor(values), gg.tensor(gamma))
    theirs = CALLS[name](torch, torch.tensor(values), torch.tensor(gamma))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_group_norm_module_given_other_channels_names_the_problem() -> None:
    with pytest.raises(RuntimeError, match=r"group_norm: weight has shape \(4,\) but the input has 6 channels"):
        gg.nn.GroupNorm(2, 4)(gg.ones(2, 6, 3))
