"""Adam at width: one ``optimizer.step()`` on the parameters of a 2048×2048 ``Linear`` (4.2 M numbers).

    python bench/optim.py               # 5 alternating rounds: medians, spread (min–max), ratio to PyTorch
    python bench/optim.py --rounds 9 --width 1024
    python bench/optim.py --mlp 64,256,10          # the parameters of bench/train.py's digits MLP
    python bench/optim.py --mlp 784,256,256,10     # and of its 60,000-sample MLP

The step is memory-bound: every pass of the rule reads and writes arrays of 16 MB (float32).
Both libraries get the same weights and the same fixed gradients (float32); the time is the
best of 9 timings of 5 steps each in one process, with the garbage collector on; each library
runs in its own process, alternating. Target (issue 15): glassgrad's step ≤ 1.0× PyTorch's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import timeit
from importlib.util import find_spec

import numpy as np

TARGET = 1.0
LIBRARIES = ("glassgrad", "PyTorch")


def arrays(sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(value, gradient) of each weight and bias, as the ``Linear`` layers of an MLP ``sizes`` have them."""
    rng = np.random.default_rng(0)
    pairs = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        for shape in ((fan_out, fan_in), (fan_out,)):
            pairs.append((rng.uniform(-bound, bound, shape).astype(np.float32),
                          rng.standard_normal(shape, dtype=np.float32)))
    return pairs


def adam_step(library: str, sizes: list[int]):
    if library == "glassgrad":
        import glassgrad as lib
    else:
        import torch as lib
    params = []
    for value, grad in arrays(sizes):
        param = lib.tensor(value, requires_grad=True)
        param.grad = lib.tensor(grad)
        params.append(param)
    return lib.optim.Adam(params, lr=1e-3).step


def worker(library: str, sizes: list[int]) -> None:
    step = adam_step(library, sizes)
    step()  # the first step makes the state
    seconds = min(timeit.timeit(step, setup="import gc; gc.enable()", number=5) for _ in range(9)) / 5
    print(json.dumps(seconds))


def measure(library: str, sizes: list[int]) -> float:
    command = [sys.executable, __file__, "--worker", library, "--mlp", ",".join(map(str, sizes))]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{library} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of each library (default 5)")
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--mlp", help="an MLP's layer sizes (e.g. 64,256,10): step on its parameters instead")
    parser.add_argument("--worker", choices=LIBRARIES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(size) for size in args.mlp.split(",")] if args.mlp else [args.width, args.width]
    if args.worker:
        worker(args.worker, sizes)
        return
    if find_spec("torch") is None:
        sys.exit("bench/optim.py compares against PyTorch: pip install torch==2.13.0")
    times: dict[str, list[float]] = {library: [] for library in LIBRARIES}
    for _ in range(args.rounds):
        for library in LIBRARIES:
            times[library].append(measure(library, sizes))
    what = f"the MLP {'→'.join(map(str, sizes))}" if args.mlp else f"Linear({args.width}, {args.width})"
    print(f"Adam step, {what}: medians of {args.rounds} rounds (min–max)")
    theirs = statistics.median(times["PyTorch"])
    for library in LIBRARIES:
        values = times[library]
        ratio = statistics.median(values) / theirs
        verdict = ("ok" if ratio <= TARGET else "MISSED") if library == "glassgrad" else ""
        print(f"  {library:10} {statistics.median(values) * 1e3:8.3f} ms ({min(values) * 1e3:.3f}–"
              f"{max(values) * 1e3:.3f}) {ratio:6.2f}× {verdict}")
    print(f"target: glassgrad ≤ {TARGET}× PyTorch")


if __name__ == "__main__":
    main()
