"""The less common optimizers against PyTorch 2.13 (round 71): LBFGS's iterates and closure calls, swa_utils
(AveragedModel, SWALR, update_bn), the foreach/fused/capturable/differentiable flags on a CPU, and misuse.

Round 28 (tests/test_optim_differential28.py) already sweeps Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and
Adafactor step by step; this file adds what it left out. What the fuzzing found: a parameter group without a
``params`` key raised ValueError where PyTorch raises KeyError, and so did a non-int LBFGS ``history_size`` where
PyTorch raises TypeError. Noted, not matched: LBFGS keeps ``t``, ``H_diag`` and ``ro`` as floats and has no ``al``
(README); PyTorch's ``get_swa_multi_avg_fn`` divides by a tensor ``n_averaged``
with ``_foreach_addcdiv_``, which is ~1e-10 off the exact mean in float64 on a CPU (glassgrad's is the exact one), and
refuses an integer buffer (``use_buffers=True``) that glassgrad averages truncated.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

# --- LBFGS ---------------------------------------------------------------------------------------------------------


def _lbfgs_run(library, options, problem, seed, steps):
    """Per ``step(closure)``: the parameters, the returned loss, closure calls so far, ``func_evals``, ``n_iter``."""
    rng = np.random.default_rng(seed)
    shapes = [(), (3,), (2, 2)][: int(rng.integers(1, 4))]
    params = [library.tensor(rng.normal(size=shape), dtype=library.float64, requires_grad=True) for shape in shapes]
    scales = [library.tensor(np.abs(rng.normal(size=shape)) + 0.1, dtype=library.float64) for shape in shapes]
    optimizer = library.optim.LBFGS(params, **options)
    calls = [0]

    def closure():
        calls[0] += 1
        optimizer.zero_grad()
        if problem == "rosenbrock":
            flat = library.cat([param.reshape(-1) for param in params])
            loss = ((flat - 1) ** 2).sum() if flat.shape[0] < 2 else \
                (100 * (flat[1:] - flat[:-1] ** 2) ** 2 + (1 - flat[:-1]) ** 2).sum()
        else:
            loss = sum((param ** 4 - 3 * param ** 2 + scale * param).sum() for scale, param in zip(scales, params))
        loss.backward()
        return loss

    rows = []
    for _ in range(steps):
        returned = optimizer.step(closure).item()
        state = optimizer.state[params[0]]
        rows.append((np.concatenate([np.ravel(param.tolist()) for param in params]), returned, calls[0],
                     state["func_evals"], state["n_iter"]))
    return rows


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(lr=st.sampled_from([1.0, 0.5, 0.25]), max_iter=st.sampled_from([1, 3, 20]),
       history_size=st.sampled_from([1, 2, 10]), tolerance_grad=st.sampled_from([1e-7, 1e-3, 0.0]),
       tolerance_change=st.sampled_from([1e-9, 1e-4, 0.0]), line_search_fn=st.sampled_from([None, "strong_wolfe"]),
       max_eval=st.sampled_from([None, 1, 2, 5, 40]), problem=st.sampled_from(["rosenbrock", "quartic"]),
       seed=st.integers(0, 2**16), steps=st.integers(1, 4))
def test_drawn_lbfgs_runs_follow_pytorch_closure_calls_included(torch, lr, max_iter, history_size, tolerance_grad,
                                                                 tolerance_change, line_search_fn, max_eval, problem,
                                                                 seed, steps):
    """Float64, 1–3 parameters of shapes (), (3,), (2, 2): after every ``step(closure)`` the parameters (1e-9
    relative: Rosenbrock's ``1/(y·s)`` cancels), the returned loss and how many times the closure ran."""
    if line_search_fn is not None and max_eval == 1:
        max_eval = 2
    options = {"lr": lr, "max_iter": max_iter, "history_size": history_size, "tolerance_grad": tolerance_grad,
               "tolerance_change": tolerance_change, "line_search_fn": line_search_fn, "max_eval": max_eval}
    theirs = _lbfgs_run(torch, options, problem, seed, steps)
    ours = _lbfgs_run(gg, options, problem, seed, steps)
    for step, (mine, its) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(mine[0], its[0], rtol=1e-9, atol=1e-12, err_msg=f"step {step} params")
        np.testing.assert_allclose(mine[1], its[1], rtol=1e-9, atol=1e-12, err_msg=f"step {step} loss")
        assert mine[2:] == its[2:], f"step {step}: closure calls, func_evals, n_iter {mine[2:]} vs {its[2:]}"


def _rosenbrock_closure(param, optimizer):
    """The closure ``step`` calls: Rosenbrock's function of ``param`` (either library's), its gradient set."""

    def closure():
        optimizer.zero_grad()
        loss = (100 * (param[1:] - param[:-1] ** 2) ** 2 + (1 - param[:-1]) ** 2).sum()
        loss.backward()
        return loss

    return closure


@pytest.mark.torch
def test_a_pytorch_lbfgs_state_dict_resumes_in_glassgrad(torch):
    """PyTorch's state (tensors ``t``/``H_diag``/``ro``, an ``al`` list) loads and the run goes on as PyTorch's."""
    options = {"lr": 1.0, "max_iter": 3, "history_size": 4, "line_search_fn": "strong_wolfe"}
    start = np.array([-1.2, 1.0, 0.5])
    finals = []
    for target in (torch, gg):
        param = torch.tensor(start, requires_grad=True)
        optimizer = torch.optim.LBFGS([param], **options)
        for _ in range(2):
            optimizer.step(_rosenbrock_closure(param, optimizer))
        saved = optimizer.state_dict()
        mine = target.tensor(np.array(param.tolist()), requires_grad=True)
        resumed = target.optim.LBFGS([mine], **options)
        state = {key: (target.tensor(np.array(value.tolist())) if hasattr(value, "tolist") and hasattr(value, "dtype")
                       else [None if item is None else target.tensor(np.array(item.tolist())) for item in value]
                       if isinstance(value, list) else value) for key, value in saved["state"][0].items()}
        resumed.load_state_dict({"state": {0: state}, "param_groups": saved["param_groups"]})
        for _ in range(2):
            resumed.step(_rosenbrock_closure(mine, resumed))
        finals.append(np.array(mine.tolist()))
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-12, atol=1e-14)


