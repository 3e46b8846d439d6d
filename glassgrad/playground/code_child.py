"""The process a Code view run happens in: ``python -m glassgrad.playground.code_child FOLDER MEMORY_MB FD``.

The server (:mod:`.code_runner`) makes ``FOLDER`` (this process's working folder), writes the
learner's program there as :data:`PROGRAM` and starts this harness in a new process group. The
harness

1. caps its own address space at ``MEMORY_MB`` (``resource.setrlimit(RLIMIT_AS)``) before any of
   the learner's code runs: an allocation past it raises ``MemoryError`` instead of taking the machine;
   and caps any one file it writes at the same size (``RLIMIT_FSIZE``): a write past it raises
   ``OSError: File too large`` instead of filling the disk with one endless file;
2. writes one byte to the pipe ``FD`` and closes it (the server's clock for the time limit starts), then
   runs the program as ``__main__``, printing as it goes (the server reads stdout and stderr), with
   PyTorch's names for glassgrad (``import torch`` is glassgrad: :mod:`glassgrad.torch_names`);
   an exception's traceback shows only the program's frames and what they called, never this file;
3. when the program ends normally, saves what it left for the page (:func:`save_results`):
   ``tape`` (a ``gg.trace()`` tape) as its step document (``document.json``) and the trace's HTML
   as Jupyter shows it (``trace.html``); ``model`` (an ``nn.Module``) as safetensors with its
   architecture (``model.safetensors``); a sample ``x``, ``y`` (``sample.json``);
4. writes :data:`OUTCOME`: ``{"state": "finished" | "error" | "out of memory", "line", "error",
   "notes"}``. The server words the messages; a process that ends without this file was killed.
"""

from __future__ import annotations

import builtins
import json
import linecache
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

PROGRAM = "program.py"
OUTCOME = "outcome.json"
DOCUMENT = "document.json"
TRACE_HTML = "trace.html"
MODEL = "model.safetensors"
SAMPLE = "sample.json"


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space: past it, an allocation fails with ``MemoryError``."""
    import resource  # POSIX only: the Code view is off elsewhere (code_runner.UNSUPPORTED)

    size = megabytes * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def limit_file_size(megabytes: int) -> None:
    """Cap the size of any one file this process writes: past it, the write fails with ``OSError`` (EFBIG).

    The kernel's default answer to a write past the cap is the signal ``SIGXFSZ``, which would kill the
    run without a word; ignored, the write fails and the program's error says "File too large".
    """
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = megabytes * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def run_program(source: str, starting: Callable[[], None] = lambda: None) -> tuple[dict, dict[str, Any]]:
    """Run ``source`` as ``__main__``: its outcome (without notes) and the globals it left; ``starting()`` is
    called just before its first line runs."""
    lines = source.splitlines(keepends=True)
    linecache.cache[PROGRAM] = (len(source), None, lines, PROGRAM)  # tracebacks quote the program's lines
    try:
        code = compile(source, PROGRAM, "exec")
    except (SyntaxError, ValueError) as error:  # ValueError: a NUL byte in the source
        traceback.print_exception(type(error), error, None)
        line = getattr(error, "lineno", None)
        return {"state": "error", "line": line, "error": _one_line(error)}, {}
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": PROGRAM, "__builtins__": builtins}
    from glassgrad import torch_names

    torch_names.install()  # code written for PyTorch runs on glassgrad, and leaves glassgrad's tape and model
    starting()
    try:
        exec(code, namespace)
    except SystemExit as exit_request:
        if exit_request.code in (None, 0):
            return {"state": "finished", "line": None, "error": None}, namespace
        learner = _program_frames(exit_request.__traceback__)
        return {"state": "error", "line": _last_line(learner), "error": f"SystemExit: {exit_request.code}"}, namespace
    except BaseException as error:  # the learner's error (KeyboardInterrupt included): reported, never raised
        learner = _program_frames(error.__traceback__)
        traceback.print_exception(type(error), error, learner)
        if isinstance(error, MemoryError):  # numpy's says how much it asked for
            return {"state": "out of memory", "line": _last_line(learner),
                    "error": str(error) or "an allocation failed"}, namespace
        return {"state": "error", "line": _last_line(learner), "error": _one_line(error)}, namespace
    return {"state": "finished", "line": None, "error": None}, namespace


def _program_frames(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the program's first frame on (this harness's frames dropped)."""
    while tb is not None and tb.tb_frame.f_code.co_filename != PROGRAM:
        tb = tb.tb_next
    return tb


