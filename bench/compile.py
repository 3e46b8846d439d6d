"""Compiled steps (``gg.compile``) against eager glassgrad and PyTorch (CPU), measured in the same run.

    python bench/compile.py               # 5 alternating rounds
    python bench/compile.py --rounds 9

The workloads are bench/engine.py's (the tiny 4→3→4 step, the 1,000-op chain, the
784→256→256→10 step at batch 128), each run three ways, every way in its own process:
eager glassgrad, the same step through ``gg.compile``, and PyTorch. The processes alternate
round by round; each reports its best of a few timings (the one least disturbed), and the
table gives, across rounds, the median and the spread (min–max) of every figure and of the
ratios to PyTorch. Targets (issue 15): compiled tiny ≤ 0.11×, chain ≤ 0.25×, MLP ≤ 0.85×.
Before timing, each compiled step is checked to replay (not to run eagerly after a refusal).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import engine  # noqa: E402 (bench/engine.py: the workloads)

TARGETS = {"tiny 4→3→4 step": 0.11, "1,000-op chain (per op)": 0.25, "MLP 784→256→256→10 step": 0.85}
WAYS = ("eager", "compiled", "torch")


def best_time(function, number: int, repeats: int = 5) -> float:
    """Seconds per call, best of ``repeats`` timings, with the garbage collector on (as users run)."""
    for _ in range(3):
        function()  # warm up (a compiled step captures on its first two calls)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def worker(way: str) -> None:
    import glassgrad as gg

    lib = __import__("torch") if way == "torch" else gg
    data = engine.workload_data()
    times = {}
    for name, (build, number, per) in engine.WORKLOADS.items():
        step = build(lib, data)
        if way == "compiled":
            step = gg.compile(step, fullgraph=True)
            for _ in range(3):
                step()
            if not any(entry.program is not None for entry in step.entries.values()):
                sys.exit(f"{name}: the compiled step does not replay")
        times[name] = best_time(step, number) / per
    print(json.dumps(times))


def measure(way: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--worker", way], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{way} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def spread(values: list[float], scale: float = 1.0) -> str:
    return (f"{statistics.median(values) * scale:9.2f} ({min(values) * scale:.2f}–{max(values) * scale:.2f})")


def main() -> None:
    if "--worker" in sys.argv:
        worker(sys.argv[sys.argv.index("--worker") + 1])
        return
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("bench/compile.py compares against PyTorch: pip install torch==2.13.0")
    runs: dict[str, list[dict]] = {way: [] for way in WAYS}
    for _ in range(rounds):
        for way in WAYS:
            runs[way].append(measure(way))
    print(f"{rounds} alternating rounds; median (min–max) µs per step (per op for the chain); ratios per round")
    print(f"{'workload':26} {'eager':>24} {'compiled':>24} {'PyTorch':>24} {'compiled/PyTorch':>26} "
          f"{'compiled/eager':>24} target")
    for name in engine.WORKLOADS:
        figures = {way: [run[name] for run in runs[way]] for way in WAYS}
        to_torch = [c / t for c, t in zip(figures["compiled"], figures["torch"])]
        to_eager = [c / e for c, e in zip(figures["compiled"], figures["eager"])]
        mark = "ok" if statistics.median(to_torch) <= TARGETS[name] else "MISSED"
        print(f"{name:26} {spread(figures['eager'], 1e6):>24} {spread(figures['compiled'], 1e6):>24} "
              f"{spread(figures['torch'], 1e6):>24} {spread(to_torch):>26} {spread(to_eager):>24} "
              f"{TARGETS[name]:.2f} {mark}")


if __name__ == "__main__":
    main()
