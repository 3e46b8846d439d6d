"""What keeps the playground safe to run on a learner's machine.

* :class:`HostAllowList`: answer only requests addressed to ``localhost``, ``127.0.0.1`` or ``[::1]``
  (any port). A web page elsewhere cannot reach the server through DNS rebinding (a hostile name
  that resolves to 127.0.0.1) because the browser still sends the hostile name as ``Host``: 400.
* :class:`BodySizeLimit`: request bodies above :data:`MAX_BODY_BYTES` get 413 before any parsing.
* :class:`Fields`: every input read from a JSON body is checked (type, finiteness, range, known
  names) and a bad one gets 422 with a message that names the field and the fix, never a 500.
* :class:`JobStore`: at most :data:`MAX_JOBS` training jobs at once (429 beyond), idle ones expire.
* :func:`output_path`: files are written only inside the output folder, under checked names.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MAX_BODY_BYTES = 64 * 1024
MAX_JOBS = 4
JOB_IDLE_SECONDS = 120.0
ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
DEVICE_NAMES = {"con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt") for n in range(10))}  # Windows


class ApiError(Exception):
    """A problem with the request, answered as ``{"error": message}`` with ``status`` (a 4xx)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- ASGI middleware ----------------------------------------------------------------------------


async def _send_json(send: Any, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def host_is_allowed(host: str) -> bool:
    """True for ``localhost``, ``127.0.0.1`` and ``[::1]``, with or without ``:port``.

    >>> host_is_allowed("localhost:8000"), host_is_allowed("[::1]:80"), host_is_allowed("evil.example:80")
    (True, True, False)
    """
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name += "]"
        port = rest[1:] if rest.startswith(":") else None if not rest else "bad"
    else:
        name, colon, port_text = host.partition(":")
        port = port_text if colon else None
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        return False
    return name in ALLOWED_HOSTS


class HostAllowList:
    """ASGI middleware: 400 unless the ``Host`` header names this machine (against DNS rebinding)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if not host_is_allowed(host):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await _send_json(send, 400, {"error": (
                    f"Host {host!r} is not allowed: the playground answers only requests addressed to "
                    "localhost, 127.0.0.1 or [::1] (this blocks DNS-rebinding attacks). Open it at "
                    "http://127.0.0.1:PORT/ instead."
                )})
                return
        await self.app(scope, receive, send)


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over ``limit`` bytes (declared or streamed)."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await self._too_large(send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Any) -> None:
        await _send_json(send, 413, {"error": f"request body too large: the limit is {self.limit} bytes"})


class SecurityHeaders:
    """ASGI middleware: a Content-Security-Policy that allows only this server (no CDN, no inline script)."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                     b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                                     b"base-uri 'none'; form-action 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
    ]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- input validation ----------------------------------------------------------------------------