def _last_line(tb: TracebackType | None) -> int | None:
    """The line of the program that was running when the error came (its innermost frame)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == PROGRAM:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _one_line(error: BaseException) -> str:
    """``ZeroDivisionError: division by zero``: the error's last line, as Python prints it."""
    if isinstance(error, SyntaxError):
        return f"{type(error).__name__}: {error.msg}"
    text = traceback.format_exception_only(type(error), error)[-1].strip()
    return " ".join(text.split())


def save_results(namespace: dict[str, Any], folder: Path) -> list[str]:
    """Save the ``tape``, ``model`` and ``x``/``y`` the program left; notes (one line each) on what could not be."""
    import numpy as np

    import glassgrad as gg
    from glassgrad.trace.render_html import html_fragment
    from glassgrad.trace.render_json import render_json
    from glassgrad.trace.tape import Tape

    from .bridge import save_model

    notes = []
    tape, model = namespace.get("tape"), namespace.get("model")
    if isinstance(tape, Tape):
        try:
            document = tape.describe(title="your program's trace")
            (folder / DOCUMENT).write_text(render_json(document), encoding="utf-8")
            (folder / TRACE_HTML).write_text(html_fragment(document), encoding="utf-8")
        except Exception as error:
            notes.append(f"tape: its trace cannot be shown ({_one_line(error)})")
    elif tape is not None:
        notes.append(f"tape is a {type(tape).__name__}, not a glassgrad tape: make it with `with gg.trace() as tape:`")
    if isinstance(model, gg.nn.Module):
        try:
            save_model(model, folder / MODEL, {"made_by": "glassgrad playground Code view"})
        except Exception as error:
            notes.append(f"model: it cannot be saved for the other views ({_one_line(error)})")
    elif model is not None:
        notes.append(f"model is a {type(model).__name__}, not an nn.Module")
    sample = {}
    for name in ("x", "y"):
        value = namespace.get(name)
        value = value.array if isinstance(value, gg.Tensor) else value
        if isinstance(value, (np.ndarray, list, tuple, int, float)):
            array = np.asarray(value)
            if array.dtype.kind in "biuf" and array.size and np.isfinite(array).all():
                sample[name] = {"values": array.tolist(), "integer": array.dtype.kind in "biu"}
    if sample:
        (folder / SAMPLE).write_text(json.dumps(sample), encoding="utf-8")
    return notes


def main(argv: list[str]) -> int:
    folder, megabytes, says_started = Path(argv[0]), int(argv[1]), int(argv[2])
    limit_memory(megabytes)
    limit_file_size(megabytes)
    source = (folder / PROGRAM).read_text(encoding="utf-8")

    def starting() -> None:
        os.write(says_started, b"1")
        os.close(says_started)  # the program cannot write to the server's clock

    outcome, namespace = run_program(source, starting)
    outcome["notes"] = []
    if outcome["state"] == "finished":
        try:
            outcome["notes"] = save_results(namespace, folder)
        except MemoryError:
            outcome["notes"] = ["the results did not fit in the memory limit, so only the output is shown"]
    sys.stdout.flush()
    sys.stderr.flush()
    (folder / OUTCOME).write_text(json.dumps(outcome), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1:]))  # at once: threads or atexit hooks the program left cannot hold the run
