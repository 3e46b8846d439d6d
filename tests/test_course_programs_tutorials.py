"""What programs written after the official pytorch.org tutorials (Learn the Basics, Learning PyTorch with
Examples, What is torch.nn really?, the NLP and torch.func tutorials) do that once went wrong here, each checked
against PyTorch 2.13 in float64."""

from __future__ import annotations

import collections
import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _both(torch, make):
    """``make(library)`` with glassgrad and with PyTorch: the two results, or the two exception classes."""
    found = []
    for library in (gg, torch):
        try:
            found.append(make(library))
        except Exception as error:  # noqa: BLE001 (the class is what is compared)
            found.append(type(error))
    return found


@pytest.mark.torch
@given(label=st.integers(0, 9))
def test_a_one_hot_target_made_by_scatter_with_a_0d_index_is_pytorchs(label, torch):
    """Learn the Basics' target transform ``torch.zeros(10).scatter_(0, torch.tensor(y), value=1)``: PyTorch
    counts a 0-d index as 1-d with one entry; it was refused ('the index must have as many dims as the tensor')."""
    ours, theirs = _both(torch, lambda lib: lib.zeros(10, dtype=lib.float64).scatter_(0, lib.tensor(label), value=1))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


ZERO_D_CALLS = {
    "gather of a 0-d index": lambda lib, x: x.gather(0, lib.tensor(2)),
    "gather from a 0-d tensor": lambda lib, x: x[1].gather(0, lib.tensor([0, 0])),
    "gather, both 0-d": lambda lib, x: x[1].gather(0, lib.tensor(0)),
    "scatter of a 0-d source": lambda lib, x: x.scatter(0, lib.tensor([1]), x[3] * 5),
    "scatter with a 0-d index and a longer source": lambda lib, x: x.scatter(0, lib.tensor(1), x.detach() * 2),
    "scatter into a 0-d tensor": lambda lib, x: x[0].scatter(0, lib.tensor([0]), x[2]),
    "scatter_add with a 0-d index": lambda lib, x: x.scatter_add(-1, lib.tensor(3), x.detach()[:2] ** 2),
    "scatter_reduce with a 0-d index": lambda lib, x: x.scatter_reduce(0, lib.tensor(2), x.detach()[1:3], "amax"),
    "scatter_reduce into a 0-d tensor": lambda lib, x: x[1].scatter_reduce(0, lib.tensor([0, 0]), x[:2], "prod"),
}
# (a source longer than a 0-d index is detached above: PyTorch 2.13 gives it a gradient of the wrong shape and fails)


def test_a_source_longer_than_a_0d_index_gives_its_first_entry_the_gradient():
    """By hand: ``out = x`` with ``out[1] = src[0]``, so ``∂(out·w)/∂src = [w[1], 0, 0]``."""
    src = gg.tensor([5.0, 6.0, 7.0], dtype=gg.float64, requires_grad=True)
    out = gg.zeros(3, dtype=gg.float64).scatter(0, gg.tensor(1), src)
    (out * gg.tensor([1.0, 10.0, 100.0], dtype=gg.float64)).sum().backward()
    assert out.tolist() == [0.0, 5.0, 0.0] and src.grad.tolist() == [10.0, 0.0, 0.0]


