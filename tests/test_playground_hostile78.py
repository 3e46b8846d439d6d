"""Round 78: the playground's server under hostile requests, spoken to over raw sockets.

The oracle is the project's rule for the local server: a bad request gets a 4xx (never a 500, never a
traceback, never a hang) with a one-line error that names the problem and the fix; foreign ``Host`` and
``Origin`` headers are refused; the server answers a good request afterwards. What
``test_playground_hostile.py`` covers (overflowing numbers, any JSON value in any field, cross-site
``Origin``/``Sec-Fetch-Site``/``Content-Type``, repeated ``Host``/``Origin`` headers, malformed hosts) is
not redone here.

Defects this file pins (each test below fails on 81d7e63):

* a request h11 refuses (negative, non-numeric or conflicting ``Content-Length``, ``Transfer-Encoding: gzip``,
  a broken chunk, a request line that is not HTTP) got uvicorn's bare text "Invalid HTTP request received.",
  naming neither the problem nor the fix; now the playground's JSON error with h11's reason;
* a JSON object naming a field twice (``{"steps": 1, "steps": 500}``) was read silently as its last value;
* unknown query parameters were ignored (``/api/code/runs/ID?sinse=5`` answered from event 0), and a repeated
  one (``?since=1&since=9``) silently took its last value;
* 404 and 405 named no fix (not even the allowed method);
* two ``Content-Type`` headers were read as the first (``application/json`` then ``text/plain`` passed), where two
  ``Origin`` or ``Host`` headers are refused;
* the refusals of the safety middleware (400 foreign Host, 403 foreign Origin, 413, 415) came without the
  security headers (``nosniff``, ``no-store``, the Content-Security-Policy) that every other answer has.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.playground import create_app
from glassgrad.playground.server import listen, make_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
starlette_testclient = pytest.importorskip("starlette.testclient")

JSON = {"Content-Type": "application/json"}
GOOD = b'{"actions": "f"}'
SERVER = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``(port, app)`` of the playground served by uvicorn (``make_server``) in a thread of this process."""
    app = create_app(output_dir=tmp_path_factory.mktemp("out78"), max_jobs=2, code=False)
    listener = listen("127.0.0.1", 0)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield port, app
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(tmp_path):
    app = create_app(output_dir=tmp_path / "out", max_jobs=2)
    with starlette_testclient.TestClient(app, base_url=SERVER) as test_client:
        yield test_client


