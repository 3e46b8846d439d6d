"""Optimizers and learning-rate schedules against PyTorch 2.13, gradients set on ``.grad`` by hand (float64, some
float32), edge options PyTorch takes (β₁ = 0, α = 0 or 1, ρ = 1, ``beta2_decay = 0``, lr = 0), and misuse.

The optimizer sweep compares, after every step, the parameters, every state tensor (its dtype too) and every entry
of ``state_dict()['param_groups']``, through three groups of different options, a parameter added mid-run, a
``state_dict`` round trip into a fresh optimizer, gradients left ``None`` or zeroed in place, a hand-edited ``lr`` and
``step(closure)``. What it found: the running averages PyTorch updates with ``lerp_`` were rounded as
``m + w·(g − m)`` whatever the weight, so with a weight of 1 (Adam's β₁ = 0, Adafactor's ``beta2_decay = 0``, Muon's
momentum 0) a small gradient next to a large average was lost (float32 Adam's m 95 % off, Adafactor's variance 0).
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


@pytest.fixture(autouse=True)
def _float64_by_default(torch):
    """Both libraries' 0-d state (step counts, NAdam's mu_product) in float64; put back after."""
    saved = [(library, library.get_default_dtype()) for library in (torch, gg)]
    for library, _ in saved:
        library.set_default_dtype(library.float64)
    yield
    for library, dtype in saved:
        library.set_default_dtype(dtype)


@contextlib.contextmanager
def _exact_newton_schulz(torch):
    """PyTorch's Muon with its bfloat16 Newton–Schulz run in the parameter's own dtype, as glassgrad runs it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.Tensor, "bfloat16", lambda self, *args, **kwargs: self.clone())
        yield


def _numbers(value):
    """A state entry or option as plain data: a tensor as (dtype name, array); tuples, lists and dicts item by item."""
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return str(value.dtype).split(".")[-1], np.array(value.tolist(), dtype=float)
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_numbers(item) for item in value)
    return value


def _assert_same(ours, theirs, rtol, where, atol=None):
    """``ours`` is ``theirs`` (see :func:`_numbers`) to ``rtol``; tensors also to ``atol``, by default 1e-13 in
    float64 and, for float32's cancellations, ``rtol`` times the tensor's largest number."""
    if isinstance(theirs, dict):
        assert sorted(ours, key=str) == sorted(theirs, key=str), where
        for key in theirs:
            _assert_same(ours[key], theirs[key], rtol, f"{where}[{key!r}]", atol)
    elif isinstance(theirs, tuple) and len(theirs) == 2 and isinstance(theirs[1], np.ndarray):
        assert ours[0] == theirs[0], f"{where}: dtype {ours[0]}, PyTorch's {theirs[0]}"
        if atol is None:
            atol = rtol * max(1.0, float(np.abs(theirs[1]).max(initial=0))) if theirs[0] == "float32" else 1e-13
        np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for number, (mine, its) in enumerate(zip(ours, theirs)):
            _assert_same(mine, its, rtol, f"{where}[{number}]", atol)
    elif isinstance(theirs, (int, float)) and not isinstance(theirs, bool) and theirs is not None:
        assert math.isclose(ours, theirs, rel_tol=rtol), f"{where}: {ours} vs PyTorch's {theirs}"
    else:
        assert ours == theirs, f"{where}: {ours!r} vs PyTorch's {theirs!r}"


# --- what the sweep found: lerp_ rounded from the nearer end --------------------------------------------------

