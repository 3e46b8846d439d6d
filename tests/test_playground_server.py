"""``glassgrad serve`` as a browser meets it: a real server on 127.0.0.1, spoken to over raw sockets.

Issue 10, items 16 and 19: answers on a kept-alive connection leave at once (no ~40 ms wait for a
delayed ACK), a long comparison does not hold up the step-through, and a client that sends slowly
(or not at all) is disconnected. The timing bounds here are the issue's acceptance criteria, with
wide margins (the bug they catch costs 40 ms per request; a comparison costs seconds).
"""

from __future__ import annotations

import json
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

import pytest
import uvicorn

from glassgrad.commands.serve import _listen
from glassgrad.playground import create_app

REQUEST_DEADLINE = 5.0  # glassgrad.playground.server.REQUEST_SECONDS


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    """The port of a running ``glassgrad serve --port 0`` (the real command, in its own process)."""
    command = [sys.executable, "-c", "from glassgrad.cli import entry_point; entry_point()", "serve", "--port", "0",
               "--no-browser", "--output-dir", str(tmp_path_factory.mktemp("served"))]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        number = int(re.search(r"http://127\.0\.0\.1:(\d+)/", server.stdout.readline()).group(1))
        deadline = time.monotonic() + 20
        while True:  # ready once it answers
            try:
                with socket.create_connection(("127.0.0.1", number), timeout=2) as probe:
                    assert exchange(probe, request(number, "GET", "/api/options"))[0] == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "glassgrad serve did not start"
                time.sleep(0.1)
        yield number
    finally:
        server.terminate()
        server.wait(timeout=10)


