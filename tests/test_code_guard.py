"""The Code view is guarded like a Jupyter server: every refused request is 403 (a foreign Host 400) and starts nothing.

The oracle for "starts nothing" is a count of the runner's process starts (:func:`code_runner.spawn`,
wrapped here), and, for the real server, that no ``glassgrad-run-`` folder appears.
"""

from __future__ import annotations

import hmac
import http.client
import json
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from glassgrad.playground import code_runner, create_app
from glassgrad.playground.safety import CodeGuard

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
testclient = pytest.importorskip("starlette.testclient")

PROGRAM = {"code": "print('should never run')"}


@pytest.fixture
def spawned(monkeypatch):
    """The folders of every process the runner starts (the real start, counted)."""
    started = []
    real = code_runner.spawn

    def counting(folder, memory_mb):
        started.append(folder)
        return real(folder, memory_mb)

    monkeypatch.setattr(code_runner, "spawn", counting)
    return started


def make_client(tmp_path, **options):
    app = create_app(output_dir=tmp_path / "out", **options)
    return testclient.TestClient(app, base_url="http://127.0.0.1:8000"), app


def refusal(response, status=403):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and len(message) > 20 and "\n" not in message
    return message


REFUSED = {
    "no token": ({"X-Glassgrad-Token": None}, "application/json", "secret token"),
    "an empty token (the page opened without ?token=)": ({"X-Glassgrad-Token": ""}, "application/json", "secret token"),
    "wrong token": ({"X-Glassgrad-Token": "not-the-token"}, "application/json", "not this server's"),
    "a token of the right length but wrong": ({"X-Glassgrad-Token": "A" * 43}, "application/json", "not this server's"),
    "foreign Origin": ({"Origin": "http://evil.example"}, "application/json", "evil.example"),
    "Origin null": ({"Origin": "null"}, "application/json", "'null'"),
    "another port of localhost": ({"Origin": "http://127.0.0.1:9999"}, "application/json", "127.0.0.1:9999"),
    "cross-site fetch": ({"Sec-Fetch-Site": "cross-site"}, "application/json", "cross-site"),
    "text/plain": ({}, "text/plain", "application/json"),
    "a form": ({}, "application/x-www-form-urlencoded", "application/json"),
    "no Content-Type": ({}, None, "application/json"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_run_request_is_refused_with_403_and_starts_nothing(tmp_path, spawned, case):
    extra, content_type, named = REFUSED[case]
    client, app = make_client(tmp_path)
    headers = {name: value for name, value in {"X-Glassgrad-Token": app.state.code_token, **extra}.items()
               if value is not None}
    if content_type is not None:  # None: httpx sends raw bytes without a Content-Type
        headers["Content-Type"] = content_type
    with client:
        response = client.post("/api/code/run", content=b'{"code": "print(1)"}', headers=headers)
        assert named in refusal(response)
        assert client.get("/api/options").status_code == 200  # the server itself is fine
    assert spawned == []


def test_the_right_token_from_the_pages_own_origin_runs(tmp_path, spawned):
    """The control for the refusals: the same request with the token, JSON and the page's Origin runs."""
    client, app = make_client(tmp_path)
    with client:
        response = client.post("/api/code/run", json=PROGRAM, headers={"X-Glassgrad-Token": app.state.code_token,
                                                                     "Origin": "http://127.0.0.1:8000"})
        assert response.status_code == 200, response.text
        assert re.fullmatch(r"[0-9a-f]{16}", response.json()["run"])
    assert len(spawned) == 1


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/code/runs/0123456789abcdef"),
                                              ("POST", "/api/code/runs/0123456789abcdef/stop")])
def test_every_code_endpoint_needs_the_token(tmp_path, method, path):  # the starters need none: test_code_view130
    client, app = make_client(tmp_path)
    with client:
        assert "secret token" in refusal(client.request(method, path, json={} if method == "POST" else None))
        answered = client.request(method, path, json={} if method == "POST" else None,
                                  headers={"X-Glassgrad-Token": app.state.code_token})
        assert answered.status_code in (200, 404)  # 404: no such run; the guard let it through


def test_a_foreign_host_is_400_and_starts_nothing(tmp_path, spawned):
    client, app = make_client(tmp_path)
    with client:
        response = client.post("/api/code/run", json=PROGRAM,
                               headers={"X-Glassgrad-Token": app.state.code_token, "Host": "evil.example"})
        assert "evil.example" in refusal(response, 400)
    assert spawned == []


def test_no_code_turns_every_code_endpoint_off(tmp_path, spawned):
    client, app = make_client(tmp_path, code=False)
    headers = {"X-Glassgrad-Token": app.state.code_token}
    with client:
        for method, path in [("GET", "/api/code/starters"), ("POST", "/api/code/run"),
                             ("GET", "/api/code/runs/0123456789abcdef")]:
            response = client.request(method, path, json=PROGRAM if method == "POST" else None, headers=headers)
            assert refusal(response) == "the Code view is off (glassgrad serve was started with --no-code)"
        assert client.get("/api/options").json()["code"]["enabled"] is False
    assert spawned == []


def test_options_say_whether_the_code_view_is_on_and_its_limits(tmp_path):
    client, _ = make_client(tmp_path, code_time_limit=7.5, code_memory_mb=512)
    with client:
        assert client.get("/api/options").json()["code"] == {"enabled": True, "time_limit_s": 7.5,
                                                              "memory_limit_mb": 512}


