"""Training speed and memory: glassgrad against PyTorch (CPU) with the same model and optimizer.

    python bench/train.py                 # both tasks, both libraries, ratios at the end
    python bench/train.py --epochs 5      # more epochs: steadier minimum
    python bench/train.py --rounds 9 --task digits

Tasks:
* ``digits``: the MLP that ``glassgrad train --data digits`` builds by default, 64→256→10 (ReLU,
  Adam lr 0.003), batch 32, on an 80% training split (1,437 samples); time per epoch.
* ``synthetic``: a 784→256→256→10 ReLU MLP (Adam lr 0.001), batch 128, on 60,000 synthetic samples
  (float32); time per epoch.
Columns: glassgrad (``gg.fit`` with ``gg.data.DataLoader``; the digits from ``gg.data.load_digits``,
which does not import scikit-learn), glassgrad compiled (``gg.fit(..., compile=True)`` where
glassgrad has it; else n/a), PyTorch (a hand loop over ``randperm`` index batches, its fastest
idiom, cheaper than ``torch.utils.data.DataLoader``) and JAX (a ``jax.jit`` step with Adam written
out as PyTorch computes it; skipped with a note when jax is not installed: ``pip install
"glassgrad[bench]"``). Each runs in its own process, one per column and round, the columns
alternating within a round (``--rounds``, default 5), and reports its own peak resident memory
(``VmHWM``, see :func:`own_peak_mb`): the data set, the framework and every temporary. A round's
time is its fastest epoch after a warm-up epoch; the table shows medians over the rounds, their
spread (min–max) and ratios to PyTorch's medians.
Targets: eager (issue 3) time ratio ≤ 0.4 on digits, ≤ 1.0 on the synthetic set; compiled
(issue 15) ≤ 0.25 on digits and faster than JAX, ≤ 0.85 on the synthetic set; peak memory ≤ 0.5
(issue 15; issue 3 asked ≤ 0.6).
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import subprocess
import sys
import time
from importlib.util import find_spec

import numpy as np

TASKS = {
    "digits": {"sizes": [64, 256, 10], "batch": 32, "lr": 0.003},
    "synthetic": {"sizes": [784, 256, 256, 10], "batch": 128, "lr": 0.001},
}
TARGETS = {"glassgrad": {"digits": 0.4, "synthetic": 1.0}, "glassgrad compiled": {"digits": 0.25, "synthetic": 0.85}}
MEMORY_TARGET = 0.5
AHEAD_OF_JAX = {"glassgrad compiled": ("digits",)}  # issue 15: the compiled digits epoch beats jax.jit's


def task_data(task: str) -> tuple[np.ndarray, np.ndarray]:
    if task == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        order = np.random.default_rng(0).permutation(len(digits.target))[: int(0.8 * len(digits.target))]
        return (digits.data[order] / 16).astype(np.float32), digits.target[order].astype(np.int64)
    rng = np.random.default_rng(0)
    features = rng.standard_normal((60_000, 784), dtype=np.float32)
    labels = (features[:, :10] @ rng.standard_normal((10, 10), dtype=np.float32)).argmax(axis=1)
    return features, labels.astype(np.int64)


def glassgrad_data(task: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`task_data`, the digits read as ``glassgrad train`` reads them (no scikit-learn import)."""
    if task != "digits":
        return task_data(task)
    import glassgrad as gg

    digits = gg.data.load_digits()
    features, labels = digits.tensors[0].numpy(), digits.tensors[1].numpy()
    order = np.random.default_rng(0).permutation(len(labels))[: int(0.8 * len(labels))]
    return features[order], labels[order]


def run_glassgrad(task: str, epochs: int, compiled: bool = False) -> list[float]:
    import glassgrad as gg

    spec = TASKS[task]
    features, labels = glassgrad_data(task)
    dataset = gg.data.TensorDataset(gg.from_numpy(features), gg.from_numpy(labels))
    model = gg.nn.mlp(spec["sizes"], seed=0)
    optimizer = gg.optim.Adam(model.parameters(), lr=spec["lr"])
    loader = gg.data.DataLoader(dataset, batch_size=spec["batch"], shuffle=True, seed=0)
    options = {"compile": True} if compiled else {}  # the hook for gg.compile (issue 15)
    history = gg.fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs, progress=False, **options)
    return history["seconds"]


def run_jax(task: str, epochs: int) -> list[float]:
    """The same MLP, loss and Adam (PyTorch's rule and initialisation bounds) as one ``jax.jit`` step."""
    import jax
    import jax.numpy as jnp

    spec = TASKS[task]
    features, labels = (jnp.asarray(a) for a in task_data(task))
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(spec["sizes"][:-1], spec["sizes"][1:]):
        bound = 1 / np.sqrt(fan_in)
        params += [jnp.asarray(rng.uniform(-bound, bound, (fan_out, fan_in)), jnp.float32),
                   jnp.asarray(rng.uniform(-bound, bound, fan_out), jnp.float32)]
    lr, (beta1, beta2), eps = spec["lr"], (0.9, 0.999), 1e-8

    def loss_of(params, x, y):
        h = x
        for i in range(0, len(params) - 2, 2):
            h = jax.nn.relu(h @ params[i].T + params[i + 1])
        out = h @ params[-2].T + params[-1]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(out), y[:, None], axis=1))

    @jax.jit
    def step(params, means, squares, t, x, y):
        loss, grads = jax.value_and_grad(loss_of)(params, x, y)
        means = [beta1 * m + (1 - beta1) * g for m, g in zip(means, grads)]
        squares = [beta2 * v + (1 - beta2) * g * g for v, g in zip(squares, grads)]
        size = lr / (1 - beta1**t)
        root = jnp.sqrt(1 - beta2**t)
        params = [p - size * m / (jnp.sqrt(v) / root + eps) for p, m, v in zip(params, means, squares)]
        return params, means, squares, loss

    means, squares = [jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params]
    seconds, t = [], 0
    for epoch in range(epochs):
        started = time.perf_counter()
        order = jnp.asarray(np.random.default_rng(epoch).permutation(len(labels)))
        for start in range(0, len(labels), spec["batch"]):
            index = order[start:start + spec["batch"]]
            t += 1
            params, means, squares, loss = step(params, means, squares, t, features[index], labels[index])
            loss.item()
        seconds.append(time.perf_counter() - started)
    return seconds


