"""The playground's web app: static pages plus a small JSON API, all computing done by glassgrad.

=======================================  ==================================================================
``GET  /``                                the page (``static/index.html``; ES modules, CSS, no CDN)
``GET  /api/options``                     examples, datasets, activations, optimizers, limits
``POST /api/step``                        step-through state → the network's numbers at that stage
``POST /api/step/explain``                state + ``cell`` → that number's formula with numbers plugged in
``POST /api/landscape``                   ``{x, y, steps, zoom}`` → the loss over two weights, the walk of each η
``POST /api/scalar``                      ``{example}`` → every number of a small network as a placed box
``POST /api/train``                       ``{config, steps}`` → a training job (id) replayed towards ``steps``
``POST /api/train/{id}/step``             ``{steps, since}`` → train more; new losses since ``since``
``DELETE /api/train/{id}``                stop a job (frees one of the capped slots)
``POST /api/train/{id}/save``             ``{name}`` → the weights as safetensors in the output folder
``POST /api/train/compare``               ``{config, rates, steps}`` → loss curves from one start
``POST /api/practice/new``                ``{kind, seed}`` → a problem (without its answer)
``POST /api/practice/check``              ``{kind, seed, answer, reveal}`` → graded by the engine; the worked
                                          solution, or (wrong, ``reveal`` false) a hint for another try
``GET  /api/course``                      the course's chapters, its map filled in from the stored progress
``GET  /api/code/starters``               the Code view's starter programs, its notice and limits
``POST /api/code/run``                    ``{code}`` → ``{run}``: the program starts in a process of its own
``GET  /api/code/runs/{id}``              ``?since=N`` → the run's output from event N on, its state and result
``POST /api/code/runs/{id}/stop``         kill the run's process group
=======================================  ==================================================================

The Code view (:mod:`.code_view`) also needs the launch's secret token (:class:`.safety.CodeGuard`); what a
program leaves is example ``"code:<id>"`` of ``/api/step`` and ``/api/scalar``, and ``config.from_code`` of
``/api/train`` (:mod:`.code_results`).

Errors are JSON ``{"error": "..."}`` with a 4xx status that says what to change. POST bodies must be
sent as ``Content-Type: application/json`` (415 otherwise), and only the playground's own page may
call the API (403 for a request from another site's page: see :class:`.safety.SameOriginOnly`).

Handlers run in worker threads, side by side: grad mode and the trace tape are per thread (as in
PyTorch), and a request works on its own tensors, so a step-through answers at once even while a
learning-rate comparison trains for seconds. Only a training job is shared between requests (its
model and optimizer change with every step): requests for one job take turns (``job.lock``).
Every request is kept short as well (:data:`training.TIME_BUDGET_SECONDS`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import bridge, code_results, code_runner, code_view, stepper, training
from .code_runner import CodeRunner
from .course_view import course_overview
from .display import PRECISION_NOTE, json_safe
from .explain import explain
from .landscape import landscape_view, scalar_view
from .safety import (
    CODE_OFF,
    FIELD_LABELS,
    LR_RANGE,
    MAX_BODY_BYTES,
    MAX_JOBS,
    PRACTICE_LABELS,
    ApiError,
    BodySizeLimit,
    CodeGuard,
    Fields,
    HostAllowList,
    JobStore,
    SameOriginOnly,
    SecurityHeaders,
    lr_rule,
    output_path,
    parse_json_object,
)

STATIC = Path(__file__).parent / "static"
MAX_COMPARE_STEPS = 300


def _api(handler: Callable[..., Any], query: tuple[str, ...] = (), labels: dict[str, str] = FIELD_LABELS) -> Callable:
    """Wrap ``handler(app_state, fields, **path_params)``: parse JSON, run it off the event loop, reply.

    ``query`` names URL query parameters read as fields too (whole numbers as numbers); any other
    query parameter, or one given twice, is refused (422) as an unknown body field is. ``labels``: how a refusal
    names a field, the labels of the view that sends the request (:data:`.safety.FIELD_LABELS`).
    """

    async def endpoint(request: Request) -> Response:
        try:
            data = parse_json_object(await request.body())
            data.update(_query_fields(request.query_params.multi_items(), query, data))
            fields = Fields(data, labels=labels)
            result = await run_in_threadpool(handler, request.app.state, fields, **request.path_params)
        except ApiError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)
        return Response(json.dumps(json_safe(result), ensure_ascii=False, allow_nan=False),
                        media_type="application/json")

    return endpoint


def _query_fields(pairs: list[tuple[str, str]], names: tuple[str, ...], body: dict) -> dict[str, int | str]:
    """The URL's query parameters as fields: each one of ``names``, given once, and not in the body as well.

    An unknown parameter is refused (422) as an unknown body field is: it is usually a typo
    (``?sinse=5`` would otherwise answer from event 0).
    """
    fields: dict[str, int | str] = {}
    for name, text in pairs:
        if name not in names:
            known = f"it takes only {', '.join(names)}" if names else "this request takes none, leave them out"
            raise ApiError(422, f"unknown query parameter {name!r} in the URL: {known}")
        if name in fields or name in body:
            raise ApiError(422, f"{name} is given twice (in the URL{' and in the body' if name in body else ''}): "
                                "give it once")
        fields[name] = _query_value(text)
    return fields


def _query_value(text: str) -> int | str:
    """A query parameter: an integer (negative ones too, for the range check to refuse by name), else the text."""
    return int(text) if re.fullmatch(r"-?[0-9]{1,12}", text) else text


# --- handlers (plain functions: they run in a worker thread) -------------------------------------


def options(state: Any, fields: Fields) -> dict:
    fields.finish()
    default = training.TrainingConfig()
    return {
        "examples": [{"name": name, "title": title, "seeded": name in stepper.SEEDED}
                     for name, title in stepper.EXAMPLES.items()],
        "activations": list(bridge.ACTIVATIONS),
        "losses": [{"name": "cross_entropy", "title": "cross-entropy"}, {"name": "mse", "title": "MSE"}],
        "optimizers": [{"name": name, "formula": formula} for name, formula in bridge.optimizer_formulas().items()],
        "datasets": list(bridge.DATASETS),
        "two_d": list(training.TWO_D),
        "practice_kinds": [{"name": name, "title": f"{name}: {summary}"}
                           for name, summary in bridge.practice_kinds().items()],
        "counting": bridge.counting_note(),
        "precision": PRECISION_NOTE,
        "lr_rule": lr_rule(),
        "training_defaults": {**default.__dict__, "hidden": list(default.hidden)},
        "limits": {"step_width": stepper.MAX_WIDTH, "step_layers": stepper.MAX_LAYERS,
                   "hidden_width": training.MAX_HIDDEN_WIDTH, "hidden_layers": training.MAX_HIDDEN_LAYERS,
                   "steps_per_request": training.MAX_STEPS_PER_REQUEST, "total_steps": training.MAX_TOTAL_STEPS,
                   "jobs": state.jobs.limit,
                   "body_bytes": MAX_BODY_BYTES},
        "code": {"enabled": state.code_runner is not None, "time_limit_s": state.code_time_limit,
                 "memory_limit_mb": state.code_memory_mb},
    }


def step_view(state: Any, fields: Fields) -> dict:
    if code_results.is_code_example(fields.data.get("example")):
        walk = _code_walkthrough(state, fields)
        fields.finish()
        return walk.view()
    return _step_view(json.dumps(fields.data, sort_keys=True))


@functools.lru_cache(maxsize=128)
def _step_view(request: str) -> dict:
    """The step-through at the stage ``request`` asks for (its JSON, keys sorted).

    The view is a function of the request alone (the state lives in the URL, seeds included), so a
    learner stepping back and forth, or a page reloaded, is answered from memory. Refusals are
    exceptions, which are never kept. Nothing downstream changes the returned dict.
    """
    fields = Fields(json.loads(request))
    walk = stepper.Walkthrough(fields)
    fields.finish()
    return walk.view()


def step_explain(state: Any, fields: Fields) -> dict:
    cell = fields.text("cell", "", 40)
    code = code_results.is_code_example(fields.data.get("example"))
    walk = _code_walkthrough(state, fields) if code else stepper.Walkthrough(fields)
    fields.finish()
    return explain(walk, cell)


def _code_walkthrough(state: Any, fields: Fields) -> stepper.Walkthrough:
    """The step-through of the network a Code view program left (example ``"code:<id>"``; ``seed`` is ignored)."""
    example = fields.text("example", "", 40)
    fields.integer("seed", 0, 0, 2**31 - 1)
    lr, actions = stepper.replay_settings(fields)
    network = code_results.network(code_runner.runner_of(state), example)
    return stepper.Walkthrough.of(network, " ".join(actions), lr, code_results.TITLE, example)


def train_create(state: Any, fields: Fields) -> dict:
    config_fields = fields.nested("config")
    from_code = config_fields.text("from_code", "", 40)
    config = training.read_config(config_fields)
    steps = fields.integer("steps", 0, 0, training.MAX_TOTAL_STEPS)
    fields.finish()
    start = None
    if from_code:  # the learner's own network, from its weights: the config takes its shape
        start, hidden, activation = code_results.training_start(code_runner.runner_of(state), from_code)
        config = dataclasses.replace(config, hidden=hidden, activation=activation)
    job = training.TrainingJob(config, start)
    job_id = state.jobs.add(job)  # claim a slot before training: a refused request costs nothing
    with job.lock:
        job.advance(steps)
        return {"id": job_id, **job.snapshot(0)}


def train_step(state: Any, fields: Fields, job_id: str) -> dict:
    steps = fields.integer("steps", 1, 1, training.MAX_STEPS_PER_REQUEST)
    since = fields.integer("since", 0, 0, training.MAX_TOTAL_STEPS + 1)
    fields.finish()
    job = state.jobs.get(job_id)
    with job.lock:
        job.advance(steps)
        return {"id": job_id, **job.snapshot(since)}


def train_stop(state: Any, fields: Fields, job_id: str) -> dict:
    fields.finish()
    if not state.jobs.remove(job_id):
        raise ApiError(404, f"no training job {job_id!r} (already stopped or expired)")
    return {"stopped": job_id}


def train_save(state: Any, fields: Fields, job_id: str) -> dict:
    name = fields.text("name", "", 200)
    fields.finish()
    path = output_path(state.output_dir, name, ".safetensors")
    job = state.jobs.get(job_id)
    try:
        with job.lock:
            metadata = {"made_by": "glassgrad playground", "step": job.step,
                        "config": {**job.config.__dict__, "hidden": list(job.config.hidden)}}
            names = bridge.save_model(job.model, path, metadata)
    except IsADirectoryError:  # strerror is None when glassgrad.io itself refuses to write over a folder
        raise ApiError(409, f"cannot write {path.name} in {path.parent}: a folder has that name; save under "
                            "another name") from None
    except OSError as error:  # the folder is not writable (or became a file): say so, and what to do
        raise ApiError(409, f"cannot write {path.name} in {path.parent} ({error.strerror}); start "
                            "glassgrad serve with another --output-dir") from None
    return {"path": str(path), "bytes": path.stat().st_size, "tensors": names}


def train_compare(state: Any, fields: Fields) -> dict:
    config = training.read_config(fields.nested("config"))
    rates = fields.numbers("rates", *LR_RANGE, 2, 5)
    steps = fields.integer("steps", 100, 1, MAX_COMPARE_STEPS)
    fields.finish()
    with state.jobs.reserved_slot():
        return training.compare_learning_rates(config, rates, steps)


HIDDEN_UNTIL_CHECKED = ("answer", "answer_text", "solution", "given_values_answer")


def practice_new(state: Any, fields: Fields) -> dict:
    kind, seed = _practice_choice(fields)
    fields.finish()
    problem = bridge.practice_problem(kind, seed)
    return {key: value for key, value in problem.items() if key not in HIDDEN_UNTIL_CHECKED}


def practice_check(state: Any, fields: Fields) -> dict:
    kind, seed = _practice_choice(fields)
    answer = fields.text("answer", "", 64)
    reveal = fields.flag("reveal", True)
    fields.finish()
    try:
        return bridge.practice_check(kind, seed, answer, reveal)
    except ValueError as error:  # the practice module's AnswerError: a learner's typo, answered (not a failed request)
        return {"correct": None, "not_a_number": str(error), "solution": []}


def _practice_choice(fields: Fields) -> tuple[str, int]:
    return fields.choice("kind", bridge.practice_kinds(), "forward-blank"), fields.integer("seed", 0, 0, 2**31 - 1)


# --- the app ----------------------------------------------------------------------------------------


async def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def _http_error(request: Request, error: HTTPException) -> Response:
    """Starlette's 404 and 405 as one-line JSON errors that say what to do; the path, as routed, is quoted."""
    headers = getattr(error, "headers", None) or {}
    path = request.scope["path"]  # request.url.path would drop a %0A or %09 silently
    messages = {404: f"nothing at {path!r}: check the address (the page is /, its API under /api/)",
                405: f"{request.method} is not allowed on {path!r}: use {headers.get('Allow', 'another method')}"}
    return JSONResponse({"error": messages.get(error.status_code, error.detail)}, status_code=error.status_code,
                        headers=headers or None)


