"""What keeps the playground safe to run on a learner's machine.

* :class:`HostAllowList`: answer only requests addressed to ``localhost``, ``127.0.0.1`` or ``[::1]``
  (any port). A web page elsewhere cannot reach the server through DNS rebinding (a hostile name
  that resolves to 127.0.0.1) because the browser still sends the hostile name as ``Host``: 400.
* :class:`SameOriginOnly`: another site's page cannot use the API (403 for a foreign ``Origin``,
  415 for a POST that is not ``application/json``), against cross-site request forgery.
* :class:`CodeGuard`: the Code view runs a learner's program (as a Jupyter kernel does), so each
  ``/api/code/*`` request also needs the per-launch secret token (all but reading the starter programs),
  and every refusal there is 403.
* :class:`BodySizeLimit`: request bodies above :data:`MAX_BODY_BYTES` get 413 before any parsing.
* :class:`Fields`: every input read from a JSON body is checked (type, finiteness, range, known
  names) and a bad one gets 422 with a message that names the field and the fix, never a 500.
* :class:`JobStore`: at most :data:`MAX_JOBS` training jobs at once (429 beyond), idle ones expire.
* :func:`output_path`: files are written only inside the output folder, under checked names.
"""

from __future__ import annotations

import hmac
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
HOST_PATTERN = re.compile(f"(?:{'|'.join(map(re.escape, ALLOWED_HOSTS))})(?::(?P<port>[0-9]{{1,5}}))?", re.IGNORECASE)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # whole names only: always with fullmatch
NUMBER_PATTERN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)",
                            re.IGNORECASE)
LONGEST_EXACT_INTEGER = 20  # digits: a JSON integer longer than this is read as a float (it is out of range anyway)
LR_RANGE = (1e-5, 100.0)  # every learning rate the playground takes: Step-through's η, Train's, Compare's
FIELD_LABELS = {
    "lr": "Learning rate η", "rates": "Learning rates", "batch_size": "Batch size", "hidden": "Hidden layers",
    "clip": "Clip gradient norm", "sizes": "Layer sizes", "seed": "Seed", "steps": "Steps", "dataset": "Dataset",
    "activation": "Activation", "loss": "Loss", "optimizer": "Optimizer", "name": "Save as",
}
"""A request field → the label the page shows beside its input, so a refusal names what the learner typed into."""
PRACTICE_LABELS = {**FIELD_LABELS, "seed": "Problem number", "kind": "Kind", "answer": "Your answer"}
"""The Practice view's labels: its seed is the problem's number."""
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
    match = HOST_PATTERN.fullmatch(host)
    return match is not None and (match["port"] is None or 0 < int(match["port"]) < 65536)


