"""``Tensor.is_inference()``: True for a tensor made inside ``inference_mode()`` (an op's result, a factory's, a
comparison, an index), False outside it and inside ``inference_mode(False)``. The oracle is PyTorch 2.13."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis.extra import numpy as hnp

import glassgrad as gg

MADE = {  # how each tensor is made from a tensor w and a tensor x requiring grad, in both libraries
    "op on a plain tensor": lambda lib, w, x: w + 1,
    "op on one requiring grad": lambda lib, w, x: x * 2,
    "reduction": lambda lib, w, x: w.sum(),
    "activation": lambda lib, w, x: lib.nn.functional.relu(x),
    "comparison": lambda lib, w, x: w > 0,
    "argmax": lambda lib, w, x: w.argmax(),
    "max's indices": lambda lib, w, x: w.max(0).indices,
    "clone": lambda lib, w, x: w.clone(),
    "cat": lambda lib, w, x: lib.cat([w, x]),
    "zeros": lambda lib, w, x: lib.zeros(2),
    "full": lambda lib, w, x: lib.full((2,), 3.0),
    "tensor": lambda lib, w, x: lib.tensor([1.0]),
    "from_numpy": lambda lib, w, x: lib.from_numpy(np.ones(2)),
    "arange": lambda lib, w, x: lib.arange(3),
}


def made_in_modes(lib, array):
    """is_inference() of each tensor of MADE, made inside inference_mode(), inside inference_mode(False) in it, and
    under no_grad; then of an op outside, on a tensor made inside."""
    w, x = lib.tensor(array), lib.tensor(array, requires_grad=True)
    seen = {}
    with lib.inference_mode():
        inside = {name: make(lib, w, x) for name, make in MADE.items()}
        with lib.inference_mode(False):
            seen["inference_mode(False)"] = [make(lib, w, x).is_inference() for make in MADE.values()]
    with lib.no_grad():
        seen["no_grad"] = [make(lib, w, x).is_inference() for make in MADE.values()]
    seen["inside"] = {name: tensor.is_inference() for name, tensor in inside.items()}
    seen["outside, from an inference tensor"] = (inside["clone"] + 1).is_inference()
    seen["function form"] = lib.is_inference(inside["clone"])
    seen["inputs"] = (w.is_inference(), x.is_inference())
    return seen


@given(array=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=4)))
def test_tensors_made_inside_inference_mode_are_inference_tensors_as_in_torch(torch, array):
    mine, theirs = made_in_modes(gg, array), made_in_modes(torch, array)
    assert mine == theirs
    assert all(mine["inside"].values())
