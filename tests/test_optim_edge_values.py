"""Optimizers at edge values, against PyTorch 2.13: learning rates so small that folding them into one constant
overflowed, and checkpoints whose parameter groups lack keys of a newer release."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _adam_steps(lib, name, dtype, lr, start):
    weights = [lib.tensor(np.array(start, dtype=dtype), requires_grad=True),
               lib.tensor(np.array(start[::-1], dtype=dtype), requires_grad=True)]  # two: the flat-group path too
    optimizer = getattr(lib.optim, name)(weights, lr=lr)
    for gradient in ([0.1, 0.0, -3.0], [0.0, 0.0, 1.0], [2.0, -1.0, 0.0]):
        for weight in weights:
            weight.grad = lib.tensor(np.array(gradient, dtype=dtype))
        optimizer.step()
    return [weight.detach().numpy() for weight in weights]


@pytest.mark.torch
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("dtype, lr, scale, atol", [("float32", 1e-40, 1e-38, 0), ("float32", 1e-25, 1e-24, 0),
                                                    ("float64", 1e-200, 1e-199, 0),
                                                    ("float64", 5e-324, 1e-322, 2e-323)])  # subnormal: few digits
def test_adam_with_a_tiny_learning_rate_steps_as_pytorch(torch, name, dtype, lr, scale, atol):
    """η below about 10⁻¹⁹ (float32) made √v·a overflow: 0·∞ gave NaN weights (and η = 5e-324 raised
    ZeroDivisionError); the weights are of η's size, so the step shows."""
    start = [3 * scale, -2 * scale, scale]
    mine, theirs = _adam_steps(gg, name, dtype, lr, start), _adam_steps(torch, name, dtype, lr, start)
    for a, b in zip(mine, theirs):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=atol)


def _rmsprop_steps(lib, dtype, gradients, **options):
    weight = lib.tensor(np.ones(len(gradients[0]), dtype=dtype), requires_grad=True)
    optimizer = lib.optim.RMSprop([weight], lr=0.01, **options)
    seen = []
    for gradient in gradients:
        weight.grad = lib.tensor(np.array(gradient, dtype=dtype))
        optimizer.step()
        state = optimizer.state[weight]
        seen.append([weight.detach().numpy().copy(), *(state[key].numpy().copy() for key in sorted(state)
                                                         if key != "step")])
    return seen


@pytest.mark.torch
@pytest.mark.parametrize("options", [{"centered": True}, {"centered": True, "momentum": 0.9}, {}, {"momentum": 0.5}])
@pytest.mark.parametrize("dtype, huge", [("float32", [1e20, 1e30, 3e38, -3e38]),
                                         ("float64", [1e155, 1e200, 1e308, -1e308])])
def test_rmsprop_with_overflowing_gradients_steps_as_pytorch(torch, dtype, huge, options):
    """Centered, v − ḡ² was ∞ − ∞ = NaN where g² overflows (NaN weights); PyTorch's fused multiply-add gives ∞ and
    the weight keeps still. And v took g·g first, overflowing from g = 2·10¹⁹ in float32, where PyTorch's
    ((1 − α)·g)·g is finite and the weight steps. Every state, step by step."""
    first = [*huge, 1.0, -0.3, 1e-30]
    gradients = [first, [value / 2 for value in first], [-value for value in first]]
    mine, theirs = _rmsprop_steps(gg, dtype, gradients, **options), _rmsprop_steps(torch, dtype, gradients, **options)
    for step, (ours, reference) in enumerate(zip(mine, theirs)):
        assert np.isfinite(ours[0]).all(), step
        for a, b in zip(ours, reference):
            np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == "float32" else 1e-14, atol=0, err_msg=str(step))


def _float16_sgd_steps(lib, start, gradients, **options):
    weight = lib.tensor(start, requires_grad=True)
    optimizer = lib.optim.SGD([weight], lr=0.01, **options)
    seen = []
    for gradient in gradients:
        weight.grad = lib.tensor(gradient)
        optimizer.step()
        seen.append(weight.detach().numpy().copy())
    return seen


