"""A sweep of three APIs used every day — ``nn.Module`` (and its containers and hooks), ``torch.utils.data`` and
``torch.save``/``torch.load`` — against PyTorch 2.13: each test here is a case where glassgrad once answered
differently (a silently different result, a refusal where PyTorch works, another exception class)."""

from __future__ import annotations

import collections
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

Pair = collections.namedtuple("Pair", "x label")


def kinds(batch):
    """A batch's structure as comparable plain values: containers by class name, tensors by dtype, shape and numbers."""
    if hasattr(batch, "shape") and hasattr(batch, "dtype"):
        return "tensor", str(batch.dtype).removeprefix("torch."), tuple(batch.shape), batch.tolist()
    if isinstance(batch, dict):
        return type(batch).__name__, {key: kinds(value) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch).__name__, [kinds(value) for value in batch]
    return type(batch).__name__, batch


# --- nn.Module -------------------------------------------------------------------------------


@pytest.mark.torch
def test_train_calls_each_childs_own_train_so_an_override_keeps_a_layer_frozen(torch):
    """A block that overrides ``train`` to keep its BatchNorm in eval mode (detection code's frozen BN) stayed
    frozen in PyTorch when the whole model was put in training mode; here ``model.train()`` set every module's flag
    itself, so the override never ran and the BatchNorm trained."""
    def trainings(library):
        class FrozenNorm(library.nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = library.nn.BatchNorm1d(2)

            def train(self, mode=True):
                super().train(mode)
                self.norm.eval()
                return self

        model = library.nn.Sequential(library.nn.Linear(2, 2), FrozenNorm())
        assert model.train() is model
        return [module.training for module in model.modules()]

    assert trainings(gg) == trainings(torch) == [True, True, True, False]


@pytest.mark.torch
@pytest.mark.parametrize("fails", [False, True])
@pytest.mark.parametrize("with_kwargs", [False, True])
def test_a_forward_hook_with_always_call_runs_also_when_the_forward_raises(fails, with_kwargs, torch):
    """``register_forward_hook(hook, always_call=True)`` was refused here; PyTorch calls the hook after every call,
    and after a failed one too (with output None), before the error goes on."""
    def calls(library):
        log = []

        class Layer(library.nn.Module):
            def forward(self, x, scale=1.0):
                if fails:
                    raise ValueError("forward failed")
                return x * scale

        layer = Layer()
        if with_kwargs:
            layer.register_forward_hook(lambda module, args, kwargs, out: log.append(("always", kwargs, out is None)),
                                        with_kwargs=True, always_call=True)
        else:
            layer.register_forward_hook(lambda module, args, out: log.append(("always", out is None)),
                                        always_call=True)
        layer.register_forward_hook(lambda module, args, out: log.append("plain"))
        try:
            log.append(layer(library.ones(1), scale=2.0).tolist())
        except ValueError as error:
            log.append(str(error))
        return log

    assert calls(gg) == calls(torch)


@pytest.mark.torch
def test_an_always_called_hook_that_raises_after_a_failed_forward_only_warns(torch):
    for library in (gg, torch):
        layer = library.nn.Linear(2, 2)
        layer.register_forward_hook(lambda module, args, out: 1 / 0, always_call=True)
        with pytest.warns(UserWarning, match="division by zero"), pytest.raises(RuntimeError):
            layer(library.ones(3, 3))  # wrong width: the forward raises, then the hook does


@pytest.mark.torch
def test_full_backward_hooks_take_prepend_as_pytorch(torch):
    def order_of_calls(library):
        order = []
        layer = library.nn.Linear(2, 2)
        layer.register_full_backward_hook(lambda module, grad_input, grad_output: order.append("hook 1"))
        layer.register_full_backward_hook(lambda module, grad_input, grad_output: order.append("hook 2"),
                                          prepend=True)
        layer.register_full_backward_pre_hook(lambda module, grad_output: order.append("pre 1"))
        layer.register_full_backward_pre_hook(lambda module, grad_output: order.append("pre 2"), prepend=True)
        layer(library.ones(1, 2, requires_grad=True)).sum().backward()
        return order

    assert order_of_calls(gg) == order_of_calls(torch) == ["pre 2", "pre 1", "hook 2", "hook 1"]


@pytest.mark.torch
def test_state_dict_destination_and_named_modules_memo_as_pytorch(torch):
    answers = []
    for library in (gg, torch):
        shared = library.nn.Linear(1, 1)
        model = library.nn.Sequential(shared, library.nn.ReLU(), shared)
        into = collections.OrderedDict(first=library.zeros(1))
        given_back = model.state_dict(destination=into, prefix="m.")
        memo = {model[1]}
        names = [name for name, _ in model.named_modules(memo=memo, prefix="top")]
        answers.append((given_back is into, list(into), names, len(memo)))
    assert answers[0] == answers[1]


@pytest.mark.torch
def test_a_batchnorm_state_dict_without_num_batches_tracked_loads_strictly_as_pytorch(torch):
    """Checkpoints from before PyTorch 0.4.1 (and hand-made ones) have no ``num_batches_tracked``: PyTorch loads them
    strictly, keeping the layer's count; here the key was reported missing and a strict load refused."""
    results = []
    for library in (gg, torch):
        model = library.nn.Sequential(library.nn.Linear(2, 2), library.nn.BatchNorm1d(2))
        model(library.ones(4, 2))  # one batch counted
        state = {key: value for key, value in model.state_dict().items() if not key.endswith("num_batches_tracked")}
        loaded = model.load_state_dict(state)
        missing = model.load_state_dict({}, strict=False).missing_keys
        results.append((list(loaded.missing_keys), list(missing), int(model[1].num_batches_tracked)))
    assert results[0] == results[1] == ([], ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                             "1.running_var"], 1)