LERPED = [
    ("Adam", {"lr": 0.01, "betas": (0.0, 0.99)}),
    ("AdamW", {"lr": 0.01, "betas": (0.0, 0.99)}),
    ("NAdam", {"lr": 0.01, "betas": (0.0, 0.99)}),
    ("RAdam", {"lr": 0.01, "betas": (0.0, 0.99)}),
    ("Adamax", {"lr": 0.01, "betas": (0.0, 0.99)}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.99), "amsgrad": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.25, "centered": True}),
    ("Adafactor", {"lr": 0.01, "beta2_decay": 0.0}),
    ("Adafactor", {"lr": 0.01, "beta2_decay": 0.0, "eps": (0.0, 1e-3)}),
]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, options", LERPED)
def test_a_running_average_lerped_with_a_weight_of_one_half_or_more_is_pytorchs(torch, name, options, dtype):
    """A gradient 10⁷ times smaller than the last: m + 1·(g − m) lost it (float32 m 95 % off; Adafactor's variance
    0, its step then 0/0 with eps1 = 0); PyTorch's lerp rounds from the nearer end, ``g − (g − m)·(1 − w)``."""
    grads = ([1e4, -3e4, 2e4, 5e3], [1e-3, 2e-3, -1e-3, 4e-4])
    results = []
    for library in (torch, gg):
        kind = getattr(library, dtype)
        weight = library.tensor([[1.0, -2.0], [0.5, 0.25]], dtype=kind, requires_grad=True)
        vector = library.tensor([1.0, -2.0, 0.5, 0.25], dtype=kind, requires_grad=True)
        optimizer = getattr(library.optim, name)([weight, vector], **options)
        for grad in grads:
            weight.grad = library.tensor(grad, dtype=kind).reshape(2, 2)
            vector.grad = library.tensor(grad, dtype=kind)
            optimizer.step()
        results.append(_numbers([weight, vector, optimizer.state_dict()["state"]]))
    _assert_same(results[1], results[0], 1e-12 if dtype == "float64" else 1e-6, f"{name} {dtype}", atol=0.0)


@pytest.mark.torch
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.3, 0.95])
def test_muons_momentum_buffer_is_lerped_as_pytorchs(torch, momentum, nesterov):
    """Momentum 0: B + 1·(g − B) missed g by 3e-7 relative in float64 after a gradient 10⁹ times larger."""
    rng = np.random.default_rng(0)
    start = rng.normal(size=(4, 3))
    grads = [rng.normal(size=(4, 3)) * scale for scale in (1e6, 1e-3, 1.0)]
    results = []
    with _exact_newton_schulz(torch):
        for library in (torch, gg):
            weight = library.tensor(start, requires_grad=True)
            optimizer = library.optim.Muon([weight], lr=0.02, momentum=momentum, nesterov=nesterov)
            for grad in grads:
                weight.grad = library.tensor(grad)
                optimizer.step()
            results.append(_numbers([weight, optimizer.state[weight]["momentum_buffer"]]))
    _assert_same(results[1], results[0], 1e-12, f"Muon momentum={momentum}", atol=1e-15)


# --- the sweep -------------------------------------------------------------------------------------------------

def _adam_like(first, second, **more):
    return {"lr": st.sampled_from([0.0, 1e-3, 0.05]),
            "betas": st.tuples(st.sampled_from(first), st.sampled_from(second)),
            "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": st.sampled_from([0.0, 0.1]),
            "maximize": st.booleans(), **more}