async def _server_error(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": f"internal error ({type(error).__name__}); please report it"}, status_code=500)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette):
    yield
    if app.state.code_runner is not None:  # the server is stopping: no program outlives it, no folder stays
        await run_in_threadpool(app.state.code_runner.close)


def create_app(output_dir: Path | str = "glassgrad-output", max_jobs: int = MAX_JOBS, code: bool = True,
               code_time_limit: float = 30.0, code_memory_mb: int = 1024) -> Starlette:
    """The ASGI app. Files are written only inside ``output_dir``; at most ``max_jobs`` training jobs.

    ``code``: serve the Code view (programs run for at most ``code_time_limit`` seconds in at most
    ``code_memory_mb`` MB), guarded by the secret ``app.state.code_token`` (see :class:`.safety.CodeGuard`).
    """
    routes = [
        Route("/", _index),
        Route("/api/options", _api(options), methods=["GET"]),
        Route("/api/step", _api(step_view), methods=["POST"]),
        Route("/api/step/explain", _api(step_explain), methods=["POST"]),
        Route("/api/landscape", _api(landscape_view), methods=["POST"]),
        Route("/api/scalar", _api(scalar_view), methods=["POST"]),
        Route("/api/train", _api(train_create), methods=["POST"]),
        Route("/api/train/compare", _api(train_compare), methods=["POST"]),
        Route("/api/train/{job_id:str}/step", _api(train_step), methods=["POST"]),
        Route("/api/train/{job_id:str}/save", _api(train_save), methods=["POST"]),
        Route("/api/train/{job_id:str}", _api(train_stop), methods=["DELETE"]),
        Route("/api/practice/new", _api(practice_new, labels=PRACTICE_LABELS), methods=["POST"]),
        Route("/api/practice/check", _api(practice_check, labels=PRACTICE_LABELS), methods=["POST"]),
        Route("/api/course", _api(course_overview), methods=["GET"]),
        Route("/api/code/starters", _api(code_view.starters), methods=["GET"]),
        Route("/api/code/run", _api(code_view.run_code), methods=["POST"]),
        Route("/api/code/runs/{run_id:str}", _api(code_view.run_view, query=("since",)), methods=["GET"]),
        Route("/api/code/runs/{run_id:str}/stop", _api(code_view.stop_run), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    token = secrets.token_urlsafe(32)
    off = code_runner.UNSUPPORTED if code else CODE_OFF
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(HostAllowList), Middleware(CodeGuard, token=token, off=off),
                    Middleware(SameOriginOnly), Middleware(BodySizeLimit)],  # outermost first: every refusal gets
                                                                              # the security headers too
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=_lifespan,
    )
    app.state.output_dir = Path(output_dir)
    app.state.jobs = JobStore(limit=max_jobs)
    app.state.code_token = token
    app.state.code_time_limit, app.state.code_memory_mb = float(code_time_limit), int(code_memory_mb)
    app.state.code_off = off
    app.state.code_runner = None if off else CodeRunner(code_time_limit, code_memory_mb, code_results.load_result)
    return app