def test_each_app_has_its_own_token(tmp_path):
    tokens = {create_app(output_dir=tmp_path).state.code_token for _ in range(5)}
    assert len(tokens) == 5 and all(len(token) >= 40 for token in tokens)


def test_the_guard_compares_the_token_in_constant_time(monkeypatch):
    """The comparison is ``hmac.compare_digest`` (a plain ``==`` would leak the token's prefix through timing)."""
    calls = []
    real = hmac.compare_digest

    def recording(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("glassgrad.playground.safety.hmac.compare_digest", recording)
    guard = CodeGuard(app=None, token="secret")
    scope = {"type": "http", "path": "/api/code/run", "method": "GET",
             "headers": [(b"host", b"127.0.0.1:8000"), (b"x-glassgrad-token", b"guess")]}
    assert "not this server's" in guard.problem(scope)
    assert calls == [(b"guess", b"secret")]


# --- glassgrad serve --------------------------------------------------------------------------------


@contextmanager
def served(tmp_path, *options):
    """``glassgrad serve --port 0`` running in its own process: the two lines it printed first."""
    command = [sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()", "serve", "--port", "0",
               "--no-browser", "--output-dir", str(tmp_path / "out"), *options]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield server.stdout.readline(), server.stdout.readline()
    finally:
        server.terminate()
        server.wait(timeout=10)


def ask(url: str, token: str | None) -> tuple[int, dict]:
    """GET the starters from the server at ``url`` with ``token`` in the header (retried until the server is up)."""
    parts = urlsplit(url)
    deadline = time.monotonic() + 20
    while True:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request("GET", "/api/code/starters", headers={"X-Glassgrad-Token": token} if token else {})
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "glassgrad serve did not start"
            time.sleep(0.1)
        finally:
            connection.close()


def test_serve_prints_the_url_with_the_token_that_opens_its_code_view(tmp_path):
    with served(tmp_path) as (first, notice):
        found = re.search(r"(http://127\.0\.0\.1:\d+/)\?token=([A-Za-z0-9_-]{40,})  \(Ctrl\+C to stop\)", first)
        url, token = found.groups()
        assert "runs Python code" in notice and "--no-code" in notice
        status, answer = ask(url, token)
        assert status == 200 and len(answer["starters"]) == 3
        status, answer = ask(url, token[:-1] + ("A" if token[-1] != "A" else "B"))
        assert status == 403 and "not this server's" in answer["error"]
    with served(tmp_path) as (again, _):
        assert token not in again  # a new secret at each launch


def test_serve_no_code_prints_no_token_and_serves_no_code(tmp_path):
    with served(tmp_path, "--no-code") as (first, notice):
        url = re.search(r"(http://127\.0\.0\.1:\d+/)  \(Ctrl\+C", first).group(1)
        assert "token" not in first and "off" in notice
        status, answer = ask(url, None)
        assert status == 403 and answer["error"] == "the Code view is off (glassgrad serve was started with --no-code)"


@pytest.mark.parametrize(("option", "value", "named"), [("--code-time-limit", "0", "--code-time-limit 0"),
                                                        ("--code-time-limit", "nan", "--code-time-limit nan"),
                                                        ("--code-memory-mb", "10", "--code-memory-mb 10")])
def test_serve_refuses_limits_out_of_range_in_one_line(tmp_path, capsys, option, value, named):
    from glassgrad import cli

    assert cli.main(["serve", "--no-browser", "--port", "0", option, value]) == 2
    error = capsys.readouterr().err.strip()
    assert named in error and "out of range" in error and len(error.splitlines()) == 1


def test_a_code_run_never_outlives_the_server(tmp_path):
    """Stopping the server (its lifespan ends) kills a run still going and removes its folder."""
    client, app = make_client(tmp_path, code_time_limit=60)
    with client:
        run_id = client.post("/api/code/run", json={"code": "while True: pass"},
                             headers={"X-Glassgrad-Token": app.state.code_token}).json()["run"]
        run = app.state.code_runner.get(run_id)
    assert run.state == "stopped" and not run.folder.exists()
    deadline = time.monotonic() + 10
    while run.process.poll() is None:
        assert time.monotonic() < deadline, "the program kept running after the server stopped"
        time.sleep(0.05)


def test_where_processes_cannot_be_limited_the_code_view_is_off_and_says_why(tmp_path, spawned, monkeypatch):
    why = "the Code view is off: it needs Linux or macOS, where a program's process group can be limited and stopped"
    monkeypatch.setattr(code_runner, "UNSUPPORTED", why)
    client, app = make_client(tmp_path)
    with client:
        response = client.post("/api/code/run", json=PROGRAM, headers={"X-Glassgrad-Token": app.state.code_token})
        assert refusal(response) == why
        assert client.get("/api/options").json()["code"]["enabled"] is False
    assert spawned == []


def test_a_process_that_cannot_start_is_503_in_one_line_and_leaves_no_folder(tmp_path, monkeypatch):
    def no_more_processes(folder, memory_mb):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(code_runner, "spawn", no_more_processes)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    client, app = make_client(tmp_path)
    with client:
        response = client.post("/api/code/run", json=PROGRAM, headers={"X-Glassgrad-Token": app.state.code_token})
        assert "Resource temporarily unavailable" in refusal(response, 503)
    assert list(tmp_path.glob("glassgrad-run-*")) == []