# --- swa_utils -------------------------------------------------------------------------------------------------------


def _averaged_run(library, kind, use_buffers, strategy, anneal_epochs):
    rng = np.random.default_rng(3)
    model = library.nn.Sequential(library.nn.Linear(3, 4), library.nn.BatchNorm1d(4), library.nn.Linear(4, 1)).double()
    with library.no_grad():
        for param in model.parameters():
            param.copy_(library.tensor(rng.normal(size=tuple(param.shape))))
    utils = library.optim.swa_utils
    options = {"swa": {}, "ema_multi": {"multi_avg_fn": utils.get_ema_multi_avg_fn(0.9)},
               "ema": {"avg_fn": utils.get_ema_avg_fn(0.8)},
               "custom": {"avg_fn": lambda averaged, current, count: 0.5 * averaged + 0.5 * current}}[kind]
    averaged = utils.AveragedModel(model, use_buffers=use_buffers, **options)
    optimizer = library.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    schedule = utils.SWALR(optimizer, swa_lr=[0.02], anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    rows = []
    for _ in range(6):
        loss = (model(library.tensor(rng.normal(size=(5, 3)))) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        averaged.update_parameters(model)
        rows.append([np.array(value.tolist()) for value in averaged.state_dict().values()]
                    + [np.array(optimizer.param_groups[0]["lr"]), np.array(schedule.get_last_lr())])
    utils.update_bn([library.tensor(rng.normal(size=(4, 3))) for _ in range(3)], averaged)
    rows.append([np.array(value.tolist()) for value in averaged.state_dict().values()]
                + [np.array(averaged(library.tensor(rng.normal(size=(2, 3)))).tolist())])
    return list(averaged.state_dict()), rows


@pytest.mark.torch
@pytest.mark.parametrize("kind, use_buffers", [("swa", False), ("swa", True), ("ema_multi", True), ("ema", False),
                                               ("custom", True)])
def test_averaged_models_swalr_and_update_bn_follow_pytorch(torch, kind, use_buffers):
    """The averaged model's state dict (keys, n_averaged, BatchNorm's buffers), the lr SWALR sets after each of six
    SGD steps (cos and linear, anneal_epochs 0, 1, 3), and the output after ``update_bn``: float64 to 1e-12."""
    for strategy, anneal_epochs in [("cos", 0), ("cos", 3), ("linear", 1), ("linear", 3)]:
        their_keys, theirs = _averaged_run(torch, kind, use_buffers, strategy, anneal_epochs)
        our_keys, ours = _averaged_run(gg, kind, use_buffers, strategy, anneal_epochs)
        assert our_keys == their_keys
        for step, (mine, its) in enumerate(zip(ours, theirs)):
            for number, (a, b) in enumerate(zip(mine, its)):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14,
                                           err_msg=f"{strategy} {anneal_epochs}: update {step}, entry {number}")



@pytest.mark.torch
def test_a_swalr_state_dict_carries_pytorchs_keys_and_restores_the_strategy(torch):
    """Found: glassgrad saved ``anneal_strategy`` where PyTorch saves ``_anneal_strategy``, so a PyTorch state dict
    of a linear SWALR, loaded into one built with 'cos' (as PyTorch's ``load_state_dict`` restores the saved
    strategy), went on annealing by cosine: lrs 0.05, 0.03, 0.0154 where PyTorch's are 0.055, 0.04, 0.025."""
    lrs, keys = [], []
    for target in (torch, gg):
        optimizer = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
        schedule = torch.optim.swa_utils.SWALR(optimizer, swa_lr=0.01, anneal_epochs=6, anneal_strategy="linear")
        for _ in range(2):
            optimizer.step()
            schedule.step()
        saved = schedule.state_dict()
        resumed_optimizer = target.optim.SGD([target.zeros(2, requires_grad=True)], lr=0.1)
        resumed_optimizer.load_state_dict(optimizer.state_dict())
        resumed = target.optim.swa_utils.SWALR(resumed_optimizer, swa_lr=0.01, anneal_epochs=6)
        resumed.load_state_dict(saved)
        steps = []
        for _ in range(5):
            resumed_optimizer.step()
            resumed.step()
            steps.append(resumed_optimizer.param_groups[0]["lr"])
        lrs.append(steps)
        keys.append(sorted(key for key, value in resumed.state_dict().items() if not callable(value)))
    np.testing.assert_allclose(lrs[1], lrs[0], rtol=1e-12, atol=0)
    assert "_anneal_strategy" in keys[1] and "anneal_strategy" not in keys[1]

# --- flags on a CPU ---------------------------------------------------------------------------------------------------

FLAGGED = ["Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor", "LBFGS"]
FLAGS = ["foreach", "fused", "capturable", "differentiable", "maximize", "amsgrad", "decoupled_weight_decay"]


def _flagged_step(library, name, flag, value):
    try:
        param = library.tensor(np.ones((3, 2)), requires_grad=True)
        optimizer = getattr(library.optim, name)([param], **{flag: value})

        def closure():
            optimizer.zero_grad()
            loss = (param * param * 0.5).sum()
            loss.backward()
            return loss

        if name == "LBFGS":
            optimizer.step(closure)
        else:
            param.grad = library.tensor(np.full((3, 2), 0.5))
            optimizer.step()
        return None, np.array(param.tolist())
    except Exception as error:  # noqa: BLE001 (the class is what is compared)
        return error, None


@pytest.mark.torch
@pytest.mark.parametrize("name", FLAGGED)
def test_each_flag_is_taken_or_refused_as_pytorch_on_a_cpu(torch, name):
    """True and False: a keyword PyTorch's optimizer lacks is a TypeError in both, ``capturable``/``differentiable``
    refused at the step with PyTorch's class, the others change no number (1e-12)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for flag, value in ((flag, value) for flag in FLAGS for value in (True, False)):
            their_error, theirs = _flagged_step(torch, name, flag, value)
            our_error, ours = _flagged_step(gg, name, flag, value)
            assert type(our_error) is type(their_error), f"{name}({flag}={value}): {our_error!r} vs {their_error!r}"
            if theirs is not None:
                np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
            else:
                assert "\n" not in str(our_error)


# --- misuse -----------------------------------------------------------------------------------------------------------


def _one(library):
    return [library.zeros(2, requires_grad=True)]


def _lbfgs_stepped(library, **options):
    """An LBFGS built with ``options`` and stepped once (PyTorch checks ``history_size`` only at the step)."""
    param = library.zeros(2, requires_grad=True)
    optimizer = library.optim.LBFGS([param], **options)

    def closure():
        optimizer.zero_grad()
        loss = ((param - 1) ** 4).sum()
        loss.backward()
        return loss

    optimizer.step(closure)


MISUSE = {  # found: PyTorch's class differed
    "add_param_group without params": lambda L: L.optim.RAdam(_one(L)).add_param_group({"lr": 0.1}),
    "a group without params": lambda L: L.optim.Adagrad([{"lr": 0.1}]),
    "LBFGS history_size=2.5": lambda L: _lbfgs_stepped(L, history_size=2.5),
    "LBFGS history_size='3'": lambda L: _lbfgs_stepped(L, history_size="3"),
}
PINNED = {  # behaved already
    "Adagrad lr=-1": lambda L: L.optim.Adagrad(_one(L), lr=-1),
    "Adagrad lr_decay=-1": lambda L: L.optim.Adagrad(_one(L), lr_decay=-1),
    "Adagrad initial_accumulator_value=-1": lambda L: L.optim.Adagrad(_one(L), initial_accumulator_value=-1),
    "Adagrad eps=-1": lambda L: L.optim.Adagrad(_one(L), eps=-1),
    "Adadelta lr=-1": lambda L: L.optim.Adadelta(_one(L), lr=-1),
    "Adadelta rho=-0.1": lambda L: L.optim.Adadelta(_one(L), rho=-0.1),
    "Adamax betas=(0.9, 1.0)": lambda L: L.optim.Adamax(_one(L), betas=(0.9, 1.0)),
    "NAdam betas=(-0.1, 0.9)": lambda L: L.optim.NAdam(_one(L), betas=(-0.1, 0.9)),
    "RAdam weight_decay=-1": lambda L: L.optim.RAdam(_one(L), weight_decay=-1),
    "ASGD lr=-1": lambda L: L.optim.ASGD(_one(L), lr=-1),
    "Rprop etas=(1.2, 0.5)": lambda L: L.optim.Rprop(_one(L), etas=(1.2, 0.5)),
    "LBFGS with two groups": lambda L: L.optim.LBFGS([{"params": _one(L)}, {"params": _one(L)}]),
    "Adafactor beta2_decay=0.5": lambda L: L.optim.Adafactor(_one(L), beta2_decay=0.5),
    "Adafactor eps=(-1, 1e-3)": lambda L: L.optim.Adafactor(_one(L), eps=(-1, 1e-3)),
    "Adafactor d=-1": lambda L: L.optim.Adafactor(_one(L), d=-1.0),
    "Muon on a vector": lambda L: L.optim.Muon(_one(L)),
    "a non-leaf (Adagrad)": lambda L: L.optim.Adagrad([L.zeros(2, requires_grad=True) * 2]),
    "a parameter in two groups (Adamax)": lambda L: (lambda p: L.optim.Adamax([{"params": [p]}, {"params": [p]}]))(
        L.zeros(2, requires_grad=True)),
    "add_param_group with a set": lambda L: L.optim.ASGD(_one(L)).add_param_group({"params": set(_one(L))}),
    "load_state_dict with other groups": lambda L: L.optim.Rprop(_one(L)).load_state_dict(
        L.optim.Rprop([{"params": _one(L)}, {"params": _one(L)}]).state_dict()),
    "SWALR anneal_strategy='exp'": lambda L: L.optim.swa_utils.SWALR(L.optim.SGD(_one(L), lr=0.1), 0.05,
                                                                     anneal_strategy="exp"),
    "SWALR anneal_epochs=-1": lambda L: L.optim.swa_utils.SWALR(L.optim.SGD(_one(L), lr=0.1), 0.05, anneal_epochs=-1),
    "SWALR two swa_lrs for one group": lambda L: L.optim.swa_utils.SWALR(L.optim.SGD(_one(L), lr=0.1), [0.05, 0.1]),
    "get_ema_multi_avg_fn(2.0)": lambda L: L.optim.swa_utils.get_ema_multi_avg_fn(2.0),
}


@pytest.mark.torch
@pytest.mark.parametrize("what", sorted(MISUSE) + sorted(PINNED))
def test_misuse_raises_pytorchs_exception_class_in_one_line(torch, what):
    """Found: a group without ``params`` raised ValueError (PyTorch's ``param_group['params']`` raises KeyError), and
    a non-int LBFGS ``history_size`` ValueError (PyTorch: TypeError, from ``[None] * history_size``)."""
    call = MISUSE.get(what) or PINNED[what]
    errors = []
    for library in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                call(library)
            except Exception as error:  # noqa: BLE001 (the class is what is compared)
                errors.append(error)
            else:
                errors.append(None)
    theirs, ours = errors
    assert theirs is not None, f"PyTorch takes {what}"
    assert type(ours) is type(theirs), f"{what}: {ours!r} where PyTorch raises {theirs!r}"
    assert "\n" not in str(ours) and str(ours)


@pytest.mark.parametrize("options, message", [({"etas": (0.5,)}, "etas must be a pair"),
                                              ({"step_sizes": (1e-6, 50, 1)}, "step_sizes must be a pair"),
                                              ({"etas": 0.5}, "etas must be a pair")])
def test_rprops_pairs_of_the_wrong_length_are_named_in_one_line(options, message):
    """Found: ``etas=(0.5,)`` raised Python's 'not enough values to unpack (expected 2, got 1)' from inside glassgrad
    (PyTorch: an IndexError from inside its step). Now a TypeError naming the option and an example, as for
    ``betas`` and Adafactor's ``eps`` (one check serves all three)."""
    with pytest.raises(TypeError, match=message) as caught:
        gg.optim.Rprop([gg.zeros(2, requires_grad=True)], **options)
    assert "\n" not in str(caught.value)
