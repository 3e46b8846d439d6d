"""bench/engine.py's "NumPy by hand" peer computes the same step as the engine (not timed).

The peer writes every gradient out by hand; glassgrad's autograd is the independent oracle here:
one step of each workload must move the parameters, or give the gradients, that autograd gives.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import glassgrad as gg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import engine  # noqa: E402  (the bench folder is not a package)


def autograd_step(arrays, x, target, loss_kind):
    """The parameters after one plain gradient step, by glassgrad's autograd."""
    params = [gg.tensor(a, requires_grad=True) for a in arrays]
    h = gg.tensor(x)
    for i in range(0, len(params) - 2, 2):
        h = gg.nn.functional.linear(h, params[i], params[i + 1]).relu()
    out = gg.nn.functional.linear(h, params[-2], params[-1])
    loss_fn = gg.nn.functional.mse_loss if loss_kind == "mse" else gg.nn.functional.cross_entropy
    loss_fn(out, gg.tensor(target)).backward()
    return [p.detach().numpy() - engine.LR * p.grad.numpy() for p in params]


@pytest.mark.parametrize("loss_kind", ["mse", "ce"])
def test_the_hand_written_mlp_step_moves_the_parameters_as_autograd_does(loss_kind):
    rng = np.random.default_rng(1)
    arrays = engine.mlp_parameters([6, 5, 4, 3], seed=2)
    x = rng.standard_normal((7, 6)).astype(np.float32)
    target = (rng.standard_normal((7, 3)).astype(np.float32) if loss_kind == "mse" else rng.integers(0, 3, 7))
    step = engine.numpy_mlp_step(arrays, x, target, loss_kind)
    step()
    for by_hand, expected, start in zip(step.params, autograd_step(arrays, x, target, loss_kind), arrays):
        assert not np.array_equal(by_hand, start)  # the step moved it
        np.testing.assert_allclose(by_hand, expected, rtol=1e-5, atol=1e-7)


def test_the_hand_written_chain_gives_autograds_gradients():
    length = 40
    gradient_x, gradient_a = engine.numpy_chain(length)()
    x = gg.tensor(np.linspace(-1, 1, 8, dtype=np.float32), requires_grad=True)
    a = gg.tensor(np.full(8, 0.9, dtype=np.float32), requires_grad=True)
    y = x
    for _ in range(length // 4):
        y = (y * a + 0.1).tanh().sigmoid()
    y.sum().backward()
    np.testing.assert_allclose(gradient_x, x.grad.numpy(), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(gradient_a, a.grad.numpy(), rtol=1e-5, atol=1e-9)


def test_bench_compile_builds_every_way_and_each_compiled_step_replays():
    """bench/compile.py's workloads come from bench/engine.py's columns (it read a WORKLOADS table engine.py no
    longer has, and failed at once); a compiled step and a compiled forward must replay, not run eagerly."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("compile_bench", Path(engine.__file__).with_name("compile.py"))
    compile_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compile_bench)
    for way in ("eager", "compiled", "forward"):
        for step in compile_bench.steps(way).values():
            step()
            if way == "forward":
                entries = step.forward.entries.values()
                assert any(entry.program is not None and entry.program.node_op is not None for entry in entries)
