"""The Code view's runs: a learner's program in its own Python process, with limits, output and Stop.

Like a Jupyter kernel, the program runs on this computer with the user's rights; only requests that
pass :class:`.safety.CodeGuard` get here. Each run is

* a separate process (``sys.executable -m glassgrad.playground.code_child``, never a shell) in a new
  process group (``start_new_session``), working in a fresh temporary folder, with one BLAS thread;
* limited in time by the server: after ``time_limit`` seconds of the program's own run its whole group
  gets ``SIGKILL`` (state ``"timed out"``), as it does on Stop (``"stopped"``). The clock starts when the
  child says the program starts (one byte on a pipe of its own, :func:`.code_child.main`), so starting
  Python and importing glassgrad, seconds on a loaded machine, takes none of the learner's time; a child
  that has not started after :data:`START_SECONDS` is timed from then on;
* limited in memory by the child itself (``RLIMIT_AS``, :func:`.code_child.limit_memory`): an
  allocation past ``memory_mb`` raises ``MemoryError`` in the program (``"out of memory"``), and a
  file written past ``memory_mb`` fails with ``OSError: File too large`` (``RLIMIT_FSIZE``);
* watched by three threads: two read stdout and stderr into one ordered list of events (at most
  :data:`MAX_OUTPUT_BYTES` of text, then one "output cut" line while the rest is drained), and one
  waits for the process, enforces the time limit and reads the outcome. A request only ever reads
  what they collected, so the server answers at once however the program behaves.

At most :data:`MAX_RUNNING` runs go at once (429 beyond); a finished run is kept (its output, and
the results :mod:`.code_results` reads from its folder) until :data:`KEEP_FINISHED` newer runs
have finished or it is :data:`KEEP_SECONDS` old; then its folder is removed.
"""

from __future__ import annotations

import codecs
import json
import os
import secrets
import select
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from . import code_child
from .safety import ApiError

MAX_RUNNING = 2
KEEP_FINISHED = 8
KEEP_SECONDS = 3600.0
MAX_OUTPUT_BYTES = 1_000_000
MAX_CODE_CHARACTERS = 50_000
READ_BYTES = 65536
STOP_WAIT_SECONDS = 5.0
START_SECONDS = 60.0
UNSUPPORTED = None if os.name == "posix" else (
    "the Code view is off: it needs Linux or macOS, where a program's process group can be limited and stopped")
CHILD_ENVIRONMENT = {"PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1",
                     "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def spawn(folder: Path, memory_mb: int) -> tuple[subprocess.Popen, int]:
    """Start the harness on ``folder``'s program: a new process group, pipes for its output, no shell; and the
    reading end of the pipe on which it says that the program starts (closed unread when it ends before)."""
    env = {**os.environ, **CHILD_ENVIRONMENT}
    package_root = str(Path(__file__).resolve().parents[2])
    if package_root not in (*site.getsitepackages(), site.getusersitepackages()):  # a checkout: the child imports
        path = env.get("PYTHONPATH")  # the same glassgrad as the server, whatever its working folder
        env["PYTHONPATH"] = package_root + (os.pathsep + path if path else "")
    started, says_started = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "glassgrad.playground.code_child", str(folder), str(memory_mb), str(says_started)],
            cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, close_fds=True, pass_fds=(says_started,))
    except BaseException:  # any failure to start: neither end of the pipe is left open
        os.close(started)
        raise
    finally:
        os.close(says_started)  # the child's copy is the only writer: its exit ends the pipe
    return process, started


