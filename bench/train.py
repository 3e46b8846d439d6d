"""Training speed and memory: glassgrad against PyTorch (CPU) with the same model and optimizer.

    python bench/train.py                 # both tasks, both libraries, ratios at the end
    python bench/train.py --epochs 5      # more epochs: steadier minimum

Tasks:
* ``digits``: the MLP that ``glassgrad train --data digits`` builds by default, 64→256→10 (ReLU,
  Adam lr 0.003), batch 32, on an 80% training split (1,437 samples); time per epoch.
* ``synthetic``: a 784→256→256→10 ReLU MLP (Adam lr 0.001), batch 128, on 60,000 synthetic samples
  (float32); time per epoch.
Each library runs in its own process and reports its own peak resident memory (``VmHWM``, see
:func:`own_peak_mb`): the data set, the framework and every temporary. Time is the fastest epoch
after a warm-up epoch, over two alternating runs (``ROUNDS``) of each library.
glassgrad trains with ``gg.fit`` and ``gg.data.DataLoader``; PyTorch with a hand loop over
``randperm`` index batches (its fastest idiom, cheaper than ``torch.utils.data.DataLoader``).
Targets (issue 3): time ratio ≤ 0.4 on digits, ≤ 1.0 on the synthetic set; peak memory ≤ 0.6.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from importlib.util import find_spec

import numpy as np

TASKS = {
    "digits": {"sizes": [64, 256, 10], "batch": 32, "lr": 0.003},
    "synthetic": {"sizes": [784, 256, 256, 10], "batch": 128, "lr": 0.001},
}
ROUNDS = 3
TARGETS = {"digits": 0.4, "synthetic": 1.0, "memory": 0.6}


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


def run_glassgrad(task: str, epochs: int) -> list[float]:
    import glassgrad as gg

    spec = TASKS[task]
    features, labels = task_data(task)
    dataset = gg.data.TensorDataset(gg.from_numpy(features), gg.from_numpy(labels))
    model = gg.nn.mlp(spec["sizes"], seed=0)
    optimizer = gg.optim.Adam(model.parameters(), lr=spec["lr"])
    loader = gg.data.DataLoader(dataset, batch_size=spec["batch"], shuffle=True, seed=0)
    history = gg.fit(model, gg.nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs, progress=False)
    return history["seconds"]


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


def worker(library: str, task: str, epochs: int) -> None:
    seconds = (run_glassgrad if library == "glassgrad" else run_torch)(task, epochs)
    print(json.dumps({"epoch_seconds": min(seconds[1:] or seconds), "peak_mb": own_peak_mb()}))


def measure(library: str, task: str, epochs: int) -> dict:
    command = [sys.executable, __file__, "--worker", library, "--task", task, "--epochs", str(epochs)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{library} {task} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--worker", choices=["glassgrad", "torch"])
    parser.add_argument("--task", choices=list(TASKS), default="digits")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.task, args.epochs)
        return
    if find_spec("torch") is None:  # found, not imported: this process stays small
        sys.exit("bench/train.py compares against PyTorch: pip install torch==2.13.0")
    print(f"{'task':10} {'glassgrad':>12} {'PyTorch':>12} {'time ratio':>10} {'peak MB gg/pt':>16} {'mem ratio':>9}")
    for task in TASKS:
        # alternating rounds; the best epoch time and the largest peak of each library
        runs = {"glassgrad": [], "torch": []}
        for _ in range(ROUNDS):
            for library, results in runs.items():
                results.append(measure(library, task, args.epochs))
        ours, theirs = ({"epoch_seconds": min(r["epoch_seconds"] for r in results),
                         "peak_mb": max(r["peak_mb"] for r in results)} for results in runs.values())
        time_ratio = ours["epoch_seconds"] / theirs["epoch_seconds"]
        memory_ratio = ours["peak_mb"] / theirs["peak_mb"]
        verdict = "ok" if time_ratio <= TARGETS[task] and memory_ratio <= TARGETS["memory"] else "MISSED"
        print(f"{task:10} {ours['epoch_seconds'] * 1e3:10.1f}ms {theirs['epoch_seconds'] * 1e3:10.1f}ms "
              f"{time_ratio:10.2f} {ours['peak_mb']:7.0f}/{theirs['peak_mb']:<7.0f} {memory_ratio:9.2f}  {verdict}")
    print(f"targets: time ≤ {TARGETS['digits']} (digits), ≤ {TARGETS['synthetic']} (synthetic); "
          f"memory ≤ {TARGETS['memory']}")


if __name__ == "__main__":
    main()
