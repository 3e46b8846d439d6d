"""A digits CNN, glassgrad against PyTorch (CPU): time per epoch and each library's peak memory.

    python bench/cnn.py                   # 5 alternating rounds of 3 epochs each, one BLAS thread
    python bench/cnn.py --rounds 9 --threads 2

The model is the ``cnn-digits`` lesson's, built the same way in both libraries::

    Conv2d(1, 16, 3, padding=1) → ReLU → Conv2d(16, 32, 3, padding=1) → ReLU → MaxPool2d(2)
    → Flatten → Linear(512, 10)

trained with Adam (lr 0.003) on mini-batches of 32 of the 8×8 digits (an 80 % split, 1,437
images), the same batches in the same order for both (a NumPy permutation per epoch). A round
runs each library once, alternating, each in a fresh process (``--worker``) with ``--threads``
BLAS/OpenMP threads, so that neither sees the other's imports; an epoch time is the fastest epoch
after a warm-up epoch. Memory is the process's own peak resident set, ``VmHWM`` in
``/proc/self/status`` (the data, the framework and every temporary). Reported: the median over
the rounds with the spread (min–max), and the ratio of the medians (glassgrad / PyTorch).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

BATCH = 32
LEARNING_RATE = 0.003


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The training split: 1,437 images (N, 1, 8, 8) in [0, 1], float32, and their labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))[: int(0.8 * len(data.target))]
    return (data.data[order] / 16).astype(np.float32).reshape(-1, 1, 8, 8), data.target[order].astype(np.int64)


def batches(count: int, epoch: int) -> list[np.ndarray]:
    """The index batches of one epoch, the same for both libraries."""
    order = np.random.default_rng(epoch).permutation(count)
    return [order[start:start + BATCH] for start in range(0, count, BATCH)]


def peak_mb() -> float:
    """This process's peak resident memory (``VmHWM``), in MB."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def run_glassgrad(epochs: int) -> list[float]:
    import glassgrad as gg
    from glassgrad import nn

    images, labels = digits()
    gg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10))
    optimizer = gg.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    seconds = []
    for epoch in range(epochs):
        started = time.perf_counter()
        for index in batches(len(labels), epoch):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(gg.from_numpy(images[index])), gg.from_numpy(labels[index]))
            loss.backward()
            optimizer.step()
            loss.item()
        seconds.append(time.perf_counter() - started)
    return seconds


def run_torch(epochs: int, threads: int) -> list[float]:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    images, labels = digits()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    seconds = []
    for epoch in range(epochs):
        started = time.perf_counter()
        for index in batches(len(labels), epoch):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(torch.from_numpy(images[index])),
                                               torch.from_numpy(labels[index]))
            loss.backward()
            optimizer.step()
            loss.item()
        seconds.append(time.perf_counter() - started)
    return seconds


def worker(library: str, epochs: int, threads: int) -> None:
    seconds = run_glassgrad(epochs) if library == "glassgrad" else run_torch(epochs, threads)
    print(json.dumps({"epoch_seconds": min(seconds[1:] or seconds), "peak_mb": peak_mb()}))


def measure(library: str, epochs: int, threads: int) -> dict:
    command = [sys.executable, __file__, "--worker", library, "--epochs", str(epochs), "--threads", str(threads)]
    environment = os.environ | {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                               "MKL_NUM_THREADS")}
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        sys.exit(f"{library} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def spread(values: list[float], scale: float = 1.0) -> str:
    """``median (min–max)``."""
    return f"{statistics.median(values) * scale:7.1f} ({min(values) * scale:.1f}–{max(values) * scale:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker", choices=["glassgrad", "torch"])
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.epochs, args.threads)
        return
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("bench/cnn.py compares against PyTorch: pip install torch==2.13.0")
    runs: dict[str, list[dict]] = {"glassgrad": [], "torch": []}
    for _ in range(args.rounds):
        for library, results in runs.items():
            results.append(measure(library, args.epochs, args.threads))
    print(f"digits CNN, {args.rounds} rounds × {args.epochs} epochs, {args.threads} thread(s); median (min–max)")
    print(f"{'library':10} {'epoch ms':>24} {'peak MB':>24}")
    for library, results in runs.items():
        print(f"{library:10} {spread([r['epoch_seconds'] for r in results], 1e3):>24} "
              f"{spread([r['peak_mb'] for r in results]):>24}")
    ours, theirs = ({key: statistics.median(r[key] for r in results) for key in ("epoch_seconds", "peak_mb")}
                    for results in runs.values())
    print(f"ratio glassgrad/PyTorch: time {ours['epoch_seconds'] / theirs['epoch_seconds']:.2f}, "
          f"peak memory {ours['peak_mb'] / theirs['peak_mb']:.2f}")


if __name__ == "__main__":
    main()
