"""The Code view's endpoints: starter programs, Run, the run's output, Stop.

================================  ===========================================================
``GET  /api/code/starters``        the starter programs, the notice, the limits
``POST /api/code/run``             ``{code}`` → ``{run}``: the program starts in its own process
``GET  /api/code/runs/{id}``       ``?since=N`` → output events from N on, state, message, result
``POST /api/code/runs/{id}/stop``  kill the run's process group → ``{state}``
================================  ===========================================================

Only requests that pass :class:`.safety.CodeGuard` (the token, the page's own origin, JSON) reach
these handlers; the runs themselves are :mod:`.code_runner`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .code_runner import MAX_CODE_CHARACTERS, runner_of
from .safety import ApiError, Fields

STARTERS_FOLDER = Path(__file__).parent / "starters"
STARTERS = {
    "diagonal-flip": "The diagonal flip, traced (4→3→4, ReLU, MSE)",
    "two-d-classifier": "A 2-D classifier trained on moons",
    "custom-function": "Your own autograd.Function, traced",
}
NOTICE = ("Code runs on this computer, in a separate Python process, with your user's rights (as a Jupyter "
          "kernel does): run only code you understand. import torch gives glassgrad here. Leave a glassgrad trace "
          "tape named tape, or a model named model (with a sample x, y), to open it in the step-through, Train and "
          "graph views.")
MAX_SINCE = 10**9


def starters(state: Any, fields: Fields) -> dict:
    fields.finish()
    runner = runner_of(state)
    return {"starters": [{"name": name, "title": title,
                          "code": (STARTERS_FOLDER / f"{name}.py").read_text(encoding="utf-8")}
                         for name, title in STARTERS.items()],
            "notice": NOTICE, "time_limit_s": runner.time_limit, "memory_limit_mb": runner.memory_mb}


def run_code(state: Any, fields: Fields) -> dict:
    code = fields.text("code", "", MAX_CODE_CHARACTERS)
    fields.finish()
    if not code.strip():
        raise ApiError(422, "code is empty: type a program, or pick a starter")
    return {"run": runner_of(state).start(code)}


def run_view(state: Any, fields: Fields, run_id: str) -> dict:
    since = fields.integer("since", 0, 0, MAX_SINCE)
    fields.finish()
    return runner_of(state).get(run_id).view(since)


def stop_run(state: Any, fields: Fields, run_id: str) -> dict:
    fields.finish()
    return {"state": runner_of(state).stop(run_id)}