OPTIONS = {
    "SGD": st.sampled_from([0.0, 0.5, 0.9, 1.0]).flatmap(lambda momentum: st.fixed_dictionaries({
        "lr": st.sampled_from([0.0, 0.01, 0.3]), "momentum": st.just(momentum),
        "weight_decay": st.sampled_from([0.0, 0.1]), "maximize": st.booleans(),
        **({"nesterov": st.just(True), "dampening": st.just(0.0)} if momentum > 0.6
           else {"dampening": st.sampled_from([0.0, 0.5, 1.0])})})),
    "Adam": st.fixed_dictionaries(_adam_like([0.0, 0.3, 0.9], [0.0, 0.5, 0.999], amsgrad=st.booleans(),
                                             decoupled_weight_decay=st.booleans())),
    "AdamW": st.fixed_dictionaries(_adam_like([0.0, 0.9], [0.5, 0.999], amsgrad=st.booleans())),
    "RMSprop": st.booleans().flatmap(lambda centered: st.fixed_dictionaries({
        "lr": st.sampled_from([0.0, 1e-3, 0.05]), "eps": st.sampled_from([1e-8, 1e-2]),
        # α = 0 centered: PyTorch's fused multiply-add leaves v − ḡ² a rounding error below 0, its √ NaN
        "alpha": st.sampled_from([0.25, 0.5, 0.99, 1.0] if centered else [0.0, 0.5, 0.99, 1.0]),
        "centered": st.just(centered), "momentum": st.sampled_from([0.0, 0.9]),
        "weight_decay": st.sampled_from([0.0, 0.1]), "maximize": st.booleans()})),
    "Adagrad": st.fixed_dictionaries({
        "lr": st.sampled_from([0.0, 0.01, 0.5]), "lr_decay": st.sampled_from([0.0, 0.1, 5.0]),
        "weight_decay": st.sampled_from([0.0, 0.1]), "initial_accumulator_value": st.sampled_from([0.0, 3.0]),
        "eps": st.sampled_from([1e-10, 1e-2]), "maximize": st.booleans()}),
    "Adadelta": st.fixed_dictionaries({
        "lr": st.sampled_from([0.0, 1.0, 3.0]), "rho": st.sampled_from([0.0, 0.9, 1.0]),
        "eps": st.sampled_from([0.0, 1e-6, 1e-2]), "weight_decay": st.sampled_from([0.0, 0.1]),
        "maximize": st.booleans()}),
    "Adamax": st.fixed_dictionaries(_adam_like([0.0, 0.9], [0.0, 0.999])),
    "NAdam": st.fixed_dictionaries(_adam_like([0.0, 0.9], [0.0, 0.999],
                                              momentum_decay=st.sampled_from([0.0, 4e-3, 1.0]),
                                              decoupled_weight_decay=st.booleans())),
    "RAdam": st.fixed_dictionaries(_adam_like([0.0, 0.9], [0.0, 0.5, 0.999], decoupled_weight_decay=st.booleans())),
    "ASGD": st.fixed_dictionaries({
        "lr": st.sampled_from([0.0, 0.01, 0.1]), "lambd": st.sampled_from([0.0, 1e-4, 0.5]),
        "alpha": st.sampled_from([0.0, 0.75, 2.0]), "t0": st.sampled_from([0.0, 5.0, 1e6]),
        "weight_decay": st.sampled_from([0.0, 0.1]), "maximize": st.booleans()}),
    "Rprop": st.fixed_dictionaries({
        "lr": st.sampled_from([0.0, 0.01, 0.1]), "etas": st.tuples(st.sampled_from([0.1, 0.5, 0.999]),
                                                                  st.sampled_from([1.001, 1.2, 3.0])),
        "step_sizes": st.tuples(st.sampled_from([0.0, 1e-6]), st.sampled_from([0.02, 50.0])),
        "maximize": st.booleans()}),
    "Adafactor": st.fixed_dictionaries({
        "lr": st.sampled_from([0.0, 0.01, 0.1]), "beta2_decay": st.sampled_from([-0.8, -0.5, 0.0]),
        "eps": st.tuples(st.sampled_from([None, 1e-3, 0.0]), st.sampled_from([1e-3, 0.0, 0.1])),
        "d": st.sampled_from([1.0, 2.0]), "weight_decay": st.sampled_from([0.0, 0.1]), "maximize": st.booleans()}),
}
SHAPES = [(), (3,), (2, 3), (1,), (4, 1, 2), (0,)]
STEPS = 15


def _drive(library, name, options, group_options, added_options, starts, script, dtype):
    """Per step of ``script``: the parameters, ``state_dict()['state']``, its groups and what ``step`` returned."""
    kind = getattr(library, dtype)
    params = [library.tensor(start, dtype=kind, requires_grad=True) for start in starts]
    build = getattr(library.optim, name)
    optimizer = build([{"params": params[:2]}, {"params": params[2:3], **group_options}], **options)
    rows = []
    for step, event in enumerate(script):
        if step == event["add_at"]:
            optimizer.add_param_group({"params": [params[3]], **added_options})
        if event["lr"] is not None:
            optimizer.param_groups[event["lr"][0]]["lr"] = event["lr"][1]
        if event["reload"]:
            saved = optimizer.state_dict()
            optimizer = build([{"params": group["params"]} for group in optimizer.param_groups], **options)
            optimizer.load_state_dict(saved)
        if event["zero"] is not None:
            optimizer.zero_grad(set_to_none=event["zero"])

        def closure(event=event):
            for param, grad in zip(params, event["grads"]):
                if grad is not None:
                    param.grad = library.tensor(grad, dtype=kind)
            return library.tensor(event["loss"])

        if event["closure"]:
            returned = float(optimizer.step(closure))
        else:
            closure()
            returned = optimizer.step()
        saved = optimizer.state_dict()
        rows.append(_numbers([params, saved["state"], saved["param_groups"], returned]))
    return rows


