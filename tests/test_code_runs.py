"""Code view runs: a learner's program in its own process, its output in order, its errors with their line,
Stop, the time limit, the memory limit, and a server that keeps answering meanwhile.

Every program here is run for real (``python -m glassgrad.playground.code_child``); the oracles are
what the program itself prints or raises (written in the test), Python's own error messages, and
the operating system (the process is gone, the folder removed).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.playground import code_runner, create_app
from glassgrad.playground.code_results import SUMMARY_PRECISION
from glassgrad.playground.code_runner import MAX_OUTPUT_BYTES, CodeRun, CodeRunner
from glassgrad.playground.server import listen, make_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
testclient = pytest.importorskip("starlette.testclient")

LIVENESS_SECONDS = 60.0  # generous: a run that has not ended by then never will


class Code:
    """A test client with the launch's token, and helpers to run a program to its end."""

    def __init__(self, client, app) -> None:
        self.client, self.app = client, app
        self.headers = {"X-Glassgrad-Token": app.state.code_token}

    def start(self, code: str) -> str:
        response = self.client.post("/api/code/run", json={"code": code}, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()["run"]

    def poll(self, run_id: str, since: int = 0) -> dict:
        response = self.client.get(f"/api/code/runs/{run_id}?since={since}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def finish(self, run_id: str) -> tuple[dict, list[dict]]:
        """Poll as the page does until the run ends: its last answer and every event, gathered with ``since``."""
        events, since = [], 0
        deadline = time.monotonic() + LIVENESS_SECONDS
        while True:
            answer = self.poll(run_id, since)
            events += answer["events"]
            since = answer["next"]
            if answer["state"] != "running":
                return answer, events
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.05)

    def run(self, code: str) -> tuple[dict, list[dict]]:
        return self.finish(self.start(code))


@pytest.fixture
def code(tmp_path):
    app = create_app(output_dir=tmp_path / "out", code_time_limit=20, code_memory_mb=300)
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield Code(client, app)


def text_of(events, stream):
    return "".join(event["text"] for event in events if event["stream"] == stream)


def test_printed_output_arrives_in_order_and_the_run_finishes(code):
    program = "import sys\nfor i in range(300):\n    print('line', i)\nprint('done', file=sys.stderr)\n"
    answer, events = code.run(program)
    assert text_of(events, "stdout") == "".join(f"line {i}\n" for i in range(300))
    assert text_of(events, "stderr") == "done\n"
    assert answer["state"] == "finished" and answer["line"] is None and answer["message"].startswith("finished in")
    assert answer["result"] == {"tape": False, "model": False, "example": None, "trainable": False, "tape_html": None,
                                "summary": [], "precision": SUMMARY_PRECISION, "notes": []}


def test_since_returns_only_the_events_after_it(code):
    run_id = code.start("print('a')\nprint('b', flush=True)\n")
    answer, events = code.finish(run_id)
    everything = code.poll(run_id, 0)
    assert everything["events"] == events and everything["next"] == len(events)
    assert code.poll(run_id, len(events)) == {**everything, "events": []}
    assert code.poll(run_id, 10**6)["events"] == []  # past the end: nothing, not an error


def test_an_error_reports_the_programs_line_and_pythons_message(code):
    program = "\n".join(["def ratio(a, b):", "    return a / b", "", "", "", "", "x = ratio(1, 0)"]) + "\n"
    answer, events = code.run(program)
    assert answer["state"] == "error" and answer["line"] == 2
    assert answer["message"] == "line 2: ZeroDivisionError: division by zero"
    traceback = text_of(events, "stderr")
    assert 'File "program.py", line 7, in <module>' in traceback and 'File "program.py", line 2, in ratio' in traceback
    assert "code_child" not in traceback and "exec(" not in traceback  # only the learner's frames


def test_an_error_inside_glassgrad_names_the_line_of_the_program_that_called_it(code):
    program = "import glassgrad as gg\n\na = gg.ones(2, 3)\nb = a @ gg.ones(2, 3)\n"
    answer, events = code.run(program)
    assert answer["state"] == "error" and answer["line"] == 4 and answer["message"].startswith("line 4: ")
    assert "code_child" not in text_of(events, "stderr")


def test_a_syntax_error_reports_its_line(code):
    answer, events = code.run("x = 1\ny = 2\nif x == :\n    pass\n")
    assert answer["state"] == "error" and answer["line"] == 3
    assert answer["message"] == "line 3: SyntaxError: invalid syntax"
    assert "SyntaxError" in text_of(events, "stderr")


def test_a_program_can_end_itself(code):
    assert code.run("import sys\nprint('bye')\nsys.exit()\n")[0]["state"] == "finished"
    answer, _ = code.run("import sys\n\nsys.exit(3)\n")
    assert answer["state"] == "error" and answer["line"] == 3 and answer["message"] == "line 3: SystemExit: 3"


def test_stop_kills_an_infinite_loop_and_its_children(code):
    program = ("import subprocess, sys\n"
               "child = subprocess.Popen([sys.executable, '-c', 'while True: pass'])\n"
               "print(child.pid, flush=True)\n"
               "while True:\n    pass\n")
    run_id = code.start(program)
    deadline = time.monotonic() + LIVENESS_SECONDS
    while not (answer := code.poll(run_id))["events"]:
        assert time.monotonic() < deadline and answer["state"] == "running"
        time.sleep(0.05)
    child = int(answer["events"][0]["text"])
    response = code.client.post(f"/api/code/runs/{run_id}/stop", json={}, headers=code.headers)
    assert response.status_code == 200 and response.json() == {"state": "stopped"}
    answer, _ = code.finish(run_id)
    assert answer["state"] == "stopped" and "Stop" in answer["message"]
    assert code.app.state.code_runner.get(run_id).process.poll() is not None
    assert not process_alive(child), "the program's own child process survived Stop"
    again = code.client.post(f"/api/code/runs/{run_id}/stop", json={}, headers=code.headers)
    assert again.json() == {"state": "stopped"}  # idempotent


def process_alive(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[1].startswith("Z"):  # a zombie has ended
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    return True


def test_stop_leaves_a_finished_run_as_it_was(code):
    run_id = code.start("print('quick')\n")
    code.finish(run_id)
    response = code.client.post(f"/api/code/runs/{run_id}/stop", json={}, headers=code.headers)
    assert response.json() == {"state": "finished"}


def test_the_time_limit_stops_an_infinite_loop_with_a_message_naming_it(tmp_path):
    app = create_app(output_dir=tmp_path / "out", code_time_limit=2)
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as client:
        code = Code(client, app)
        answer, events = code.run("print('looping', flush=True)\nwhile True:\n    pass\n")
    assert answer["state"] == "timed out"
    assert "time limit of 2 s" in answer["message"] and "glassgrad serve --code-time-limit" in answer["message"]
    assert "\n" not in answer["message"] and text_of(events, "stdout") == "looping\n"


def test_a_program_past_the_memory_limit_ends_out_of_memory(code):
    """The limit is 300 MB; the program asks NumPy for 2 GB."""
    program = "import numpy as np\nprint('allocating', flush=True)\nbig = np.ones(2 * 2**30 // 8)\nprint('never')\n"
    answer, events = code.run(program)
    assert answer["state"] == "out of memory" and answer["line"] == 3
    message = answer["message"]
    assert "\n" not in message and message.startswith("line 3: out of memory")
    assert "300 MB" in message and "--code-memory-mb" in message
    assert text_of(events, "stdout") == "allocating\n"


def test_memory_grown_bit_by_bit_is_stopped_too(code):
    answer, _ = code.run("chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))\n")
    assert answer["state"] == "out of memory" and answer["line"] == 3


def test_a_file_written_past_the_limit_fails_with_file_too_large(code):
    """One endless file stops at the 300 MB limit with the program's own error, not a silent kill or a full disk."""
    program = ("chunk = b'x' * 2**20\nwritten = 0\nwith open('big.bin', 'wb', buffering=0) as f:\n    while True:\n"
               "        f.write(chunk)\n        written += 1\n        if written % 100 == 0:\n"
               "            print(written, flush=True)\n")
    answer, events = code.run(program)
    assert answer["state"] == "error" and answer["line"] == 5
    assert "File too large" in answer["message"] and "\n" not in answer["message"]
    assert text_of(events, "stdout") == "100\n200\n300\n"


def test_output_past_the_cap_is_cut_with_one_line_and_the_run_still_ends(code):
    program = "import sys\nline = 'x' * 999 + '\\n'\nfor _ in range(2000):\n    sys.stdout.write(line)\nprint('end')\n"
    answer, events = code.run(program)
    assert answer["state"] == "finished"
    printed = text_of(events, "stdout")
    assert MAX_OUTPUT_BYTES - 1000 < len(printed) <= MAX_OUTPUT_BYTES and set(printed) == {"x", "\n"}
    cut = [event["text"] for event in events if "output cut" in event["text"]]
    assert len(cut) == 1 and events[-1]["text"] == cut[0]


def test_text_split_across_reads_stays_whole(code):
    program = "import sys\nfor _ in range(20000):\n    sys.stdout.write('αβγ→')\n"
    assert text_of(code.run(program)[1], "stdout") == "αβγ→" * 20000


def test_at_most_two_runs_at_once(code):
    first, second = code.start("while True: pass"), code.start("while True: pass")
    response = code.client.post("/api/code/run", json={"code": "print(1)"}, headers=code.headers)
    assert response.status_code == 429 and "Stop" in response.json()["error"]
    code.client.post(f"/api/code/runs/{first}/stop", json={}, headers=code.headers)
    assert code.finish(code.start("print(1)"))[0]["state"] == "finished"
    code.client.post(f"/api/code/runs/{second}/stop", json={}, headers=code.headers)


@pytest.mark.parametrize(("body", "named"), [({"code": ""}, "empty"), ({"code": 5}, "string"),
                                             ({"code": "x" * 50_001}, "too long"), ({"cod": "x"}, "unknown field")])
def test_bad_run_requests_get_one_line_422(code, body, named):
    response = code.client.post("/api/code/run", content=json.dumps(body), headers={**code.headers,
                                                                                  "Content-Type": "application/json"})
    assert response.status_code == 422 and named in response.json()["error"]


def test_unknown_runs_are_404(code):
    response = code.client.get("/api/code/runs/0123456789abcdef", headers=code.headers)
    assert response.status_code == 404 and "Run again" in response.json()["error"]
    response = code.client.get("/api/code/runs/0123456789abcdef?since=abc", headers=code.headers)
    assert response.status_code == 422 and "since" in response.json()["error"]


def test_a_negative_since_is_out_of_range_not_a_non_number(code):
    response = code.client.get("/api/code/runs/0123456789abcdef?since=-1", headers=code.headers)
    assert response.status_code == 422 and "since = -1 is out of range" in response.json()["error"]


def test_the_runner_forgets_old_runs_and_removes_their_folders(monkeypatch):
    runner = CodeRunner(time_limit=20, memory_mb=300, keep_finished=2)
    runs = []
    for number in range(4):
        runs.append(runner.get(runner.start(f"print({number})")))
        assert runs[-1].done.wait(LIVENESS_SECONDS)
    newest = runner.start("print('one more')")  # forgetting happens when a run starts
    assert set(runner.runs) == {runs[2].id, runs[3].id, newest}
    for run in runs[:2]:
        assert not run.folder.exists()
        with pytest.raises(code_runner.ApiError):
            runner.get(run.id)
    folders = [run.folder for run in runner.runs.values()]
    assert all(folder.exists() for folder in folders)
    runner.close()
    assert not any(folder.exists() for folder in folders) and runner.runs == {}


def test_the_child_runs_with_one_blas_thread_in_its_own_folder(code):
    program = ("import os\nprint(os.environ['OPENBLAS_NUM_THREADS'], os.getcwd().split('/')[-1][:14], "
               "os.getsid(0) == os.getpid())\n")
    answer, events = code.run(program)
    assert text_of(events, "stdout") == "1 glassgrad-run- True\n"


# --- the server keeps answering --------------------------------------------------------------


def test_the_server_answers_while_programs_loop_and_print(tmp_path):
    """A real server (uvicorn, as glassgrad serve runs it): with two programs looping, one printing without end,
    other requests are still answered (each within a generous bound)."""
    listener = listen("127.0.0.1", 0)
    app = create_app(output_dir=tmp_path / "out", code_time_limit=60)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        token = app.state.code_token
        runs = [post(port, "/api/code/run", {"code": "while True: pass"}, token)[1]["run"],
                post(port, "/api/code/run", {"code": "while True:\n    print('spam' * 100)"}, token)[1]["run"]]
        for _ in range(5):
            status, _ = get(port, "/api/options")
            assert status == 200
            status, answer = get(port, f"/api/code/runs/{runs[1]}?since=0", token)
            assert status == 200 and answer["state"] == "running"
            time.sleep(0.2)
        for run_id in runs:
            assert post(port, f"/api/code/runs/{run_id}/stop", {}, token)[1] == {"state": "stopped"}
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def get(port: int, path: str, token: str | None = None) -> tuple[int, dict]:
    return exchange(port, "GET", path, None, token)


def post(port: int, path: str, body: dict, token: str) -> tuple[int, dict]:
    return exchange(port, "POST", path, body, token)


def exchange(port: int, method: str, path: str, body: dict | None, token: str | None) -> tuple[int, dict]:
    """One request on its own connection, answered within 5 s (the socket's timeout) or the test fails."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["X-Glassgrad-Token"] = token
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    except TimeoutError:
        pytest.fail(f"{method} {path} was not answered within 5 s")
    finally:
        connection.close()


def test_the_child_starts_without_the_web_stack():
    """``python -m glassgrad.playground.code_child`` imports neither Starlette nor the playground's views:
    each run starts faster and the memory limit is left to the program."""
    import subprocess
    import sys

    check = ("import sys, glassgrad.playground.code_child\n"
             "print(sorted(name for name in sys.modules if name.split('.')[0] in ('starlette', 'uvicorn') "
             "or name in ('glassgrad.playground.app', 'glassgrad.playground.stepper')))")
    printed = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert printed.strip() == "[]"


@given(st.lists(st.tuples(st.sampled_from(["stdout", "stderr"]), st.text(max_size=40)), max_size=30),
       st.integers(0, 200))
def test_events_keep_every_piece_in_order_up_to_the_cap(pieces, cap):
    """Whatever the pieces, the events hold them in order, byte for byte up to the cap, then one cut line."""
    run = CodeRun("0", Path("."), process=None, started=-1)
    with patch.object(code_runner, "MAX_OUTPUT_BYTES", cap):
        for stream, text in pieces:
            run.add_output(stream, text)
    everything = "".join(text for _, text in pieces).encode()
    cut = [event for event in run.events if "output cut" in event["text"]]
    kept = "".join(event["text"] for event in run.events if event not in cut).encode()
    if len(everything) <= cap:
        assert kept == everything and cut == []
    else:
        assert everything.startswith(kept) and cap - 3 <= len(kept) <= cap  # a character cut in two is dropped
        assert len(cut) == 1 and run.events[-1] is cut[0]
    for since in range(len(run.events) + 2):
        assert run.view(since)["events"] == run.events[since:] and run.view(since)["next"] == len(run.events)


def test_code_written_for_pytorch_runs_on_glassgrad(code):
    program = ("import torch\nimport torch.nn as nn\n"
               "w = torch.tensor([2.0, -1.0], requires_grad=True)\n(w * w).sum().backward()\n"
               "print(type(w).__module__, w.grad.tolist(), nn.Linear.__module__.split('.')[0])\n")
    answer, events = code.run(program)
    assert answer["state"] == "finished"
    assert text_of(events, "stdout") == "glassgrad.tensor [4.0, -2.0] glassgrad\n"  # ∂(w·w)/∂w = 2w


def test_a_slow_reader_still_gets_every_byte_before_the_run_ends(code, monkeypatch):
    """On a loaded machine the pipes drain after the process has gone: the state waits while output still comes."""
    monkeypatch.setattr(code_runner, "READ_BYTES", 1000)
    monkeypatch.setattr(code_runner, "STOP_WAIT_SECONDS", 0.3)
    add_output = code_runner.CodeRun.add_output

    def slowly(run, stream, text):
        time.sleep(0.01)  # each read handed on late, as under load: ~150 reads take ~1.5 s in all
        add_output(run, stream, text)

    monkeypatch.setattr(code_runner.CodeRun, "add_output", slowly)
    answer, events = code.run("import sys\nsys.stdout.write('y' * 150_000)\n")
    assert answer["state"] == "finished"
    assert text_of(events, "stdout") == "y" * 150_000


def test_the_time_limit_is_the_programs_own_not_the_start_up_of_its_process(tmp_path, monkeypatch):
    """On a loaded machine starting Python and importing glassgrad can take seconds: that time is not the
    learner's. A start-up made 3 s slow (a ``sitecustomize`` that sleeps) leaves a 2 s program its 2 s: it prints,
    then is stopped at the limit; a program that needs 0.3 s finishes. Before, the child was killed in its
    start-up, and the learner read "stopped at the time limit of 2 s" for a program that never ran."""
    slow = tmp_path / "slow_start"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text("import time\ntime.sleep(3)\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(slow))
    app = create_app(output_dir=tmp_path / "out", code_time_limit=2)
    with testclient.TestClient(app, base_url="http://127.0.0.1:8000") as client:
        code = Code(client, app)
        looping, looping_events = code.run("print('looping', flush=True)\nwhile True:\n    pass\n")
        quick, quick_events = code.run("import time\ntime.sleep(0.3)\nprint('done')\n")
    assert looping["state"] == "timed out" and text_of(looping_events, "stdout") == "looping\n"
    assert quick["state"] == "finished" and text_of(quick_events, "stdout") == "done\n"
