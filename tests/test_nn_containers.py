"""ModuleList, ModuleDict, ParameterList, ParameterDict: registration, order and names as in PyTorch."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _names(module):
    return [name for name, _ in module.named_parameters()]


def _build(self, library, sizes):
    library.nn.Module.__init__(self)
    self.layers = library.nn.ModuleList([library.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
    self.heads = library.nn.ModuleDict({"score": library.nn.Linear(sizes[-1], 1),
                                        "extra": library.nn.Linear(sizes[-1], 2)})
    self.scales = library.nn.ParameterList([library.nn.Parameter(library.ones(n)) for n in sizes[1:]])
    self.offsets = library.nn.ParameterDict({"first": library.nn.Parameter(library.zeros(sizes[1]))})


class Stack(gg.nn.Module):
    __init__ = _build


@pytest.mark.torch
def test_parameter_and_state_names_match_pytorch(torch):
    class TorchStack(torch.nn.Module):
        __init__ = _build

    ours, theirs = Stack(gg, [3, 4, 2]), TorchStack(torch, [3, 4, 2])
    assert _names(ours) == _names(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_modules()] == [name for name, _ in theirs.named_modules()]


@pytest.mark.torch
@given(operations=st.lists(st.tuples(st.sampled_from(["append", "insert", "delete", "pop", "set", "extend"]),
                                     st.integers(-4, 4)), max_size=8))
def test_module_list_edits_name_like_pytorch(torch, operations):
    lists = {gg: gg.nn.ModuleList([gg.nn.Linear(1, 1)]), torch: torch.nn.ModuleList([torch.nn.Linear(1, 1)])}
    for operation, index in operations:
        outcomes = []
        for library, layers in lists.items():
            size = len(layers)
            try:
                if operation == "append":
                    layers.append(library.nn.Linear(1, 1))
                elif operation == "extend":
                    layers.extend([library.nn.Tanh(), library.nn.Linear(1, 1)])
                elif operation == "insert":
                    layers.insert(abs(index) % (size + 1), library.nn.ReLU())  # PyTorch 2.13 fails on negatives
                elif operation == "delete":
                    del layers[index]
                elif operation == "pop":
                    layers.pop(index)
                else:
                    layers[index] = library.nn.Sigmoid()
                outcomes.append("ok")
            except IndexError:
                outcomes.append(("IndexError", size))
        assert outcomes[0] == outcomes[1]
        ours, theirs = lists[gg], lists[torch]
        assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
        assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.torch
@given(operations=st.lists(st.tuples(st.sampled_from(["append", "insert", "delete", "pop", "extend", "slice"]),
                                     st.integers(-4, 4)), max_size=8))
def test_sequential_edits_name_and_compute_like_pytorch(torch, operations):
    models = {gg: gg.nn.Sequential(gg.nn.Linear(2, 2)), torch: torch.nn.Sequential(torch.nn.Linear(2, 2))}
    for operation, index in operations:
        outcomes = []
        for library, model in models.items():
            size = len(model)
            try:
                if operation == "append":
                    model.append(library.nn.Linear(2, 2))
                elif operation == "extend":
                    model.extend(library.nn.Sequential(library.nn.Tanh(), library.nn.Linear(2, 2)))
                elif operation == "insert":
                    assert model.insert(index, library.nn.ReLU()) is model
                elif operation == "delete":
                    del model[index]
                elif operation == "slice":
                    del model[index::2]
                else:
                    model.pop(index)
                outcomes.append("ok")
            except IndexError:
                outcomes.append(("IndexError", size))
        assert outcomes[0] == outcomes[1]
        assert [type(m).__name__ for m in models[gg]] == [type(m).__name__ for m in models[torch]]
        assert list(models[gg].state_dict()) == list(models[torch].state_dict())
    ours, theirs = models[gg], models[torch]
    ours.load_state_dict({name: gg.tensor(value.numpy()) for name, value in theirs.state_dict().items()})
    x = np.linspace(-1, 1, 6).reshape(3, 2)
    np.testing.assert_allclose(ours(gg.tensor(x, dtype=gg.float32)).numpy(),
                               theirs(torch.tensor(x, dtype=torch.float32)).detach().numpy(), rtol=1e-5, atol=1e-6)


def _skip_sequential(library):
    """A Sequential subclass whose forward adds a skip connection around every layer: x ← layer(x) + x."""
    class SkipSequential(library.nn.Sequential):
        def forward(self, x):
            for layer in self:
                x = layer(x) + x
            return x

    return SkipSequential


@pytest.mark.torch
@given(start=st.integers(-4, 4), stop=st.integers(-4, 4), step=st.sampled_from([1, 2, -1]))
def test_a_slice_of_a_sequential_subclass_keeps_its_forward_as_pytorchs(torch, start, stop, step):
    """``model[1:]`` of a subclass is of that subclass (PyTorch builds ``self.__class__(...)``), so its own forward
    runs: here ReLU(x) + x, not ReLU(x). glassgrad gave a plain Sequential, whose output differed silently."""
    outputs = []
    for library in (gg, torch):
        layers = [library.nn.Linear(2, 2), library.nn.Tanh(), library.nn.ReLU(), library.nn.Linear(2, 2)]
        model = _skip_sequential(library)(*layers)
        with library.no_grad():
            for position, parameter in enumerate(model.parameters()):
                parameter.copy_(library.tensor(np.cos(np.arange(parameter.numel()) + position))
                                .reshape(parameter.shape))
        part = model[start:stop:step]
        assert type(part).__name__ == "SkipSequential"
        x = library.tensor(np.linspace(-1, 1, 6).reshape(3, 2), dtype=library.float64)
        outputs.append((list(part.state_dict()), part.double()(x).detach().numpy()))
    assert outputs[0][0] == outputs[1][0]
    np.testing.assert_allclose(outputs[0][1], outputs[1][1], rtol=1e-12, atol=1e-12)


def test_deleting_a_named_layer_renumbers_the_rest():
    model = gg.nn.Sequential({"embed": gg.nn.Linear(2, 3), "act": gg.nn.ReLU(), "head": gg.nn.Linear(3, 1)})
    del model[1]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert not hasattr(model, "embed") and model[1] is model._modules["1"]


def test_layers_in_a_module_list_are_trained():
    model = Stack(gg, [2, 3, 1])
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
    before = model.layers[1].weight.array.copy()
    x = gg.randn(5, 2, seed=0)
    out = x
    for layer in model.layers:
        out = layer(out).tanh()
    out.sum().backward()
    optimizer.step()
    assert not np.array_equal(before, model.layers[1].weight.array)


def test_slicing_indexing_and_iteration():
    layers = gg.nn.ModuleList([gg.nn.Linear(1, 1), gg.nn.ReLU(), gg.nn.Tanh()])
    assert type(layers[-1]) is gg.nn.Tanh
    part = layers[1:]
    assert isinstance(part, gg.nn.ModuleList) and part[0] is layers[1]
    joined = layers + [gg.nn.Sigmoid()]
    assert len(joined) == 4 and len(layers) == 3
    layers += [gg.nn.Sigmoid()]
    assert [type(m).__name__ for m in layers] == ["Linear", "ReLU", "Tanh", "Sigmoid"]
    assert "0" not in dir(layers)


def test_parameter_list_makes_parameters_of_tensors():
    params = gg.nn.ParameterList([gg.zeros(2)])
    params.append(gg.ones(3))
    assert all(isinstance(p, gg.nn.Parameter) and p.requires_grad for p in params)
    assert list(params.state_dict()) == ["0", "1"]


def test_dicts_keep_insertion_order_and_support_the_mapping_methods():
    heads = gg.nn.ModuleDict([("b", gg.nn.Linear(1, 1)), ("a", gg.nn.ReLU())])
    heads["c"] = gg.nn.Tanh()
    assert list(heads) == ["b", "a", "c"] and "a" in heads and len(heads) == 3
    assert type(heads.pop("a")).__name__ == "ReLU"
    heads.update({"d": gg.nn.Linear(2, 2)})
    assert list(heads.keys()) == ["b", "c", "d"]
    assert list(heads.state_dict()) == ["b.weight", "b.bias", "d.weight", "d.bias"]
    heads.clear()
    assert len(heads) == 0 and list(heads.state_dict()) == []
    weights = gg.nn.ParameterDict({"w": gg.zeros(2)})
    assert isinstance(weights["w"], gg.nn.Parameter)


def test_a_model_with_holders_saves_and_loads():
    model, other = Stack(gg, [3, 4, 2]), Stack(gg, [3, 4, 2])
    other.load_state_dict(model.state_dict())
    for (name, mine), (_, theirs) in zip(model.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(mine.array, theirs.array, err_msg=name)


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.nn.ModuleList([gg.relu]), TypeError, "ModuleList: entry 0 is a function, not a gg.nn.Module"),
    (lambda: gg.nn.ModuleList([gg.nn.ReLU()])[3], IndexError, "index 3 is out of range for a ModuleList of 1"),
    (lambda: gg.nn.ModuleList([gg.nn.ReLU()])["a"], TypeError, "ModuleList indices must be integers or slices"),
    (lambda: gg.nn.ModuleList().extend(gg.nn.ReLU()), TypeError, "extend should be called with an iterable"),
    (lambda: gg.nn.ParameterList([[1.0, 2.0]]), TypeError, "ParameterList: entry 0 is a list"),
    (lambda: gg.nn.ModuleDict({"a": gg.nn.ReLU()})["b"], KeyError, "ModuleDict has no entry 'b'"),
    (lambda: gg.nn.ModuleDict({"a.b": gg.nn.ReLU()}), KeyError, "module name must be a non-empty string"),
    (lambda: gg.nn.ModuleDict().update([1, 2]), TypeError, r"element #0 should be a \(key, value\) pair"),
])
def test_mistakes_are_one_line_errors(call, error, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_a_holder_has_no_forward():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        gg.nn.ModuleList([gg.nn.ReLU()])(gg.zeros(1))


@pytest.mark.torch
def test_replacing_an_entry_keeps_its_place(torch):
    for library in (gg, torch):
        heads = library.nn.ModuleDict({"a": library.nn.Linear(1, 1), "b": library.nn.Linear(1, 1)})
        heads["a"] = library.nn.Linear(1, 2)
        assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
        params = library.nn.ParameterDict({"x": library.zeros(1), "y": library.zeros(1)})
        params["x"] = library.nn.Parameter(library.ones(2))
        assert list(params.state_dict()) == ["x", "y"] and params["x"].shape == (2,)


@pytest.mark.torch
def test_a_list_is_built_and_extended_from_other_lists_and_sequentials_as_pytorchs(torch):
    """``ModuleList(other_list)``, ``ModuleList(sequential)``, ``ml.extend(ModuleList(...))``, ``ml += …`` and
    ``ParameterList(ParameterList(...))`` (common idioms) were refused: a Module was never taken as an iterable.
    A layer that is no container still is, as PyTorch refuses it."""
    for lib in (gg, torch):
        nn = lib.nn
        layers = nn.ModuleList([nn.Linear(2, 2)])
        assert len(nn.ModuleList(layers)) == 1
        assert len(nn.ModuleList(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))) == 2
        grown = nn.ModuleList([nn.ReLU()])
        grown.extend(layers)
        grown += nn.ModuleList([nn.Tanh()])
        assert [type(layer).__name__ for layer in grown] == ["ReLU", "Linear", "Tanh"]
        assert grown[1] is layers[0]
        assert len(nn.ParameterList(nn.ParameterList([nn.Parameter(lib.ones(2))]))) == 1
        with pytest.raises(TypeError):
            nn.ModuleList().extend(nn.Linear(2, 2))


@given(slots=st.lists(st.booleans(), max_size=5), keys=st.lists(st.sampled_from("abcdef"), max_size=4, unique=True))
def test_none_is_held_as_an_empty_slot_and_fromkeys_defaults_to_it_as_pytorch(torch, slots, keys):
    """ParameterList([None, p]) holds None where a parameter may go (it was refused), skipped by parameters() and
    state_dict(), printed as PyTorch prints it; ParameterDict.fromkeys(keys) fills the keys with None (a default was
    required: a raw TypeError without it)."""
    seen = {}
    for library in (gg, torch):
        held = [library.nn.Parameter(library.ones(2, 3)) if slot else None for slot in slots]
        listed = library.nn.ParameterList(held)
        listed.append(None)
        keyed = library.nn.ParameterDict({f"k{i}": value for i, value in enumerate(held)})
        filled = keyed.fromkeys(keys)
        seen[library] = ([value is None for value in listed], list(listed.state_dict()),
                         len(list(listed.parameters())), list(keyed.state_dict()), list(filled.items()),
                         repr(listed).replace("torch.", ""), repr(keyed).replace("torch.", ""))
    ours, theirs = seen[gg], seen[torch]
    assert ours[:5] == theirs[:5]
    for our_text, their_text in zip(ours[5:], theirs[5:]):  # glassgrad's first line adds a parameter count
        assert re.sub(r" +# [\d,]+ parameters?", "", our_text) == their_text