@st.composite
def _case(draw):
    name = draw(st.sampled_from(sorted(OPTIONS)), label="optimizer")
    options = draw(OPTIONS[name], label="options")
    keep = st.booleans()
    group_options = {key: value for key, value in draw(OPTIONS[name], label="group").items()
                     if key != "nesterov" and draw(keep)}
    if name == "SGD" and options.get("nesterov"):
        group_options.pop("momentum", None)
    if name == "RMSprop" and (group_options.get("centered", options["centered"])
                              and group_options.get("alpha", options["alpha"]) == 0):
        group_options["alpha"] = 0.5
    added_options = {key: value for key, value in draw(OPTIONS[name], label="added").items()
                     if key in ("lr", "weight_decay", "maximize") and draw(keep)}
    shapes = draw(st.lists(st.sampled_from(SHAPES), min_size=4, max_size=4), label="shapes")
    seed = draw(st.integers(0, 2**16), label="seed")
    add_at, reload_at = draw(st.integers(1, STEPS - 1)), draw(st.integers(1, STEPS - 1))
    rng = np.random.default_rng(seed)
    script = []
    for step in range(STEPS):
        grads = []
        for shape in shapes:
            grad = None if rng.random() < 0.2 else np.asarray(rng.normal(size=shape)) * rng.choice([1e-3, 1.0, 100.0])
            if grad is not None and grad.ndim and rng.random() < 0.2:
                grad[rng.random(grad.shape) < 0.5] = 0.0  # exact zeros: Rprop's sign, Adamax's |g|, Adagrad's sum
            grads.append(grad)
        script.append({"grads": grads, "zero": [None, True, False][rng.integers(3)], "closure": rng.random() < 0.3,
                       "loss": float(rng.normal()), "add_at": add_at, "reload": step == reload_at,
                       "lr": (int(rng.integers(2)), float(rng.choice([0.0, 0.01, 0.2]))) if rng.random() < 0.1
                       else None})
    starts = [rng.normal(size=shape) for shape in shapes]
    dtype = draw(st.sampled_from(["float64", "float64", "float32"]), label="dtype")
    return name, options, group_options, added_options, starts, script, dtype


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(case=_case())
def test_drawn_optimizers_follow_pytorch_step_by_step_state_and_groups_included(torch, case):
    """Params, state tensors (values and dtypes) and every group's entries after every step: float64 to 1e-11,
    float32 to its rounding. After a round trip in float32, NAdam's ``mu_product`` and ASGD's ``eta``/``mu`` keep the
    dtype they were saved in (PyTorch casts them to the parameter's dtype: README, optimizers)."""
    name, options, group_options, added_options, starts, script, dtype = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Adagrad's about a group's initial_accumulator_value
        theirs = _drive(torch, name, options, group_options, added_options, starts, script, dtype)
        ours = _drive(gg, name, options, group_options, added_options, starts, script, dtype)
    reloaded = False
    for step, (our_row, their_row) in enumerate(zip(ours, theirs)):
        reloaded = reloaded or script[step]["reload"]
        if dtype == "float32" and reloaded:
            for our_state, their_state in zip(our_row[1].values(), their_row[1].values()):
                for key in ("mu_product", "eta", "mu"):
                    if key in their_state:
                        our_state[key] = (their_state[key][0], our_state[key][1])
        for part, mine, its in zip(("params", "state", "groups", "returned"), our_row, their_row):
            _assert_same(mine, its, 1e-11 if dtype == "float64" else 2e-5, f"{name} step {step} {part}")


# --- state dicts across the two libraries -----------------------------------------------------------------------

def _converted(value, library):
    """A state dict with its tensors rebuilt in ``library`` from their plain numbers."""
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return library.tensor(np.array(value.tolist()), dtype=getattr(library, str(value.dtype).split(".")[-1]))
    if isinstance(value, dict):
        return {key: _converted(item, library) for key, item in value.items()}
    if isinstance(value, list):
        return [_converted(item, library) for item in value]
    return value


