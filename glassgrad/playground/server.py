"""How the playground is served: its listening socket and uvicorn's settings (``glassgrad serve`` and the tests).

* :func:`listen` makes the socket with protocol ``IPPROTO_TCP``. asyncio switches Nagle's algorithm
  off (``TCP_NODELAY``) only on connections whose socket says it is TCP; a socket made with
  protocol 0 passes that on to every connection it accepts, and then each answer on a kept-alive
  connection waits for the browser's delayed acknowledgement (~40 ms on Linux) before it leaves.
* :func:`make_server` closes a connection that takes longer than :data:`REQUEST_SECONDS` to send one
  request (head and body), or that stays idle :data:`KEEP_ALIVE_SECONDS` between requests, and
  answers at most :data:`MAX_CONNECTIONS` connections at once (503 beyond): a client that sends
  slowly, or opens connections and sends nothing, cannot hold the server.
* A request that is not well-formed HTTP/1.1 (a Content-Length that is negative, not a number or
  given twice with different values; a Transfer-Encoding other than chunked; a broken chunk; a
  request line with a space or a NUL in a header) gets 400 with the playground's one-line JSON
  ``{"error": ...}`` naming what h11 found wrong, not uvicorn's bare "Invalid HTTP request received.".
  (Bodies over :data:`.safety.MAX_BODY_BYTES` are refused by the app itself: 413.)
* :data:`GIL_TURN_SECONDS`: requests run in threads side by side, taking turns at Python's GIL.
  ``glassgrad serve`` shortens each turn from Python's 5 ms to 1 ms, so a step-through request
  that needs a few turns is not held 5 ms at each behind a comparison training in another thread.

>>> listener = listen("127.0.0.1", 0)
>>> listener.proto == socket.IPPROTO_TCP
True
>>> listener.close()
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE, H11Protocol

REQUEST_SECONDS = 5.0
KEEP_ALIVE_SECONDS = 5
MAX_CONNECTIONS = 64
BACKLOG = 128
GIL_TURN_SECONDS = 0.001


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free one) for uvicorn; ``OSError`` if busy."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(BACKLOG)  # connections wait in the queue from now on, even before uvicorn has started
    except OSError:
        listener.close()
        raise
    return listener


def make_server(app: Any) -> uvicorn.Server:
    """A uvicorn server for ``app`` with the limits above; run it with ``server.run(sockets=[listen(...)])``."""
    config = uvicorn.Config(app, http=RequestDeadline, log_level="warning", timeout_keep_alive=KEEP_ALIVE_SECONDS,
                            limit_concurrency=MAX_CONNECTIONS, timeout_graceful_shutdown=2)
    return uvicorn.Server(config)


class ProblemKeepingConnection(h11.Connection):
    """h11's side of one connection that remembers why it refused the client's bytes (:attr:`problem`).

    uvicorn catches h11's ``RemoteProtocolError`` and answers a fixed text; the reason is kept here
    for :meth:`RequestDeadline.send_400_response` to say.
    """

    problem = ""

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as error:
            self.problem = str(error)
            raise


class RequestDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, plus a deadline: a request must arrive whole within :data:`REQUEST_SECONDS`,
    and a malformed request is answered with the playground's JSON error, naming what is wrong.

    The clock starts when the connection opens, or when the first bytes of a later request come;
    it stops once the client has sent the whole request (h11 says the client's side is no longer
    ``IDLE`` or ``SEND_BODY``), so the time the app takes to answer never counts.
    """

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.conn = ProblemKeepingConnection(h11.SERVER, config.h11_max_incomplete_event_size
                                             or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE)

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 refused: 400, ``{"error": ...}`` with h11's reason on one line, then close."""
        problem = getattr(self.conn, "problem", "")[:200]
        body = json.dumps({"error": f"malformed HTTP request ({problem or msg.rstrip('.')}): send one well-formed "
                                    "HTTP/1.1 request, as a browser does"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.deadline: asyncio.TimerHandle | None = self.loop.call_later(REQUEST_SECONDS, self._too_slow)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        receiving = self.conn.their_state in (h11.IDLE, h11.SEND_BODY)
        if receiving and self.deadline is None:
            self.deadline = self.loop.call_later(REQUEST_SECONDS, self._too_slow)
        elif not receiving:
            self._stop_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def _stop_clock(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _too_slow(self) -> None:
        self.deadline = None
        if not self.transport.is_closing():
            self.transport.close()