ZERO_D_REFUSED = {
    "a 0-d index for a matrix": lambda lib, x: x.reshape(2, 2).gather(1, lib.tensor(1)),
    "a source of more dims than a 0-d index": lambda lib, x: x.scatter(0, lib.tensor(1), x.reshape(2, 2)),
    "an empty source for a 0-d index": lambda lib, x: x.scatter(0, lib.tensor(1), x[:0]),
    "a 0-d source for two indices": lambda lib, x: x.scatter(0, lib.tensor([1, 2]), x[0]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(ZERO_D_CALLS))
def test_gather_and_scatter_count_a_0d_tensor_as_one_entry_as_pytorch(name, torch):
    """Values and gradients of gather/scatter where the tensor, the index or the source is 0-d."""
    values = [0.5, -1.5, 2.0, 3.0]
    results = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = ZERO_D_CALLS[name](lib, x)
        (out * lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(out.shape)).sum().backward()
        results.append((tuple(out.shape), out.detach().numpy(), x.grad.numpy()))
    (our_shape, our_values, our_grad), (shape, values, grad) = results
    assert our_shape == shape
    np.testing.assert_allclose(our_values, values, rtol=1e-12)
    np.testing.assert_allclose(our_grad, grad, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(ZERO_D_REFUSED))
def test_what_pytorch_refuses_of_0d_gather_and_scatter_is_refused(name, torch):
    ours, theirs = _both(torch, lambda lib: ZERO_D_REFUSED[name](lib, lib.arange(4.0, dtype=lib.float64)))
    assert ours is theirs is RuntimeError


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["jacobian", "hessian"])
def test_the_forward_mode_strategy_gives_the_reverse_mode_numbers(kind, torch):
    """``jacobian(f, x, vectorize=True, strategy="forward-mode")`` (the torch.autograd.functional tutorial) was
    refused; PyTorch's numbers do not depend on the strategy (the oracle is its default, reverse mode, which
    loads fast), and glassgrad's are computed in reverse mode."""
    x = np.array([0.3, -1.2, 2.0])
    results = []
    for lib, strategy in ((gg, {"vectorize": True, "strategy": "forward-mode"}), (torch, {})):
        inputs = (lib.tensor(x, dtype=lib.float64), lib.tensor(x[::-1].copy(), dtype=lib.float64))
        if kind == "jacobian":
            found = lib.autograd.functional.jacobian(lambda a, b: (2 * a.exp() + 3 * b, a * b), inputs, **strategy)
        else:
            found = lib.autograd.functional.hessian(lambda a, b: (a.pow(3) * b).sum(), inputs,
                                                    **{key.replace("strategy", "outer_jacobian_strategy"): value
                                                       for key, value in strategy.items()})
        results.append([block.detach().numpy() for row in found for block in row])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


STRATEGY_REFUSED = {
    "without vectorize": {"strategy": "forward-mode"},
    "with create_graph": {"strategy": "forward-mode", "vectorize": True, "create_graph": True},
    "with strict": {"strategy": "forward-mode", "vectorize": True, "strict": True},
    "an unknown strategy": {"strategy": "forward"},
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(STRATEGY_REFUSED))
def test_what_pytorch_refuses_of_the_forward_mode_strategy_is_refused_with_its_exception(name, torch):
    options = STRATEGY_REFUSED[name]
    ours, theirs = _both(torch, lambda lib: lib.autograd.functional.jacobian(
        lambda a: a.exp(), lib.ones(2, dtype=lib.float64), **options))
    assert ours is theirs and issubclass(ours, Exception)


def test_a_tensor_is_refused_the_meta_device_saying_a_model_may_go_there():
    """The model-ensembling tutorial moves a copy of the model to 'meta' (glassgrad.nn.meta, tests/test_nn_meta.py);
    a tensor of numbers cannot go there."""
    with pytest.raises(RuntimeError, match=r"^device 'meta' \(tensors with a shape and no numbers\) is not "
                                           r"available.*model.to\('meta'\).*functional_call") as raised:
        gg.ones(2).to("meta")
    assert "\n" not in str(raised.value)


WHOLE_FLOAT_SCHEDULES = {
    "StepLR": lambda s, o: s.StepLR(o, 1.0, gamma=0.95),  # the transformer tutorial's spelling
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, 4.0),
    "LinearLR": lambda s, o: s.LinearLR(o, total_iters=3.0),
    "ConstantLR": lambda s, o: s.ConstantLR(o, total_iters=3.0),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=4.0),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, [2.0, 3.0]),
    "ReduceLROnPlateau": lambda s, o: s.ReduceLROnPlateau(o, patience=2.0, cooldown=1.0),
    "CyclicLR": lambda s, o: s.CyclicLR(o, 0.1, 1.0, step_size_up=2.0, step_size_down=3.0),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(WHOLE_FLOAT_SCHEDULES))
def test_a_schedule_takes_a_whole_float_count_as_pytorch(name, torch):
    """``StepLR(optimizer, 1.0, gamma=0.95)`` was refused ('must be a whole number'); PyTorch computes with it."""
    rates = []
    for lib in (gg, torch):
        optimizer = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        schedule = WHOLE_FLOAT_SCHEDULES[name](lib.optim.lr_scheduler, optimizer)
        seen = []
        for _ in range(8):
            optimizer.step()
            schedule.step(1.0) if name == "ReduceLROnPlateau" else schedule.step()
            seen.append(optimizer.param_groups[0]["lr"])
        rates.append(seen)
    np.testing.assert_allclose(*rates, rtol=1e-12)


