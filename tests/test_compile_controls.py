"""PyTorch's controls of its compiler, as learner code calls them: ``torch.compiler.reset()`` (and
``torch._dynamo.reset()``), ``torch.compiler.disable``, ``is_compiling``, and the settings ``torch._dynamo.config``
and ``torch._inductor.config`` (kept, read back with PyTorch's defaults, a misspelt name refused as PyTorch does)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.compiler import CompileRefused


def _step_and_weight():
    w = gg.tensor([0.5, -1.0], requires_grad=True)

    def step(x):
        loss = ((x * w).tanh() ** 2).sum()
        loss.backward()
        with gg.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        return loss.detach()

    return step, w


def _captures(run) -> int:
    return sum(entry.captures for entry in run.entries.values())


def test_reset_makes_every_compiled_function_capture_afresh():
    step, _ = _step_and_weight()
    run = gg.compile(step)
    for _ in range(4):
        run(gg.ones(2))
    assert _captures(run) == 2 and run.entries[run.last_key].replays == 2
    gg.compiler.reset()
    assert "nothing captured yet" in run.explain()
    for _ in range(3):
        run(gg.ones(2))
    assert _captures(run) == 2 and run.entries[run.last_key].replays == 1
    assert gg._dynamo.reset is gg.compiler.reset


def test_reset_lets_a_refused_step_try_again():
    step, _ = _step_and_weight()
    run = gg.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with gg.trace():  # a tape records: the step runs eagerly, with a warning
            run(gg.ones(2))
    assert run.warned_about_tape
    gg.compiler.reset()
    assert not run.warned_about_tape


def test_is_compiling_is_true_while_a_step_is_captured_and_false_outside():
    seen = []
    note = seen.append  # the list itself, read by the step, would be guarded: one growing at each call is new

    def step(x):
        note(gg.compiler.is_compiling())
        return (x * 2).sum()

    run = gg.compile(step)
    for _ in range(4):
        run(gg.ones(2))
    assert seen == [True, True]  # the two captures; replays run no Python
    assert not gg.compiler.is_compiling() and gg.compiler.is_dynamo_compiling is gg.compiler.is_compiling
    step(gg.ones(2))
    assert seen[-1] is False


def test_a_function_marked_disable_runs_at_each_call_so_the_step_runs_eagerly():
    calls = []

    @gg.compiler.disable
    def log(value):
        calls.append(value)

    def make():
        step, w = _step_and_weight()

        def logged(x):
            loss = step(x)
            log(len(calls))
            return loss

        return logged, w

    eager_step, eager_w = make()
    eager = [eager_step(gg.ones(2)).item() for _ in range(5)]
    calls.clear()
    step, w = make()
    run = gg.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = [run(gg.ones(2)).item() for _ in range(5)]
    assert compiled == eager and np.array_equal(w.numpy(), eager_w.numpy())
    assert len(calls) == 5  # its Python ran at every call
    assert len(caught) == 1 and "'test_a_function_marked_disable_runs_at_each_call_so_the_step_runs_eagerly.<locals>" \
        ".log' is marked torch.compiler.disable" in str(caught[0].message)
    with pytest.raises(CompileRefused, match="marked torch.compiler.disable"):
        gg.compile(step, fullgraph=True)(gg.ones(2))


def test_disable_of_a_compiled_function_or_module_gives_the_original_back():
    def f(x):
        return x * 2

    model = gg.nn.Linear(2, 2)
    assert gg.compiler.disable(gg.compile(f)) is f
    assert gg.compiler.disable(gg.compile(model)) is model
    assert gg.compiler.disable(reason="printing")(f)(gg.ones(1)).item() == 2.0
    assert gg.compiler.allow_in_graph(f) is f and gg.compiler.cudagraph_mark_step_begin() is None


DYNAMO_SETTINGS = ["cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                   "accumulated_recompile_limit", "suppress_errors", "verbose", "capture_scalar_outputs",
                   "capture_dynamic_output_shape_ops", "automatic_dynamic_shapes", "assume_static_by_default",
                   "optimize_ddp", "specialize_int", "error_on_recompile"]
INDUCTOR_SETTINGS = ["coordinate_descent_tuning", "max_autotune", "max_autotune_gemm", "freezing", "epilogue_fusion",
                     "aggressive_fusion", "fx_graph_cache", "force_disable_caches", "debug", "triton.cudagraphs",
                     "triton.unique_kernel_names", "cpp.simdlen"]


def _read(config, dotted: str):
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


def test_the_settings_start_at_pytorchs_defaults(torch):
    for name in DYNAMO_SETTINGS:
        assert _read(gg._dynamo.config, name) == _read(torch._dynamo.config, name), name
    for name in INDUCTOR_SETTINGS:
        assert _read(gg._inductor.config, name) == _read(torch._inductor.config, name), name


@pytest.mark.parametrize("config, name", [("_dynamo", "suppres_errors"), ("_inductor", "coordinate_descent")])
def test_a_misspelt_setting_is_refused_as_pytorch_refuses_it(torch, config, name):
    with pytest.raises(AttributeError) as theirs:
        setattr(getattr(torch, config).config, name, True)
    with pytest.raises(AttributeError) as ours:
        setattr(getattr(gg, config).config, name, True)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(AttributeError, match=f"torch.{config}.config.{name} does not exist"):
        getattr(getattr(gg, config).config, name)


def test_a_setting_is_kept_and_read_back():
    config = gg._dynamo.config
    try:
        config.cache_size_limit, config.suppress_errors = 64, True
        assert (config.cache_size_limit, config.suppress_errors) == (64, True)
    finally:
        config.cache_size_limit, config.suppress_errors = 8, False
    with pytest.raises(AttributeError, match="triton does not exist"):
        gg._inductor.config.triton = None  # a group of settings is not replaced


def test_the_shape_hints_take_a_tensor_and_change_nothing():
    x = gg.ones(3, 2)
    assert gg._dynamo.mark_dynamic(x, 0) is None and gg._dynamo.maybe_mark_dynamic(x, 1) is None
    assert gg._dynamo.mark_static(x) is None
    with pytest.raises(TypeError, match="mark_dynamic: expected a tensor, got list"):
        gg._dynamo.mark_dynamic([1, 2], 0)


def test_a_tutorials_lines_run_through_torch_names():
    script = """
