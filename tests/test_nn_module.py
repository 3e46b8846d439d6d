"""gg.nn.Module: registration, names, state_dict round trips, strict loading, freezing, hooks, repr."""

from __future__ import annotations

import re

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 3, seed=1)
        self.out = nn.Linear(3, 2, seed=2)
        self.scale = gg.tensor(2.0, requires_grad=True)  # a plain tensor: not registered
        self.register_buffer("calls", gg.zeros(1))

    def forward(self, x):
        return self.out(self.hidden(x).relu())


def snapshot(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: value.array.copy() for name, value in model.state_dict().items()}


def assert_same_state(model: nn.Module, expected: dict[str, np.ndarray]) -> None:
    now = snapshot(model)
    assert now.keys() == expected.keys()
    for name in now:
        np.testing.assert_array_equal(now[name], expected[name], err_msg=name)


def test_attribute_assignment_registers_parameters_buffers_and_children():
    model = TwoLayer()
    assert [name for name, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert [name for name, _ in model.named_children()] == ["hidden", "out"]
    assert [name for name, _ in model.named_modules()] == ["", "hidden", "out"]
    assert [name for name, _ in model.named_buffers()] == ["calls"]
    assert list(model.state_dict()) == ["calls", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert model.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2


def test_sequential_names_match_pytorch(torch):
    ours = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Residual(nn.Linear(3, 3)), nn.Linear(3, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(),
                                 torch.nn.Sequential(torch.nn.Linear(3, 3)), torch.nn.Linear(3, 2))
    expected = [name.replace("3.0.", "3.block.") for name in theirs.state_dict()]
    assert list(ours.state_dict()) == expected
    assert [n for n, _ in ours.named_parameters()] == [n.replace("3.0.", "3.block.")
                                                       for n, _ in theirs.named_parameters()]


def test_shared_parameter_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert model.num_parameters() == 12
    assert len(list(model.modules())) == 3  # the Sequential, the Linear (once), the ReLU


@pytest.mark.torch
def test_a_module_registered_twice_is_saved_under_both_names_as_in_pytorch(torch):
    def build(library):
        class Tied(library.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = library.nn.Linear(2, 3)
                self.alias = self.encoder
                self.body = library.nn.Sequential(self.encoder, library.nn.BatchNorm1d(3), self.encoder)

        return Tied()

    ours, theirs = build(gg), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict(prefix="net.")) == list(theirs.state_dict(prefix="net."))
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    checkpoint = {name: gg.tensor(value.numpy()) for name, value in theirs.state_dict().items()}
    assert ours.load_state_dict(checkpoint) == ([], [])
    np.testing.assert_array_equal(ours.alias.weight.numpy(), theirs.encoder.weight.detach().numpy())
    ours_visited, theirs_visited = [], []
    ours.apply(lambda module: ours_visited.append(type(module).__name__))
    theirs.apply(lambda module: theirs_visited.append(type(module).__name__))
    assert ours_visited == theirs_visited


@pytest.mark.torch
def test_remove_duplicate_false_lists_shared_layers_and_tied_weights_under_every_name(torch):
    def build(library):
        shared = library.nn.BatchNorm1d(4)
        model = library.nn.Sequential(library.nn.Embedding(5, 4), shared, library.nn.Linear(4, 5, bias=False), shared)
        model[0].weight = model[2].weight  # weight tying, as in GPT-2
        return model

    ours, theirs = build(gg), build(torch)
    for listing in ("named_modules", "named_parameters", "named_buffers"):
        for remove_duplicate in (True, False):
            expected = [name for name, _ in getattr(theirs, listing)(prefix="m", remove_duplicate=remove_duplicate)]
            assert [name for name, _ in getattr(ours, listing)(prefix="m", remove_duplicate=remove_duplicate)] \
                == expected, (listing, remove_duplicate)


@pytest.mark.torch
def test_replacing_a_layer_parameter_or_buffer_keeps_its_place_as_in_pytorch(torch):
    def build_and_edit(library):
        nn_ = library.nn

        class Net(nn_.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn_.Conv2d(3, 4, 3)
                self.body = nn_.Sequential(nn_.Linear(4, 4), nn_.ReLU(), nn_.Linear(4, 2))
                self.fc = nn_.Linear(2, 2)
                self.scale = nn_.Parameter(library.ones(1))
                self.shift = nn_.Parameter(library.ones(1))
                self.register_buffer("first", library.ones(1))
                self.register_buffer("second", library.ones(1))

        model = Net()
        model.conv1 = nn_.Conv2d(1, 4, 3)  # a grayscale stem, as in transfer learning
        model.scale = nn_.Parameter(library.zeros(1))
        model.first = library.zeros(1)
        model.register_buffer("second", library.zeros(2), persistent=False)
        setattr(model.body, "0", nn_.Linear(4, 4))
        model.body.add_module("1", nn_.Tanh())
        model.set_submodule("body.2", nn_.Linear(4, 2))
        return model

    ours, theirs = build_and_edit(gg), build_and_edit(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_modules()] == [name for name, _ in theirs.named_modules()]
    assert [type(layer).__name__ for layer in ours.body] == ["Linear", "Tanh", "Linear"]
    ours.body.load_state_dict({name: gg.tensor(value.numpy()) for name, value in theirs.body.state_dict().items()})
    x = np.linspace(-1, 1, 8).reshape(2, 4)
    np.testing.assert_allclose(ours.body(gg.tensor(x, dtype=gg.float32)).numpy(),
                               theirs.body(torch.tensor(x, dtype=torch.float32)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)  # float32 sums in another order: an output near 0 is off by ~1e-8


@pytest.mark.parametrize("target, module, strict, error, message", [
    ("", nn.ReLU(), False, ValueError, "needs a target name"),
    ("hidden", gg.ones(1), False, ValueError, "puts a gg.nn.Module, not a Tensor"),
    ("extra", nn.ReLU(), True, AttributeError, "no attribute `extra` to replace"),
    ("scale", nn.ReLU(), False, AttributeError, "is a Tensor, not a gg.nn.Module"),
    ("hidden.x.y", nn.ReLU(), False, AttributeError, "has no submodule `x`"),
])
def test_set_submodule_mistakes_are_one_line_errors(target, module, strict, error, message):
    with pytest.raises(error, match=message):
        TwoLayer().set_submodule(target, module, strict=strict)


def test_set_submodule_adds_a_new_child_unless_strict():
    model = TwoLayer()
    model.set_submodule("extra", nn.ReLU())
    assert [name for name, _ in model.named_children()] == ["hidden", "out", "extra"]


@pytest.mark.torch
def test_load_state_dict_assign_puts_the_checkpoints_tensors_in_the_model_as_pytorch(torch):
    def load_and_edit(library):
        model = library.nn.Sequential(library.nn.Linear(2, 2), library.nn.BatchNorm1d(2))
        model[0].bias.requires_grad_(False)
        checkpoint = {key: library.ones(tuple(value.shape), dtype=library.float64)
                      for key, value in model.state_dict().items()}
        assert tuple(model.load_state_dict(checkpoint, assign=True)) == ([], [])
        with library.no_grad():
            checkpoint["0.weight"].fill_(3.0)
            checkpoint["1.running_mean"].fill_(2.0)
        return model

    ours, theirs = load_and_edit(gg), load_and_edit(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (key, value), (_, expected) in zip(ours.state_dict(keep_vars=True).items(),
                                           theirs.state_dict(keep_vars=True).items()):
        assert type(value).__name__ == type(expected).__name__, key
        assert value.requires_grad == expected.requires_grad, key
        assert str(value.dtype) == str(expected.dtype).removeprefix("torch."), key
        np.testing.assert_array_equal(value.detach().numpy(), expected.detach().numpy(), err_msg=key)


def test_parameter_shares_memory_is_a_leaf_and_its_grad_is_a_plain_tensor():
    source = gg.zeros(2, 2)
    param = nn.Parameter(source)
    source.array[0, 0] = 5.0
    assert param.array[0, 0] == 5.0
    (param * 3).sum().backward()
    assert type(param.grad) is gg.Tensor
    np.testing.assert_array_equal(param.grad.array, np.full((2, 2), 3.0))
    assert repr(param).startswith("Parameter containing:\ntensor(")
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(gg.tensor([1, 2]))


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_refused():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="gg.nn.Parameter or None expected"):
        layer.weight = gg.zeros(2, 2)
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert "bias" not in layer.state_dict()


def test_forgetting_super_init_gives_a_clear_error():
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_missing_forward_is_named():
    with pytest.raises(NotImplementedError, match="Module"):
        nn.Module()(gg.zeros(1))


def test_state_dict_values_share_memory_but_are_detached():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    assert not state["weight"].requires_grad and type(state["weight"]) is gg.Tensor
    layer.weight.array[0, 0] = 42.0
    assert state["weight"].array[0, 0] == 42.0
    assert layer.state_dict(keep_vars=True)["weight"] is layer.weight


def test_state_dict_round_trip_reproduces_outputs():
    source = nn.mlp([5, 8, 8, 3], batch_norm=True, seed=3)
    x = gg.randn(6, 5, seed=4)
    source(x)  # update the running statistics
    source.eval()
    target = nn.mlp([5, 8, 8, 3], batch_norm=True, seed=99).eval()
    assert not np.array_equal(target(x).array, source(x).array)
    result = target.load_state_dict({k: v.array.copy() for k, v in source.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(target(x).array, source(x).array)
    assert int(target[1].num_batches_tracked.array) == 1


def test_load_keeps_the_parameter_objects():
    layer = nn.Linear(3, 2, seed=0)
    weight = layer.weight
    layer.load_state_dict(nn.Linear(3, 2, seed=1).state_dict())
    assert layer.weight is weight
    np.testing.assert_array_equal(layer.weight.array, nn.Linear(3, 2, seed=1).weight.array)


@pytest.mark.parametrize("edit, messages", [
    (lambda s: s.pop("2.bias"), ['Missing key(s) in state_dict: "2.bias".']),
    (lambda s: s.update(extra=gg.zeros(1)), ['Unexpected key(s) in state_dict: "extra".']),
    (lambda s: s.update({"0.weight": gg.zeros(4, 4)}),
     ["size mismatch for 0.weight: copying a param with shape (4, 4) from checkpoint, "
      "the shape in current model is (3, 4)."]),
    (lambda s: (s.pop("0.bias"), s.update(bogus=gg.zeros(2), **{"2.weight": gg.zeros(1)})),
     ['Missing key(s) in state_dict: "0.bias".', 'Unexpected key(s) in state_dict: "bogus".',
      "size mismatch for 2.weight"]),
    (lambda s: s.update({"0.bias": "not a tensor"}), ['While copying the parameter named "0.bias"']),
])
def test_strict_load_errors_list_every_problem_and_change_nothing(edit, messages):
    model = nn.mlp([4, 3, 4], seed=0)
    before = snapshot(model)
    state = {k: v.array + 1.0 for k, v in nn.mlp([4, 3, 4], seed=5).state_dict().items()}
    edit(state)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    text = str(error.value)
    assert text.startswith("Error(s) in loading state_dict for Sequential:")
    for message in messages:
        assert message in text
    assert "nothing was loaded" in text
    assert_same_state(model, before)


def test_non_strict_load_reports_keys_and_loads_the_rest():
    model = nn.mlp([4, 3, 4], seed=0)
    source = nn.mlp([4, 3, 4], seed=1).state_dict()
    del source["2.bias"]
    source["head.weight"] = gg.zeros(2)
    result = model.load_state_dict(source, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["head.weight"]
    np.testing.assert_array_equal(model[0].weight.array, source["0.weight"].array)


def test_non_strict_load_still_refuses_shape_mismatch():
    model = nn.mlp([4, 3, 4], seed=0)
    before = snapshot(model)
    source = {k: v.array + 1 for k, v in model.state_dict().items()}
    source["2.weight"] = np.zeros((5, 3), np.float32)
    with pytest.raises(RuntimeError, match="size mismatch for 2.weight"):
        model.load_state_dict(source, strict=False)
    assert_same_state(model, before)


def test_freezing_leaves_frozen_parameters_without_grad():
    model = nn.mlp([4, 5, 3], seed=0)
    model[0].requires_grad_(False)
    loss = nn.CrossEntropyLoss()(model(gg.randn(8, 4, seed=1)), gg.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    loss.backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[2].weight.grad is not None and model[2].bias.grad is not None
    assert model.num_parameters(trainable_only=True) == 5 * 3 + 3
    assert "Total parameters: 43 (trainable: 18)" in repr(model)


def test_zero_grad_to_none_and_to_zeros():
    model = nn.mlp([2, 3, 1], seed=0)
    model(gg.ones(4, 2)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.array == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_gradients_accumulate_until_zero_grad():
    layer = nn.Linear(2, 1, seed=0)
    x = gg.tensor([[1.0, 2.0]])
    layer(x).sum().backward()
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.array, 2 * x.array)


def test_train_and_eval_reach_every_submodule():
    model = nn.mlp([3, 4, 4, 2], batch_norm=True, dropout=0.2, residual=True, seed=0)
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_repr_shows_layers_and_parameter_counts():
    text = repr(nn.mlp([4, 3, 4], seed=0))
    lines = text.splitlines()
    assert lines[0] == "Sequential("
    assert re.fullmatch(r"  \(0\): Linear\(in_features=4, out_features=3, bias=True\)\s+# 15 parameters", lines[1])
    assert lines[2] == "  (1): ReLU()"
    assert re.fullmatch(r"  \(2\): Linear\(in_features=3, out_features=4, bias=True\)\s+# 16 parameters", lines[3])
    assert lines[-1] == "Total parameters: 31"


def test_forward_hooks_fire_with_inputs_and_output_and_remove():
    model = nn.mlp([3, 4, 2], seed=0)
    seen = []
    handle = model[1].register_forward_hook(lambda module, inputs, output: seen.append((module, inputs, output)))
    x = gg.randn(5, 3, seed=1)
    out = model(x)
    assert len(seen) == 1
    module, inputs, output = seen[0]
    assert module is model[1] and inputs[0].shape == (5, 4)
    np.testing.assert_array_equal(output.array, np.maximum(inputs[0].array, 0))
    np.testing.assert_allclose(out.array, output.array @ model[2].weight.array.T + model[2].bias.array, rtol=1e-6)
    handle.remove()
    model(x)
    assert len(seen) == 1


def test_hooks_can_replace_values_and_global_hooks_see_every_module():
    layer = nn.Linear(2, 2, seed=0)
    with layer.register_forward_hook(lambda m, i, o: o * 0):
        assert np.all(layer(gg.ones(1, 2)).array == 0)
    assert np.any(layer(gg.ones(1, 2)).array != 0)
    with layer.register_forward_pre_hook(lambda m, inputs: gg.zeros(1, 2)):
        np.testing.assert_array_equal(layer(gg.ones(1, 2)).array[0], layer.bias.array)
    order = []
    model = nn.mlp([2, 2, 2], seed=0)
    with nn.register_module_forward_pre_hook(lambda m, i: order.append(("enter", type(m).__name__))), \
            nn.register_module_forward_hook(lambda m, i, o: order.append(("leave", type(m).__name__))):
        model(gg.ones(1, 2))
    assert order == [("enter", "Sequential"), ("enter", "Linear"), ("leave", "Linear"), ("enter", "ReLU"),
                     ("leave", "ReLU"), ("enter", "Linear"), ("leave", "Linear"), ("leave", "Sequential")]
    model(gg.ones(1, 2))
    assert len(order) == 8


def test_to_double_converts_parameters_and_buffers():
    model = nn.mlp([2, 3, 1], batch_norm=True, seed=0)
    first = model[0].weight.array.copy()
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(model[0].weight.array, first.astype(np.float64))
    assert model(gg.ones(2, 2, dtype=gg.float64)).dtype == np.float64


def test_apply_visits_children_then_parent():
    visited = []
    nn.mlp([2, 3, 1]).apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Linear", "Sequential"]


def test_converting_a_model_to_its_own_dtype_leaves_its_memory_alone():
    """``model.float()`` of a float32 model copied every array: two parameters on one memory stopped being tied,
    and a state_dict taken before stopped following the model. PyTorch leaves them as they are."""
    model = gg.nn.Sequential(gg.nn.Linear(2, 2), gg.nn.Linear(2, 2))
    model[1].weight = model[0].weight  # tied
    snapshot = model.state_dict()
    before = model[0].weight.array
    model.float()
    model.to(gg.float32)
    assert model[0].weight.array is before
    with gg.no_grad():
        model[0].weight[0, 0] = 3.0
    assert model[1].weight[0, 0].item() == 3.0 and snapshot["0.weight"][0, 0].item() == 3.0
    model.double()  # another dtype: converted, as PyTorch's
    assert model[0].weight.dtype == gg.float64 and model[1].weight.dtype == gg.float64


def test_a_change_made_to_a_registry_itself_reaches_the_forward():
    """Pruning, weight-norm and parametrization code edit ``module._parameters`` (or ``_buffers``, ``_modules``)
    directly. glassgrad keeps each member as a plain attribute too, and the edit did not reach it: the forward
    used the old weight, a buffer set so was missing, a parameter deleted so was still there. By hand:
    W = 2·I, b = 0 gives out = 2x."""
    layer = gg.nn.Linear(2, 2)
    layer._parameters["weight"] = gg.nn.Parameter(gg.eye(2) * 2)
    layer._parameters["bias"] = gg.nn.Parameter(gg.zeros(2))
    assert layer(gg.tensor([[1.0, -3.0]])).tolist() == [[2.0, -6.0]]
    layer._buffers["scale"] = gg.tensor(3.0)
    assert layer.scale.item() == 3.0 and "scale" in dict(layer.named_buffers())
    del layer._parameters["bias"]
    assert not hasattr(layer, "bias") and [name for name, _ in layer.named_parameters()] == ["weight"]
    assert layer._buffers.pop("scale").item() == 3.0 and not hasattr(layer, "scale")
    model = gg.nn.Sequential(gg.nn.Linear(2, 2))
    model._modules["0"] = gg.nn.Identity()
    assert model(gg.tensor([[1.0, -3.0]])).tolist() == [[1.0, -3.0]]


def test_a_copied_module_owns_its_registries():
    """copy.deepcopy and pickle give modules whose registries change their own attributes, not the original's."""
    import copy
    import pickle

    original = gg.nn.Linear(2, 2)
    for copied in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        copied._parameters["weight"] = gg.nn.Parameter(gg.zeros(2, 2))
        assert copied.weight.abs().sum().item() == 0.0
        assert original.weight.abs().sum().item() > 0.0 and original._parameters["weight"] is original.weight


@pytest.mark.torch
def test_assign_puts_the_state_dicts_own_parameters_in_the_model_as_pytorchs(torch):
    """``dst.load_state_dict(src.state_dict(keep_vars=True), assign=True)``: PyTorch puts src's Parameters
    themselves in dst, so the two share weights and gradients (each 2 for out = W·1 summed twice). glassgrad made
    new Parameters on the same memory, each with a gradient of its own (1)."""
    found = []
    for lib in (gg, torch):
        source, target = lib.nn.Linear(2, 1), lib.nn.Linear(2, 1)
        source.running = lib.nn.Buffer(lib.zeros(1)) if hasattr(lib.nn, "Buffer") else None
        target.running = lib.nn.Buffer(lib.ones(1)) if hasattr(lib.nn, "Buffer") else None
        target.load_state_dict(source.state_dict(keep_vars=True), assign=True)
        (source(lib.ones(1, 2)) + target(lib.ones(1, 2))).sum().backward()
        found.append((target.weight is source.weight, target.bias is source.bias, target.running is source.running,
                      source.weight.grad.tolist(), target.weight.requires_grad))
    assert found[0] == found[1] == (True, True, True, [[2.0, 2.0]], True)


def test_a_number_saved_as_one_entry_loads_into_a_0d_parameter():
    """Old checkpoints keep a 0-d parameter (a temperature) as shape (1,); PyTorch loads it, glassgrad refused."""
    model = gg.nn.Module()
    model.temperature = gg.nn.Parameter(gg.tensor(1.0))
    model.load_state_dict({"temperature": gg.tensor([2.5])})
    assert model.temperature.shape == () and model.temperature.item() == 2.5
    with pytest.raises(RuntimeError, match="size mismatch for temperature"):
        model.load_state_dict({"temperature": gg.tensor([2.5, 1.0])})


@pytest.mark.torch
def test_a_shallow_copy_shares_the_registries_and_both_forwards_follow_them_as_in_pytorch(torch):
    """copy.copy(module) shares _parameters with the original, as PyTorch's: a weight replaced through the copy is
    the original's too (its forward used the old weight, while parameters() showed the new one)."""
    import copy

    seen = []
    for library in (gg, torch):
        original = library.nn.Linear(2, 1, bias=False)
        with library.no_grad():
            original.weight.fill_(1.0)
        duplicate = copy.copy(original)
        duplicate.weight = library.nn.Parameter(library.full((1, 2), 3.0))
        other = library.nn.Linear(2, 1, bias=False)
        other_copy = copy.copy(other)
        other.weight = library.nn.Parameter(library.full((1, 2), 5.0))
        x = library.ones(1, 2)
        seen.append((original(x).item(), duplicate(x).item(), other_copy(x).item()))
    assert seen[0] == seen[1] == (6.0, 6.0, 10.0)


@pytest.mark.torch
@pytest.mark.parametrize("edit", ["popitem", "clear"])
def test_a_member_removed_from_a_registry_is_gone_as_in_pytorch(torch, edit):
    """_modules.popitem() and _parameters.clear() left the members behind as attributes."""
    for library in (gg, torch):
        model = library.nn.Sequential(library.nn.Linear(2, 2), library.nn.Tanh())
        if edit == "popitem":
            name, _ = model._modules.popitem()
            with pytest.raises(AttributeError):
                getattr(model, name)
        else:
            model[0]._parameters.clear()
            with pytest.raises(AttributeError):
                model[0].weight  # noqa: B018 (the read is the test)


def _built_before_init(library, layer_first: bool):
    class Net(library.nn.Module):
        def __init__(self, hidden):
            if layer_first:
                self.fc = library.nn.Linear(2, 2)  # a module before Module.__init__: refused by both
            self.hidden = hidden
            super().__init__()
            self.fc = library.nn.Linear(2, self.hidden)

    return Net(3)


@pytest.mark.torch
def test_plain_values_set_before_init_and_the_small_helpers_are_pytorchs(torch):
    """``self.hidden = n`` before super().__init__() raised AttributeError here; share_memory and _get_name were
    missing."""
    seen = []
    for library in (gg, torch):
        net = _built_before_init(library, False)
        seen.append((net.hidden, list(net.state_dict()), net.share_memory() is net, net.fc._get_name()))
        with pytest.raises(AttributeError):
            _built_before_init(library, True)
    assert seen[0] == seen[1] == (3, ["fc.weight", "fc.bias"], True, "Linear")


def _never_initialized(library, build):
    """A module whose ``__init__`` forgets ``super().__init__()`` and does ``build(self)`` instead."""
    class Forgetful(library.nn.Module):
        def __init__(self):
            build(self, library)

        def forward(self, x):
            return x

    return Forgetful


@pytest.mark.torch
@pytest.mark.parametrize("build, use", [
    (lambda self, lib: self.register_buffer("mean", lib.zeros(2)), None),
    (lambda self, lib: self.register_parameter("w", lib.nn.Parameter(lib.ones(2))), None),
    (lambda self, lib: self.add_module("fc", lib.nn.Linear(2, 2)), None),
    (lambda self, lib: setattr(self, "width", 2), lambda model, lib: model(lib.ones(2))),
    (lambda self, lib: setattr(self, "width", 2), lambda model, lib: list(model.parameters())),
    (lambda self, lib: setattr(self, "width", 2), lambda model, lib: model.to(lib.float64)),
    (lambda self, lib: setattr(self, "width", 2), lambda model, lib: model.state_dict()),
])
def test_a_module_that_skipped_super_init_is_refused_naming_the_fix(torch, build, use):
    """Forgetting ``super().__init__()`` is refused by both libraries with AttributeError, where PyTorch (for all
    but register_buffer and register_parameter) names the private registry it tripped over (``'_modules'``);
    glassgrad did so even for register_buffer: ``'Forgetful' object has no attribute '_buffers'``."""
    for library in (torch, gg):
        with pytest.raises(AttributeError) as raised:
            model = _never_initialized(library, build)()
            if use is not None:
                use(model, library)
    message = str(raised.value)
    assert message.startswith("Forgetful is not set up as a module") and "\n" not in message
    assert "must call super().__init__() first" in message
    with pytest.raises(AttributeError, match="^'Linear' object has no attribute 'wieght'$"):
        gg.nn.Linear(2, 2).wieght  # noqa: B018 (a set-up module's missing attribute: PyTorch's message)
    assert getattr(gg.nn.Linear(2, 2), "__deepcopy__", None) is None


@pytest.mark.torch
def test_get_parameter_of_a_none_bias_is_refused_as_in_pytorch(torch):
    """get_parameter("bias") of Linear(bias=False) returned None; PyTorch raises AttributeError."""
    from one_line_errors import assert_raises_as_pytorch

    error = assert_raises_as_pytorch(lambda lib: lib.nn.Linear(2, 2, bias=False).get_parameter("bias"), torch)
    assert str(error) == "Linear has no parameter `bias`; it has weight"
