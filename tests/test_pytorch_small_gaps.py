"""Small differences from PyTorch 2.13, each checked against it: ``tensor()``'s error type for data that is not
numbers, ``torch.save``'s return value under :mod:`glassgrad.torch_names`, and ``F.normalize(…, out=)``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra import numpy as hnp

import glassgrad as gg

NOT_NUMBERS = (["a"], [["a"]], (("a",),), ["ab", "cd"], "abc", [1, "a"], [[1], ["a"]], [b"x"], [None], [1, None],
               [[None]], [{}], np.array(["a"]), np.array([None]))


@pytest.mark.parametrize("data", NOT_NUMBERS, ids=repr)
def test_tensor_of_data_that_is_not_numbers_raises_pytorchs_type_in_one_line(torch, data):
    with pytest.raises(Exception) as theirs:
        torch.tensor(data)
    with pytest.raises(Exception) as mine:
        gg.tensor(data)
    assert mine.type is theirs.type
    assert "\n" not in str(mine.value) and "give numbers" in str(mine.value)


def test_torch_save_returns_none_as_pytorchs_and_gg_save_the_path(tmp_path):
    program = ("from glassgrad import torch_names; torch_names.install()\nimport io, sys, torch\n"
               "print(torch.save({'w': torch.ones(2)}, sys.argv[1]), torch.save(torch.ones(2), io.BytesIO()))\n"
               "print(torch.load(sys.argv[1])['w'].tolist())")
    shown = subprocess.run([sys.executable, "-c", program, str(tmp_path / "m.pt")], capture_output=True, text=True,
                           check=True)
    assert shown.stdout.split("\n")[:2] == ["None None", "[1.0, 1.0]"]
    assert gg.save({"w": gg.ones(2)}, tmp_path / "n.pt") == tmp_path / "n.pt"


@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4),
                    elements={"min_value": -10, "max_value": 10}))
def test_normalize_writes_into_out_as_pytorchs(torch, x):
    results = []
    for lib in (gg, torch):
        out = lib.zeros(0, dtype=lib.float64)
        returned = lib.nn.functional.normalize(lib.tensor(x), p=3.0, dim=-1, out=out)
        assert returned is out
        results.append(out.numpy())
    np.testing.assert_allclose(*results, rtol=1e-12, atol=1e-300)


def test_normalize_out_refuses_an_input_that_requires_grad_as_pytorch(torch):
    for lib in (gg, torch):
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
            lib.nn.functional.normalize(lib.ones(2, 2, requires_grad=True), out=lib.zeros(2, 2))


def _pieces_changed_in_place(lib, array, dim):
    """Each piece of x.unbind(dim) doubled in place: x afterwards (a piece is a view of x)."""
    x = lib.tensor(array)
    for piece in x.unbind(dim):
        piece.mul_(2)
    return x.tolist()


@given(array=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
                        elements={"min_value": -4.0, "max_value": 4.0}))
def test_an_in_place_change_of_a_piece_of_unbind_reaches_the_tensor_as_in_torch(torch, array):
    """A 0-d piece (unbind of a 1-d tensor) was a copy, not a view: x.unbind()[0].mul_(2) left x as it was."""
    for dim in range(array.ndim):
        assert _pieces_changed_in_place(gg, array, dim) == _pieces_changed_in_place(torch, array, dim)
