"""Engine speed: glassgrad against PyTorch (CPU), and JAX's jit where it is installed, in the same run.

    python bench/engine.py              # 5 alternating rounds: medians, spread (min–max), ratios to PyTorch
    python bench/engine.py --rounds 9   # more rounds: steadier medians

Workloads:
1. one training step (forward, MSE loss, backward, plain update) of the 4→3→4 ReLU
   network on one sample — pure per-op overhead;
2. a chain of 1,000 small elementwise ops (shape (8,)), forward + backward;
3. one step of a 784→256→256→10 ReLU MLP on a batch of 128 (float32, cross-entropy).
Targets (issue 15, eager): ratios ≤ 0.25, ≤ 0.5 and ≤ 1.0; ``import glassgrad`` < 0.3 s.

Columns (each in its own process, one process per column and round, columns alternating
within a round): glassgrad (eager), glassgrad compiled (``gg.compile`` of the same step, where
glassgrad has it; else n/a), glassgrad compiled forward (the forward alone through ``gg.compile``, the
loss, ``backward()`` and update eager: PyTorch 2's ``model = torch.compile(model)``), PyTorch, JAX
(``jax.jit`` of the same step; skipped with a note when ``pip install "glassgrad[bench]"`` has not
installed jax), and NumPy by hand (the same step with its gradients written out by hand as NumPy calls,
no autograd: the floor a replay of NumPy kernels aims at). In each process a workload's time is the best
of 9 timings with the garbage collector on (the least disturbed one); the table shows
the median over the rounds and its spread.
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import timeit
from importlib.util import find_spec

import numpy as np

TARGETS = {"tiny 4→3→4 step": 0.25, "1,000-op chain (per op)": 0.5, "MLP 784→256→256→10 step": 1.0}
CALLS = {"tiny 4→3→4 step": (500, 1), "1,000-op chain (per op)": (5, 1000), "MLP 784→256→256→10 step": (10, 1)}
"""Workload: (calls per timing, divide the time by)."""
CHAIN_LENGTH = 1000
LR = 0.01


def best_time(function, number: int, rounds: int = 9) -> float:
    """Seconds per call, best of ``rounds`` runs (the run least disturbed by other work).

    With the garbage collector on, as users run (``timeit`` alone switches it off).
    """
    function()  # warm up (and, for a compiled step, capture it)
    return min(timeit.timeit(function, setup="import gc; gc.enable()", number=number)
               for _ in range(rounds)) / number


def mlp_parameters(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return params


def workload_data() -> dict:
    rng = np.random.default_rng(0)
    return {
        "tiny": mlp_parameters([4, 3, 4]), "x1": np.array([[1, 0, 1, 1]], np.float32),
        "y1": np.array([[1, 1, 0, 1]], np.float32), "big": mlp_parameters([784, 256, 256, 10]),
        "xb": rng.standard_normal((128, 784)).astype(np.float32), "yb": rng.integers(0, 10, 128),
    }


# --- the same three workloads, written for each library ----------------------------------------

def glassgrad_step(gg, arrays, x, target, loss_kind, compile_forward=False):
    """The step; ``compile_forward``: the forward alone through ``gg.compile`` (loss, backward, update eager)."""
    params = [gg.tensor(a, requires_grad=True) for a in arrays]
    x, target = gg.tensor(x), gg.tensor(target)
    F = gg.nn.functional

    def forward(h):
        for i in range(0, len(params) - 2, 2):
            h = F.linear(h, params[i], params[i + 1]).relu()
        return F.linear(h, params[-2], params[-1])

    forward = gg.compile(forward) if compile_forward else forward

    def step():
        out = forward(x)
        loss = F.mse_loss(out, target) if loss_kind == "mse" else F.cross_entropy(out, target)
        loss.backward()
        with gg.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None

    step.forward = forward
    return step


def torch_step(torch, arrays, x, target, loss_kind):
    params = [torch.tensor(a, requires_grad=True) for a in arrays]
    x, target = torch.tensor(x), torch.tensor(target)
    F = torch.nn.functional

    def step():
        h = x
        for i in range(0, len(params) - 2, 2):
            h = F.relu(F.linear(h, params[i], params[i + 1]))
        out = F.linear(h, params[-2], params[-1])
        loss = F.mse_loss(out, target) if loss_kind == "mse" else F.cross_entropy(out, target)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None

    return step


def chain(lib, length=CHAIN_LENGTH, compile_forward=False):
    """``length`` elementwise ops on an (8,) vector: ×a, +b, tanh, sigmoid, repeated (glassgrad or PyTorch);
    ``compile_forward``: the ops alone through ``gg.compile``, ``sum().backward()`` eager."""
    x = lib.tensor(np.linspace(-1, 1, 8, dtype=np.float32), requires_grad=True)
    a = lib.tensor(np.full(8, 0.9, dtype=np.float32), requires_grad=True)
    b = lib.tensor(np.full(8, 0.1, dtype=np.float32))

    def forward(y):
        for _ in range(length // 4):
            y = ((y * a + b).tanh()).sigmoid()
        return y

    forward = lib.compile(forward) if compile_forward else forward

    def run():
        y = forward(x)
        y.sum().backward()
        x.grad = a.grad = None

    run.forward = forward
    return run


def jax_workloads(data: dict) -> dict:
    """The three workloads as ``jax.jit`` functions: the step (loss, gradient, update) compiled whole."""
    import jax
    import jax.numpy as jnp

    def mlp_step(arrays, x, target, loss_kind):
        def loss_of(params):
            h = x
            for i in range(0, len(params) - 2, 2):
                h = jax.nn.relu(h @ params[i].T + params[i + 1])
            out = h @ params[-2].T + params[-1]
            if loss_kind == "mse":
                return jnp.mean((out - target) ** 2)
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(out), target[:, None], axis=1))

        @jax.jit
        def update(params):
            grads = jax.grad(loss_of)(params)
            return [p - LR * g for p, g in zip(params, grads)]

        state = [[jnp.asarray(a) for a in arrays]]

        def step():
            state[0] = update(state[0])
            jax.block_until_ready(state[0])

        return step

    def chain_function(x, a):
        y = x
        for _ in range(CHAIN_LENGTH // 4):
            y = jax.nn.sigmoid(jnp.tanh(y * a + 0.1))
        return y.sum()

    gradient = jax.jit(jax.grad(chain_function, argnums=(0, 1)))
    x, a = jnp.linspace(-1, 1, 8, dtype=jnp.float32), jnp.full(8, 0.9, dtype=jnp.float32)
    return {
        "tiny 4→3→4 step": mlp_step(data["tiny"], jnp.asarray(data["x1"]), jnp.asarray(data["y1"]), "mse"),
        "1,000-op chain (per op)": lambda: jax.block_until_ready(gradient(x, a)),
        "MLP 784→256→256→10 step": mlp_step(data["big"], jnp.asarray(data["xb"]), jnp.asarray(data["yb"]), "ce"),
    }


def numpy_mlp_step(arrays, x, target, loss_kind):
    """The MLP step with no autograd: forward, loss gradient, backward and update written out as NumPy calls.

    MSE: ∂L/∂out = 2(out − y)/n; cross-entropy: ∂L/∂out = (softmax(out) − onehot(y))/batch;
    a layer ``z = h·Wᵀ + b``: ∂L/∂W = ∂L/∂zᵀ·h, ∂L/∂b = Σ_rows ∂L/∂z, ∂L/∂h = ∂L/∂z·W;
    ReLU: ∂L/∂z = ∂L/∂h · [z > 0].
    """
    params = [a.copy() for a in arrays]

    def step():
        inputs, pre = [x], []
        for i in range(0, len(params) - 2, 2):
            z = inputs[-1] @ params[i].T
            z += params[i + 1]
            pre.append(z)
            inputs.append(np.maximum(z, 0))
        out = inputs[-1] @ params[-2].T
        out += params[-1]
        if loss_kind == "mse":
            grad = (out - target) * (2 / out.size)
        else:
            grad = np.exp(out - out.max(axis=1, keepdims=True))
            grad /= grad.sum(axis=1, keepdims=True)
            grad[np.arange(len(target)), target] -= 1
            grad /= len(target)
        for i in range(len(params) - 2, -1, -2):
            grad_w, grad_b = grad.T @ inputs[i // 2], grad.sum(axis=0)
            if i:
                grad = (grad @ params[i]) * (pre[i // 2 - 1] > 0)
            params[i] -= LR * grad_w
            params[i + 1] -= LR * grad_b

    step.params = params
    return step


def numpy_chain(length=CHAIN_LENGTH):
    """The chain with its backward by hand: u = y·a + b, t = tanh u, s = σ(t); ∂s/∂t = s(1 − s), ∂t/∂u = 1 − t²,
    ∂u/∂y = a, ∂u/∂a = y (summed over the chain)."""
    x, a, b = np.linspace(-1, 1, 8, dtype=np.float32), np.full(8, 0.9, np.float32), np.full(8, 0.1, np.float32)

    def run():
        kept, y = [], x
        for _ in range(length // 4):
            t = np.tanh(y * a + b)
            s = 1 / (1 + np.exp(-t))
            kept.append((y, t, s))
            y = s
        grad, grad_a = np.ones_like(x), np.zeros_like(a)
        for y, t, s in reversed(kept):
            grad = grad * s * (1 - s) * (1 - t * t)
            grad_a += grad * y
            grad = grad * a
        return grad, grad_a

    return run


def workloads(column: str, data: dict) -> dict:
    """Each workload's function for ``column`` (one of :data:`COLUMNS`)."""
    if column == "JAX":
        return jax_workloads(data)
    if column == "NumPy by hand":
        return {"tiny 4→3→4 step": numpy_mlp_step(data["tiny"], data["x1"], data["y1"], "mse"),
                "1,000-op chain (per op)": numpy_chain(),
                "MLP 784→256→256→10 step": numpy_mlp_step(data["big"], data["xb"], data["yb"], "ce")}
    if column == "PyTorch":
        import torch

        lib, make, alone = torch, lambda *args: torch_step(torch, *args), False
    else:
        import glassgrad as gg

        alone = column == "glassgrad compiled forward"
        lib, make = gg, lambda *args: glassgrad_step(gg, *args, compile_forward=alone)
    functions = {
        "tiny 4→3→4 step": make(data["tiny"], data["x1"], data["y1"], "mse"),
        "1,000-op chain (per op)": chain(lib, compile_forward=alone),
        "MLP 784→256→256→10 step": make(data["big"], data["xb"], data["yb"], "ce"),
    }
    if column == "glassgrad compiled":  # the hook for gg.compile (issue 15): the same steps, captured once
        functions = {name: lib.compile(function) for name, function in functions.items()}
    return functions


