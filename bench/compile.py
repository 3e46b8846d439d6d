"""Compiled steps (``gg.compile``) against eager glassgrad and PyTorch (CPU), measured in the same run.

    python bench/compile.py               # 5 alternating rounds, wall-clock time
    python bench/compile.py --rounds 9
    python bench/compile.py --cpu         # the process's CPU time instead (less disturbed by other work)

The workloads are bench/engine.py's (the tiny 4→3→4 step, the 1,000-op chain, the
784→256→256→10 step at batch 128), each run four ways, every way in its own process:
eager glassgrad, the same step through ``gg.compile``, its forward alone through ``gg.compile`` (the loss,
``backward()`` and update eager: PyTorch 2's ``model = torch.compile(model)``), and PyTorch. The processes alternate
round by round; each reports its best of a few timings (the one least disturbed), and the
table gives, across rounds, the median and the spread (min–max) of every figure and of the
ratios to PyTorch. Targets (issue 15): compiled tiny ≤ 0.11×, chain ≤ 0.25×, MLP ≤ 0.85×.
Before timing, each compiled step is checked to replay (not to run eagerly after a refusal).
``--cpu`` times with the process's CPU time, which leaves out the time the process waited for a
core on a busy machine (it counts every thread: PyTorch's pool included).
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
WAYS = {"eager": "glassgrad", "compiled": "glassgrad compiled", "forward": "glassgrad compiled forward",
        "torch": "PyTorch"}
"""Each way and bench/engine.py's column that builds its workloads."""


def best_time(function, number: int, clock, repeats: int = 5) -> float:
    """Seconds per call, best of ``repeats`` timings, with the garbage collector on (as users run)."""
    for _ in range(3):
        function()  # warm up (a compiled step captures on its first two calls)
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            function()
        best = min(best, (clock() - start) / number)
    return best


def steps(way: str) -> dict:
    """Each workload's step for ``way``, warmed up; a compiled one checked to replay (not to run eagerly after a
    refusal)."""
    functions = engine.workloads(WAYS[way], engine.workload_data())
    for name, step in functions.items():
        for _ in range(3):
            step()  # a compiled step or forward captures on its first two calls
        if way in ("compiled", "forward"):
            compiled = step if way == "compiled" else step.forward
            if not any(entry.program is not None for entry in compiled.entries.values()):
                sys.exit(f"{name}: the {WAYS[way]} does not replay")
    return functions


def worker(way: str, clock) -> None:
    times = {name: best_time(step, engine.CALLS[name][0], clock) / engine.CALLS[name][1]
             for name, step in steps(way).items()}
    print(json.dumps(times))


def measure(way: str, cpu: bool) -> dict:
    command = [sys.executable, __file__, "--worker", way, *(["--cpu"] if cpu else [])]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{way} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def spread(values: list[float], scale: float = 1.0) -> str:
    return (f"{statistics.median(values) * scale:9.2f} ({min(values) * scale:.2f}–{max(values) * scale:.2f})")


def main() -> None:
    cpu = "--cpu" in sys.argv
    if "--worker" in sys.argv:
        worker(sys.argv[sys.argv.index("--worker") + 1], time.process_time if cpu else time.perf_counter)
        return
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("bench/compile.py compares against PyTorch: pip install torch==2.13.0")
    runs: dict[str, list[dict]] = {way: [] for way in WAYS}
    for _ in range(rounds):
        for way in WAYS:
            runs[way].append(measure(way, cpu))
    print(f"{rounds} alternating rounds, {'CPU' if cpu else 'wall-clock'} time; median (min–max) µs per step "
          "(per op for the chain); ratios per round")
    for name in engine.TARGETS:
        figures = {way: [run[name] for run in runs[way]] for way in WAYS}
        print(f"\n{name}  (compiled target ≤ {TARGETS[name]}× PyTorch)")
        print(f"  {'':28} {'µs (per op for the chain)':>26} {'/ PyTorch':>22} {'/ eager':>22}")
        for way, column in WAYS.items():
            to_torch = [c / t for c, t in zip(figures[way], figures["torch"])]
            to_eager = [c / e for c, e in zip(figures[way], figures["eager"])]
            mark = ("ok" if statistics.median(to_torch) <= TARGETS[name] else "MISSED") if way == "compiled" else ""
            print(f"  {column:28} {spread(figures[way], 1e6):>26} {spread(to_torch):>22} {spread(to_eager):>22} "
                  f"{mark}")


if __name__ == "__main__":
    main()
