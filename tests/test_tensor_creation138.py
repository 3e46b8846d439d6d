"""Round 138: the leniencies left in making tensors, against PyTorch 2.13 CPU: a tensor with a dim where PyTorch
wants a number (``linspace``/``logspace``'s ends, ``new_full``'s fill value, ``scalar_tensor``, ``range``), a bare
int where PyTorch wants a tuple of sizes (``full(2, 1.)``, ``zeros(size=2)``, ``randint(0, 5, 2)``, ``x.view(size=4)``
…), NumPy numbers inside lists (``tensor([np.bool_(True), 2])``), and a hypothesis differential over (creation
function × argument form × dtype). The values, dtype and shape, or the exception class, with glassgrad's message one
line."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

# Each is evaluated with T as torch and as glassgrad (random results: dtype and shape only).
NUMBER_OR_0D = [
    'T.linspace(T.tensor([0.]), 1, 3)',
    'T.linspace(0, T.tensor([1.]), 3)',
    'T.linspace(T.tensor([[0.]]), 1, 3)',
    'T.linspace(T.tensor([0., 1.]), 1, 3)',
    'T.linspace(T.tensor(0.), T.tensor(1.), 3)',
    'T.linspace(T.tensor(0), 1, T.tensor(3))',
    'T.linspace(0, 1, T.tensor([3]))',
    'T.logspace(T.tensor([0.]), 1, 3)',
    'T.logspace(0, T.tensor([1., 2.]), 3)',
    'T.logspace(T.tensor(0.), 1, 3)',
    'T.logspace(0, 1, 3, base=T.tensor(2.))',
    'T.logspace(0, 1, 3, base=T.tensor([2.]))',
    'T.range(T.tensor([0.]), 3)',
    'T.range(0, 3, T.tensor([1.]))',
    'T.range(0, T.tensor(3.))',
    'T.scalar_tensor(T.tensor([1.]))',
    'T.scalar_tensor(T.tensor(1.5))',
    'T.zeros(2).new_full((2,), T.tensor([1.]))',
    'T.zeros(2).new_full((2,), T.tensor([1., 2.]))',
    'T.zeros(2).new_full((2,), np.array(1.))',
    'T.zeros(2).new_full((2,), np.array([1.]))',
    'T.zeros(2).new_full((2,), T.tensor(1.5))',
    'T.zeros(2, dtype=T.int64).new_full((2,), T.tensor(1))',
    'T.zeros(2).new_full((2,), np.float32(1.5))',
    "T.zeros(2).new_full((2,), 'a')",
    'T.full((2,), T.tensor([1.]))',
    'T.full_like(T.zeros(2), T.tensor([1.]))',
]

SIZES = [
    'T.full(2, 1.)',
    'T.full(size=2, fill_value=1.)',
    'T.full(np.int64(2), 1.)',
    'T.full(T.tensor(2), 1.)',
    'T.full([2], 1.)',
    'T.empty(size=2)',
    'T.zeros(size=2)',
    'T.ones(size=2)',
    'T.zeros(size=np.int64(2))',
    'T.zeros(size=T.tensor(3))',
    'T.zeros(size=[2])',
    'T.zeros(size=T.Size([2, 1]))',
    'T.zeros(size=(T.tensor(2),))',
    'T.zeros(size=())',
    'T.zeros(np.int64(2))',
    'T.zeros(T.tensor(3))',
    'T.randn(size=3)',
    'T.rand(size=3)',
    'T.randn(size=(3,))',
    'T.randint(0, 5, 2)',
    'T.randint(0, 5, size=2)',
    'T.randint(5, size=2)',
    'T.randint(0, 5, T.tensor(2))',
    'T.randint(5, (2,))',
    'T.randint(0, 5, [2])',
    'T.normal(0., 1., size=2)',
    'T.normal(0., 1., 2)',
    'T.normal(0., 1., size=(2,))',
    'T.empty_strided(2, (1,))',
    'T.empty_strided((2,), 1)',
    'T.empty_strided((2,), (1,))',
    'T.zeros(2).new_zeros(size=2)',
    'T.zeros(2).new_ones(size=2)',
    'T.zeros(2).new_empty(size=2)',
    'T.zeros(2).new_zeros(2)',
    'T.zeros(2).new_full(2, 1.)',
    'T.zeros(4).view(size=4)',
    'T.zeros(4).view(4)',
    'T.zeros(4).reshape(shape=4)',
    'T.zeros(4).expand(size=4)',
    'T.zeros(4).repeat(repeats=2)',
    'T.zeros(4).permute(dims=0)',
    'T.zeros(4).tile(dims=2)',
    'T.tile(T.zeros(4), dims=2)',
    'T.zeros(4).flip(dims=0)',
    'T.flip(T.zeros(4), dims=0)',
    'T.zeros(4).sum_to_size(size=4)',
    'T.zeros(2, 3).view(size=(3, 2))',
]

RANDOM = ("randn", "rand", "randint", "normal", "empty")


def _outcome(lib, source: str) -> tuple:
    """What ``source`` gives with ``T`` as ``lib``: ("raises", class name, line count) or ("ok", dtype, shape,
    values); values are None for a random or empty result."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = eval(source, {"T": lib, "np": np})
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return ("raises", type(error).__name__, len(str(error).splitlines()))
    array = result.detach().numpy()
    random = any(f"T.{name}" in source or f".new_{name}" in source for name in RANDOM)
    return ("ok", str(array.dtype), tuple(array.shape), None if random else array.tolist())


def _same(torch, source: str) -> None:
    expected, got = _outcome(torch, source), _outcome(gg, source)
    if expected[0] == "raises":
        assert got[:2] == expected[:2], (source, got, expected)
        assert got[2] == 1, (source, "glassgrad's message is one line")
    else:
        assert got[:3] == expected[:3], (source, got, expected)
        if expected[3] is not None:
            np.testing.assert_array_equal(np.array(got[3], dtype=float), np.array(expected[3], dtype=float), source)


@pytest.mark.parametrize("source", NUMBER_OR_0D)
def test_a_number_or_a_0d_tensor_as_pytorch(torch, source):
    _same(torch, source)


@pytest.mark.parametrize("source", SIZES)
def test_sizes_as_one_argument_as_pytorch(torch, source):
    _same(torch, source)


def test_messages_name_the_fix():
    with pytest.raises(RuntimeError, match=r"linspace only supports 0-dimensional .* give a number or a 0-d tensor"):
        gg.linspace(gg.tensor([0.0]), 1, 3)
    with pytest.raises(TypeError, match=r"new_full: fill_value must be a number, not Tensor .*0-d tensor"):
        gg.zeros(2).new_full((2,), gg.tensor([1.0]))
    with pytest.raises(TypeError, match=r"full: size must be a tuple of ints, not int \(2\); give a tuple"):
        gg.full(2, 1.0)
    with pytest.raises(TypeError, match=r"reshape: shape must be a tuple of ints"):
        gg.zeros(4).reshape(shape=4)