def test_a_fractional_step_size_decays_at_its_multiples():
    """``StepLR(optimizer, 1.5)`` computes as PyTorch's does (it was refused): the lr is multiplied by γ at each
    epoch e > 0 with e mod 1.5 = 0, that is at epochs 3, 6, …"""
    optimizer = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    schedule = gg.optim.lr_scheduler.StepLR(optimizer, 1.5, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    assert lrs == [0.5 ** (epoch // 3) for epoch in range(6)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]


def test_the_submodules_of_torch_utils_data_import_under_the_shim():
    """The transformer tutorial's ``from torch.utils.data import dataset`` raised ImportError, and so did
    ``torch.utils.data.sampler`` / ``.dataloader`` imports of older courses."""
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\nfrom torch.utils.data import dataset, sampler\n"
               "from torch.utils.data.dataset import Dataset\nfrom torch.utils.data.sampler import BatchSampler\n"
               "from torch.utils.data.dataloader import default_collate\nimport torch.utils.data.dataloader\n"
               "data = torch.utils.data\n"
               "assert dataset.IterableDataset is data.IterableDataset and Dataset is data.Dataset\n"
               "assert sampler.RandomSampler is data.RandomSampler and BatchSampler is data.BatchSampler\n"
               "assert default_collate is data.default_collate and data.dataloader.DataLoader is data.DataLoader\n"
               "print('ok')")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.strip() == "ok"


def _small_model(lib):
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2)).double()
    with lib.no_grad():
        for number, parameter in enumerate(model.parameters()):
            parameter.copy_(lib.linspace(-1.0, 1.0 + number, parameter.numel(), dtype=lib.float64)
                            .reshape(parameter.shape))
    return model


@pytest.mark.torch
def test_model_compile_compiles_in_place_and_keeps_pytorchs_numbers(torch):
    """The torch.compile tutorial's ``mod.compile(); mod(t)`` raised AttributeError (no Module.compile).
    PyTorch's numbers are those of its eager model (its compiled one gives them too, after seconds of tracing)."""
    x = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
    model = _small_model(gg)
    names = list(model.state_dict())
    assert model.compile(mode="max-autotune") is None
    assert isinstance(model.forward, gg.compiler.Compiled) and list(model.state_dict()) == names
    with gg.no_grad():
        ours = [model(gg.tensor(x * scale)).numpy() for scale in (1.0, 0.5, 2.0, 1.0, 1.0)]  # captured, then replayed
    with torch.no_grad():
        eager = _small_model(torch)
        expected = [eager(torch.tensor(x * scale)).numpy() for scale in (1.0, 0.5, 2.0, 1.0, 1.0)]
    for found, wanted in zip(ours, expected):
        np.testing.assert_allclose(found, wanted, rtol=1e-12)


@pytest.mark.torch
def test_compile_takes_pytorchs_keywords(torch):
    """``torch.compile(model, mode="reduce-overhead")`` (the tutorials' spelling) raised TypeError."""
    x = np.array([[0.5, -1.0, 2.0]])
    compiled = gg.compile(_small_model(gg), mode="reduce-overhead", dynamic=False, backend="inductor")
    with gg.no_grad():
        ours = compiled(gg.tensor(x)).numpy()
    with torch.no_grad():
        theirs = _small_model(torch)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for lib in (gg, torch):
        model = _small_model(lib)
        assert lib.compile(model, disable=True) is model


def compiled_module_seen(lib) -> list:
    """What a program sees of ``lib.compile(model)``: its class, its names, loading its state dict, its text."""
    model = _small_model(lib)
    compiled = lib.compile(model)
    state = compiled.state_dict()
    fresh = lib.compile(_small_model(lib))
    fresh.load_state_dict(state)
    try:
        _small_model(lib).load_state_dict(state)
        bare = "loaded"
    except RuntimeError as error:
        bare = "RuntimeError" if "_orig_mod.0.weight" in str(error) else str(error)
    return [type(compiled).__name__, isinstance(compiled, lib.nn.Module), compiled._orig_mod is model,
            list(state), [name for name, _ in compiled.named_parameters()],
            [name for name, _ in compiled.named_modules()], getattr(compiled, "0") is model[0], bare,
            repr(compiled).splitlines()[:2], compiled.eval() is compiled and not model.training]


