"""``Tensor.is_inference()``: True for a tensor made inside ``inference_mode()`` (an op's result, a factory's, a
comparison, an index), False outside it and inside ``inference_mode(False)``. The oracle is PyTorch 2.13."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
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


# what a program does, outside inference_mode(), with an inference tensor x and a layer made inside it, and w
# requiring grad
OUTSIDE = {
    "w * x (saves x for w's gradient)": lambda lib, w, x, layer: (w * x).sum().backward(),
    "w / x": lambda lib, w, x, layer: (w / x).sum().backward(),
    "w ** x": lambda lib, w, x, layer: (w ** x).sum().backward(),
    "w @ x": lambda lib, w, x, layer: (w @ x).backward(),
    "mse_loss(w, x)": lambda lib, w, x, layer: lib.nn.functional.mse_loss(w, x).backward(),
    "w + x (saves nothing)": lambda lib, w, x, layer: (w + x).sum().backward(),
    "cat([w, x])": lambda lib, w, x, layer: lib.cat([w, x]).sum().backward(),
    "w * exp(x) (saves a normal tensor)": lambda lib, w, x, layer: (w * x.exp()).sum().backward(),
    "w * x.clone()": lambda lib, w, x, layer: (w * x.clone()).sum().backward(),
    "x * 2 (no grad)": lambda lib, w, x, layer: x * 2,
    "x.add_(1)": lambda lib, w, x, layer: x.add_(1),
    "x += w": lambda lib, w, x, layer: x.__iadd__(w),
    "x[0] = 1": lambda lib, w, x, layer: x.__setitem__(0, 1.0),
    "x.zero_()": lambda lib, w, x, layer: x.zero_(),
    "x.copy_(w.detach())": lambda lib, w, x, layer: x.copy_(w.detach()),
    "x.relu_()": lambda lib, w, x, layer: x.relu_(),
    "x.unsqueeze_(0)": lambda lib, w, x, layer: x.unsqueeze_(0),
    "x.view(-1).add_(1)": lambda lib, w, x, layer: x.view(-1).add_(1),
    "x[:1].mul_(2)": lambda lib, w, x, layer: x[:1].mul_(2),
    "x.masked_fill_(x > 0, 0)": lambda lib, w, x, layer: x.masked_fill_(x > 0, 0.0),
    "x.index_add_(…)": lambda lib, w, x, layer: x.index_add_(0, lib.tensor([0]), x.clone()[:1]),
    "nn.init.normal_(x)": lambda lib, w, x, layer: lib.nn.init.normal_(x),
    "x.resize_(its own shape)": lambda lib, w, x, layer: x.resize_(x.shape),
    "x.resize_(another)": lambda lib, w, x, layer: x.resize_(len(x) + 1),
    "x.set_(w.detach())": lambda lib, w, x, layer: x.set_(w.detach()),
    "x.detach().add_(1)": lambda lib, w, x, layer: x.detach().add_(1),
    "x.data.add_(1)": lambda lib, w, x, layer: x.data.add_(1),
    "x.clone().add_(1)": lambda lib, w, x, layer: x.clone().add_(1),
    "w.data.copy_(x)": lambda lib, w, x, layer: w.data.copy_(x),
    "x.requires_grad_()": lambda lib, w, x, layer: x.requires_grad_(),
    "x.requires_grad_(False)": lambda lib, w, x, layer: x.requires_grad_(False),
    "Parameter(x)": lambda lib, w, x, layer: lib.nn.Parameter(x),
    "layer made inside, used outside": lambda lib, w, x, layer: layer(w).sum().backward(),
}


def outcomes(lib, array):
    """For each program of OUTSIDE: None where it runs, else its exception (on fresh tensors each time)."""
    seen = {}
    for name, run in OUTSIDE.items():
        w = lib.tensor(array, requires_grad=True)
        with lib.inference_mode():
            x, layer = lib.tensor(array) + 1, lib.nn.Linear(len(array), 2).double()
        try:
            run(lib, w, x, layer)
            seen[name] = None
        except RuntimeError as error:
            seen[name] = error
    return seen


@given(array=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=4),
                        elements={"min_value": 0.5, "max_value": 2.0}))
def test_inference_tensors_are_refused_where_pytorch_refuses_them_naming_clone(torch, array):
    mine, theirs = outcomes(gg, array), outcomes(torch, array)
    assert {name: error is None for name, error in mine.items()} == {
        name: error is None for name, error in theirs.items()}
    for name, error in mine.items():
        if error is not None:
            message = str(error)
            assert "\n" not in message and "clone()" in message, name
            assert message.split(" (")[0].split(":")[0] in str(theirs[name]), name  # PyTorch's words first


def test_detach_and_data_of_an_inference_tensor_are_inference_tensors_as_in_torch(torch):
    for lib in (gg, torch):
        with lib.inference_mode():
            x = lib.ones(3)
        assert (x.detach().is_inference(), x.data.is_inference(), x.view(3).is_inference(),
                x.clone().is_inference(), x.double().is_inference()) == (True, True, True, False, False), lib


def copies_in_modes(lib):
    """is_inference() of copies (deepcopy, pickle) of an inference tensor and of a normal one, made outside and
    inside inference_mode(), and whether the outside copy of the inference tensor may then change in place."""
    with lib.inference_mode():
        made_inside = lib.ones(3)
    normal = lib.ones(3)
    seen = {
        "deepcopy outside": copy.deepcopy(made_inside).is_inference(),
        "pickled outside": pickle.loads(pickle.dumps(made_inside)).is_inference(),
        "deepcopy of a normal tensor outside": copy.deepcopy(normal).is_inference(),
    }
    copied = copy.deepcopy(made_inside)
    copied.add_(1)  # a normal tensor: PyTorch lets it change
    seen["changed"] = copied.tolist()
    with lib.inference_mode():
        seen["deepcopy inside"] = copy.deepcopy(made_inside).is_inference()
        seen["deepcopy of a normal tensor inside"] = copy.deepcopy(normal).is_inference()
    return seen


def test_a_copy_of_an_inference_tensor_is_one_only_when_made_inside_inference_mode_as_in_torch(torch):
    assert copies_in_modes(gg) == copies_in_modes(torch)


VIEWS = {
    "x[:2]": lambda x: x[:2], "x.view(-1)": lambda x: x.view(-1), "x.reshape(-1)": lambda x: x.reshape(-1),
    "x.unsqueeze(0)": lambda x: x.unsqueeze(0), "x.narrow(0, 0, 1)": lambda x: x.narrow(0, 0, 1),
    "x.split(1)[0]": lambda x: x.split(1)[0], "x.unbind()[0]": lambda x: x.unbind()[0].reshape(1),
}


def views_taken_inside(lib, array, take):
    """A view taken inside inference_mode() of a tensor made outside: is_inference(), then, outside, whether it
    changes in place (and its base with it) and is saved for a layer's backward."""
    base = lib.tensor(array)
    with lib.inference_mode():
        view = take(base)
    seen = [view.is_inference()]
    view.mul_(2)
    seen.append(base.tolist())
    weight = lib.ones(view.shape[-1], requires_grad=True, dtype=lib.float64)
    (weight * view).sum().backward()  # saves the view for weight's gradient
    seen.append(weight.grad.tolist())
    return seen


@pytest.mark.parametrize("name", sorted(VIEWS))
@given(array=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=4),
                        elements={"min_value": -2.0, "max_value": 2.0}))
def test_a_view_taken_inside_inference_mode_of_a_normal_tensor_is_normal_as_in_torch(torch, name, array):
    """PyTorch: such a view is no inference tensor, so it may change in place and be saved for backward outside
    inference_mode(); glassgrad marked it as one and refused both."""
    assert views_taken_inside(gg, array, VIEWS[name]) == views_taken_inside(torch, array, VIEWS[name])
