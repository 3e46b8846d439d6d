"""Optimizer state and parameter groups shaped as PyTorch 2.13's, compared with PyTorch itself.

After some steps on the same gradients, ``optimizer.state_dict()`` of both libraries is compared key by key
(order too), type by type (a tensor where PyTorch holds a tensor, a number where it holds a number), dtype by
dtype (``step`` a 0-d float32 tensor, the moments in the parameter's dtype) and value by value; the groups carry
PyTorch's keys (``foreach``, ``fused``, ``capturable``, ``differentiable`` where PyTorch has them) with its
defaults, and each of those options set to True is taken or refused as PyTorch on a CPU takes or refuses it.
A state dict saved by glassgrad before its state was tensors (NumPy arrays, an int step) still loads.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from one_line_errors import assert_raises_as_pytorch
from test_optim_options_sweep import OPTIONS

import glassgrad as gg

STEPS = 6
NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD",
         "Adafactor"]
SHAPES = [(3, 4), (5,), ()]
MATRICES = [(3, 4), (4, 3)]  # Muon's parameters
STATE_OPTIONS = {**OPTIONS, "Muon": st.fixed_dictionaries({
    "lr": st.sampled_from([0.01, 0.1]), "weight_decay": st.sampled_from([0, 0.1]),
    "momentum": st.sampled_from([0.5, 0.95]), "nesterov": st.booleans()})}
HOW_IT_RUNS = ("foreach", "fused", "capturable", "differentiable")


def _gradients(seed: int, dtype: type, shapes: list[tuple[int, ...]], steps: int = STEPS) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=shape).astype(dtype) for shape in shapes] for _ in range(steps)]


def _trained(library, name: str, options: dict, dtype: type, grads: list, shapes=SHAPES, seed: int = 0):
    """An optimizer of ``library`` after one step per entry of ``grads`` (given, not computed), and its params."""
    rng = np.random.default_rng(seed + 1)
    params = [library.tensor(rng.normal(size=shape).astype(dtype), requires_grad=True) for shape in shapes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = getattr(library.optim, name)(params, **options)
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            param.grad = library.tensor(grad)
        optimizer.step()
    return optimizer, params


def _assert_same_entry(ours, theirs, torch, where: str, rtol: float) -> None:
    """One state entry: a tensor of the same dtype, shape and values where PyTorch holds a tensor, else the same
    kind of Python value (lists entry by entry)."""
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for number, (mine, reference) in enumerate(zip(ours, theirs)):
            _assert_same_entry(mine, reference, torch, f"{where}[{number}]", rtol)
        return
    if torch.is_tensor(theirs):
        assert isinstance(ours, gg.Tensor) and not ours.requires_grad, f"{where}: {type(ours).__name__}"
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], f"{where}: {ours.dtype}"
        assert tuple(ours.shape) == tuple(theirs.shape), where
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=rtol, atol=rtol * 1e-2, err_msg=where)
        return
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__}, PyTorch {type(theirs).__name__}"
    if isinstance(theirs, float):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, err_msg=where)
    else:
        assert ours == theirs, where


def _assert_state_dicts_match(ours: dict, theirs: dict, torch, rtol: float) -> None:
    assert list(ours) == list(theirs)
    assert list(ours["state"]) == list(theirs["state"])
    for index, entries in theirs["state"].items():
        assert list(ours["state"][index]) == list(entries), f"parameter {index}"
        for key, value in entries.items():
            _assert_same_entry(ours["state"][index][key], value, torch, f"parameter {index}, {key}", rtol)
    for our_group, their_group in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert sorted(our_group) == sorted(their_group)
        for key, value in their_group.items():
            mine = our_group[key]  # hyper-parameters as numbers of either type (glassgrad holds floats)
            if isinstance(value, tuple):
                assert tuple(mine) == value, key
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                assert mine == value, key
            else:  # the flags and None: the very same
                assert mine is value or mine == value and type(mine) is type(value), f"{key}: {mine!r}, {value!r}"


@contextlib.contextmanager
def _default_dtype(torch, name: str):
    """Both libraries with ``name`` (float32 or float64) as their default dtype; put back after."""
    before, ours = torch.get_default_dtype(), gg.get_default_dtype()
    torch.set_default_dtype(getattr(torch, name))
    gg.set_default_dtype(getattr(gg, name))
    try:
        yield
    finally:
        torch.set_default_dtype(before)
        gg.set_default_dtype(ours)


@pytest.fixture
def float32_by_default(torch):
    """Both libraries at their default float32."""
    with _default_dtype(torch, "float32"):
        yield


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from([*NAMES, "Muon"]), data=st.data(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16), steps=st.integers(1, STEPS))
def test_state_dict_after_steps_is_pytorchs_key_by_key_type_by_type_value_by_value(torch, name, data, dtype, seed,
                                                                                    steps):
    """glassgrad's state held NumPy arrays and an int step (``opt.state[p]['step'].item()`` raised); now tensors of
    PyTorch's dtypes, in PyTorch's keys and order. (Muon's momentum reads the gradients only, so it matches
    PyTorch's though its steps, in bfloat16 there, do not.)"""
    options = data.draw(STATE_OPTIONS[name], label="options")
    shapes = MATRICES if name == "Muon" else SHAPES
    grads = _gradients(seed, dtype, shapes, steps)
    with _default_dtype(torch, "float32"):
        theirs, _ = _trained(torch, name, options, dtype, grads, shapes, seed)
        ours, _ = _trained(gg, name, options, dtype, grads, shapes, seed)
    _assert_state_dicts_match(ours.state_dict(), theirs.state_dict(), torch, 1e-9 if dtype == np.float64 else 2e-4)


@pytest.mark.torch
@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("name", ["Adam", "NAdam", "ASGD", "Adagrad"])
def test_the_scalar_state_takes_pytorchs_dtype_from_the_default_dtype(torch, name, default):
    """PyTorch keeps ``step`` (and NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``) in float64 while the default
    dtype is float64, else float32, and NAdam's and ASGD's steps round to it: the parameters match PyTorch's to the
    last bits in float64 (glassgrad kept Python floats: ~1e-8 apart from PyTorch's float32 ones)."""
    options = {"lr": 0.05, "lambd": 0.1, "t0": 2} if name == "ASGD" else {"lr": 0.05}
    grads = _gradients(3, np.float64, SHAPES, 30)
    with _default_dtype(torch, default):
        theirs, their_params = _trained(torch, name, options, np.float64, grads)
        ours, our_params = _trained(gg, name, options, np.float64, grads)
    for mine, reference in zip(our_params, their_params):
        np.testing.assert_allclose(mine.array, reference.detach().numpy(), rtol=1e-13, atol=1e-15)
    _assert_state_dicts_match(ours.state_dict(), theirs.state_dict(), torch, 1e-12)


@pytest.mark.torch
def test_lbfgs_state_dict_holds_tensors_where_pytorchs_does(torch, float32_by_default):
    """LBFGS's ``d``, ``prev_flat_grad`` and history vectors are tensors, its counters ints, as PyTorch's."""
    saved = {}
    for library in (torch, gg):
        w = library.tensor([1.5, -0.5, 2.0], dtype=library.float64, requires_grad=True)
        optimizer = library.optim.LBFGS([w], lr=0.5, max_iter=5)

        def closure(optimizer=optimizer, w=w):
            optimizer.zero_grad()
            loss = (w**4).sum() + (w * w).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        saved[library] = optimizer.state_dict()["state"][0]
    ours, theirs = saved[gg], saved[torch]
    for key in ("func_evals", "n_iter", "d", "prev_flat_grad", "old_dirs", "old_stps"):
        _assert_same_entry(ours[key], theirs[key], torch, key, 1e-9)
    assert isinstance(ours["t"], float) and isinstance(ours["prev_loss"], float)


@pytest.mark.torch
@pytest.mark.parametrize("name", [*NAMES, "Muon", "LBFGS"])
def test_groups_carry_pytorchs_keys_in_its_order_with_its_defaults(torch, name):
    """glassgrad's groups lacked ``foreach``/``fused``/``capturable``/``differentiable`` (each optimizer has those
    its PyTorch namesake has); the keys come in PyTorch's order: ``params``, then the defaults."""
    groups = {}
    for library in (torch, gg):
        first, second = (library.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) for _ in range(2))
        optimizer = getattr(library.optim, name)([first])
        if name != "LBFGS":
            optimizer.add_param_group({"params": [second], "lr": 0.5})
        groups[library] = optimizer.param_groups
        assert list(optimizer.defaults) == list(optimizer.param_groups[0])[1:]
    for ours, theirs in zip(groups[gg], groups[torch], strict=True):
        assert list(ours) == list(theirs)
        for key in HOW_IT_RUNS:
            if key in theirs:
                assert ours[key] is theirs[key], key