@pytest.mark.torch
def test_a_compiled_module_is_a_module_holding_the_model_as_pytorchs(torch):
    """``model = torch.compile(model)`` is an ``nn.Module`` whose one child ``_orig_mod`` is the model: its
    ``state_dict``/``named_parameters`` say ``_orig_mod.0.weight`` (glassgrad's said ``0.weight``, so a checkpoint
    saved from a compiled model held other names than PyTorch's), such a state dict loads into a compiled model and
    not into the bare one, and the model's attributes are reached through it. (PyTorch's side runs in a process of its
    own: ``torch.compile`` turns off the validation of ``torch.distributions`` for the rest of a process.)"""
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); import torch\n"
              "from test_course_programs_tutorials import compiled_module_seen\n"
              "print(json.dumps(compiled_module_seen(torch)))")
    done = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs, ours = json.loads(done.stdout.strip().splitlines()[-1]), compiled_module_seen(gg)
    assert ours[:-2] == theirs[:-2] and ours[-1] == theirs[-1]
    assert [line.split("#")[0].rstrip() for line in ours[-2]] == theirs[-2]  # glassgrad adds its parameter counts


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["forward hook", "forward pre-hook"])
def test_a_hook_on_the_compiled_module_itself_runs_as_on_pytorchs(torch, kind):
    """``compiled = torch.compile(model); compiled.register_forward_hook(save_output)``: PyTorch's compiled module is a
    module, so its hooks run around each call; glassgrad's call went straight to the program, skipping them (the
    hook never called, its change of the output lost). The oracle is PyTorch's model with the same hook, eager."""
    x = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
    found = []
    for lib in (gg, torch):
        model, seen = _small_model(lib), []
        holder = gg.compile(model) if lib is gg else model
        if kind == "forward hook":
            holder.register_forward_hook(lambda layer, inputs, output, seen=seen: seen.append(1) or output * 0.5)
        else:
            holder.register_forward_pre_hook(lambda layer, inputs, seen=seen: seen.append(1) or (inputs[0] * 2,))
        with lib.no_grad():
            found.append(([holder(lib.tensor(x)).numpy() for _ in range(4)], len(seen)))
    (ours, our_calls), (theirs, their_calls) = found
    assert our_calls == their_calls == 4
    for mine, wanted in zip(ours, theirs):
        np.testing.assert_allclose(mine, wanted, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{"mode": "fastest"}, {"mode": "max-autotune", "options": {"trace.enabled": True}}])
def test_what_pytorch_refuses_of_compiles_keywords_is_refused(options, torch):
    ours, theirs = _both(torch, lambda lib: lib.compile(lambda x: x * 2, **options))
    assert ours is theirs is RuntimeError


Pair = collections.namedtuple("Pair", ["image", "label"])
SAMPLE_KINDS = {
    "tuple": lambda i: (np.full(2, i / 4), i),
    "list": lambda i: [i, i / 2],
    "namedtuple": lambda i: Pair(np.full(3, float(i)), i),
    "dict of lists": lambda i: {"ids": [i, i + 1], "weight": i / 3},
}


class _Samples:
    """A map-style dataset of ``count`` samples made by ``make`` (written once, run with either library)."""

    def __init__(self, make, count: int) -> None:
        self.make, self.count = make, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        return self.make(index)