class HostAllowList:
    """ASGI middleware: 400 unless the request has one ``Host`` header and it names this machine (against DNS
    rebinding)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = self.problem(_headers(scope, b"host"))
            if problem is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await _send_json(send, 400, {"error": problem})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def problem(hosts: list[str]) -> str | None:
        """Why a request with these ``Host`` headers is refused (one line), or None for exactly one allowed host.

        Two ``Host`` headers are refused whatever they say: the checks after this one would each read a
        different one of them (a foreign one could pass as the page's own origin).
        """
        if len(hosts) > 1:
            return (f"the request has {len(hosts)} Host headers ({', '.join(map(repr, hosts))}): send exactly one, "
                    "as a browser does (this blocks DNS-rebinding attacks)")
        host = hosts[0] if hosts else ""
        if not host_is_allowed(host):
            return (f"Host {host!r} is not allowed: the playground answers only requests addressed to "
                    "localhost, 127.0.0.1 or [::1] (this blocks DNS-rebinding attacks). Open it at "
                    "http://127.0.0.1:PORT/ instead.")
        return None


def _headers(scope: dict, name: bytes) -> list[str]:
    """Every value of the header ``name`` (lower case), in the order sent: a request may repeat a header."""
    return [value.decode("latin-1") for key, value in scope.get("headers") or [] if key == name]


def _header(scope: dict, name: bytes) -> str | None:
    """The first value of the header ``name``, None when it is absent."""
    values = _headers(scope, name)
    return values[0] if values else None


class HttpMiddleware:
    """An ASGI middleware that looks only at HTTP requests: anything else (lifespan, websockets) passes
    straight to ``app``; a subclass writes :meth:`handle` for the HTTP ones."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict, receive: Any, send: Any) -> None:
        """Answer (or refuse) one HTTP request; the default lets it through."""
        await self.app(scope, receive, send)


class SameOriginOnly(HttpMiddleware):
    """ASGI middleware against cross-site request forgery: another site's page cannot make the server act.

    * 403 when the browser says the request comes from another page than this server's own: an
      ``Origin`` other than ``http://`` + the ``Host`` it was sent to (``Origin: null`` included), more
      than one ``Origin`` header (a browser sends one), or
      ``Sec-Fetch-Site: cross-site``/``same-site`` (another port of localhost is "same-site").
      A link from another site to the page itself (a GET navigation) is still answered.
    * 415 for more than one ``Content-Type`` header, and for a POST whose body is not declared
      ``Content-Type: application/json``: without asking the server first (a CORS preflight, which it
      never grants), another site can send only text, form or multipart bodies (this is Jupyter's
      defence too).

    Both refusals happen before the body is read: a refused request runs nothing.
    """

    async def handle(self, scope: dict, receive: Any, send: Any) -> None:
        problem = self.problem(scope)
        if problem is not None:
            await _send_json(send, *problem)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def problem(scope: dict) -> tuple[int, dict] | None:
        """``(status, {"error": ...})`` for a refused request, None for an accepted one."""
        origins, site = _headers(scope, b"origin"), _header(scope, b"sec-fetch-site")
        own = f"http://{_header(scope, b'host') or ''}".lower()
        navigation = scope["method"] in ("GET", "HEAD") and _header(scope, b"sec-fetch-mode") == "navigate"
        if len(origins) > 1:  # a browser sends one; with several, which one counts is anybody's guess
            return 403, {"error": f"refused: this request has {len(origins)} Origin headers "
                                  f"({', '.join(map(repr, origins))}); only the playground's own page, which sends "
                                  "one, may use its API"}
        if origins and origins[0].lower() != own:
            return 403, {"error": f"refused: this request comes from the page {origins[0]!r}, not from the "
                                  f"playground itself ({own}); only the playground's own page may use its API"}
        if site in ("cross-site", "same-site") and not navigation:
            return 403, {"error": "refused: the browser says this request comes from another site "
                                  f"(Sec-Fetch-Site: {site}); only the playground's own page may use its API"}
        media_types = _headers(scope, b"content-type")
        if len(media_types) > 1:  # which one the body is in is anybody's guess, as with two Origin headers
            return 415, {"error": f"the request has {len(media_types)} Content-Type headers "
                                  f"({', '.join(map(repr, media_types))}): send one, Content-Type: application/json"}
        media_type = (media_types[0] if media_types else "").split(";")[0].strip().lower()
        if scope["method"] == "POST" and media_type != "application/json":
            return 415, {"error": f"the request body must be JSON sent with Content-Type: application/json "
                                  f"(got {media_type or 'no Content-Type'})"}
        return None


CODE_PATHS = "/api/code/"
TOKEN_HEADER = b"x-glassgrad-token"
CODE_OFF = "the Code view is off (glassgrad serve was started with --no-code)"
WITHOUT_TOKEN = frozenset({("GET", "/api/code/starters")})
"""The Code view requests that a tab with no token may make: reading the starter programs (the package's own
files) runs nothing, so a tab opened without ``?token=`` still shows them, and says why it cannot run them.
A wrong token is refused here too (a page of an earlier launch learns at once that its token is stale)."""


class CodeGuard(HttpMiddleware):
    """ASGI middleware in front of the Code view (``/api/code/*``): it runs what a learner types, so only
    the page ``glassgrad serve`` opened may ask, as Jupyter guards its kernels.

    A request there is refused with 403 (before its body is read: it runs nothing) when

    * the Code view is off (``off`` says why: ``glassgrad serve --no-code``, or a system without process groups);
    * :class:`SameOriginOnly` refuses it (a foreign ``Origin``, another site's page, or a POST that is
      not ``application/json``): the same rules, answered 403 here;
    * the ``X-Glassgrad-Token`` header is missing or empty, or is not ``token`` (the per-launch secret printed in
      the URL that ``glassgrad serve`` opens), compared in constant time (``hmac.compare_digest``); only
      the requests in :data:`WITHOUT_TOKEN` (reading the starters) may come with no token at all.

    A foreign ``Host`` never gets this far: :class:`HostAllowList` (outside this one) answers 400.
    """

    def __init__(self, app: Any, token: str, off: str | None = None) -> None:
        super().__init__(app)
        self.token = token.encode()
        self.off = off

    async def handle(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["path"].startswith(CODE_PATHS):
            problem = self.problem(scope)
            if problem is not None:
                await _send_json(send, 403, {"error": problem})
                return
        await self.app(scope, receive, send)

    def problem(self, scope: dict) -> str | None:
        """Why a Code view request is refused (one line), or None to let it through."""
        if self.off is not None:
            return self.off
        refused = SameOriginOnly.problem(scope)
        if refused is not None:
            return refused[1]["error"]
        sent = _header(scope, TOKEN_HEADER)
        if not sent:  # none, or the page's empty one: a tab opened without ?token=
            if (scope["method"], scope["path"]) in WITHOUT_TOKEN:
                return None
            return ("refused: running code needs the secret token from the URL glassgrad serve printed "
                    "(open that URL, with its ?token=..., in this browser)")
        if not hmac.compare_digest(sent.encode("latin-1"), self.token):
            return ("refused: the token is not this server's (each glassgrad serve makes a new one): open the URL "
                    "it printed, with its ?token=...")
        return None


class BodySizeLimit(HttpMiddleware):
    """ASGI middleware: 413 for a request body over ``limit`` bytes (declared or streamed)."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.limit = limit

    async def handle(self, scope: dict, receive: Any, send: Any) -> None:
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not declared.isdigit() or len(declared) > 12 or int(declared) > self.limit:
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


class SecurityHeaders(HttpMiddleware):
    """ASGI middleware: a Content-Security-Policy that allows only this server (no CDN, no inline script),
    ``nosniff`` and ``no-store``. It is the outermost one, so refusals by the others carry them too."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                     b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                                     b"base-uri 'none'; form-action 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
    ]

    async def handle(self, scope: dict, receive: Any, send: Any) -> None:
        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- input validation ----------------------------------------------------------------------------


def parse_json_object(raw: bytes) -> dict:
    """The body as a JSON object; 400 for anything else, 422 for NaN and Infinity literals and for a name
    given twice in one object (Python's ``json`` would keep the last silently: ``{"steps": 1, "steps": 500}``)."""
    if not raw.strip():
        return {}

    def no_constants(name: str) -> None:
        raise ApiError(422, f"{name} is not a number JSON allows: send finite numbers only")

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict:
        data = dict(pairs)
        if len(data) < len(pairs):
            seen: set[str] = set()
            repeated = next(name for name, _ in pairs if name in seen or seen.add(name))
            raise ApiError(422, f"field {repeated!r} is given more than once in one JSON object: send each field once")
        return data

    try:
        data = json.loads(raw, parse_constant=no_constants, parse_int=_json_integer, object_pairs_hook=no_repeats)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ApiError(400, f"the request body is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {type(data).__name__}")
    return data


def _json_integer(text: str) -> int | float:
    """A JSON integer: exact up to :data:`LONGEST_EXACT_INTEGER` digits, else a float (∞ past 10³⁰⁸).

    Python refuses to convert integers of over 4300 digits, and a float cannot hold one past 10³⁰⁸;
    no field takes numbers anywhere near that, so :class:`Fields` reports these as out of range.
    """
    return int(text) if len(text.lstrip("-")) <= LONGEST_EXACT_INTEGER else float(text)


def number_from_text(text: str) -> float:
    """A number typed as text: plain decimal or e-notation digits (``inf`` and ``nan`` included, for the
    range check to refuse by name); ``ValueError`` for anything else.

    Python's ``float`` also takes ``1_0`` (= 10) and digits of other scripts (``١٠``, ``²`` fails
    later); a learner who typed those meant something else, so they are refused here.

    >>> number_from_text("-2.5e-3"), number_from_text("1e999")
    (-0.0025, inf)
    """
    if NUMBER_PATTERN.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a number")
    return float(text)


def field_label(name: str) -> str:
    """The page's label for the request field ``name`` (:data:`FIELD_LABELS`), else the name itself.

    >>> field_label("batch_size"), field_label("since")
    ('Batch size', 'since')
    """
    return FIELD_LABELS.get(name, name)


def range_text(low: float, high: float) -> str:
    """How to fix a number out of ``[low, high]``: the one wording every range refusal ends with.

    >>> range_text(*LR_RANGE)
    'use a value from 1e-05 to 100'
    """
    return f"use a value from {low:g} to {high:g}"


def out_of_range(label: str, shown: str, low: float, high: float) -> str:
    """The refusal of ``label = shown`` outside ``[low, high]`` (``label``: the field as the page labels it)."""
    return f"{label} = {shown} is out of range: {range_text(low, high)}"


def lr_rule() -> dict:
    """:data:`LR_RANGE` as the pages read it: the bounds, the field's label and the fix every refusal of a rate ends
    with, so the step-through's own check (before it asks the engine) says what the server would."""
    low, high = LR_RANGE
    return {"low": low, "high": high, "label": field_label("lr"), "fix": range_text(low, high)}


class Fields:
    """Typed, range-checked reading of a JSON object; unknown keys are errors (they are usually typos).

    >>> fields = Fields({"lr": 0.1})
    >>> fields.number("lr", 0.01, low=1e-6, high=10.0)
    0.1
    """

    def __init__(self, data: Any, where: str = "request", labels: dict[str, str] = FIELD_LABELS) -> None:
        if not isinstance(data, dict):
            raise ApiError(422, f"{where} must be a JSON object")
        self.data = data
        self.where = where
        self.labels = labels  # how refusals name a field: the page's labels; {} for Python's argument names
        self.read: set[str] = set()

    def _label(self, name: str) -> str:
        return self.labels.get(name, name)

    def _not_a_number(self, name: str, wanted: str, value: Any, fix: str) -> ApiError:
        """The refusal of ``value`` where ``wanted`` (a number) goes, ending with ``fix``; a JSON ``true``/``false``
        is named for what it is, a yes or no (Python counts True as 1, JSON and the page do not)."""
        got = json.dumps(value)[:40]
        if isinstance(value, bool):
            got += " (a yes/no, not a number)"
        return ApiError(422, f"{self._label(name)} must be {wanted}, got {got}: {fix}")

    def _get(self, name: str, default: Any) -> Any:
        self.read.add(name)
        value = self.data.get(name, default)
        return default if value is None else value

    def number(self, name: str, default: float | None, low: float, high: float) -> float:
        value = self._get(name, default)
        if value is None:
            raise ApiError(422, f"{self._label(name)} is missing: give a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._not_a_number(name, "a number", value, range_text(low, high))
        if not math.isfinite(value):
            raise ApiError(422, f"{self._label(name)} is not a finite number (it overflows a float): "
                                f"{range_text(low, high)}")
        if not low <= value <= high:
            raise ApiError(422, out_of_range(self._label(name), f"{value:g}", low, high))
        return float(value)

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._not_a_number(name, "a whole number", value, f"use a whole number from {low} to {high}")
        if not math.isfinite(value):
            raise ApiError(422, f"{self._label(name)} is not a finite number (it overflows a float): use a whole "
                                f"number from {low} to {high}")
        if value != int(value):
            raise ApiError(422, f"{self._label(name)} must be a whole number, got {value:g}")
        if not low <= value <= high:
            shown = value if isinstance(value, int) else f"{value:g}"
            raise ApiError(422, f"{self._label(name)} = {shown} is out of range: use a whole number from {low} to "
                                f"{high}")
        return int(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise ApiError(422, f"{self._label(name)} must be true or false, got {json.dumps(value)[:40]}")
        return value

    def choice(self, name: str, options: Iterable[str], default: str | None = None) -> str:
        options = list(options)
        value = self._get(name, default)
        if value not in options:
            shown = json.dumps(value)[:40] if value is not None else "nothing"
            raise ApiError(422, f"{self._label(name)} {shown} is unknown: choose one of {', '.join(options)}")
        return value

    def numbers(self, name: str, low: float, high: float, min_count: int, max_count: int) -> list[float]:
        """A list of ``min_count``…``max_count`` numbers, each checked as :meth:`number` does."""
        value = self._get(name, [])
        if not isinstance(value, list) or not min_count <= len(value) <= max_count:
            raise ApiError(422, f"{self._label(name)} must be a list of {min_count} to {max_count} numbers")
        return [Fields({name: item}, labels=self.labels).number(name, None, low, high) for item in value]

    def text(self, name: str, default: str, max_length: int) -> str:
        value = self._get(name, default)
        if not isinstance(value, str):
            raise ApiError(422, f"{self._label(name)} must be a string")
        if len(value) > max_length:
            raise ApiError(422, f"{self._label(name)} is too long ({len(value)} characters; at most {max_length})")
        return value

    def sizes(self, name: str, default: list[int], max_layers: int, max_width: int) -> list[int]:
        """A list of layer widths such as ``[8, 8]`` (or the text ``"8,8"``), each 1…``max_width``."""
        value = self._get(name, default)
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            value = [int(part) if re.fullmatch(r"[0-9]{1,9}", part) else part for part in parts]
        if not isinstance(value, list) or any(isinstance(n, bool) or not isinstance(n, int) for n in value):
            raise ApiError(422, f"{self._label(name)} must be a list of whole numbers such as [8, 8] (or the text "
                                "\"8,8\")")
        if len(value) > max_layers:
            raise ApiError(422, f"{self._label(name)}: {len(value)} layers is too many for the playground (at most "
                                f"{max_layers})")
        for width in value:
            if not 1 <= width <= max_width:
                raise ApiError(422, f"{self._label(name)}: a layer of {width} neurons is out of range (1 to "
                                    f"{max_width} per layer)")
        return value

    def nested(self, name: str) -> Fields:
        return Fields(self._get(name, {}), where=name, labels=self.labels)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            known = (f"known fields are {', '.join(sorted(self.read))}" if self.read
                     else "this request takes no fields, leave it out")
            raise ApiError(422, f"unknown field {unknown[0]!r} in {self.where}: {known}")


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
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ApiError(422, f"file name {name!r} is not allowed: use 1 to 64 letters, digits, '-' or '_' "
                            "(no folders, no dots)")
    if name.lower() in DEVICE_NAMES:
        raise ApiError(422, f"file name {name!r} is a device name on Windows: choose another name")
    root = folder.resolve()
    path = (root / f"{name}{suffix}").resolve()
    if path.parent != root:
        raise ApiError(422, f"file name {name!r} would leave the output folder {root}")
    return path