def request(port: int, method: str, path: str, body: dict | None = None) -> bytes:
    """One HTTP/1.1 request, as the page's fetch sends it (JSON, kept alive)."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(payload)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    return (head + "\r\n").encode() + payload


def exchange(connection: socket.socket, message: bytes) -> tuple[int, bytes]:
    """Send ``message`` and read one whole response (status, body) from a kept-alive connection."""
    connection.sendall(message)
    data = b""
    while b"\r\n\r\n" not in data:
        data += receive(connection)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += receive(connection)
    assert len(body) == length, "more bytes than one response"
    return int(head.split(b" ")[1]), body


def receive(connection: socket.socket) -> bytes:
    chunk = connection.recv(65536)
    if not chunk:
        raise ConnectionError("the server closed the connection")
    return chunk


def test_accepted_connections_have_nagles_algorithm_switched_off():
    """asyncio sets TCP_NODELAY only on connections of a socket made with protocol IPPROTO_TCP."""
    server = uvicorn.Server(uvicorn.Config(create_app(output_dir="/nonexistent-never-written"), log_level="warning"))
    listener = _listen("127.0.0.1", 0)  # the socket glassgrad serve listens on
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        with socket.create_connection(listener.getsockname(), timeout=5) as connection:
            assert exchange(connection, request(listener.getsockname()[1], "GET", "/api/options"))[0] == 200
            (protocol,) = server.server_state.connections
            accepted = protocol.transport.get_extra_info("socket")
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_kept_alive_step_requests_are_answered_without_delay(port):
    """The acceptance load test: 500 step requests over 10 kept-alive connections at once, p50 < 10 ms.

    Each connection waits 25 ms between its requests (a learner pressing keys is far slower), so
    the figure measures how long one request waits, not how many the server finishes per second:
    back to back, 10 connections queue for a 2-core CI machine's CPU (Little's law: p50 ≈ 10 /
    throughput). With Nagle's algorithm on, every answer waits ~40 ms for the client's delayed ACK
    (this pause is too short to end that). On a machine busy with other work one round can be slow
    for reasons of its own: the best of up to 10 rounds counts (the bug makes every round slow).
    """
    message = request(port, "POST", "/api/step", {"example": "diagonal-flip", "actions": "f"})
    rounds = []
    for _ in range(10):
        times, failures, elapsed = load_round(port, message, connections=10, per_connection=50, pause=0.025)
        assert failures == [] and len(times) == 500, failures[:3]
        p50, p99 = statistics.median(times), times[int(0.99 * len(times)) - 1]
        rounds.append(p50)
        print(f"500 step requests, 10 connections: p50 {1e3 * p50:.1f} ms, p99 {1e3 * p99:.1f} ms, "
              f"{len(times) / elapsed:.0f} requests/s")
        if p50 < 0.010:
            break
    assert min(rounds) < 0.010, f"p50 {', '.join(f'{1e3 * p:.1f}' for p in rounds)} ms (was ~44 ms with Nagle on)"


def load_round(port: int, message: bytes, connections: int, per_connection: int,
               pause: float) -> tuple[list[float], list[str], float]:
    """Each of ``connections`` threads sends ``message`` ``per_connection`` times on its own kept-alive
    connection, ``pause`` s apart; the sorted times to answer, the failures, the wall time."""
    times: list[float] = []
    failures: list[str] = []

    def learner() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            for _ in range(per_connection):
                start = time.perf_counter()
                status, body = exchange(connection, message)
                times.append(time.perf_counter() - start)
                if status != 200 or json.loads(body)["loss"]["text"] != "0.8963":
                    failures.append(f"{status}: {body[:200]!r}")
                time.sleep(pause)

    learners = [threading.Thread(target=learner) for _ in range(connections)]
    start = time.perf_counter()
    for thread in learners:
        thread.start()
    for thread in learners:
        thread.join()
    return sorted(times), failures, time.perf_counter() - start


def test_a_step_request_is_answered_while_a_comparison_trains(port):
    """A comparison trains for seconds; the step-through must not wait for it (issue: within 100 ms)."""
    slow = {"config": {"hidden": [32, 32, 32, 32], "samples": 1000, "batch_size": 1000}, "rates": [0.01, 0.1, 1, 3, 5],
            "steps": 300}
    answered: list[float] = []

    def compare() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            status, _ = exchange(connection, request(port, "POST", "/api/train/compare", slow))
        assert status == 200
        answered.append(time.perf_counter())

    comparison = threading.Thread(target=compare)
    comparison.start()
    time.sleep(0.5)  # the comparison is training now
    waits = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        for _ in range(5):
            start = time.perf_counter()
            status, _ = exchange(connection, request(port, "POST", "/api/step", {"example": "mlp3", "actions": "f b"}))
            waits.append(time.perf_counter() - start)
            assert status == 200
    still_training = comparison.is_alive()
    comparison.join(timeout=30)
    print(f"step requests during a comparison: {', '.join(f'{1e3 * w:.0f}' for w in waits)} ms")
    assert still_training, "the comparison finished first: nothing was measured"
    assert answered, "the comparison failed"
    assert statistics.median(waits) < 0.1


def test_clients_that_send_slowly_or_nothing_are_disconnected(port):
    """A connection must deliver a whole request within the deadline: silent, half a head, half a body."""
    partial = request(port, "POST", "/api/step", {"actions": "f"})
    pieces = [b"", partial[:20], partial[:-5]]
    connections = [socket.create_connection(("127.0.0.1", port), timeout=REQUEST_DEADLINE + 10) for _ in pieces]
    start = time.monotonic()
    try:
        for connection, piece in zip(connections, pieces):
            connection.sendall(piece)
        for connection, piece in zip(connections, pieces):
            try:
                assert connection.recv(65536) == b""  # closed by the server
            except ConnectionResetError:
                pass
            except TimeoutError:
                pytest.fail(f"a connection that sent {len(piece)} bytes was still held after "
                            f"{time.monotonic() - start:.0f} s")
    finally:
        for connection in connections:
            connection.close()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:  # a prompt client is served
        assert exchange(connection, partial)[0] == 200