def _plain(batch):
    """A batch as containers and numbers: the container types are kept, tensors become lists."""
    if hasattr(batch, "tolist"):
        return ("tensor", batch.tolist())
    if isinstance(batch, dict):
        return {key: _plain(value) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        return (type(batch).__name__, [_plain(value) for value in batch])
    return batch


@pytest.mark.torch
@given(kind=st.sampled_from(sorted(SAMPLE_KINDS)), count=st.integers(1, 5), batch_size=st.sampled_from([None, 1, 2, 4]))
def test_batches_of_tuple_list_and_namedtuple_samples_have_pytorchs_containers(kind, count, batch_size, torch):
    """PyTorch's default_collate makes a batch of tuple samples a list (so ``batch[0] = batch[0].to(device)``
    works) and keeps a namedtuple's type (``batch.label``); here both were plain tuples."""
    found = []
    for lib in (gg, torch):
        loader = lib.utils.data.DataLoader(_Samples(SAMPLE_KINDS[kind], count), batch_size=batch_size)
        found.append([_plain(batch) for batch in loader])
    assert found[0] == found[1]


@pytest.mark.torch
@given(rows=st.integers(1, 6), batch_size=st.integers(1, 4))
def test_a_tensordataset_batch_is_a_list_as_in_pytorch(rows, batch_size, torch):
    found = []
    for lib in (gg, torch):
        data = lib.utils.data.TensorDataset(lib.arange(rows), lib.arange(rows, dtype=lib.float64) / 2)
        found.append([_plain(batch) for batch in lib.utils.data.DataLoader(data, batch_size=batch_size)])
    assert found[0] == found[1]


@pytest.mark.torch
@pytest.mark.parametrize("samples", [[(1, 2), (3,)], [(np.ones(1),), (np.ones(2),)]], ids=["items", "shapes"])
def test_samples_that_do_not_match_raise_pytorchs_runtime_error(samples, torch):
    ours, theirs = _both(torch, lambda lib: lib.utils.data.default_collate(samples))
    assert ours is theirs is RuntimeError


@pytest.mark.torch
def test_a_post_accumulate_grad_hook_that_returns_a_value_is_refused_as_in_pytorch(torch):
    """``x.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(0.5))`` returns the tensor mul_ gives back;
    PyTorch refuses that (a hook returns None), glassgrad went on."""
    def run(lib):
        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(0.5))
        (x * 4).sum().backward()
    assert _both(torch, run) == [RuntimeError, RuntimeError]
    halved = gg.tensor([1.0, -2.0], dtype=gg.float64, requires_grad=True)

    def halve(leaf) -> None:
        leaf.grad.mul_(0.5)

    halved.register_post_accumulate_grad_hook(halve)
    (halved * 4).sum().backward()
    assert halved.grad.tolist() == [2.0, 2.0]


def _scaling_functions(lib):
    """Custom Functions whose forward has a default argument, old style and with setup_context, and whose
    backward answers for one input or for two."""

    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale=2.0):
            ctx.scale = scale
            return x * scale

        @staticmethod
        def backward(ctx, up):
            return up * ctx.scale

    class ScaleSetup(Scale):
        @staticmethod
        def forward(x, scale=2.0):
            return x * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.scale = inputs[1]

    def two_answers(function):
        return type(function.__name__, (function,), {"backward": staticmethod(lambda ctx, up: (up * ctx.scale, None))})

    return {"old": Scale, "old, two answers": two_answers(Scale), "setup": ScaleSetup,
            "setup, two answers": two_answers(ScaleSetup)}


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["old", "old, two answers", "setup", "setup, two answers"])
@pytest.mark.parametrize("call", ["default", "positional", "keyword"])
def test_a_forward_default_counts_as_an_input_only_where_pytorch_counts_it(kind, call, torch):
    """The conv-BN fusion tutorial's ``BatchNorm.apply(a)`` with ``forward(ctx, X, eps=1e-3)`` and a backward
    giving one gradient: PyTorch counts the arguments given (defaults only with setup_context); glassgrad
    counted the default too and refused ('expected 2, got 1')."""
    given = {"default": ((), {}), "positional": ((3.0,), {}), "keyword": ((), {"scale": 3.0})}[call]

    def run(lib):
        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        _scaling_functions(lib)[kind].apply(x, *given[0], **given[1]).sum().backward()
        return x.grad.tolist()

    ours, theirs = _both(torch, run)
    assert ours == theirs


def _pair(lib):
    first = lib.tensor([[0.3, -1.2, 0.5], [1.0, 0.2, -0.4]], dtype=lib.float64, requires_grad=True)
    return first, lib.tensor([[0.1, 0.4, -0.9], [0.7, -0.3, 0.2]], dtype=lib.float64)