@pytest.mark.torch
def test_a_modules_extra_state_is_saved_and_loaded_as_pytorch(torch):
    """A module that defines ``get_extra_state``/``set_extra_state`` (a tokenizer's vocabulary, a step count) has
    its state saved under ``"_extra_state"`` in PyTorch; here it was left out silently, so a load lost it."""
    def round_trip(library):
        class Counter(library.nn.Module):
            def __init__(self, count):
                super().__init__()
                self.scale = library.nn.Linear(1, 1)
                self.count = count

            def get_extra_state(self):
                return {"count": self.count}

            def set_extra_state(self, state):
                self.count = state["count"]

        state = library.nn.Sequential(Counter(7)).state_dict()
        fresh = library.nn.Sequential(Counter(0))
        fresh.load_state_dict(state)
        with pytest.raises(RuntimeError, match="_extra_state"):
            fresh.load_state_dict({key: value for key, value in state.items() if "extra" not in key})
        return list(state), state["0._extra_state"], fresh[0].count

    assert round_trip(gg) == round_trip(torch) == (["0._extra_state", "0.scale.weight", "0.scale.bias"],
                                                   {"count": 7}, 7)


@pytest.mark.torch
def test_registering_under_a_name_already_taken_is_refused_and_assignment_still_replaces(torch):
    """``register_buffer("weight", t)`` in a Linear silently replaced its parameter here (the optimizer then lost
    it), and so did ``layer.bias = some_layer``; PyTorch refuses a ``register_*`` under a name already taken with a
    KeyError and anything but a Parameter (or None) in a parameter's place with a TypeError, while
    ``self.name = value`` still replaces a plain attribute or a buffer."""
    def outcomes(library):
        layer = library.nn.Linear(1, 1)
        layer.note = "plain"
        refused = []
        for register in (lambda: layer.register_buffer("weight", library.ones(1)),
                         lambda: layer.register_parameter("note", None),
                         lambda: layer.add_module("bias", library.nn.ReLU()),
                         lambda: layer.register_buffer("forward", library.ones(1))):
            with pytest.raises(KeyError, match="attribute '[a-z]+' already exists") as caught:
                register()
            refused.append(caught.value.args[0].split(":")[0])
        for replacement in (library.nn.Tanh(), library.nn.Buffer(library.ones(1))):
            with pytest.raises(TypeError, match="cannot assign .* as parameter 'bias'"):
                layer.bias = replacement  # the parameter stays (it was silently replaced here)
        layer.note = library.nn.Parameter(library.ones(1))  # a plain attribute becomes a parameter
        layer.register_buffer("scale", library.ones(1))
        layer.scale = library.nn.Parameter(library.ones(1))  # a buffer becomes a parameter
        layer.label = "plain"
        layer.label = library.nn.Tanh()  # a plain attribute becomes a child
        return (refused, [name for name, _ in layer.named_parameters()], [name for name, _ in layer.named_buffers()],
                [name for name, _ in layer.named_children()])

    assert outcomes(gg) == outcomes(torch)


# --- containers ---------------------------------------------------------------------------------


def _layer_kinds(sequence):
    return [(name, type(layer).__name__) for name, layer in sequence.named_children()]