COLUMNS = ("glassgrad", "glassgrad compiled", "glassgrad compiled forward", "PyTorch", "JAX", "NumPy by hand")


def column_missing(column: str) -> str | None:
    """Why ``column`` cannot run here (None: it can)."""
    if column == "JAX" and find_spec("jax") is None:
        return 'jax is not installed (pip install "glassgrad[bench]")'
    if column.startswith("glassgrad compiled"):
        import glassgrad

        if not hasattr(glassgrad, "compile"):
            return "this glassgrad has no gg.compile yet"
    return None


def worker(column: str) -> None:
    """Time every workload of one column, in this process only (no other library's thread pools around)."""
    data = workload_data()
    times = {name: best_time(function, CALLS[name][0]) / CALLS[name][1]
             for name, function in workloads(column, data).items()}
    print(json.dumps(times))


def measure(column: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--worker", column], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{column} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def import_time() -> float:
    """Seconds ``import glassgrad`` takes in a fresh process: median of 5, with the package's bytecode up to date.

    A user's first import writes Python's bytecode cache (and ``pip install`` writes it for an installed
    package); a machine with ``PYTHONDONTWRITEBYTECODE`` set, or a source file changed since the cache was
    written, would otherwise time the compiler as well (up to +0.2 s here).
    """
    compileall.compile_dir(find_spec("glassgrad").submodule_search_locations[0], quiet=1)
    code = "import time; t = time.perf_counter(); import glassgrad; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(5)]
    return statistics.median(runs)


def figure(values: list[float], scale: float, unit: str) -> str:
    """``median (min–max)`` of ``values`` times ``scale``, to 0.1 (0.01 below 10: the chain's per-op times)."""
    places = 2 if statistics.median(values) * scale < 10 else 1
    low, median, high = (value * scale for value in (min(values), statistics.median(values), max(values)))
    return f"{median:.{places}f} ({low:.{places}f}–{high:.{places}f}){unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of every column (default 5)")
    parser.add_argument("--worker", choices=COLUMNS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if find_spec("torch") is None:
        sys.exit("bench/engine.py compares against PyTorch: pip install torch==2.13.0")
    missing = {column: column_missing(column) for column in COLUMNS}
    columns = [column for column in COLUMNS if missing[column] is None]
    # One process per column and round (NumPy's OpenBLAS, PyTorch's OpenMP and XLA's threads would
    # otherwise spin against each other on a small machine); the columns alternate within a round.
    times: dict[str, dict[str, list[float]]] = {column: {name: [] for name in TARGETS} for column in columns}
    for _ in range(args.rounds):
        for column in columns:
            for name, seconds in measure(column).items():
                times[column][name].append(seconds)
    print(f"medians of {args.rounds} rounds, (min–max) over the rounds; ratio: median / PyTorch's median")
    for name in TARGETS:
        torch_median = statistics.median(times["PyTorch"][name])
        print(f"\n{name}  (eager target ≤ {TARGETS[name]}× PyTorch)")
        for column in COLUMNS:
            if missing[column] is not None:
                print(f"  {column:27} n/a: {missing[column]}")
                continue
            values = times[column][name]
            ratio = statistics.median(values) / torch_median
            verdict = ("ok" if ratio <= TARGETS[name] else "MISSED") if column == "glassgrad" else ""
            print(f"  {column:27} {figure(values, 1e6, ' µs'):>32} {ratio:6.3f}× {verdict}")
    seconds = import_time()
    verdict = "ok" if seconds < 0.3 else "MISSED"
    print(f"\nimport glassgrad: {seconds * 1000:.0f} ms, median of 5 (target < 300 ms) {verdict}")


if __name__ == "__main__":
    main()