class CodeRun:
    """One program's process, its output so far, and how it ended."""

    def __init__(self, run_id: str, folder: Path, process: subprocess.Popen, started: int) -> None:
        self.id, self.folder, self.process = run_id, folder, process
        self.started_pipe = started  # readable once the program starts or the child ends (see spawn)
        self.lock = threading.Lock()
        self.events: list[dict] = []
        self.output_bytes = 0
        self.state = "running"
        self.message: str | None = None
        self.line: int | None = None
        self.outcome: dict = {}
        self.result: dict | None = None
        self.left: Any = None  # what the program left, read by code_results.load_result
        self.stop_requested = False
        self.started = time.monotonic()
        self.finished_at: float | None = None
        self.done = threading.Event()
        self.last_read = time.monotonic()  # when a reader last got bytes: a pipe still giving output is drained

    def add_output(self, stream: str, text: str) -> None:
        """Keep ``text`` as the next event, unless the output has passed :data:`MAX_OUTPUT_BYTES` (one note then)."""
        with self.lock:
            room = MAX_OUTPUT_BYTES - self.output_bytes
            if room < 0:  # cut already
                return
            encoded = text.encode("utf-8")
            self.output_bytes += len(encoded)
            if len(encoded) <= room:
                self.events.append({"stream": stream, "text": text})
                return
            if room:
                self.events.append({"stream": stream, "text": encoded[:room].decode("utf-8", errors="ignore")})
            cut = f"\n[output cut after {MAX_OUTPUT_BYTES // 1_000_000} MB: the rest is not shown]\n"
            self.events.append({"stream": "stderr", "text": cut})
            self.output_bytes = MAX_OUTPUT_BYTES + 1

    def kill(self) -> None:
        """``SIGKILL`` to the run's whole process group (the program and anything it started)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # already gone
            pass

    def view(self, since: int) -> dict:
        with self.lock:
            since = min(since, len(self.events))
            return {"events": self.events[since:], "next": len(self.events), "state": self.state,
                    "message": self.message, "line": self.line, "result": self.result}


def _read(run: CodeRun, pipe: IO[bytes], stream: str) -> None:
    """Move ``pipe``'s bytes into the run's events as text (UTF-8; a character split across reads kept whole)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with pipe:
        while chunk := os.read(pipe.fileno(), READ_BYTES):
            run.last_read = time.monotonic()
            text = decoder.decode(chunk)
            if text:
                run.add_output(stream, text)
        if rest := decoder.decode(b"", final=True):
            run.add_output(stream, rest)