@pytest.mark.torch
def test_sequentials_add_and_multiply_as_pytorch(torch):
    results = []
    for library in (gg, torch):
        nn = library.nn
        head = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        joined = head + nn.Sequential(nn.Tanh())
        head += nn.Sequential(nn.Sigmoid())
        twice = nn.Sequential(nn.Linear(2, 2), nn.ReLU()) * 2
        thrice = 3 * nn.Sequential(nn.ReLU())
        twice_shares = twice[0] is twice[2]
        with pytest.raises(ValueError):
            head + [nn.ReLU()]
        with pytest.raises(ValueError):
            head * 0
        results.append((_layer_kinds(joined), _layer_kinds(head), _layer_kinds(twice), _layer_kinds(thrice),
                        twice_shares, len(list(twice.parameters()))))
    assert results[0] == results[1]


@pytest.mark.torch
def test_module_dict_updates_from_another_module_dict_and_parameter_dict_has_dicts_methods(torch):
    """``ModuleDict.update(other_module_dict)`` and ``ParameterDict``'s ``get``/``setdefault``/``popitem``/``copy``/
    ``fromkeys``/``|`` were refused here; and PyTorch's ParameterDict takes a plain dict's entries sorted by key
    (its parameters, and so an optimizer's numbering of them, come in that order), where they kept the dict's."""
    results = []
    for library in (gg, torch):
        nn = library.nn
        heads = nn.ModuleDict({"a": nn.ReLU()})
        heads.update(nn.ModuleDict({"b": nn.Tanh(), "a": nn.Sigmoid()}))
        with pytest.raises(ValueError):
            heads.update([("c", nn.ReLU(), "extra")])
        with pytest.raises(KeyError, match="attribute 'update' already exists"):  # it would hide the method
            heads["update"] = nn.ReLU()
        with pytest.raises(KeyError, match="attribute 'keys' already exists"):
            nn.ParameterDict({"keys": library.ones(1)})
        weights = nn.ParameterDict({"w": library.ones(1), "v": library.zeros(2)})
        alias = weights.get("w")
        default = weights.get("missing", "none")
        weights.setdefault("u", library.ones(3))
        last = weights.popitem()[0]
        merged = weights | nn.ParameterDict({"x": library.ones(1)})
        copied = weights.copy()
        built = weights.fromkeys(["p", "q"], library.ones(1))
        results.append((_layer_kinds(heads), type(alias).__name__, default, last, list(merged), list(reversed(weights)),
                        copied["w"] is weights["w"], type(copied).__name__, list(built),
                        [name for name, _ in nn.Module.named_parameters(nn.ParameterDict({"b": library.ones(1),
                                                                                           "a": library.ones(1)}))]))
    assert results[0] == results[1]


# --- torch.utils.data --------------------------------------------------------------------------------


@pytest.mark.torch
def test_data_loader_batches_are_lists_and_collate_keeps_named_tuples_and_mapping_classes(torch):
    """PyTorch's ``default_collate`` gives a list for tuple samples (every TensorDataset batch is a list, so
    ``batch[0] = batch[0].float()`` works), a named tuple of batches for named-tuple samples, and an OrderedDict for
    OrderedDict samples; here they were tuples, plain tuples and plain dicts."""
    results = []
    for library in (gg, torch):
        data = library.utils.data
        loader = data.DataLoader(data.TensorDataset(library.arange(5), library.arange(5) * 2), batch_size=2)
        named = data.default_collate([Pair(1.0, "a"), Pair(2.0, "b")])
        ordered = data.default_collate([collections.OrderedDict(a=1, b=(1.0, 2)),
                                        collections.OrderedDict(a=2, b=(3.0, 4))])
        converted = data.default_convert(Pair(np.ones(1), (np.zeros(1), "s")))
        unbatched = list(data.DataLoader(data.TensorDataset(library.arange(2)), batch_size=None))
        results.append(([kinds(batch) for batch in loader], kinds(named), kinds(ordered), kinds(converted),
                        kinds(unbatched), data.default_collate([b"x", b"y"])))
    assert results[0] == results[1]


@pytest.mark.torch
@given(samples=st.integers(0, 9), batch_size=st.one_of(st.none(), st.integers(1, 4)), drop_last=st.booleans(),
       columns=st.integers(1, 3), through_subset=st.booleans())