@pytest.mark.torch
@pytest.mark.parametrize("options", [{"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}, {},
                                     {"momentum": 0.9, "dampening": 0.1}, {"momentum": 0.5, "weight_decay": 0.1},
                                     {"momentum": 0.9, "weight_decay": 0.1, "maximize": True}])
def test_float16_sgd_has_pytorchs_bits_step_by_step(torch, options):
    """PyTorch's CPU works a float16 ``add(b, alpha=α)`` out in float32 with α rounded to float16 and rounds once,
    and ``mul(μ)`` with μ in float32; NumPy rounded η·d and μ to float16 first, so the weights drifted (4 % of the
    way they moved, by step 16, with momentum). 4,096 entries: all in PyTorch's vector loop (its scalar loop, for a
    tail shorter than a vector, rounds α·b to float16 first; the docstring of ``scaled_sum`` says so)."""
    rng = np.random.default_rng(0)
    start = rng.normal(size=4096).astype(np.float16)
    gradients = [rng.normal(size=4096).astype(np.float16) for _ in range(16)]
    mine = _float16_sgd_steps(gg, start, gradients, **options)
    theirs = _float16_sgd_steps(torch, start, gradients, **options)
    for step, (ours, reference) in enumerate(zip(mine, theirs)):
        np.testing.assert_array_equal(ours, reference, err_msg=f"step {step + 1}")


def _resumed(lib, kind, old_options, options, drop):
    weight = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
    saved = getattr(lib.optim, kind)([weight], **old_options).state_dict()
    for key in drop:
        del saved["param_groups"][0][key]
    optimizer = getattr(lib.optim, kind)([weight], **options)
    optimizer.param_groups[0]["tag"] = "mine"  # a key only the live group has
    optimizer.load_state_dict(saved)
    for _ in range(3):
        weight.grad = lib.tensor([0.3, -1.0], dtype=lib.float64)
        optimizer.step()
    return weight.detach().numpy(), {key: value for key, value in optimizer.param_groups[0].items() if key != "params"}


@pytest.mark.torch
@pytest.mark.parametrize("kind, old_options, options, drop", [
    ("Adam", dict(lr=0.1, weight_decay=0.5), dict(lr=0.1, weight_decay=0.5, decoupled_weight_decay=True,
                                                  amsgrad=True), ("decoupled_weight_decay", "amsgrad")),
    ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True),
     ("nesterov", "maximize")),
])
def test_a_checkpoint_without_newer_options_loads_the_class_defaults_as_pytorch(torch, kind, old_options, options,
                                                                                drop):
    """The saved group was merged over the live one: a checkpoint without ``decoupled_weight_decay`` kept this
    optimizer's True and trained by another rule than PyTorch, which gives a missing option the class's default
    (and drops a key only the live group had)."""
    mine, my_group = _resumed(gg, kind, old_options, options, drop)
    theirs, their_group = _resumed(torch, kind, old_options, options, drop)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    assert {key: my_group[key] for key in drop} == {key: their_group[key] for key in drop}
    assert "tag" not in my_group and "tag" not in their_group


def _lrs(lib, build, epochs=40):
    optimizer = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    schedule = build(lib.optim.lr_scheduler, optimizer)
    lrs = []
    for _ in range(epochs):
        optimizer.step()
        schedule.step()
        lrs.append(schedule.get_last_lr()[0])
    return lrs


@pytest.mark.torch
@pytest.mark.parametrize("build", [
    lambda S, o: S.CosineAnnealingLR(o, T_max=7.5, eta_min=0.001),
    lambda S, o: S.CosineAnnealingLR(o, T_max=2.5),
    lambda S, o: S.StepLR(o, step_size=2.5, gamma=0.5),
    lambda S, o: S.StepLR(o, step_size=0.5, gamma=0.9),
    lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=2.5),
    lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=2.5, step_size_down=1.5, mode="triangular2"),
    lambda S, o: S.MultiStepLR(o, [2.0, 3.5, 7]),
], ids=["cosine-7.5", "cosine-2.5", "step-2.5", "step-0.5", "cyclic-2.5", "cyclic-2.5-1.5", "multistep-floats"])
def test_a_schedule_with_a_fractional_step_count_follows_pytorch(torch, build):
    """``T_max = len(loader) * epochs / 2`` is 7.5 for an odd count: glassgrad raised TypeError where PyTorch computes
    with the fraction; the 40 lrs are now PyTorch's."""
    assert _lrs(gg, build) == pytest.approx(_lrs(torch, build), rel=1e-12, abs=0)