class CodeRunner:
    """The runs of one server: start, watch, stop, and forget them.

    ``finish(run)`` (given by the app) reads a normally ended run's results from its folder into
    ``run.result``; it runs in the run's watcher thread, before the run's state says it has ended.
    """

    def __init__(self, time_limit: float, memory_mb: int, finish: Callable[[CodeRun], dict | None] | None = None,
                 max_running: int = MAX_RUNNING, keep_finished: int = KEEP_FINISHED,
                 keep_seconds: float = KEEP_SECONDS) -> None:
        self.time_limit, self.memory_mb, self.finish = time_limit, memory_mb, finish
        self.max_running, self.keep_finished, self.keep_seconds = max_running, keep_finished, keep_seconds
        self.runs: dict[str, CodeRun] = {}
        self.lock = threading.Lock()

    def start(self, code: str) -> str:
        """Start ``code`` in a new process; its id. 429 when :data:`MAX_RUNNING` runs are going."""
        with self.lock:
            self._forget_old(time.monotonic())
            running = sum(run.state == "running" for run in self.runs.values())
            if running >= self.max_running:
                raise ApiError(429, f"{running} programs are already running (the limit is {self.max_running}): "
                                    "press Stop on one, or wait for it to end")
            run_id = secrets.token_hex(8)
            folder = None
            try:
                folder = Path(tempfile.mkdtemp(prefix=f"glassgrad-run-{run_id}-"))
                (folder / code_child.PROGRAM).write_text(code, encoding="utf-8")
                process, started = spawn(folder, self.memory_mb)
            except OSError as error:  # no room in the temporary folder, or no more processes allowed
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
                raise ApiError(503, f"cannot start the program ({error.strerror or error}): free some disk space or "
                                    "close other programs, then press Run again") from None
            run = CodeRun(run_id, folder, process, started)
            self.runs[run_id] = run
        readers = [threading.Thread(target=_read, args=(run, pipe, name), daemon=True)
                   for pipe, name in ((process.stdout, "stdout"), (process.stderr, "stderr"))]
        for reader in readers:
            reader.start()
        threading.Thread(target=self._watch, args=(run, readers), daemon=True).start()
        return run_id

    def get(self, run_id: str) -> CodeRun:
        with self.lock:
            run = self.runs.get(run_id)
        if run is None:
            raise ApiError(404, f"no run {run_id!r}: it was forgotten (only the last {self.keep_finished} runs are "
                                "kept) or the server was restarted; press Run again")
        return run

    def stop(self, run_id: str) -> str:
        """Kill the run's process group (nothing happens to a run that has ended); its state once settled."""
        run = self.get(run_id)
        with run.lock:
            if run.state == "running":
                run.stop_requested = True
        if run.stop_requested:
            run.kill()
            run.done.wait(STOP_WAIT_SECONDS)
        return run.state

    def _watch(self, run: CodeRun, readers: list[threading.Thread]) -> None:
        """Wait for the process (killing it at the time limit), then its output, then settle its state."""
        timed_out = False
        try:  # poll, not select: select refuses a descriptor past 1023, which a busy server hands out
            says = select.poll()
            says.register(run.started_pipe, select.POLLIN)
            says.poll(START_SECONDS * 1000)  # the time limit is the program's own
        finally:
            os.close(run.started_pipe)
        try:
            run.process.wait(timeout=self.time_limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            run.kill()
            run.process.wait()
        run.kill()  # anything the program started and left behind goes with it (and lets its pipes close)
        # Drain the pipes for as long as output still comes (a loaded machine reads slowly); a process
        # that escaped the group may hold a pipe open without writing: never wait for that one for ever.
        for reader in readers:
            while reader.is_alive() and time.monotonic() - run.last_read < STOP_WAIT_SECONDS:
                reader.join(0.1)
        try:
            state, message, line, result = self._ending(run, timed_out)
        except Exception as error:  # never a run that stays "running": say what went wrong
            state, message, line, result = "error", (f"internal error reading the run's results "
                                                     f"({type(error).__name__}: {error}); please report it"), None, None
        with run.lock:
            run.state, run.message, run.line, run.result = state, message, line, result
            run.finished_at = time.monotonic()
        run.done.set()

    def _ending(self, run: CodeRun, timed_out: bool) -> tuple[str, str, int | None, dict | None]:
        """``(state, message, line, result)`` of a run whose process has ended."""
        seconds = time.monotonic() - run.started
        if run.stop_requested:
            return "stopped", f"stopped after {seconds:.1f} s (you pressed Stop)", None, None
        if timed_out:
            return ("timed out", f"stopped at the time limit of {self.time_limit:g} s; to allow longer runs, start "
                                 f"glassgrad serve --code-time-limit {max(2 * self.time_limit, 60):g}", None, None)
        try:
            run.outcome = json.loads((run.folder / code_child.OUTCOME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            code = run.process.returncode
            if code == -signal.SIGKILL:  # not ours: the system killed it, almost always for lack of memory
                return "out of memory", self._memory_message(None, "the system stopped the program"), None, None
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            return "error", f"the program's process ended abruptly ({how}) before it could report", None, None
        state, line, error = run.outcome["state"], run.outcome.get("line"), run.outcome.get("error")
        where = f"line {line}: " if line is not None else ""
        if state == "out of memory":
            return state, self._memory_message(line, error), line, None
        if state == "error":
            return state, f"{where}{error}", line, None
        result = None
        if self.finish is not None:
            result = self.finish(run)
        return "finished", f"finished in {seconds:.1f} s", None, result

    def _memory_message(self, line: int | None, error: str | None) -> str:
        where = f"line {line}: " if line is not None else ""
        return (f"{where}out of memory: the program needed more than the memory limit of {self.memory_mb} MB "
                f"({error}); to allow more, start glassgrad serve --code-memory-mb {2 * self.memory_mb}")

    def _forget_old(self, now: float) -> None:
        """Forget finished runs beyond the newest :data:`KEEP_FINISHED`, and those older than the time kept."""
        ended = sorted((run for run in self.runs.values() if run.finished_at is not None),
                       key=lambda run: run.finished_at)
        stale = ended[:max(len(ended) - self.keep_finished, 0)]
        stale += [run for run in ended if now - run.finished_at > self.keep_seconds and run not in stale]
        for run in stale:
            self._forget(run)

    def _forget(self, run: CodeRun) -> None:
        del self.runs[run.id]
        shutil.rmtree(run.folder, ignore_errors=True)

    def close(self) -> None:
        """Kill every run still going and remove every run's folder (the server is stopping)."""
        with self.lock:
            runs = list(self.runs.values())
        for run in runs:
            if run.state == "running":
                run.stop_requested = True
                run.kill()
        for run in runs:
            run.done.wait(STOP_WAIT_SECONDS)
        with self.lock:
            for run in list(self.runs.values()):
                self._forget(run)

    @property
    def running(self) -> int:
        with self.lock:
            return sum(run.state == "running" for run in self.runs.values())


def runner_of(state: Any) -> CodeRunner:
    """The app's runner; 403 saying why when the Code view is off (:class:`.safety.CodeGuard` refuses first)."""
    if state.code_runner is None:
        raise ApiError(403, state.code_off)
    return state.code_runner