CROSS = [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01, "amsgrad": True}), ("AdamW", {}),
         ("RMSprop", {"centered": True, "momentum": 0.5}), ("Adagrad", {"lr_decay": 0.1}), ("Adadelta", {}),
         ("Adamax", {}), ("NAdam", {}), ("RAdam", {}), ("ASGD", {"t0": 3}), ("Rprop", {}), ("Adafactor", {})]


@pytest.mark.torch
@pytest.mark.parametrize("name, options", CROSS)
def test_a_state_dict_of_either_library_resumes_in_the_other(torch, name, options):
    """Six steps in one library, its state dict rebuilt as the other's tensors, six more there: as an unbroken run."""
    rng = np.random.default_rng(1)
    starts = [rng.normal(size=shape) for shape in [(3,), (), (2, 2)]]
    grads = [[rng.normal(size=start.shape) for start in starts] for _ in range(12)]
    finals = []
    for source, target in ((torch, gg), (gg, torch), (torch, torch)):
        params = [source.tensor(start, requires_grad=True) for start in starts]
        optimizer = getattr(source.optim, name)([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}], **options)
        for grad in grads[:6]:
            for param, numbers in zip(params, grad):
                param.grad = source.tensor(numbers)
            optimizer.step()
        saved = _converted(optimizer.state_dict(), target)
        params = [target.tensor(np.array(param.tolist()), requires_grad=True) for param in params]
        optimizer = getattr(target.optim, name)([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}], **options)
        optimizer.load_state_dict(saved)
        for grad in grads[6:]:
            for param, numbers in zip(params, grad):
                param.grad = target.tensor(numbers)
            optimizer.step()
        finals.append(np.concatenate([np.ravel(param.tolist()) for param in params]))
    np.testing.assert_allclose(finals[0], finals[2], rtol=1e-12, atol=0)
    np.testing.assert_allclose(finals[1], finals[2], rtol=1e-12, atol=0)


# --- the schedules -----------------------------------------------------------------------------------------------

def _part(schedules, optimizer, kind):
    return {"linear": lambda: schedules.LinearLR(optimizer, start_factor=0.2, total_iters=6),
            "exponential": lambda: schedules.ExponentialLR(optimizer, 0.9),
            "cosine": lambda: schedules.CosineAnnealingLR(optimizer, T_max=9, eta_min=0.001),
            "constant": lambda: schedules.ConstantLR(optimizer, factor=0.3, total_iters=4),
            "step": lambda: schedules.StepLR(optimizer, 4, 0.5),
            "multiplicative": lambda: schedules.MultiplicativeLR(optimizer, lambda epoch: 0.95),
            "polynomial": lambda: schedules.PolynomialLR(optimizer, total_iters=12, power=2.0),
            "multistep": lambda: schedules.MultiStepLR(optimizer, [3, 7, 7], 0.5)}[kind]()


PARTS = st.sampled_from(["linear", "exponential", "cosine", "constant", "step", "multiplicative", "polynomial",
                         "multistep"])