NAMED_LOSS_CALLS = {  # the loss, its inputs by name as the knowledge-distillation tutorial passes target=
    "CosineEmbeddingLoss": lambda lib, a, b: ((a, b), {"target": lib.tensor([1.0, -1.0], dtype=lib.float64)}),
    "MarginRankingLoss": lambda lib, a, b: ((), {"input1": a[:, 0], "input2": b[:, 0],
                                                "target": lib.tensor([1.0, -1.0], dtype=lib.float64)}),
    "TripletMarginLoss": lambda lib, a, b: ((a,), {"positive": b, "negative": b.flip(0)}),
    "GaussianNLLLoss": lambda lib, a, b: ((a, b), {"var": lib.ones(2, 3, dtype=lib.float64)}),
    "SoftMarginLoss": lambda lib, a, b: ((), {"input": a, "target": b.sign()}),
    "MultiMarginLoss": lambda lib, a, b: ((a,), {"target": lib.tensor([2, 0])}),
    "PoissonNLLLoss": lambda lib, a, b: ((), {"log_input": a, "target": b.exp()}),  # forward's own names
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(NAMED_LOSS_CALLS))
def test_a_loss_module_takes_its_inputs_by_pytorchs_names(name, torch):
    """``cosine_loss(hidden, teacher_hidden, target=torch.ones(n))`` raised TypeError ('unexpected keyword
    argument 'target''): these loss modules took their inputs in order only."""
    found = []
    for lib in (gg, torch):
        a, b = _pair(lib)
        positional, named = NAMED_LOSS_CALLS[name](lib, a, b)
        loss = getattr(lib.nn, name)()(*positional, **named)
        loss.backward()
        found.append((loss.item(), a.grad.numpy()))
    np.testing.assert_allclose(found[0][0], found[1][0], rtol=1e-12)
    np.testing.assert_allclose(found[0][1], found[1][1], rtol=1e-12, atol=1e-15)


@pytest.mark.torch
def test_a_setting_given_to_a_loss_modules_call_is_refused_as_in_pytorch(torch):
    ours, theirs = _both(torch, lambda lib: lib.nn.CosineEmbeddingLoss()(*_pair(lib), lib.ones(2), margin=0.5))
    assert ours is theirs is TypeError


def _replaying(model, how: str, x: np.ndarray):
    """``model`` compiled ``how`` (in place, or wrapped: what to call), run under no_grad until it replays."""
    if how == "model.compile()":
        model.compile()
    else:
        model = gg.compile(model)
    with gg.no_grad():
        for _ in range(3):  # captured twice, then replayed
            model(gg.tensor(x))
    return model


@pytest.mark.torch
@pytest.mark.parametrize("how", ["model.compile()", "gg.compile(model)"])
def test_a_deep_copy_of_a_compiled_model_computes_with_its_own_weights(how, torch):
    """The transformer tutorial keeps ``best_model = copy.deepcopy(model)``; of a compiled model, the copy replayed
    the original's captured program, so it gave the original's numbers whatever its own weights were."""
    x = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
    model = _replaying(_small_model(gg), how, x)
    with gg.no_grad():
        best = copy.deepcopy(model)
        for parameter in model.parameters():
            parameter.mul_(-0.5)
        ours = [best(gg.tensor(x)).numpy() for _ in range(3)]
        changed = model(gg.tensor(x)).numpy()
    with torch.no_grad():
        theirs = _small_model(torch)
        expected = theirs(torch.tensor(x)).numpy()
        for parameter in theirs.parameters():
            parameter.mul_(-0.5)
        expected_changed = theirs(torch.tensor(x)).numpy()
    for found in ours:
        np.testing.assert_allclose(found, expected, rtol=1e-12)
    np.testing.assert_allclose(changed, expected_changed, rtol=1e-12)


