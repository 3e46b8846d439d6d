"""An LSTM's backward pass against the sequence length: does it grow linearly? glassgrad, and PyTorch (CPU) beside it.

    python bench/recurrent.py                      # L = 50, 100, 200, 400; 5 alternating rounds
    python bench/recurrent.py --lengths 25 50 100 --rounds 9

An ``LSTM(16, 64)`` reads a batch of 32 sequences of length L; the time is that of ``loss.backward()``
alone (the forward runs untimed before it), the median of 5 backward passes in a round. A round runs each
library once, alternating, each in a fresh process (``--worker``) with one BLAS thread. Reported: the
median over the rounds with the spread (min–max), and the growth from each length to the next (a backward
linear in L doubles when L doubles; before ``unbind`` cut the steps apart with one gradient buffer,
glassgrad's grew about 3× per doubling, with the square of L).
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

BATCH, FEATURES, HIDDEN = 32, 16, 64


def inputs(length: int) -> np.ndarray:
    return np.sin(np.arange(length * BATCH * FEATURES, dtype=np.float32)).reshape(length, BATCH, FEATURES)


def backward_times(library: str, lengths: list[int]) -> dict[int, float]:
    """The median seconds of 5 backward passes at each length."""
    if library == "glassgrad":
        import glassgrad as lib

        layer = lib.nn.LSTM(FEATURES, HIDDEN, seed=0)
    else:
        import torch as lib

        lib.set_num_threads(1)
        layer = lib.nn.LSTM(FEATURES, HIDDEN)
    found = {}
    for length in lengths:
        x = lib.tensor(inputs(length))
        times = []
        for _ in range(5):
            loss = layer(x)[0].sum()
            start = time.perf_counter()
            loss.backward()
            times.append(time.perf_counter() - start)
        found[length] = statistics.median(times)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 100, 200, 400])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", choices=["glassgrad", "torch"])
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(backward_times(args.worker, args.lengths)))
        return
    environment = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    results: dict[str, list[dict]] = {"glassgrad": [], "torch": []}
    for _ in range(args.rounds):
        for library in results:
            done = subprocess.run([sys.executable, __file__, "--worker", library, "--lengths",
                                   *map(str, args.lengths)], capture_output=True, text=True, env=environment)
            if done.returncode:
                sys.exit(f"recurrent.py: the {library} worker failed: {done.stderr.strip().splitlines()[-1]}")
            results[library].append({int(k): v for k, v in json.loads(done.stdout).items()})
    print(f"LSTM({FEATURES}, {HIDDEN}), batch {BATCH}: backward ms, median (min–max) of {args.rounds} rounds")
    for library, rounds in results.items():
        medians = []
        cells = []
        for length in args.lengths:
            times = [r[length] * 1e3 for r in rounds]
            medians.append(statistics.median(times))
            cells.append(f"L={length}: {medians[-1]:.1f} ({min(times):.1f}–{max(times):.1f})")
        growth = " ".join(f"{b / a:.2f}×" for a, b in zip(medians, medians[1:]))
        print(f"{library:>10}  " + "  ".join(cells) + f"   growth per step: {growth}")


if __name__ == "__main__":
    main()