PER_GROUP = st.sampled_from([0.1, (0.2, 0.05, 0.3)])
SCHEDULES = {
    "StepLR": st.fixed_dictionaries({"step_size": st.sampled_from([1, 2, 13]),
                                     "gamma": st.sampled_from([0.0, 0.5, 1.5])}),
    "MultiStepLR": st.fixed_dictionaries({
        "milestones": st.lists(st.integers(0, 60), min_size=1, max_size=4).map(sorted),
        "gamma": st.sampled_from([0.1, 2.0])}),
    "CosineAnnealingLR": st.fixed_dictionaries({"T_max": st.sampled_from([1, 3, 25, 7.5]),
                                                "eta_min": st.sampled_from([0.0, 0.01])}),
    "CosineAnnealingWarmRestarts": st.fixed_dictionaries({"T_0": st.sampled_from([1, 3, 7]),
                                                          "T_mult": st.sampled_from([1, 2, 3]),
                                                          "eta_min": st.sampled_from([0.0, 0.01])}),
    "CyclicLR": st.fixed_dictionaries({
        "base_lr": st.sampled_from([0.0, 1e-3, (1e-3, 2e-3, 0.0)]), "max_lr": PER_GROUP,
        "step_size_up": st.sampled_from([1, 3, 10]), "step_size_down": st.sampled_from([None, 1, 4]),
        "mode": st.sampled_from(["triangular", "triangular2", "exp_range"]), "gamma": st.sampled_from([1.0, 0.9]),
        "scale_mode": st.sampled_from(["cycle", "iterations"]), "cycle_momentum": st.booleans(),
        "base_momentum": st.sampled_from([0.8, (0.7, 0.75, 0.8)]),
        "max_momentum": st.sampled_from([0.9, (0.95, 0.99, 0.9)])}),
    "OneCycleLR": st.fixed_dictionaries({
        "max_lr": PER_GROUP, "total_steps": st.sampled_from([60, 100]), "pct_start": st.sampled_from([0.1, 0.5, 0.9]),
        "anneal_strategy": st.sampled_from(["cos", "linear"]), "cycle_momentum": st.booleans(),
        "base_momentum": st.sampled_from([0.85, (0.8, 0.7, 0.8)]),
        "max_momentum": st.sampled_from([0.95, (0.9, 0.99, 0.9)]),
        "div_factor": st.sampled_from([25.0, 1.0]), "final_div_factor": st.sampled_from([1e4, 1.0]),
        "three_phase": st.booleans()}),
    "LinearLR": st.fixed_dictionaries({"start_factor": st.sampled_from([1e-3, 0.25, 1.0]),
                                       "end_factor": st.sampled_from([0.0, 0.5, 1.0]),
                                       "total_iters": st.sampled_from([0, 1, 30])}),
    "ConstantLR": st.fixed_dictionaries({"factor": st.sampled_from([0.1, 1.0]),
                                         "total_iters": st.sampled_from([0, 1, 30])}),
    "PolynomialLR": st.fixed_dictionaries({"total_iters": st.sampled_from([0, 1, 30]),
                                           "power": st.sampled_from([0.0, 0.5, 3.0])}),
    "ReduceLROnPlateau": st.fixed_dictionaries({
        "mode": st.sampled_from(["min", "max"]), "factor": st.sampled_from([0.0, 0.5, 0.99]),
        "patience": st.sampled_from([0, 1, 10]), "threshold": st.sampled_from([0.0, 1e-4, 1.0]),
        "threshold_mode": st.sampled_from(["rel", "abs"]), "cooldown": st.sampled_from([0, 3]),
        "min_lr": st.sampled_from([0.0, 1e-3, (1e-3, 0.02, 0.0)]), "eps": st.sampled_from([0.0, 1e-8, 1e-2])}),
    "SequentialLR": st.fixed_dictionaries({
        "milestones": st.lists(st.integers(1, 40), min_size=2, max_size=2, unique=True).map(sorted),
        "parts": st.lists(PARTS, min_size=3, max_size=3)}),
    "ChainedScheduler": st.fixed_dictionaries({"parts": st.lists(PARTS, min_size=1, max_size=3)}),
}


def _scheduled(library, kind, options, optimizer_kind):
    groups = [{"params": [library.zeros(2, requires_grad=True)]}, {"params": [library.zeros(3, requires_grad=True)],
                                                                    "lr": 0.05},
              {"params": [library.zeros((), requires_grad=True)], "lr": 0.3}]
    optimizer = {"SGD": lambda: library.optim.SGD(groups, lr=0.1, momentum=0.9),
                 "Adam": lambda: library.optim.Adam(groups, lr=0.1, betas=(0.9, 0.99)),
                 "NAdam": lambda: library.optim.NAdam(groups, lr=0.1)}[optimizer_kind]()
    schedules = library.optim.lr_scheduler
    options = {key: list(value) if isinstance(value, tuple) else value for key, value in options.items()}
    if kind == "SequentialLR":
        parts = [_part(schedules, optimizer, part) for part in options["parts"]]
        return optimizer, schedules.SequentialLR(optimizer, parts, milestones=options["milestones"])
    if kind == "ChainedScheduler":
        return optimizer, schedules.ChainedScheduler([_part(schedules, optimizer, part) for part in options["parts"]])
    return optimizer, getattr(schedules, kind)(optimizer, **options)