def _lbfgs_run(lib, max_iter):
    weight = lib.tensor([3.0, -2.0], dtype=lib.float64, requires_grad=True)
    optimizer = lib.optim.LBFGS([weight], lr=0.5, max_iter=max_iter)

    def closure():
        optimizer.zero_grad()
        loss = ((weight - 1) ** 4).sum()
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    state = optimizer.state[weight]
    return weight.detach().numpy(), int(state["n_iter"]), int(state["func_evals"])


@pytest.mark.torch
@pytest.mark.parametrize("max_iter", [2.5, 0.5])
def test_lbfgs_with_a_fractional_max_iter_runs_as_pytorch(torch, max_iter):
    """LBFGS(max_iter=2.5) was refused; PyTorch loops ``while n_iter < max_iter`` (3 iterations) with
    ``max_eval = max_iter * 5 // 4``."""
    mine, theirs = _lbfgs_run(gg, max_iter), _lbfgs_run(torch, max_iter)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-12)
    assert mine[1:] == theirs[1:]


@pytest.mark.parametrize("make, error, text", [
    (lambda o: gg.optim.lr_scheduler.CosineAnnealingLR(o, T_max=-7.5), ValueError, r"T_max: -7.5 \(must be"),
    (lambda o: gg.optim.lr_scheduler.StepLR(o, step_size=float("nan")), ValueError, "step_size: nan"),
    (lambda o: gg.optim.lr_scheduler.MultiStepLR(o, [2.0, "3"]), TypeError, "milestone: '3'"),
    (lambda o: gg.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=0), ValueError, "step_size_up: 0"),
    (lambda o: gg.optim.LBFGS([gg.zeros(1, requires_grad=True)], max_iter=-2.5), ValueError, "max_iter: -2.5"),
])
def test_a_step_count_still_refuses_negative_nan_and_non_numbers(make, error, text):
    optimizer = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(error, match=text) as caught:
        make(optimizer)
    assert "\n" not in str(caught.value)


def _one_cycle_error(lib, pct_start):
    optimizer = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    try:
        lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=20, pct_start=pct_start)
    except Exception as error:  # noqa: BLE001 (the error is what is compared)
        return type(error), str(error)
    return None, ""


@pytest.mark.torch
@pytest.mark.parametrize("pct_start", [0, 1, True, np.float32(0.5), np.float32(0.3)])
def test_one_cycle_refuses_a_pct_start_that_is_not_a_float_as_pytorch(torch, pct_start):
    """PyTorch takes only a float for pct_start (``pct_start=1`` raises "Expected float between 0 and 1 pct_start");
    glassgrad built the schedule."""
    mine, theirs = _one_cycle_error(gg, pct_start), _one_cycle_error(torch, pct_start)
    assert mine[0] is theirs[0] is ValueError
    assert mine[1].startswith(theirs[1]) and "\n" not in mine[1]
    assert mine[1].endswith(f"pass pct_start={float(f'{float(pct_start):.7g}')!r}")  # 0.3, not 0.30000001192092896


def test_one_cycle_takes_pct_start_as_a_float():
    assert _one_cycle_error(gg, 1.0) == (None, "") and _one_cycle_error(gg, np.float64(0.0)) == (None, "")


@pytest.mark.parametrize("name, typical", [("Adam", "1e-08"), ("AdamW", "1e-08"), ("Adagrad", "1e-10"),
                                           ("RMSprop", "1e-08")])
def test_eps_zero_is_refused_saying_why_and_what_to_pass(name, typical):
    """PyTorch takes eps = 0, and a parameter whose gradient is 0 then steps by 0/0 = NaN: glassgrad refuses it, and
    its message only gave the range; it now says why and the fix."""
    with pytest.raises(ValueError) as caught:
        getattr(gg.optim, name)([gg.zeros(2, requires_grad=True)], lr=0.1, eps=0.0)
    message = str(caught.value)
    assert message.startswith("Invalid epsilon value: 0.0 (must be a finite number > 0); ")
    assert "0/0 = NaN" in message and f"use a small eps such as {typical}" in message and "\n" not in message