def parse_json_object(raw: bytes) -> dict:
    """The body as a JSON object; 400 for anything else (NaN and Infinity literals included)."""
    if not raw.strip():
        return {}

    def no_constants(name: str) -> None:
        raise ApiError(422, f"{name} is not a number JSON allows: send finite numbers only")

    try:
        data = json.loads(raw, parse_constant=no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ApiError(400, f"the request body is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {type(data).__name__}")
    return data


class Fields:
    """Typed, range-checked reading of a JSON object; unknown keys are errors (they are usually typos).

    >>> fields = Fields({"lr": 0.1})
    >>> fields.number("lr", 0.01, low=1e-6, high=10.0)
    0.1
    """

    def __init__(self, data: Any, where: str = "request") -> None:
        if not isinstance(data, dict):
            raise ApiError(422, f"{where} must be a JSON object")
        self.data = data
        self.where = where
        self.read: set[str] = set()

    def _get(self, name: str, default: Any) -> Any:
        self.read.add(name)
        value = self.data.get(name, default)
        return default if value is None else value

    def number(self, name: str, default: float | None, low: float, high: float) -> float:
        value = self._get(name, default)
        if value is None:
            raise ApiError(422, f"{name} is missing: give a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ApiError(422, f"{name} must be a number, got {json.dumps(value)[:40]}")
        value = float(value)
        if not math.isfinite(value):
            raise ApiError(422, f"{name} must be a finite number, got {value}")
        if not low <= value <= high:
            raise ApiError(422, f"{name} = {value:g} is out of range: use a value from {low:g} to {high:g}")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise ApiError(422, f"{name} must be a whole number, got {json.dumps(value)[:40]}")
        value = int(value)
        if not low <= value <= high:
            raise ApiError(422, f"{name} = {value} is out of range: use a whole number from {low} to {high}")
        return value

    def choice(self, name: str, options: Iterable[str], default: str | None = None) -> str:
        options = list(options)
        value = self._get(name, default)
        if value not in options:
            shown = json.dumps(value)[:40] if value is not None else "nothing"
            raise ApiError(422, f"unknown {name} {shown}: choose one of {', '.join(options)}")
        return value

    def numbers(self, name: str, low: float, high: float, min_count: int, max_count: int) -> list[float]:
        """A list of ``min_count``…``max_count`` numbers, each checked as :meth:`number` does."""
        value = self._get(name, [])
        if not isinstance(value, list) or not min_count <= len(value) <= max_count:
            raise ApiError(422, f"{name} must be a list of {min_count} to {max_count} numbers")
        return [Fields({name: item}).number(name, None, low, high) for item in value]

    def text(self, name: str, default: str, max_length: int) -> str:
        value = self._get(name, default)
        if not isinstance(value, str):
            raise ApiError(422, f"{name} must be a string")
        if len(value) > max_length:
            raise ApiError(422, f"{name} is too long ({len(value)} characters; at most {max_length})")
        return value

    def sizes(self, name: str, default: list[int], max_layers: int, max_width: int) -> list[int]:
        """A list of layer widths such as ``[8, 8]`` (or the text ``"8,8"``), each 1…``max_width``."""
        value = self._get(name, default)
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            value = [int(part) if part.isdigit() else part for part in parts]
        if not isinstance(value, list) or any(isinstance(n, bool) or not isinstance(n, int) for n in value):
            raise ApiError(422, f"{name} must be a list of whole numbers such as [8, 8] (or the text \"8,8\")")
        if len(value) > max_layers:
            raise ApiError(422, f"{name}: {len(value)} layers is too many for the playground (at most {max_layers})")
        for width in value:
            if not 1 <= width <= max_width:
                raise ApiError(422, f"{name}: a layer of {width} neurons is out of range (1 to {max_width} per layer)")
        return value

    def nested(self, name: str) -> Fields:
        return Fields(self._get(name, {}), where=name)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise ApiError(422, f"unknown field {unknown[0]!r} in {self.where}: known fields are "
                                f"{', '.join(sorted(self.read))}")


# --- training jobs ---------------------------------------------------------------------------------


class JobStore:
    """Live training jobs by id, at most ``limit`` at once; a job idle for ``idle_seconds`` expires."""

    def __init__(self, limit: int = MAX_JOBS, idle_seconds: float = JOB_IDLE_SECONDS) -> None:
        self.limit = limit
        self.idle_seconds = idle_seconds
        self.jobs: dict[str, tuple[Any, float]] = {}
        self.reserved = 0
        self.lock = threading.Lock()

    def _purge(self, now: float) -> None:
        for job_id, (_, touched) in list(self.jobs.items()):
            if now - touched > self.idle_seconds:
                del self.jobs[job_id]

    def _claim(self) -> None:
        self._purge(time.monotonic())
        if len(self.jobs) + self.reserved >= self.limit:
            raise ApiError(429, f"{self.limit} training jobs are already running (the limit): stop one, or "
                                f"wait {self.idle_seconds:.0f} s for an idle one to expire")

    def add(self, job: Any) -> str:
        with self.lock:
            self._claim()
            job_id = secrets.token_hex(8)
            self.jobs[job_id] = (job, time.monotonic())
            return job_id

    def get(self, job_id: str) -> Any:
        with self.lock:
            if job_id not in self.jobs:
                raise ApiError(404, f"no training job {job_id!r}: it was stopped or expired after "
                                    f"{self.idle_seconds:.0f} s idle; start training again")
            job, _ = self.jobs[job_id]
            self.jobs[job_id] = (job, time.monotonic())
            return job

    def remove(self, job_id: str) -> bool:
        with self.lock:
            return self.jobs.pop(job_id, None) is not None

    @contextmanager
    def reserved_slot(self):
        """Hold one slot for a short job that has no id (comparing learning rates)."""
        with self.lock:
            self._claim()
            self.reserved += 1
        try:
            yield
        finally:
            with self.lock:
                self.reserved -= 1


# --- files ----------------------------------------------------------------------------------------


def output_path(folder: Path, name: str, suffix: str) -> Path:
    """``folder/name+suffix`` for a plain name (letters, digits, ``-``, ``_``); never outside ``folder``."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ApiError(422, f"file name {name!r} is not allowed: use 1 to 64 letters, digits, '-' or '_' "
                            "(no folders, no dots)")
    if name.lower() in DEVICE_NAMES:
        raise ApiError(422, f"file name {name!r} is a device name on Windows: choose another name")
    root = folder.resolve()
    path = (root / f"{name}{suffix}").resolve()
    if path.parent != root:
        raise ApiError(422, f"file name {name!r} would leave the output folder {root}")
    return path