def _shifted_model(lib):
    """A model whose forward reads its own parameter and its own mode (no layer call covers either)."""

    class Shifted(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = _small_model(lib)
            self.shift = lib.nn.Parameter(lib.tensor([0.25, -0.5], dtype=lib.float64))

        def forward(self, x):
            out = self.body(x) + self.shift
            return out if self.training else out * 2

    return Shifted()


CHANGES = {
    "a sublayer replaced": lambda lib, model: model.body.__setitem__(0, _small_model(lib)[0]),
    "a parameter replaced": lambda lib, model: setattr(model, "shift", lib.nn.Parameter(
        lib.tensor([3.0, 4.0], dtype=lib.float64))),
    "the mode changed": lambda lib, model: model.eval(),
    "its own mode flag changed": lambda lib, model: setattr(model, "training", False),
}


@pytest.mark.torch
@pytest.mark.parametrize("how", ["model.compile()", "gg.compile(model)"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_compiled_model_follows_a_change_of_its_layers_parameters_or_mode(change, how, torch):
    """After ``model.fc = nn.Linear(…)`` (or a Parameter replaced, or eval() read by the model's own forward)
    the replay went on computing with what the capture saw: silently the old numbers."""
    x = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
    model = _shifted_model(gg)
    with gg.no_grad():
        model.body[0].weight.mul_(0.5)  # so that the replaced sublayer differs from the one captured
    compiled = _replaying(model, how, x)
    with gg.no_grad():
        CHANGES[change](gg, model)
        ours = [compiled(gg.tensor(x)).numpy() for _ in range(3)]
    theirs = _shifted_model(torch)
    with torch.no_grad():
        theirs.body[0].weight.mul_(0.5)
        CHANGES[change](torch, theirs)
        expected = theirs(torch.tensor(x)).numpy()
    for found in ours:
        np.testing.assert_allclose(found, expected, rtol=1e-12)


HOOKS_ADDED = {
    "on a layer": lambda lib, model, seen: model[2].register_forward_hook(
        lambda layer, inputs, output: seen.append(1) or output * 0.5),
    "before a layer": lambda lib, model, seen: model[0].register_forward_pre_hook(
        lambda layer, inputs: seen.append(1) or (inputs[0] * 2,)),
    "on every module": lambda lib, model, seen: (gg.nn.module if lib is gg else lib.nn.modules.module)
    .register_module_forward_hook(lambda layer, inputs, output: seen.append(1) or None),
}


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:gg.compile")  # the hooked layer makes the step run eagerly from then on, saying so
@pytest.mark.parametrize("where", sorted(HOOKS_ADDED))
def test_a_hook_registered_after_a_capture_runs_as_in_pytorch(where, torch):
    """``model.fc.register_forward_hook(save_activation)`` after a compiled model ran: the replay skipped the hook
    (never called, its change of the output lost)."""
    x = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
    found = []
    for lib in (gg, torch):
        model, seen = _small_model(lib), []
        compiled = gg.compile(model) if lib is gg else model  # PyTorch's eager numbers are the oracle
        with lib.no_grad():
            for _ in range(3):
                compiled(lib.tensor(x))
            handle = HOOKS_ADDED[where](lib, model, seen)
            try:
                out = [compiled(lib.tensor(x)).numpy() for _ in range(2)]
            finally:
                handle.remove()
        found.append((out, len(seen)))
    (ours, our_calls), (theirs, their_calls) = found
    assert our_calls == their_calls > 0
    for mine, wanted in zip(ours, theirs):
        np.testing.assert_allclose(mine, wanted, rtol=1e-12)


def _zero_the_grad(leaf) -> None:
    leaf.grad.zero_()


TENSOR_HOOKS_ADDED = {
    "register_hook": lambda weight: weight.register_hook(lambda grad: grad * 0),
    "register_post_accumulate_grad_hook": lambda weight: weight.register_post_accumulate_grad_hook(_zero_the_grad),
}


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:gg.compile")  # the hook makes the step run eagerly from then on, saying so
@pytest.mark.parametrize("kind", sorted(TENSOR_HOOKS_ADDED))
def test_a_gradient_hook_registered_after_a_capture_runs_as_in_pytorch(kind, torch):
    """A hook that zeroes a weight's gradient, added once a compiled training step was replaying: the replay
    skipped it and went on updating the weight."""
    x = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
    weights = []
    for lib in (gg, torch):
        model = _small_model(lib)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)

        def step(inputs, model=model, optimizer=optimizer):
            optimizer.zero_grad()
            loss = (model(inputs) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss.detach()

        compiled = gg.compile(step) if lib is gg else step  # PyTorch's eager numbers are the oracle
        for _ in range(3):
            compiled(lib.tensor(x))
        TENSOR_HOOKS_ADDED[kind](model[0].weight)
        kept = model[0].weight.detach().clone()
        for _ in range(2):
            compiled(lib.tensor(x))
        np.testing.assert_array_equal(model[0].weight.detach().numpy(), kept.numpy())  # its gradient was zeroed
        weights.append([parameter.detach().numpy() for parameter in model.parameters()])
    for ours, theirs in zip(*weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