def _hook_order(lib):
    from importlib import import_module
    module = import_module(f"{lib.__name__}.optim.optimizer")
    seen = []
    weight = lib.tensor([1.0], requires_grad=True)
    optimizers = [lib.optim.SGD([weight], lr=0.1), lib.optim.Adam([weight], lr=0.1)]
    handles = [module.register_optimizer_step_pre_hook(lambda o, a, k: seen.append(("global pre", type(o).__name__))),
               module.register_optimizer_step_post_hook(lambda o, a, k: seen.append(("global post", type(o).__name__)))]
    try:
        optimizers[0].register_step_pre_hook(lambda o, a, k: seen.append(("own pre", type(o).__name__)))
        optimizers[0].register_step_post_hook(lambda o, a, k: seen.append(("own post", type(o).__name__)))
        weight.grad = lib.tensor([1.0])
        for optimizer in optimizers:
            optimizer.step()
        handles[0].remove()
        optimizers[1].step()
    finally:
        for handle in handles:
            handle.remove()
    optimizers[1].step()  # no global hook any more
    return seen


@pytest.mark.torch
def test_global_step_hooks_run_around_every_optimizer_as_pytorch(torch):
    """``torch.optim.optimizer.register_optimizer_step_pre_hook`` / ``_post_hook`` were missing: the global pre hooks
    run before an optimizer's own, the global post hooks after, and their handles remove them."""
    assert _hook_order(gg) == _hook_order(torch) == [
        ("global pre", "SGD"), ("own pre", "SGD"), ("own post", "SGD"), ("global post", "SGD"),
        ("global pre", "Adam"), ("global post", "Adam"), ("global post", "Adam")]