from glassgrad import torch_names
torch_names.install()
import torch
import torch._dynamo
import torch._inductor.config
torch._dynamo.config.suppress_errors = True
torch._inductor.config.coordinate_descent_tuning = True
torch._inductor.config.triton.unique_kernel_names = True
from torch._dynamo import config
model = torch.compile(torch.nn.Linear(2, 1))
for _ in range(3):
    model(torch.ones(1, 2)).sum().backward()
torch._dynamo.reset()
torch.compiler.reset()
print(config.suppress_errors, torch.compiler.is_compiling())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


# --- set_stance: force_eager, eager_on_recompile, fail_on_recompile ---------------------------------------------------

@pytest.fixture
def default_stance():
    yield
    gg.compiler.set_stance("default")


def test_force_eager_runs_every_compiled_function_as_it_is_and_default_replays_again(default_stance):
    seen = []
    note = seen.append

    def step(x):
        note("ran")
        return (x * 2).sum()

    run = gg.compile(step)
    for _ in range(3):
        run(gg.ones(2))
    assert len(seen) == 2  # two captures, one replay
    with gg.compiler.set_stance("force_eager"):
        for _ in range(3):
            assert run(gg.ones(2)).item() == 4.0
    assert len(seen) == 5  # its Python ran at each call
    run(gg.ones(2))
    assert len(seen) == 5 and run.entries[run.last_key].replays == 2  # the program was kept


def test_set_stance_as_a_call_and_as_a_decorator(default_stance):
    run = gg.compile(lambda x: (x * 3).sum())

    @gg.compiler.set_stance("force_eager")
    def evaluate():
        return [run(gg.ones(2)).item() for _ in range(3)]

    assert gg.compiler.compiled.STANCE[0] == "default"  # the decorator sets it only while evaluate runs
    assert evaluate() == [6.0] * 3 and not run.entries
    gg.compiler.set_stance("force_eager")
    run(gg.ones(2))
    assert not run.entries
    gg.compiler.set_stance("default")
    run(gg.ones(2))
    assert run.entries


def test_a_recompile_runs_eagerly_or_fails_as_the_stance_says(default_stance):
    def step(x):
        return (x * x).sum()

    run = gg.compile(step)
    for _ in range(3):
        run(gg.ones(2))
    with gg.compiler.set_stance("eager_on_recompile"):
        assert run(gg.ones(5)).item() == 5.0  # new shapes: eagerly, nothing captured
        assert len(run.entries) == 1
        run(gg.ones(2))  # the program that fits still replays
        assert run.entries[run.last_key].replays == 2
    with gg.compiler.set_stance("fail_on_recompile"):
        with pytest.raises(RuntimeError, match="Detected recompile when torch.compile stance is 'fail_on_recompile'"):
            run(gg.ones(7))
        assert run(gg.ones(2)).item() == 2.0
    fresh = gg.compile(step)
    with gg.compiler.set_stance("fail_on_recompile"):
        assert fresh(gg.ones(3)).item() == 3.0  # a first capture is no recompile


def test_an_unknown_stance_is_refused_in_one_line():
    with pytest.raises(ValueError, match="invalid torch.compile stance 'eager'; give one of 'default', 'force_eager'"):
        gg.compiler.set_stance("eager")