def _schedule_rows(library, kind, options, optimizer_kind, script, fractional):
    optimizer, schedule = _scheduled(library, kind, options, optimizer_kind)
    rows = []
    for event in script:
        if event["reload"]:
            saved = optimizer.state_dict(), schedule.state_dict()
            optimizer, schedule = _scheduled(library, kind, options, optimizer_kind)
            optimizer.load_state_dict(saved[0])
            schedule.load_state_dict(saved[1])
        optimizer.step()
        if kind == "ReduceLROnPlateau":
            schedule.step(event["metric"])
        elif fractional:
            for epoch in event["epochs"]:
                schedule.step(epoch)
        else:
            schedule.step()
        momenta = [group["betas"][0] if "betas" in group else group["momentum"] for group in optimizer.param_groups]
        rows.append((schedule.get_last_lr(), [group["lr"] for group in optimizer.param_groups], momenta,
                     getattr(schedule, "last_epoch", None)))
    return rows


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sorted(SCHEDULES)), data=st.data(),
       optimizer_kind=st.sampled_from(["SGD", "Adam", "NAdam"]), seed=st.integers(0, 2**16), fractional=st.booleans())
def test_drawn_schedules_follow_pytorch_through_a_round_trip(torch, kind, data, optimizer_kind, seed, fractional):
    """The last lrs, every group's lr and momentum (or β₁) and ``last_epoch`` after each of 40–99 steps; a state dict
    round trip of optimizer and schedule mid-run; CosineAnnealingWarmRestarts also stepped by fractional epochs that
    may jump back; ReduceLROnPlateau fed a walk with plateaus and NaN."""
    options = data.draw(SCHEDULES[kind], label="options")
    fractional = fractional and kind == "CosineAnnealingWarmRestarts"
    rng = np.random.default_rng(seed)
    count = options["total_steps"] - 1 if kind == "OneCycleLR" else int(rng.integers(40, 100))
    metric, epoch, script = 5.0, 0.0, []
    for step in range(count):
        metric += float(rng.choice([0.0, 0.0, -1.0, 1.0, -1e-3, 0.5])) if rng.random() > 0.02 else math.nan
        epochs = []
        for _ in range(int(rng.integers(1, 4))):
            epoch = float(rng.random() * 10) if rng.random() < 0.1 else epoch + float(rng.choice([0.25, 0.5, 1.0]))
            epochs.append(epoch)
        script.append({"metric": metric, "epochs": epochs, "reload": step == count // 2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated in both
        theirs = _schedule_rows(torch, kind, options, optimizer_kind, script, fractional)
        ours = _schedule_rows(gg, kind, options, optimizer_kind, script, fractional)
    for step, (our_row, their_row) in enumerate(zip(ours, theirs)):
        for part, mine, its in zip(("last lr", "lr", "momentum"), our_row, their_row):
            np.testing.assert_allclose(mine, its, rtol=1e-11, atol=1e-15, err_msg=f"{kind}, {part}, step {step}")
        assert our_row[3] == their_row[3], f"{kind}: last_epoch at step {step}"


# --- misuse: PyTorch's exception class, one line ------------------------------------------------------------------

def _sgd(library, **options):
    return library.optim.SGD([library.zeros(2, requires_grad=True)], **{"lr": 0.1, **options})


MISUSE = {
    "CosineAnnealingWarmRestarts T_0=1.5": lambda L: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(_sgd(L), 1.5),
    "CosineAnnealingWarmRestarts T_0=2.0": lambda L: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(_sgd(L), 2.0),
    "CosineAnnealingWarmRestarts T_mult=1.5": lambda L: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        _sgd(L), 2, T_mult=1.5),
    "OneCycleLR total_steps=1.5": lambda L: L.optim.lr_scheduler.OneCycleLR(_sgd(L), 1.0, total_steps=1.5),
    "OneCycleLR epochs=2.5": lambda L: L.optim.lr_scheduler.OneCycleLR(_sgd(L), 1.0, epochs=2.5, steps_per_epoch=4),
    "ReduceLROnPlateau.step('loss')": lambda L: L.optim.lr_scheduler.ReduceLROnPlateau(_sgd(L)).step("loss"),
    "ReduceLROnPlateau.step(tensor of 2)": lambda L: L.optim.lr_scheduler.ReduceLROnPlateau(_sgd(L)).step(
        L.tensor([1.0, 2.0])),
    "LBFGS.step()": lambda L: L.optim.LBFGS([L.zeros(2, requires_grad=True)]).step(),
}
PINNED_MISUSE = {  # behaved already: PyTorch's class
    "Adam betas=(1.0, 0.9)": lambda L: L.optim.Adam([L.zeros(2, requires_grad=True)], betas=(1.0, 0.9)),
    "NAdam momentum_decay=-1": lambda L: L.optim.NAdam([L.zeros(2, requires_grad=True)], momentum_decay=-1),
    "Adadelta rho=1.5": lambda L: L.optim.Adadelta([L.zeros(2, requires_grad=True)], rho=1.5),
    "Rprop etas=(0.5, 1.0)": lambda L: L.optim.Rprop([L.zeros(2, requires_grad=True)], etas=(0.5, 1.0)),
    "SGD nesterov with dampening": lambda L: _sgd(L, momentum=0.9, dampening=0.1, nesterov=True),
    "an empty parameter list": lambda L: L.optim.SGD([], lr=0.1),
    "a parameter in two groups": lambda L: (lambda p: L.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1))(
        L.zeros(2, requires_grad=True)),
    "a non-leaf": lambda L: L.optim.SGD([L.zeros(2, requires_grad=True) * 2], lr=0.1),
    "a tensor, not a list": lambda L: L.optim.SGD(L.zeros(2, requires_grad=True), lr=0.1),
    "CyclicLR on Adagrad (no momentum)": lambda L: L.optim.lr_scheduler.CyclicLR(
        L.optim.Adagrad([L.zeros(2, requires_grad=True)]), 0.01, 0.1),
    "OneCycleLR with 2 max_lrs for 1 group": lambda L: L.optim.lr_scheduler.OneCycleLR(_sgd(L), [1.0, 2.0], 10),
    "OneCycleLR stepped past its end": lambda L: [schedule.step() for schedule in [
        L.optim.lr_scheduler.OneCycleLR(_sgd(L), 1.0, total_steps=3)] for _ in range(4)],
    "ReduceLROnPlateau min_lr of 2 for 1 group": lambda L: L.optim.lr_scheduler.ReduceLROnPlateau(
        _sgd(L), min_lr=[0.1, 0.2]),
    "StepLR with last_epoch and no initial_lr": lambda L: L.optim.lr_scheduler.StepLR(_sgd(L), 3, last_epoch=5),
    "ChainedScheduler over two optimizers": lambda L: L.optim.lr_scheduler.ChainedScheduler([
        L.optim.lr_scheduler.ExponentialLR(_sgd(L), 0.9), L.optim.lr_scheduler.ExponentialLR(_sgd(L), 0.9)]),
}


def _raised(call, library):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(library)
        except Exception as error:  # noqa: BLE001 (the class is what is compared)
            return error
    return None


@pytest.mark.torch
@pytest.mark.parametrize("what", sorted(MISUSE) + sorted(PINNED_MISUSE))
def test_misuse_raises_pytorchs_exception_class_in_one_line(torch, what):
    """Found: a fractional T_0/T_mult/total_steps/epochs raised TypeError (PyTorch: ValueError, "Expected positive
    integer"), a metric float() refuses always TypeError (PyTorch: float()'s own, ValueError for 'loss' or a tensor of
    2), and LBFGS.step() without a closure a RuntimeError (PyTorch: TypeError, the closure is required)."""
    call = MISUSE.get(what) or PINNED_MISUSE[what]
    theirs, ours = _raised(call, torch), _raised(call, gg)
    assert theirs is not None, f"PyTorch takes {what}"
    assert type(ours) is type(theirs), f"{what}: {type(ours).__name__}({ours}) where PyTorch raises " \
                                       f"{type(theirs).__name__}({theirs})"
    assert "\n" not in str(ours) and str(ours)