def test_data_loader_batches_match_pytorchs_in_kind_dtype_and_number(samples, batch_size, drop_last, columns,
                                                                     through_subset, torch):
    """Every batch of a (Subset of a) TensorDataset, its container included: a list of tensors, as PyTorch's."""
    drop_last = drop_last and batch_size is not None  # PyTorch refuses drop_last without batches

    def batches(library):
        data = library.utils.data
        tensors = [library.arange(samples * 2, dtype=library.float64).reshape(samples, 2) * column
                   for column in range(columns)]
        dataset = data.TensorDataset(*tensors)
        if through_subset:
            dataset = data.Subset(dataset, list(range(samples))[::-1])
        loader = data.DataLoader(dataset, batch_size=batch_size, drop_last=drop_last)
        return len(loader), [kinds(batch) for batch in loader]

    assert batches(gg) == batches(torch)


@pytest.mark.torch
@given(dtypes=st.lists(st.sampled_from(["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]),
                       min_size=1, max_size=4),
       shape=st.lists(st.integers(0, 3), max_size=2), as_numpy=st.booleans())
def test_collate_stacks_tensors_of_mixed_dtypes_in_pytorchs_joined_dtype(dtypes, shape, as_numpy, torch):
    """Samples of int64 and float32 tensors collate to float32 in PyTorch (``torch.stack``'s promotion); NumPy's
    rule gave float64 here."""
    arrays = [np.arange(np.prod(shape, dtype=int)).reshape(shape).astype(dtype) for dtype in dtypes]
    ours = gg.utils.data.default_collate([array if as_numpy else gg.tensor(array) for array in arrays])
    theirs = torch.utils.data.default_collate([array if as_numpy else torch.tensor(array) for array in arrays])
    assert kinds(ours) == kinds(theirs)


@pytest.mark.torch
def test_random_split_without_a_generator_draws_from_the_global_one_as_pytorch(torch):
    """Without ``generator=``, PyTorch's random_split draws from the default generator: each call splits anew
    (k random splits in a loop differ) and ``manual_seed`` repeats them. Here every call gave the same split."""
    def splits(library):
        data = library.utils.data.TensorDataset(library.arange(30))
        library.manual_seed(5)
        first, second = ([part.indices for part in library.utils.data.random_split(data, [0.5, 0.5])]
                         for _ in range(2))
        library.manual_seed(5)
        again = [part.indices for part in library.utils.data.random_split(data, [0.5, 0.5])]
        return first != second, first == again

    assert splits(gg) == splits(torch) == (True, True)


@pytest.mark.torch
def test_data_refusals_raise_pytorchs_exception_classes(torch):
    for library in (gg, torch):
        data = library.utils.data
        with pytest.raises(RuntimeError):  # stack of unequal shapes
            data.default_collate([library.ones(2), library.ones(3)])
        with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
            data.default_collate([(1, 2), (1, 2, 3)])
        with pytest.raises(TypeError):
            data.default_collate([np.array(["a"]), np.array(["b"])])
        with pytest.raises(AssertionError, match="Size mismatch between tensors"):
            data.TensorDataset(library.ones(3), library.ones(4))
        joined = data.ConcatDataset([data.TensorDataset(library.arange(3)), data.TensorDataset(library.arange(2))])
        assert [int(joined[index][0]) for index in range(-5, 5)] == [0, 1, 2, 0, 1] * 2
        with pytest.raises(ValueError):
            joined[-6]
        with pytest.raises(IndexError):
            joined[5]


# --- torch.save / torch.load -------------------------------------------------------------------------


def _round_trip(library, obj):
    buffer = io.BytesIO()
    library.save(obj, buffer)
    buffer.seek(0)
    return library.load(buffer, weights_only=True)


@pytest.mark.torch
def test_load_gives_back_parameters_and_requires_grad_as_torch_load(torch):
    """``torch.load`` gives a saved Parameter back as a Parameter and keeps ``requires_grad`` (a list of a model's
    parameters, a tensor being optimised); here every tensor came back a plain tensor that does not require grad."""
    results = []
    for library in (gg, torch):
        loaded = _round_trip(library, {
            "parameter": library.nn.Parameter(library.ones(2)),
            "frozen": library.nn.Parameter(library.ones(1), requires_grad=False),
            "optimised": library.ones(2, requires_grad=True),
            "computed": library.ones(2, requires_grad=True) * 2,
            "plain": [library.zeros(1)],
            "kept": library.nn.Linear(1, 1).state_dict(keep_vars=True),
        })
        entries = [*loaded.items(), *loaded["kept"].items(), ("plain", loaded["plain"][0])]
        results.append(sorted((name, type(value).__name__, value.requires_grad, value.is_leaf)
                              for name, value in entries if name != "kept" and not isinstance(value, list)))
    assert results[0] == results[1]


@pytest.mark.torch
@pytest.mark.parametrize("make_optimizer", [
    lambda library, params: library.optim.Adam(params, lr=0.05, amsgrad=True),
    lambda library, params: library.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
])
def test_training_resumed_from_a_saved_checkpoint_is_bit_identical(make_optimizer, torch):
    """Save model, optimizer and scheduler mid-training to a BytesIO, load them into fresh ones and go on: the same
    weights to the last bit as training straight through (checked for glassgrad and, as the oracle, PyTorch)."""
    def build(library):
        model = library.nn.Sequential(library.nn.Linear(3, 4), library.nn.Tanh(), library.nn.Linear(4, 1)).double()
        with library.no_grad():
            for position, param in enumerate(model.parameters()):
                param.copy_(library.tensor(np.cos(np.arange(param.numel()) + position).reshape(tuple(param.shape))))
        optimizer = make_optimizer(library, model.parameters())
        return model, optimizer, library.optim.lr_scheduler.StepLR(optimizer, 2, gamma=0.5)

    def steps(library, model, optimizer, scheduler, count):
        inputs = library.tensor(np.linspace(-1, 1, 24).reshape(8, 3))
        targets = library.tensor(np.sin(np.arange(8.0)).reshape(8, 1))
        for _ in range(count):
            optimizer.zero_grad()
            ((model(inputs) - targets) ** 2).mean().backward()
            optimizer.step()
            scheduler.step()

    for library in (gg, torch):
        model, optimizer, scheduler = build(library)
        steps(library, model, optimizer, scheduler, 3)
        checkpoint = _round_trip(library, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                           "scheduler": scheduler.state_dict(), "epoch": 3})
        steps(library, model, optimizer, scheduler, 4)
        resumed, resumed_optimizer, resumed_scheduler = build(library)
        resumed.load_state_dict(checkpoint["model"])
        resumed_optimizer.load_state_dict(checkpoint["optimizer"])
        resumed_scheduler.load_state_dict(checkpoint["scheduler"])
        steps(library, resumed, resumed_optimizer, resumed_scheduler, 4)
        for straight, again in zip(model.parameters(), resumed.parameters()):
            np.testing.assert_array_equal(again.detach().numpy(), straight.detach().numpy())
        assert resumed_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"] and checkpoint["epoch"] == 3


LAYERS = {
    "linear 2→2": lambda nn: nn.Linear(2, 2),
    "linear 2→3": lambda nn: nn.Linear(2, 3, bias=False),
    "relu": lambda nn: nn.ReLU(),
    "tanh": lambda nn: nn.Tanh(),
    "block": lambda nn: nn.Sequential(nn.Linear(1, 1), nn.ReLU()),
    "list": lambda nn: nn.ModuleList([nn.ReLU(), nn.ReLU()]),
}


@pytest.mark.torch
@given(chosen=st.lists(st.sampled_from(sorted(LAYERS)), max_size=7))
def test_a_module_list_prints_runs_of_alike_layers_once_as_pytorch(chosen, torch):
    """PyTorch prints a run of layers that print alike in a ModuleList as ``(0-2): 3 x Linear(…)``; here every
    layer had its own lines (a 12-block transformer filled the screen). The parameter counts glassgrad adds at the
    end of lines are left out of the comparison."""
    def printed(library):
        layers = [LAYERS[name](library.nn) for name in chosen]
        return repr(library.nn.Sequential(library.nn.Linear(2, 2), library.nn.ModuleList(layers)))

    ours = [line.split("  #")[0].rstrip() for line in printed(gg).splitlines() if not line.startswith("Total")]
    assert ours == printed(torch).splitlines()


def test_a_file_that_marks_an_integer_tensor_as_requiring_grad_is_refused_in_one_line():
    """The layout's ``requires_grad`` mark is read from the file: on an integer tensor (which cannot require grad)
    it is a corrupted or hostile file, refused as one, never a tensor in a state PyTorch forbids."""
    import json
    import struct

    import safetensors.numpy

    buffer = io.BytesIO()
    gg.save({"counts": gg.arange(3)}, buffer)
    raw = buffer.getvalue()
    (length,) = struct.unpack("<Q", raw[:8])
    metadata = json.loads(raw[8:8 + length])["__metadata__"]
    description = json.loads(metadata["glassgrad"])
    description["layout"]["dict"][0][1]["requires_grad"] = True
    forged = safetensors.numpy.save({"counts": np.arange(3)},
                                    metadata={**metadata, "glassgrad": json.dumps(description)})
    with pytest.raises(gg.io.ModelFileError, match="int64 is marked as requiring grad") as refused:
        gg.load(io.BytesIO(forged))
    assert "\n" not in str(refused.value)