def test_required_option_must_be_given_by_every_group():
    """``required`` (``torch.optim.optimizer.required``) was missing: an optimizer written with ``lr=required``
    refuses a group without an lr, and takes one that has it."""
    from glassgrad.optim.optimizer import required

    class Plain(gg.optim.Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    weight = gg.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr; give"):
        Plain([weight])
    assert Plain([{"params": [weight], "lr": 0.5}]).param_groups[0]["lr"] == 0.5
    assert Plain([weight], lr=0.1).defaults == {"lr": 0.1} and repr(required) == "<required parameter>"


def _trained(lib, build, steps=4):
    import warnings
    weight = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizer = build(lib, weight)
    for step in range(steps):
        weight.grad = lib.tensor([1.0, -0.5 * step], dtype=lib.float64)
        optimizer.step()
    return weight.detach().numpy(), [str(warning.message) for warning in caught]


@pytest.mark.torch
@pytest.mark.parametrize("build", [
    lambda lib, w: lib.optim.SGD([w], lr=0.1, momentum=0.5, dampening=1.5),
    lambda lib, w: lib.optim.SGD([{"params": [w], "nesterov": True}], lr=0.1),
    lambda lib, w: lib.optim.ASGD([w], lr=0.1, t0=-1.0),
], ids=["dampening-1.5", "group-nesterov-no-momentum", "asgd-t0-negative"])
def test_options_pytorch_computes_with_are_taken_as_pytorch(torch, build):
    """These were refused; PyTorch's step is finite and well defined, so the weights are now PyTorch's."""
    (mine, my_warnings), (theirs, their_warnings) = _trained(gg, build), _trained(torch, build)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    assert [text[:60] for text in my_warnings] == [text[:60] for text in their_warnings]


@pytest.mark.torch
def test_a_non_leaf_that_retains_its_grad_can_be_optimized_as_pytorch(torch):
    def run(lib):
        base = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        middle = base * 2
        middle.retain_grad()
        optimizer = lib.optim.SGD([middle], lr=0.1)
        (middle * middle).sum().backward()
        optimizer.step()
        return middle.detach().numpy()
    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("build", [
    lambda S, o: S.LinearLR(o, start_factor=0.25, total_iters=0),
    lambda S, o: S.PolynomialLR(o, total_iters=0),
    lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=0),
], ids=["linear-0", "polynomial-0", "cyclic-down-0"])
def test_schedules_pytorch_computes_with_are_taken_as_pytorch(torch, build):
    """total_iters=0 and step_size_down=0 (a sawtooth) were refused; the lrs are now PyTorch's (LinearLR warns that
    its lr stays at start_factor·lr)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _lrs(gg, build) == pytest.approx(_lrs(torch, build), rel=1e-12, abs=0)
    if "LinearLR" in build.__code__.co_names:
        with pytest.warns(UserWarning, match="holds the lr at start_factor"):
            _lrs(gg, build, epochs=1)


@pytest.mark.torch
def test_plateau_with_a_negative_patience_lowers_every_epoch_as_pytorch(torch):
    def run(lib):
        optimizer = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        plateau = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=-1)
        lrs = []
        for loss in (3.0, 2.0, 1.0, 1.0):
            plateau.step(loss)
            lrs.append(plateau.get_last_lr()[0])
        return lrs
    assert run(gg) == pytest.approx(run(torch), rel=1e-12)


@pytest.mark.parametrize("make, text", [
    (lambda w: gg.optim.RMSprop([w], alpha=1.5), "square root is NaN; use e.g. alpha=0.99"),
    (lambda w: gg.optim.ASGD([w], lambd=-1.0), "divides by 0 once t = 1/(|λ|·η)"),
    (lambda w: gg.optim.Rprop([w], step_sizes=(1.0, 0.1)), r"clamped to 0.1\); pass \(0.1, 1.0\)"),
    (lambda w: gg.optim.Rprop([w], step_sizes=(-1.0, 1.0)), "moves the weights uphill"),
    (lambda w: gg.optim.SGD([w], lr=float("inf")), "infinite one makes the stepped weights inf or NaN"),
    (lambda w: gg.optim.SGD([w, w], lr=0.1), "update it twice .PyTorch only warns"),
    (lambda w: gg.optim.lr_scheduler.StepLR(gg.optim.SGD([w], lr=0.1), 2, gamma=-1.0), "lr negative"),
    (lambda w: gg.optim.lr_scheduler.ExponentialLR(gg.optim.SGD([w], lr=0.1), -0.5), "climbs the loss"),
    (lambda w: gg.optim.lr_scheduler.CosineAnnealingLR(gg.optim.SGD([w], lr=0.1), 5, eta_min=-1.0),
     "lr below 0 near the bottom"),
    (lambda w: gg.optim.lr_scheduler.PolynomialLR(gg.optim.SGD([w], lr=0.1), 20, power=-1.0), "grow without bound"),
])
def test_values_that_would_give_nan_or_a_negative_lr_are_refused_saying_why(make, text):
    """PyTorch takes these, and trains into NaN or uphill; glassgrad refuses them, and now says why and the fix."""
    with pytest.raises(ValueError, match=text) as caught:
        make(gg.zeros(1, requires_grad=True))
    assert "\n" not in str(caught.value)


@pytest.mark.torch
def test_adamw_loads_a_checkpoint_without_decoupled_weight_decay_as_pytorch(torch):
    """AdamW's constructor has no decoupled_weight_decay (always True): loading raised KeyError."""
    mine, my_group = _resumed(gg, "AdamW", dict(lr=0.1), dict(lr=0.1), ("decoupled_weight_decay",))
    theirs, their_group = _resumed(torch, "AdamW", dict(lr=0.1), dict(lr=0.1), ("decoupled_weight_decay",))
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    assert my_group["decoupled_weight_decay"] is their_group["decoupled_weight_decay"] is True


@pytest.mark.torch
def test_a_subclass_with_its_own_arguments_loads_a_checkpoint_as_pytorch(torch):
    """A subclass whose constructor takes other arguments (``learning_rate``, ``verbose``): loading a checkpoint
    without ``maximize`` raised KeyError at step(), and the constructor's arguments became group options."""
    groups = []
    for lib in (gg, torch):
        class Renamed(lib.optim.SGD):
            def __init__(self, params, learning_rate=0.05, verbose=False):
                super().__init__(params, lr=learning_rate)

        weight = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        saved = Renamed([weight]).state_dict()
        del saved["param_groups"][0]["maximize"]
        optimizer = Renamed([weight])
        optimizer.load_state_dict(saved)
        weight.grad = lib.tensor([0.5, 1.0], dtype=lib.float64)
        optimizer.step()
        groups.append((weight.detach().numpy(), sorted(optimizer.param_groups[0])))
    np.testing.assert_allclose(groups[0][0], groups[1][0], rtol=1e-12)
    assert "verbose" not in groups[0][1] and "learning_rate" not in groups[0][1]
    assert set(groups[0][1]) >= set(groups[1][1]) - {"param_names"}