def _how_it_runs_cases() -> list[tuple[str, dict]]:
    cases = []
    for name in [*NAMES, "Muon", "LBFGS"]:
        for key in HOW_IT_RUNS:
            cases += [(name, {key: True}), (name, {key: False})]
        cases += [(name, {"fused": True, "foreach": True}), (name, {"fused": True, "differentiable": True}),
                  (name, {"fused": True, "capturable": True})]
    return cases


@pytest.mark.torch
@pytest.mark.parametrize(("name", "flags"), _how_it_runs_cases())
def test_how_a_step_runs_is_taken_or_refused_as_pytorch_on_a_cpu_does(torch, float32_by_default, name, flags):
    """An option PyTorch lacks is a TypeError; ``fused`` with ``foreach`` or ``differentiable`` a RuntimeError when
    built; at the step ``capturable=True`` (not fused) an AssertionError, ``differentiable=True`` a RuntimeError
    (glassgrad refused differentiable when built, with NotImplementedError). What PyTorch takes steps to the same
    numbers as without the option."""
    options = {"momentum": 0.9} if name == "SGD" else {}

    def three_steps(library, flags=flags):  # Muon and LBFGS take none of these options: refused when built
        param = library.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        optimizer = getattr(library.optim, name)([param], **options, **flags)
        for _ in range(3):
            optimizer.zero_grad()
            ((param**4).sum() + param.sum()).backward()
            optimizer.step()
        return optimizer, param

    try:
        their_optimizer, theirs = three_steps(torch)
    except Exception:  # noqa: BLE001 (any refusal: glassgrad must raise the same class)
        assert_raises_as_pytorch(three_steps, torch)
        return
    our_optimizer, ours = three_steps(gg)
    for key, value in flags.items():
        assert our_optimizer.param_groups[0][key] is value is their_optimizer.param_groups[0][key]
    assert np.array_equal(ours.array, three_steps(gg, {})[1].array)  # the option changes no number
    np.testing.assert_allclose(ours.array, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_a_tensor_lr_with_foreach_is_refused_as_in_pytorch(torch, name):
    refused = assert_raises_as_pytorch(
        lambda library: getattr(library.optim, name)([library.zeros(2, requires_grad=True)],
                                                     lr=library.tensor(0.01), foreach=True), torch)
    assert "lr as a Tensor is not supported for capturable=False and foreach=True" in str(refused)


@pytest.mark.torch
def test_state_reads_as_pytorchs_with_tensor_methods(torch, float32_by_default):
    """What a learner writes on PyTorch's state: its memory, the step as a number, a moment's norm."""
    grads = _gradients(7, np.float32, SHAPES)
    read = {}
    for library in (torch, gg):
        optimizer, params = _trained(library, "Adam", {"lr": 0.01}, np.float32, grads)
        state = optimizer.state
        read[library] = (sum(v.numel() for s in state.values() for v in s.values() if library.is_tensor(v)),
                         [state[p]["step"].item() for p in params],
                         [state[p]["exp_avg"].norm().item() for p in params])
    assert read[gg][:2] == read[torch][:2]
    np.testing.assert_allclose(read[gg][2], read[torch][2], rtol=1e-5)
    assert read[gg][0] == 1 * 3 + 2 * (12 + 5 + 1)  # three steps, two moments of each parameter's size


@pytest.mark.parametrize(("shapes", "path"), [([(3, 4), (4,)], "one pass"), ([(300, 300)], "in pieces"),
                                             ([(3, 4)], "one by one")])
def test_the_step_tensor_is_the_same_object_after_every_step(shapes, path):
    """PyTorch's ``state_steps[i] += 1`` changes the tensor in place; so do all of Adam's paths (one flat pass for a
    small group, cache-sized pieces for a large parameter, one parameter at a time)."""
    grads = _gradients(1, np.float32, shapes, 1)[0]
    params = [gg.tensor(grad, requires_grad=True) for grad in grads]
    optimizer = gg.optim.Adam(params, lr=0.01)
    held = []
    for step in range(1, 5):
        for param, grad in zip(params, grads):
            param.grad = gg.tensor(grad)
        optimizer.step()
        if step == 1:
            held = [(optimizer.state[p]["step"], optimizer.state[p]["exp_avg"]) for p in params]
        for param, (count, mean) in zip(params, held):
            assert optimizer.state[param]["step"] is count and count.item() == step and count.dtype == gg.float32
            assert optimizer.state[param]["exp_avg"] is mean
    assert bool(optimizer._flat_groups) == (path == "one pass")


def _old_form(saved: dict) -> dict:
    """``saved`` as glassgrad wrote state dicts before its state held tensors: NumPy arrays, an int step, Python
    floats for the 0-d entries, and groups without the keys of :data:`HOW_IT_RUNS`."""
    def old(key, value):
        if key == "step":
            return int(value.item())
        if key in ("mu_product", "eta", "mu"):
            return value.item()
        return value.array.copy() if isinstance(value, gg.Tensor) else value

    state = {index: {key: old(key, value) for key, value in entries.items()}
             for index, entries in saved["state"].items()}
    groups = [{key: value for key, value in group.items() if key not in HOW_IT_RUNS} for group in saved["param_groups"]]
    return {"state": state, "param_groups": groups}


@pytest.mark.parametrize("name", [*NAMES, "Muon"])
@pytest.mark.parametrize("through_file", [False, True])
def test_a_state_dict_of_the_old_form_still_loads_and_resumes(float32_by_default, name, through_file):
    """Checkpoints written by gg.save before the state held tensors (arrays, an int step) load: each entry becomes
    the tensor it is now, and training resumes where it stopped (bit for bit, but NAdam's mu_product and ASGD's
    eta/mu, saved as float64 numbers, which round to float32 on loading)."""
    shapes = MATRICES if name == "Muon" else SHAPES
    options = {"momentum": 0.9} if name == "SGD" else {}
    grads = _gradients(5, np.float32, shapes, 8)
    unbroken, straight = _trained(gg, name, options, np.float32, grads, shapes)
    first, params = _trained(gg, name, options, np.float32, grads[:4], shapes)
    saved = _old_form(first.state_dict())
    if through_file:
        buffer = io.BytesIO()
        gg.save({"optimizer": saved}, buffer)
        buffer.seek(0)
        saved = gg.load(buffer)["optimizer"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = getattr(gg.optim, name)(params, **options)
    resumed.load_state_dict(saved)
    for param in params:
        for key, value in resumed.state[param].items():
            assert isinstance(value, gg.Tensor), key
            assert value.dtype == (gg.float32 if key in ("step", "mu_product", "eta", "mu") else param.dtype), key
    assert list(resumed.param_groups[0]) == list(first.param_groups[0])
    for step_grads in grads[4:]:
        for param, grad in zip(params, step_grads):
            param.grad = gg.tensor(grad)
        resumed.step()
    for ours, reference in zip(params, straight):
        if name in ("NAdam", "ASGD"):
            np.testing.assert_allclose(ours.array, reference.array, rtol=1e-6)
        else:
            assert np.array_equal(ours.array, reference.array)


@pytest.mark.parametrize("name", [*NAMES, "Muon", "LBFGS"])
def test_a_state_dict_round_trip_through_a_file_resumes_bit_for_bit(float32_by_default, name):
    shapes = MATRICES if name == "Muon" else SHAPES
    options = {"momentum": 0.9} if name == "SGD" else {}
    if name == "LBFGS":
        return _lbfgs_round_trip()
    grads = _gradients(9, np.float32, shapes, 8)
    _, straight = _trained(gg, name, options, np.float32, grads, shapes)
    first, params = _trained(gg, name, options, np.float32, grads[:4], shapes)
    buffer = io.BytesIO()
    gg.save(first.state_dict(), buffer)
    buffer.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = getattr(gg.optim, name)(params, **options)
    resumed.load_state_dict(gg.load(buffer))
    for step_grads in grads[4:]:
        for param, grad in zip(params, step_grads):
            param.grad = gg.tensor(grad)
        resumed.step()
    for ours, reference in zip(params, straight):
        assert np.array_equal(ours.array, reference.array)


def _lbfgs_round_trip() -> None:
    def run(cut):
        w = gg.tensor([1.5, -0.5, 2.0], dtype=gg.float64, requires_grad=True)
        optimizer = gg.optim.LBFGS([w], lr=0.5, max_iter=3)
        for step in range(4):
            if step == cut:
                buffer = io.BytesIO()
                gg.save(optimizer.state_dict(), buffer)
                buffer.seek(0)
                optimizer = gg.optim.LBFGS([w], lr=0.5, max_iter=3)
                optimizer.load_state_dict(gg.load(buffer))

            def closure(optimizer=optimizer):
                optimizer.zero_grad()
                loss = (w**4).sum() + (w * w).sum()
                loss.backward()
                return loss

            optimizer.step(closure)
        return w.array.copy()

    assert np.array_equal(run(2), run(None))


def test_a_learners_own_optimizer_keeps_what_it_stores():
    """An optimizer of one's own, with its own ``step``, keeps its state as written: an int step stays an int,
    tensors come back tensors from a state dict."""

    class Momentum(gg.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @gg.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state["step"], state["buf"] = 0, gg.zeros_like(p)
                    state["step"] += 1
                    state["buf"].mul_(0.9).add_(p.grad)
                    p.add_(state["buf"], alpha=-group["lr"])

    w = gg.tensor([1.0, -2.0], requires_grad=True)
    optimizer = Momentum([w])
    for _ in range(2):
        optimizer.zero_grad()
        (w * w).sum().backward()
        optimizer.step()
    again = Momentum([w])
    again.load_state_dict(optimizer.state_dict())
    assert again.state[w]["step"] == 2 and type(again.state[w]["step"]) is int
    assert isinstance(again.state[w]["buf"], gg.Tensor) and np.array_equal(again.state[w]["buf"].array,
                                                                           optimizer.state[w]["buf"].array)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foreach'"):
        Momentum([w], foreach=True)  # as PyTorch: the learner's __init__ does not take it