def run_torch(task: str, epochs: int) -> list[float]:
    import torch

    torch.manual_seed(0)
    spec = TASKS[task]
    features, labels = (torch.from_numpy(a) for a in task_data(task))
    sizes = spec["sizes"]
    layers: list = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        order = torch.randperm(len(labels))
        for start in range(0, len(labels), spec["batch"]):
            index = order[start:start + spec["batch"]]
            optimizer.zero_grad()
            loss = loss_fn(model(features[index]), labels[index])
            loss.backward()
            optimizer.step()
            loss.item()
        seconds.append(time.perf_counter() - started)
    return seconds


def own_peak_mb() -> float:
    """This process's own peak resident memory in MB: ``VmHWM`` from ``/proc/self/status``.

    Not ``ru_maxrss``: it carries over through fork and exec, so a child started by a parent
    that imported torch (~270 MB) would report at least the parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    sys.exit("bench/train.py measures memory with /proc/self/status (Linux)")


COLUMNS = ("glassgrad", "glassgrad compiled", "PyTorch", "JAX")


def column_missing(column: str) -> str | None:
    """Why ``column`` cannot run here (None: it can)."""
    if column == "JAX" and find_spec("jax") is None:
        return 'jax is not installed (pip install "glassgrad[bench]")'
    if column == "glassgrad compiled":
        import glassgrad  # no torch in this process: its memory stays out of the children's

        if "compile" not in inspect.signature(glassgrad.fit).parameters:
            return "this glassgrad's gg.fit has no compile=True yet"
    return None


def worker(column: str, task: str, epochs: int) -> None:
    if column.startswith("glassgrad"):
        seconds = run_glassgrad(task, epochs, compiled=column == "glassgrad compiled")
    else:
        seconds = (run_torch if column == "PyTorch" else run_jax)(task, epochs)
    print(json.dumps({"epoch_seconds": min(seconds[1:] or seconds), "peak_mb": own_peak_mb()}))


def measure(column: str, task: str, epochs: int) -> dict:
    command = [sys.executable, __file__, "--worker", column, "--task", task, "--epochs", str(epochs)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{column} {task} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def spread(values: list[float], scale: float) -> str:
    """``median (min–max)`` of ``values`` times ``scale``."""
    return f"{statistics.median(values) * scale:.1f} ({min(values) * scale:.1f}–{max(values) * scale:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of every column (default 5)")
    parser.add_argument("--worker", choices=COLUMNS, help=argparse.SUPPRESS)
    parser.add_argument("--task", choices=list(TASKS), help="one task (default: both)")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.task or "digits", args.epochs)
        return
    if find_spec("torch") is None:  # found, not imported: this process stays small
        sys.exit("bench/train.py compares against PyTorch: pip install torch==2.13.0")
    missing = {column: column_missing(column) for column in COLUMNS}
    columns = [column for column in COLUMNS if missing[column] is None]
    print(f"medians of {args.rounds} rounds, (min–max) over the rounds; ratios: median / PyTorch's median")
    for task in [args.task] if args.task else TASKS:
        runs: dict[str, list[dict]] = {column: [] for column in columns}
        for _ in range(args.rounds):
            for column in columns:
                runs[column].append(measure(column, task, args.epochs))
        seconds = {column: [r["epoch_seconds"] for r in results] for column, results in runs.items()}
        peaks = {column: [r["peak_mb"] for r in results] for column, results in runs.items()}
        torch_time, torch_peak = statistics.median(seconds["PyTorch"]), statistics.median(peaks["PyTorch"])
        targets = ", ".join(f"{column} ≤ {TARGETS[column][task]}×" for column in TARGETS)
        print(f"\n{task} (targets: time {targets}, memory ≤ {MEMORY_TARGET}× PyTorch)")
        print(f"  {'':20} {'epoch ms':>26} {'time':>6} {'peak MB':>22} {'memory':>6}")
        for column in COLUMNS:
            if missing[column] is not None:
                print(f"  {column:20} n/a: {missing[column]}")
                continue
            time_ratio = statistics.median(seconds[column]) / torch_time
            memory_ratio = statistics.median(peaks[column]) / torch_peak
            verdict = ""
            if column in TARGETS:
                met = time_ratio <= TARGETS[column][task] and memory_ratio <= MEMORY_TARGET
                if task in AHEAD_OF_JAX.get(column, ()) and "JAX" in seconds:
                    met = met and statistics.median(seconds[column]) < statistics.median(seconds["JAX"])
                verdict = "ok" if met else "MISSED"
            print(f"  {column:20} {spread(seconds[column], 1e3):>26} {time_ratio:5.2f}× "
                  f"{spread(peaks[column], 1):>22} {memory_ratio:5.2f}× {verdict}")


if __name__ == "__main__":
    main()