def head(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = b"",
         host: str | None = "default") -> bytes:
    """A request (``Connection: close``); ``Content-Length`` is added unless ``headers`` has one or body is None."""
    lines = [f"{method} {path} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {f'127.0.0.1:{port}' if host == 'default' else host}")
    headers = JSON if headers is None else headers
    if body is not None and not any(name.lower() in ("content-length", "transfer-encoding") for name in headers):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in headers.items()] + ["Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def send(port: int, data: bytes, timeout: float = 8.0) -> tuple[int, bytes, bytes]:
    """Send raw bytes, read the whole answer: ``(status, head, body)``; status 0 when the server said nothing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        try:
            connection.sendall(data)
        except (BrokenPipeError, ConnectionResetError):  # refused before we finished sending: read the answer
            pass
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    response_head, _, body = answer.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in response_head.lower():
        body = dechunk(body)
    status = re.match(rb"HTTP/1\.[01] (\d{3}) ", response_head)
    return (int(status.group(1)) if status else 0), response_head, body


def dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


def one_line_error(status: int, response_head: bytes, body: bytes) -> str:
    """The ``error`` of a 4xx JSON answer, checked to be one line and no traceback."""
    assert 400 <= status < 500, (status, body[:300])
    assert b"application/json" in response_head.lower(), response_head
    message = json.loads(body)["error"]
    assert isinstance(message, str) and 20 < len(message) and "\n" not in message and "Traceback" not in message
    return message


def still_serves(port: int) -> None:
    status, _, body = send(port, head(port, "POST", "/api/step", body=GOOD))
    assert status == 200 and json.loads(body)["loss"]["text"] == "0.8963"


# --- defect 1: requests h11 refuses get the playground's JSON error, naming the problem ---------------


@pytest.mark.parametrize("label, extra, body, words", [
    ("negative length", {"Content-Length": "-1"}, GOOD, "bad Content-Length"),
    ("non-numeric length", {"Content-Length": "abc"}, GOOD, "bad Content-Length"),
    ("signed length", {"Content-Length": "+16"}, GOOD, "bad Content-Length"),
    ("two lengths", {"Content-Length": "16", "content-length": "3"}, GOOD, "conflicting Content-Length"),
    ("gzip transfer", {"Transfer-Encoding": "gzip"}, GOOD, "Transfer-Encoding"),
    ("broken chunk", {"Transfer-Encoding": "chunked"}, b"zz\r\nabc\r\n0\r\n\r\n", "chunk"),
    ("NUL in a header", {"X-Name": "a\x00b"}, GOOD, "header"),
])
def test_malformed_http_gets_a_json_400_that_names_the_problem(served, label, extra, body, words):
    port, _ = served
    status, response_head, answer = send(port, head(port, "POST", "/api/step", {**JSON, **extra}, body))
    assert status == 400
    message = one_line_error(status, response_head, answer)
    assert words in message and "malformed HTTP request" in message, message
    still_serves(port)


@pytest.mark.parametrize("raw", [b"\x16\x03\x01\x00\xa5\x01\x00\r\n\r\n", b"GET /\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n",
                                 b"GET /a b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"])
def test_a_request_line_that_is_not_http_gets_a_json_400(served, raw):
    port, _ = served
    assert "malformed HTTP request" in one_line_error(*send(port, raw))
    still_serves(port)


# --- defect 2: a JSON field named twice -------------------------------------------------------------


@pytest.mark.parametrize("path, text, name", [
    ("/api/step", '{"seed": 1, "seed": "x"}', "seed"),
    ("/api/train", '{"steps": 1, "steps": 500}', "steps"),
    ("/api/train", '{"config": {"lr": 0.1, "lr": 5}}', "lr"),
    ("/api/practice/new", '{"kind": "forward-blank", "seed": 3, "seed": 4}', "seed"),
])
def test_a_field_given_twice_is_refused_and_starts_nothing(client, path, text, name):
    response = client.post(path, content=text.encode(), headers=JSON)
    assert response.status_code == 422, response.text
    assert f"field {name!r} is given more than once" in response.json()["error"]
    assert client.app.state.jobs.jobs == {}


def test_a_repeated_field_in_a_full_body_is_found_quickly(client):
    names = ",".join(f'"a{i}": 1' for i in range(5000))
    start = time.monotonic()
    response = client.post("/api/step", content=f'{{{names}, "a4999": 2}}'.encode(), headers=JSON)
    assert response.status_code == 422 and "'a4999'" in response.json()["error"]
    assert time.monotonic() - start < 2.0


# --- defect 3: query parameters, unknown or repeated ---------------------------------------------------


@pytest.mark.parametrize("method, path", [("GET", "/api/options?x=1"), ("GET", "/api/course?view=1"),
                                          ("POST", "/api/step?seed=3"), ("POST", "/api/train?steps=500")])
def test_unknown_query_parameters_are_refused(client, method, path):
    response = client.request(method, path, content=b"{}" if method == "POST" else None, headers=JSON)
    assert response.status_code == 422, response.text
    assert "unknown query parameter" in response.json()["error"]
    assert client.app.state.jobs.jobs == {}


@pytest.mark.parametrize("query, words", [("?sinse=5", "unknown query parameter 'sinse'"),
                                          ("?since=1&since=9", "since is given twice")])
def test_the_code_runs_query_is_read_strictly(client, query, words):
    if client.app.state.code_runner is None:
        pytest.skip("the Code view needs process groups")
    token = {"x-glassgrad-token": client.app.state.code_token}
    response = client.get(f"/api/code/runs/nosuchrun{query}", headers=token)
    assert response.status_code == 422 and words in response.json()["error"], response.text
    assert client.get("/api/code/runs/nosuchrun?since=1", headers=token).status_code == 404  # the good form


@pytest.mark.parametrize("path, shown", [("/static/%0Aforged%20line", r"'/static/\nforged line'"),
                                         ("/api/nope%0D%0A", r"'/api/nope\r\n'"), ("/static/%00", r"'/static/\x00'")])
def test_a_path_with_control_characters_is_quoted_on_one_line(served, path, shown):
    port, _ = served
    message = one_line_error(*send(port, head(port, "GET", path, {})))
    assert shown in message and "\r" not in message and "check the address" in message


def test_a_wrong_method_is_told_the_right_one(client):
    response = client.get("/api/train")
    assert response.status_code == 405 and response.json()["error"].endswith("use POST")


@pytest.mark.parametrize("types", [["application/json", "text/plain"], ["text/plain", "application/json"],
                                   ["application/json", "application/json"]])
def test_more_than_one_content_type_header_is_refused(client, types):
    headers = [*(("content-type", media_type) for media_type in types)]
    response = client.post("/api/train", content=b'{"steps": 1}', headers=headers)
    assert response.status_code == 415 and "2 Content-Type headers" in response.json()["error"], response.text
    assert client.app.state.jobs.jobs == {}


@pytest.mark.parametrize("headers, body, status", [
    ({"host": "evil.example"}, b"{}", 400), ({**JSON, "origin": "http://evil.example"}, b"{}", 403),
    ({"content-type": "text/plain"}, b"{}", 415), (JSON, b" " * 70000, 413), (JSON, b"{}", 200),
])
def test_refusals_carry_the_security_headers_too(client, headers, body, status):
    response = client.post("/api/practice/new", content=body, headers=headers)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_page_and_its_files_still_take_any_query(client):
    assert client.get("/?view=step&s_actions=f").status_code == 200
    assert client.get("/static/app.css?v=2&v=3").status_code == 200


# --- pinned: what already behaved ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/static/../safety.py", "/static/%2e%2e/safety.py", "/static/%2e%2e%2fsafety.py", "/static/..%2fsafety.py",
    "/static/..%5csafety.py", "/static/%2fetc%2fpasswd", "/static/app.css%00.js", "/static/.%2e/safety.py",
    "/static/%252e%252e/safety.py", "/%2e%2e/%2e%2e/etc/passwd", "/static/%c0%ae%c0%ae/safety.py",
])
def test_the_static_route_never_leaves_its_folder(served, path):
    port, _ = served
    status, response_head, body = send(port, head(port, "GET", path, {}))
    assert status in (400, 404) and b"__future__" not in body and b"root:" not in body
    one_line_error(status, response_head, body)


@pytest.mark.parametrize("host, allowed", [
    (None, False), ("", False), ("localhost.evil.com", False), ("127.0.0.1.evil.com", False), ("[::1]", True),
    ("[::1]:8000", True), ("LOCALHOST", True), ("127.1", False), ("[::ffff:127.0.0.1]", False), ("localhost.", False),
    ("127.0.0.1:80@evil.com", False), ("2130706433", False),
])
def test_hosts_other_than_this_machine_are_refused(served, host, allowed):
    port, _ = served
    status, response_head, body = send(port, head(port, "GET", "/api/options", {}, host=host))
    if allowed:
        assert status == 200
    else:
        assert status == 400 and "Host" in one_line_error(status, response_head, body)


@pytest.mark.parametrize("origin", ["null", "http://evil.example", "file://",
                                    "http://127.0.0.1:{port}/", "http://127.0.0.1:{port}.evil.com",
                                    "http://localhost:{port}", "http://127.0.0.1:{port}:80"])
def test_foreign_origins_and_preflights_are_refused_and_start_nothing(served, origin):
    port, app = served
    origin = origin.format(port=port)
    for method, headers, body in (("POST", {**JSON, "Origin": origin}, b'{"steps": 1}'),
                                  ("OPTIONS", {"Origin": origin, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type"}, b"")):
        status, response_head, answer = send(port, head(port, method, "/api/train", headers, body))
        assert status == 403, (method, answer)
        one_line_error(status, response_head, answer)
        assert b"access-control-allow" not in response_head.lower()
    assert app.state.jobs.jobs == {}


@pytest.mark.parametrize("label, data", [
    ("short length", lambda p: head(p, "POST", "/api/step", {**JSON, "Content-Length": "5"}, GOOD)),
    ("huge length", lambda p: head(p, "POST", "/api/step", {**JSON, "Content-Length": "9" * 20}, GOOD)),
    ("10 MB", lambda p: head(p, "POST", "/api/step", body=b"{" + b" " * 10_000_000 + b"}")),
    ("chunked 1 MB", lambda p: head(p, "POST", "/api/step", {**JSON, "Transfer-Encoding": "chunked"}, None)
     + b"".join(b"2710\r\n" + b" " * 10000 + b"\r\n" for _ in range(100)) + b"0\r\n\r\n"),
    ("depth bomb", lambda p: head(p, "POST", "/api/step", body=b'{"lr": ' + b"[" * 20000 + b"]" * 20000 + b"}")),
    ("NaN", lambda p: head(p, "POST", "/api/step", body=b'{"lr": NaN}')),
    ("no Content-Type", lambda p: head(p, "POST", "/api/step", {}, GOOD)),
    ("wrong method", lambda p: head(p, "PATCH", "/api/step", body=GOOD)),
    ("unknown method", lambda p: head(p, "BREW", "/api/options", {})),
    ("websocket upgrade", lambda p: head(p, "GET", "/api/options", {
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13", "Origin": "http://evil.example"})),
    ("absolute target", lambda p: head(p, "GET", "http://evil.example/api/options", {})),
])
def test_hostile_requests_get_a_one_line_4xx_quickly(served, label, data):
    port, _ = served
    start = time.monotonic()
    status, response_head, body = send(port, data(port))
    assert time.monotonic() - start < 4.0
    one_line_error(status, response_head, body)
    still_serves(port)


def test_a_client_that_leaves_mid_answer_does_not_disturb_the_next(served):
    port, _ = served
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port)) as connection:  # asks for seconds of training, leaves
            connection.sendall(head(port, "POST", "/api/train/compare", body=b'{"rates": [0.1, 1], "steps": 300}'))
        with socket.create_connection(("127.0.0.1", port)) as connection:  # reads 10 bytes, resets the connection
            connection.sendall(head(port, "GET", "/", {}))
            connection.recv(10)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    start = time.monotonic()
    still_serves(port)
    assert time.monotonic() - start < 3.0


def test_a_step_through_is_answered_while_two_comparisons_fill_the_slots(served):
    port, app = served
    deadline = time.monotonic() + 30
    while app.state.jobs.reserved:  # comparisons whose clients left (the test above) still finish their work
        assert time.monotonic() < deadline
        time.sleep(0.1)
    results: list[int] = []
    body = b'{"rates": [0.1, 1, 2], "steps": 200}'
    workers = [threading.Thread(target=lambda: results.append(send(port, head(port, "POST", "/api/train/compare",
                                                                            body=body), timeout=30)[0]))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(0.2)
    still_serves(port)
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(results) in ([200, 200, 200], [200, 200, 429]), results  # the third may find both slots taken
    assert app.state.jobs.reserved == 0


# --- property: any bytes as a header value or body -------------------------------------------------------
# (Content-Length and Transfer-Encoding are left to the cases above: a length longer than the body is a
# request that never ends, closed after server.REQUEST_SECONDS without an answer.)

HEADER_VALUES = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=30)
BODIES = st.binary(max_size=60) | st.sampled_from([b"{}", b"[]", b"null", b'{"a":1,"a":1}', b"\xef\xbb\xbf{}",
                                                   '{"seed": 1}'.encode("utf-16"), b"{" * 900 + b"}" * 900])


@given(st.sampled_from(["Content-Type", "Origin", "Host", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Expect", "Referer",
                        "X-Glassgrad-Token"]), HEADER_VALUES, BODIES,
       st.sampled_from(["/api/step", "/api/train", "/api/practice/check", "/api/code/run", "/api/train/x/save"]))
def test_any_header_value_or_body_gets_an_answer_never_a_server_error(served, name, value, body, path):
    port, _ = served
    headers = {**JSON, name: value} if name != "Host" else JSON
    data = head(port, "POST", path, headers, body, host=value if name == "Host" else "default")
    start = time.monotonic()
    status, response_head, answer = send(port, data, timeout=8)
    assert time.monotonic() - start < 4.0
    if status != 200:
        one_line_error(status, response_head, answer)
