"""The shared Optimizer machinery: validation, groups, zero_grad, state dicts, in-place steps, the tape hook."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from memory_peak import traced_peak

import glassgrad as gg
import glassgrad.optim as optim
from glassgrad.autograd import swap_tape

ALL_KINDS = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    (optim.Adam, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.01, "maximize": True}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
]
KIND_IDS = [f"{kind.__name__}-{i}" for i, (kind, _) in enumerate(ALL_KINDS)]


def make_params(dtype=np.float64, seed=0, shapes=((4, 3), (3,))):
    rng = np.random.default_rng(seed)
    return [gg.tensor(rng.normal(size=shape).astype(dtype), requires_grad=True) for shape in shapes]


def set_grads(params, seed):
    rng = np.random.default_rng(seed)
    for param in params:
        param.grad = gg.tensor(rng.normal(size=param.shape).astype(param.dtype))


# --- hyper-parameter validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        (optim.SGD, {"lr": -0.1}, "Invalid learning rate: -0.1 (must be a finite number >= 0)"),
        (optim.SGD, {"lr": math.nan}, "Invalid learning rate: nan"),
        (optim.Adam, {"lr": math.inf}, "Invalid learning rate: inf"),
        (optim.SGD, {"lr": 0.1, "momentum": -0.5}, "Invalid momentum value: -0.5"),
        (optim.SGD, {"lr": 0.1, "weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": float("nan")}, "Invalid dampening value: nan"),
        (optim.SGD, {"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "zero dampening"),
        (optim.Adam, {"betas": (1.0, 0.999)},
         "Invalid beta parameter at index 0: 1.0 (must be a finite number in [0, 1))"),
        (optim.Adam, {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        (optim.AdamW, {"betas": (0.9, math.nan)}, "Invalid beta parameter at index 1: nan"),
        (optim.Adam, {"eps": 0.0}, "Invalid epsilon value: 0.0 (must be a finite number > 0)"),
        (optim.Adam, {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
        (optim.AdamW, {"weight_decay": -0.01}, "Invalid weight_decay value: -0.01"),
        (optim.RMSprop, {"alpha": 1.5}, "Invalid alpha value: 1.5 (must be a finite number in [0, 1])"),
        (optim.RMSprop, {"eps": 0}, "Invalid epsilon value: 0"),
        (optim.RMSprop, {"momentum": -0.9}, "Invalid momentum value: -0.9"),
        (optim.Adagrad, {"lr_decay": -0.1}, "Invalid lr_decay value: -0.1"),
        (optim.Adagrad, {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value: -1"),
        (optim.Adagrad, {"eps": 0.0}, "Invalid epsilon value: 0.0"),
    ],
)
def test_bad_hyperparameters_are_refused_naming_the_value(kind, options, message):
    with pytest.raises(ValueError) as error:
        kind(make_params(), **options)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        (optim.SGD, {"lr": "0.1"}, "Invalid learning rate: '0.1' (must be a finite number >= 0)"),
        (optim.Adam, {"betas": 0.9}, "betas must be a pair of numbers"),
        (optim.Adam, {"betas": (0.9, 0.99, 0.999)}, "betas must be a pair of numbers"),
    ],
)
def test_hyperparameters_that_are_not_numbers_are_refused(kind, options, message):
    with pytest.raises(TypeError) as error:
        kind(make_params(), **options)
    assert message in str(error.value)


def test_group_options_are_validated_too():
    w, b = make_params()
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([{"params": [w]}, {"params": [b], "lr": -1}], lr=0.1)
    optimizer = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        optimizer.add_param_group({"params": [b], "momentum": -1})
    assert len(optimizer.param_groups) == 1


# --- parameters and groups -------------------------------------------------------------------


def test_empty_parameter_list_is_refused():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    used_up = iter(make_params())
    list(used_up)
    with pytest.raises(ValueError, match="can be used only once"):
        optim.Adam(used_up)


def test_a_single_tensor_must_be_wrapped_in_a_list():
    with pytest.raises(TypeError, match=r"iterable of Tensors or dicts, but got a Tensor; wrap it in a list"):
        optim.SGD(make_params()[0], lr=0.1)


def test_non_tensors_non_leaves_and_duplicates_are_refused():
    w, b = make_params()
    with pytest.raises(TypeError, match="can only optimize Tensors, but parameter group 0 holds a ndarray"):
        optim.SGD([w, np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="holds the same tensor twice"):
        optim.SGD([w, b, w], lr=0.1)
    optimizer = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [b, w]})
    with pytest.raises(KeyError, match="needs a 'params' key"):
        optimizer.add_param_group({"lr": 0.1})


def test_groups_take_missing_options_from_the_defaults_and_use_their_own_lr():
    w, b = make_params()
    start_w, start_b = w.array.copy(), b.array.copy()
    optimizer = optim.SGD([{"params": w, "lr": 0.5}], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": [b]})
    assert [group["lr"] for group in optimizer.param_groups] == [0.5, 0.1]
    assert optimizer.param_groups[1]["momentum"] == 0.9
    set_grads([w, b], seed=1)
    optimizer.step()  # first momentum step: b ← g, w ← w − η·g
    np.testing.assert_array_equal(w.array, start_w - 0.5 * w.grad.array)
    np.testing.assert_array_equal(b.array, start_b - 0.1 * b.grad.array)


def test_parameters_without_gradient_are_skipped():
    w, b = make_params()
    start_b = b.array.copy()
    optimizer = optim.Adam([w, b], lr=0.1)
    set_grads([w], seed=1)
    optimizer.step()
    np.testing.assert_array_equal(b.array, start_b)
    assert b not in optimizer.state and optimizer.state[w]["step"] == 1


def test_frozen_parameters_can_be_listed_and_stay_put():
    w, b = make_params()
    b.requires_grad = False
    start_b = b.array.copy()
    optimizer = optim.SGD([w, b], lr=0.1)
    (w.sum() + b.sum()).backward()
    optimizer.step()
    np.testing.assert_array_equal(b.array, start_b)
    np.testing.assert_array_equal(w.array, make_params()[0].array - 0.1)


def test_step_with_closure_returns_the_loss():
    (w,) = make_params(shapes=((3,),))
    optimizer = optim.SGD([w], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    start = w.array.copy()
    loss = optimizer.step(closure)
    assert loss.item() == pytest.approx(float((start**2).sum()))
    np.testing.assert_allclose(w.array, start - 0.1 * 2 * start)


def test_repr_lists_each_group_like_pytorch():
    w, b = make_params()
    text = repr(optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "Parameter Group 1" in text and "    lr: 0.5" in text and "    momentum: 0.9" in text
    assert text.endswith(")")


# --- zero_grad ---------------------------------------------------------------------------------


def test_zero_grad_sets_gradients_to_none_by_default():
    params = make_params()
    optimizer = optim.SGD(params, lr=0.1)
    set_grads(params, seed=1)
    optimizer.zero_grad()
    assert all(param.grad is None for param in params)


def test_zero_grad_can_fill_with_zeros_and_backward_then_adds_fresh_gradients():
    w, b = make_params()
    optimizer = optim.SGD([w, b], lr=0.1)
    (w.sum() * 3 + b.sum()).backward()
    optimizer.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad.array.any() and w.grad.shape == w.shape
    assert b.grad is not None and not b.grad.array.any()
    (w.sum() * 2).backward()
    np.testing.assert_array_equal(w.grad.array, np.full(w.shape, 2.0))
    np.testing.assert_array_equal(b.grad.array, np.zeros(b.shape))


# --- in place, no allocations, dtype kept -------------------------------------------------------


@pytest.mark.parametrize(("kind", "options"), ALL_KINDS, ids=KIND_IDS)
def test_a_step_updates_in_place_and_allocates_no_new_arrays(kind, options):
    # the smallest parameter (4,000 bytes) well above the few hundred bytes of Python objects a step makes and
    # frees (a tuple, a frame), which the peak counts where the free lists are empty (this test run alone)
    params = make_params(dtype=np.float32, shapes=((200, 100), (1000,)))
    arrays = [param.array for param in params]
    optimizer = kind(params, **options)
    set_grads(params, seed=1)
    optimizer.step()  # the first step creates the state and the scratch space
    set_grads(params, seed=2)
    before = [param.array.copy() for param in params]
    with traced_peak() as peak:
        optimizer.step()
        optimizer.step()
    assert all(param.array is array for param, array in zip(params, arrays))
    assert all(param.dtype == np.float32 for param in params)
    assert not np.array_equal(params[0].array, before[0])
    assert peak.bytes < params[1].array.nbytes  # not even one array of the smallest parameter's size


# --- state_dict -----------------------------------------------------------------------------------


def test_state_dict_has_pytorchs_structure_and_holds_copies():
    w, b = make_params()
    optimizer = optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.01)
    set_grads([w, b], seed=1)
    optimizer.step()
    saved = optimizer.state_dict()
    assert list(saved) == ["state", "param_groups"]
    assert [group["params"] for group in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][1]["lr"] == 0.5 and saved["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(saved["state"]) == {0, 1}
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and saved["state"][0]["step"] == 1
    saved["state"][0]["exp_avg"][...] = 123.0
    assert not (optimizer.state[w]["exp_avg"] == 123.0).any()


def run_steps(optimizer, params, seeds):
    for seed in seeds:
        set_grads(params, seed)
        optimizer.step()


@pytest.mark.parametrize(("kind", "options"), ALL_KINDS, ids=KIND_IDS)
def test_state_dict_round_trip_resumes_identically(kind, options):
    params = make_params()
    optimizer = kind([{"params": params[:1], "lr": 0.03}, {"params": params[1:]}], **options)
    run_steps(optimizer, params, range(10))
    saved = optimizer.state_dict()
    saved_values = [param.array.copy() for param in params]
    run_steps(optimizer, params, range(10, 20))

    resumed_params = [gg.tensor(value, requires_grad=True) for value in saved_values]
    resumed = kind([{"params": resumed_params[:1]}, {"params": resumed_params[1:]}], **options)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == 0.03
    run_steps(resumed, resumed_params, range(10, 20))
    for original, again in zip(params, resumed_params):
        np.testing.assert_array_equal(original.array, again.array)


def test_load_state_dict_accepts_tensors_and_casts_to_the_parameter_dtype():
    params = make_params()
    optimizer = optim.SGD(params, lr=0.1, momentum=0.9)
    run_steps(optimizer, params, [1])
    saved = optimizer.state_dict()
    saved["state"] = {
        str(index): {key: gg.tensor(value) for key, value in entry.items()} for index, entry in saved["state"].items()
    }
    params32 = [gg.tensor(param.array.astype(np.float32), requires_grad=True) for param in params]
    resumed = optim.SGD(params32, lr=0.1, momentum=0.9)
    resumed.load_state_dict(saved)
    buffer = resumed.state[params32[0]]["momentum_buffer"]
    assert buffer.dtype == np.float32
    np.testing.assert_allclose(buffer, optimizer.state[params[0]]["momentum_buffer"], rtol=1e-6)


def test_load_state_dict_refuses_mismatches_and_changes_nothing():
    params = make_params()
    optimizer = optim.Adam(params, lr=0.01)
    run_steps(optimizer, params, [1])
    saved = optimizer.state_dict()

    other = make_params(seed=1)
    two_groups = optim.Adam([{"params": other[:1]}, {"params": other[1:]}], lr=0.02)
    with pytest.raises(ValueError, match="has 1 parameter groups but this optimizer has 2"):
        two_groups.load_state_dict(saved)
    too_few = optim.Adam(other[:1], lr=0.02)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group: group 0 has 2"):
        too_few.load_state_dict(saved)
    reshaped = make_params(shapes=((3, 4), (3,)))
    wrong_shapes = optim.Adam(reshaped, lr=0.02)
    with pytest.raises(ValueError, match=r"has shape \(4, 3\) but the parameter has shape \(3, 4\)"):
        wrong_shapes.load_state_dict(saved)
    assert wrong_shapes.state == {} and wrong_shapes.param_groups[0]["lr"] == 0.02
    with pytest.raises(ValueError, match="not an optimizer state dict"):
        wrong_shapes.load_state_dict({"weight": np.zeros(3)})
    bad_lr = optimizer.state_dict()
    bad_lr["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        optim.Adam(other, lr=0.02).load_state_dict(bad_lr)


# --- formulas and the tape hook ---------------------------------------------------------------------


class FakeTape:
    """Just enough of a tape: it records what optimizers report."""

    def __init__(self):
        self.updates = []

    def on_forward(self, *args):
        pass

    def on_backward(self, *args):
        pass

    def on_update(self, optimizer_name, formula, param, old_value, grad, lr, new_value, state=None):
        self.updates.append((optimizer_name, formula, param, old_value, grad, lr, new_value))


@pytest.fixture
def tape():
    recorder = FakeTape()
    swap_tape(recorder)
    try:
        yield recorder
    finally:
        swap_tape(None)


def test_tape_hears_each_sgd_update_with_its_numbers(tape):
    w, b, unused = make_params(shapes=((2, 3), (3,), (2,)))
    optimizer = optim.SGD([w, b, unused], lr=0.25)
    set_grads([w, b], seed=1)
    start_w, start_b = w.array.copy(), b.array.copy()
    optimizer.step()
    assert len(tape.updates) == 2  # the parameter without a gradient is not reported
    for (name, formula, param, old, grad, lr, new), tensor, start in zip(tape.updates, [w, b], [start_w, start_b]):
        assert (name, formula, lr) == ("SGD", "w ← w − η·g", 0.25)
        assert param is tensor
        np.testing.assert_array_equal(old, start)
        np.testing.assert_array_equal(grad, tensor.grad.array)
        np.testing.assert_array_equal(new, start - 0.25 * tensor.grad.array)  # the rule, by hand
        np.testing.assert_array_equal(new, tensor.array)
        assert old is not start and new is not tensor.array and grad is not tensor.grad.array  # copies


def test_tape_hears_adam_with_its_formula_and_the_hand_computed_first_step(tape):
    (w,) = make_params(shapes=((5,),))
    optimizer = optim.Adam([w], lr=0.1, eps=1e-8)
    set_grads([w], seed=3)
    g = w.grad.array.copy()
    start = w.array.copy()
    optimizer.step()
    ((name, formula, param, old, grad, lr, new),) = tape.updates
    assert name == "Adam" and lr == 0.1 and param is w
    assert "m ← β₁·m + (1 − β₁)·g" in formula and "w ← w − η·m̂ / (√v̂ + ε)" in formula
    # step 1: m̂ = g, v̂ = g², so w ← w − η·g / (|g| + ε)
    np.testing.assert_allclose(new, start - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    np.testing.assert_array_equal(old, start)
    np.testing.assert_array_equal(grad, g)


def test_recording_does_not_change_the_numbers(tape):
    recorded = make_params()
    optimizer = optim.RMSprop(recorded, lr=0.01, centered=True, momentum=0.5)
    run_steps(optimizer, recorded, range(3))
    swap_tape(None)
    plain = make_params()
    run_steps(optim.RMSprop(plain, lr=0.01, centered=True, momentum=0.5), plain, range(3))
    for one, other in zip(recorded, plain):
        np.testing.assert_array_equal(one.array, other.array)
    assert len(tape.updates) == 6 and tape.updates[0][0] == "RMSprop"


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        (optim.SGD, {"lr": 0.1}, "w ← w − η·g"),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True},
         "b ← μ·b + g   (b ← g on the first step)\nw ← w − η·(g + μ·b)"),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1, "maximize": True},
         "g ← −∇L(w) + λ·w\nb ← μ·b + (1 − τ)·g   (b ← g on the first step)\nw ← w − η·b"),
        (optim.AdamW, {}, "w ← w − η·λ·w\nm ← β₁·m"),
        (optim.Adam, {"amsgrad": True}, "v_max ← max(v_max, v)\nm̂ ← m / (1 − β₁ᵗ),  v̂ ← v_max / (1 − β₂ᵗ)"),
        (optim.RMSprop, {"centered": True}, "ḡ ← α·ḡ + (1 − α)·g\nd ← √(v − ḡ²) + ε\nw ← w − η·g/d"),
        (optim.RMSprop, {"momentum": 0.9}, "d ← √v + ε\nb ← μ·b + g/d\nw ← w − η·b"),
        (optim.Adagrad, {"lr_decay": 0.1}, "ηₜ ← η / (1 + (t − 1)·δ)\ns ← s + g²\nw ← w − ηₜ·g / (√s + ε)"),
        (optim.Adagrad, {}, "s ← s + g²\nw ← w − η·g / (√s + ε)"),
    ],
)
def test_formula_for_a_group_states_only_the_options_it_uses(kind, options, expected):
    optimizer = kind(make_params(), **options)
    text = optimizer.formula_for(optimizer.param_groups[0])
    assert expected in text
    assert text.splitlines()[-1].startswith("w ← w − η")


@pytest.mark.parametrize("kind", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_every_optimizer_states_its_rule_with_weight_decay(kind):
    optimizer = kind(make_params(), weight_decay=0.1)
    text = optimizer.formula_for(optimizer.param_groups[0])
    assert "w ← w − η" in text and "λ" in text
    assert kind.__doc__ and "PyTorch" in kind.__doc__


def test_the_base_class_serves_a_hand_written_rule(tape):
    class SignDescent(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def formula_for(self, group):
            return "w ← w − η·sign(g)"

        def _update(self, param, grad, group):
            param.array -= group["lr"] * np.sign(grad)

    w = gg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    optimizer = SignDescent([w], lr=0.25)
    w.grad = gg.tensor([3.0, -0.1, 0.0])
    optimizer.step()
    np.testing.assert_array_equal(w.array, np.array([0.75, -1.75, 0.5], dtype=np.float32))
    assert tape.updates[0][:2] == ("SignDescent", "w ← w − η·sign(g)")
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        SignDescent([w], lr=-1)


def test_docstring_examples_run():
    for module in [optim, optim.optimizer, optim.sgd, optim.adam, optim.rmsprop, optim.adagrad, optim.lr_scheduler,
                   optim._checks]:
        result = doctest.testmod(module, extraglobs={"gg": gg}, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__


def _two_layer_params(seed):
    rng = np.random.default_rng(seed)
    return [gg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
            for shape in ((8, 4), (8,), (3, 8), (3,))]


def test_adam_updates_a_small_group_in_one_pass_with_the_very_same_numbers(monkeypatch):
    """The flat one-pass path (small groups) and the per-parameter path agree bit for bit,
    also across a step where one parameter has no gradient and after a state_dict round trip."""
    one_pass, one_by_one = _two_layer_params(0), _two_layer_params(0)
    fast = gg.optim.Adam(one_pass, lr=0.01, maximize=False)
    slow = gg.optim.Adam(one_by_one, lr=0.01)
    monkeypatch.setattr(slow, "_update_group_at_once", lambda group: False)
    rng = np.random.default_rng(1)
    for step in range(12):
        grads = [rng.standard_normal(p.shape).astype(np.float32) for p in one_pass]
        for params in (one_pass, one_by_one):
            for index, (param, grad) in enumerate(zip(params, grads)):
                param.grad = None if (step == 9 and index == 1) else gg.tensor(grad)
        fast.step()
        slow.step()
        if step == 3:
            fast.load_state_dict(fast.state_dict())
        for a, b in zip(one_pass, one_by_one):
            assert np.array_equal(a.array, b.array), step
    assert fast._flat_groups, "the one-pass path was never taken"
    for a, b in zip(one_pass, one_by_one):
        assert fast.state[a]["step"] == slow.state[b]["step"]
        assert np.array_equal(fast.state[a]["exp_avg_sq"], slow.state[b]["exp_avg_sq"])


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
                                  "ASGD", "Rprop", "Adafactor"])
def test_every_optimizer_takes_pytorchs_options_for_how_a_step_runs(name):
    """``AdamW(groups, lr=…, fused=False)`` (nanoGPT) raised TypeError: foreach, fused and capturable change nothing
    here (the steps are the same numbers), and differentiable=True is refused in one line (at the step, as PyTorch
    on a CPU refuses it; tests/test_optim_state_tensors.py compares each with PyTorch)."""
    results = []
    own = {"foreach": False, "fused": None, "capturable": False, "differentiable": False}
    group = getattr(gg.optim, name)([gg.tensor([1.0], requires_grad=True)], lr=0.1).param_groups[0]
    keys = [key for key in own if key in group]  # each takes those its PyTorch namesake takes
    for options in ({}, {key: own[key] for key in keys}, {"foreach": True}):
        w = gg.tensor([1.0, -2.0], requires_grad=True)
        optimizer = getattr(gg.optim, name)([w], lr=0.1, **options)
        for _ in range(3):
            optimizer.zero_grad()
            (w * w).sum().backward()
            optimizer.step()
        results.append(w.tolist())
    assert results[0] == results[1] == results[2]
    if "differentiable" in keys:
        w = gg.tensor([1.0], requires_grad=True)
        optimizer = getattr(gg.optim, name)([w], lr=0.1, differentiable=True)
        (w * w).sum().backward()
        with pytest.raises(RuntimeError, match=f"{name}: differentiable=True .* leave differentiable=False"):
            optimizer.step()


@pytest.mark.torch
@pytest.mark.parametrize("owner", ["optimizer", "module"])
def test_zeroing_a_gradient_made_with_create_graph_cuts_it_from_the_graph_as_pytorch(torch, owner):
    """zero_grad(set_to_none=False) after backward(create_graph=True): PyTorch detaches the gradient, then zeroes it;
    it stayed in the graph here (requires_grad and a grad_fn, holding the old graph, through the next backward)."""
    seen = []
    for library in (gg, torch):
        layer = library.nn.Linear(2, 1).double()
        optimizer = library.optim.SGD(layer.parameters(), lr=0.1)
        x = library.tensor([[1.0, -2.0]], dtype=library.float64)
        (layer(x) ** 3).sum().backward(create_graph=True)
        (optimizer if owner == "optimizer" else layer).zero_grad(set_to_none=False)
        after = [(p.grad.requires_grad, p.grad.grad_fn is None, p.grad.abs().sum().item()) for p in layer.parameters()]
        (layer(x) ** 2).sum().backward()
        seen.append((after, [p.grad.requires_grad for p in layer.parameters()]))
    assert seen[0] == seen[1] == ([(False, True, 0.0), (False, True, 0.0)], [False, False])


def _with_own_setstate(module):
    """An optimizer written against ``module``'s base class as PyTorch's own are: its ``__setstate__`` calls
    ``super().__setstate__(state)``, then fills an option that older checkpoints lack."""

    class HeavyBall(module.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.5):
            super().__init__(params, {"lr": lr, "momentum": momentum})

        def __setstate__(self, state):
            super().__setstate__(state)
            for group in self.param_groups:
                group.setdefault("momentum", 0.5)

        def step(self, closure=None):
            for group in self.param_groups:
                for param in group["params"]:
                    state = self.state[param]
                    if not state:
                        state["buffer"] = module.zeros_like(param)
                    state["buffer"].mul_(group["momentum"]).add_(param.grad)
                    param.data.add_(state["buffer"], alpha=-group["lr"])

    HeavyBall.__name__ = HeavyBall.__qualname__ = f"HeavyBall_{module.__name__}"
    globals()[HeavyBall.__name__] = HeavyBall  # where pickle looks a class up by its name
    return HeavyBall


@pytest.mark.torch
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_an_optimizer_with_its_own_setstate_is_copied_and_resumes_as_in_pytorch(torch, how):
    """``super().__setstate__(state)`` raised AttributeError: glassgrad's Optimizer had no ``__setstate__``, so such
    an optimizer could be neither deep-copied nor unpickled."""
    import copy
    import pickle

    weights = {}
    for module in (torch, gg):
        weight = module.tensor([1.0, -2.0, 0.5], dtype=module.float64, requires_grad=True)
        optimizer = _with_own_setstate(module)([weight], lr=0.1, momentum=0.9)
        for copied in (False, True):
            if copied:
                optimizer = copy.deepcopy(optimizer) if how == "deepcopy" else pickle.loads(pickle.dumps(optimizer))
                weight = optimizer.param_groups[0]["params"][0]  # the copy's own parameter
            for _ in range(3):
                optimizer.zero_grad()
                (weight**4).sum().backward()
                optimizer.step()
        weights[module] = weight.detach().numpy()
    np.testing.assert_allclose(weights[gg], weights[torch], rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_a_loaded_tensor_lr_is_the_optimizers_own_copy_as_in_pytorch(torch, name):
    """``load_state_dict`` kept the saved group's tensor lr itself: a schedule writing into it (``fill_``) changed the
    state dict, so loading it again (a second run from the same checkpoint) resumed with the scheduled lr, not the
    saved one. PyTorch copies the saved groups."""
    results = {}
    for module in (torch, gg):
        weight = module.tensor([1.0, -2.0], dtype=module.float64, requires_grad=True)
        saved = getattr(module.optim, name)([weight], lr=module.tensor(0.1, dtype=module.float64)).state_dict()
        moved = []
        for _ in range(2):  # two runs resumed from the same checkpoint
            start = weight.detach().clone()
            optimizer = getattr(module.optim, name)([weight], lr=module.tensor(0.5, dtype=module.float64))
            optimizer.load_state_dict(saved)
            schedule = module.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
            for _ in range(3):
                weight.grad = module.tensor([0.3, -1.0], dtype=module.float64)
                optimizer.step()
                schedule.step()
            moved.append((weight.detach() - start).numpy())
        results[module] = moved, saved["param_groups"][0]["lr"].item()
    np.testing.assert_allclose(np.array(results[gg][0]), np.array(results[torch][0]), rtol=1e-12)
    assert results[gg][1] == results[torch][1] == pytest.approx(0.1)


def _with_records(module):
    """A learner's optimizer keeping a list and a dict in each parameter's state, and stepping by what they hold."""

    class Records(module.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            for group in self.param_groups:
                for param in group["params"]:
                    state = self.state[param]
                    if not state:
                        state["sizes"], state["counts"] = [], {"steps": 0}
                    state["sizes"].append(float(param.grad.abs().sum()))
                    state["counts"]["steps"] += 1
                    param.data.add_(param.grad, alpha=-group["lr"] * sum(state["sizes"]) / state["counts"]["steps"])

    return Records


@pytest.mark.torch
def test_lists_and_dicts_in_a_loaded_state_are_the_optimizers_own_as_in_pytorch(torch):
    """``load_state_dict`` kept a learner's optimizer's lists and dicts themselves: stepping appended to the state
    dict's list, so loading it again (a second run from the same checkpoint) resumed from the first run's records."""
    results = {}
    for module in (torch, gg):
        weight = module.tensor([1.0, -2.0], dtype=module.float64, requires_grad=True)
        optimizer = _with_records(module)([weight])
        weight.grad = module.tensor([0.5, 0.25], dtype=module.float64)
        optimizer.step()
        saved = optimizer.state_dict()
        moved = []
        for _ in range(2):  # two runs resumed from the same checkpoint
            start = weight.detach().clone()
            resumed = _with_records(module)([weight])
            resumed.load_state_dict(saved)
            for _ in range(3):
                weight.grad = module.tensor([0.5, 0.25], dtype=module.float64)
                resumed.step()
            moved.append((weight.detach() - start).numpy())
        results[module] = moved, saved["state"][0]["sizes"], saved["state"][0]["counts"]
    np.testing.assert_allclose(np.array(results[gg][0]), np.array(results[torch][0]), rtol=1e-12)
    assert results[gg][1:] == results[torch][1:] == ([0.75], {"steps": 1})
