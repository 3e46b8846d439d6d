"""``glassgrad serve``: the interactive playground, a local web app on this machine only.

It binds 127.0.0.1 by default (``--host`` accepts only loopback addresses: the app also
refuses requests addressed to any other host name), prints its URL and opens the browser
unless ``--no-browser``. Saved models go to ``--output-dir`` and nowhere else.

The Code view runs the programs a learner types, as a Jupyter kernel does: only for the page
opened at the printed URL, whose ``?token=`` is a secret made anew at each launch (see
:class:`glassgrad.playground.safety.CodeGuard`). ``--no-code`` turns it off;
``--code-time-limit`` and ``--code-memory-mb`` bound each run.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import typer

from . import switch
from .output_files import refuse_a_file_as_folder

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
TIME_LIMIT_RANGE = (1.0, 86400.0)
MEMORY_RANGE = (256, 1_048_576)  # MB: Python with NumPy and glassgrad needs about 120 MB of address space


def serve(
    port: int = typer.Option(8000, help="Port to listen on (0 picks a free one)."),
    no_browser: bool = switch("--no-browser", "Print the URL but do not open a browser"),
    host: str = typer.Option("127.0.0.1", help="Loopback address to bind: 127.0.0.1, localhost or ::1."),
    output_dir: Path = typer.Option(Path("glassgrad-output"), help="The only folder the playground writes to."),
    no_code: bool = switch("--no-code", "Turn the Code view off: the page cannot run Python code"),
    code_time_limit: float = typer.Option(30.0, help="Seconds a program of the Code view may run before it is "
                                                     "stopped."),
    code_memory_mb: int = typer.Option(1024, help="Memory (MB) a program of the Code view may use."),
) -> None:
    """Start the playground: step through backprop, train, and practise in your browser."""
    from . import CommandError

    if host not in LOOPBACK_HOSTS:
        raise CommandError(f"--host {host} is not a loopback address: the playground serves this machine only "
                           f"(use one of {', '.join(LOOPBACK_HOSTS)})")
    if not 0 <= port <= 65535:
        raise CommandError(f"--port {port} is out of range: use 1 to 65535 (or 0 for any free port)")
    refuse_a_file_as_folder(output_dir, "--output-dir", "name a folder (it is made when needed)")
    if not TIME_LIMIT_RANGE[0] <= code_time_limit <= TIME_LIMIT_RANGE[1]:  # False for NaN as well
        raise CommandError(f"--code-time-limit {code_time_limit:g} is out of range: give seconds from "
                           f"{TIME_LIMIT_RANGE[0]:g} to {TIME_LIMIT_RANGE[1]:g}")
    if not MEMORY_RANGE[0] <= code_memory_mb <= MEMORY_RANGE[1]:
        raise CommandError(f"--code-memory-mb {code_memory_mb} is out of range: give megabytes from "
                           f"{MEMORY_RANGE[0]} to {MEMORY_RANGE[1]}")
    from glassgrad.playground import create_app

    app = create_app(output_dir, code=not no_code, code_time_limit=code_time_limit, code_memory_mb=code_memory_mb)
    listener = _listen(host, port)
    shown_host = "[::1]" if host == "::1" else host
    url = f"http://{shown_host}:{listener.getsockname()[1]}/"
    if not no_code:  # the page keeps the token and takes it out of the address bar
        url += f"?token={app.state.code_token}"
    print(f"glassgrad playground: {url}  (Ctrl+C to stop)", flush=True)
    print("The Code view is off (--no-code)." if no_code else "The Code view runs Python code on this computer, with "
          "your rights (--no-code\nturns it off); only the page at that URL, with its token, can send it code.",
          flush=True)  # two lines of at most 80 columns
    try:
        _run(app, listener, url, open_browser=not no_browser)
    except KeyboardInterrupt:  # Ctrl+C is how the playground stops (the line above says so), not a failure:
        pass  # uvicorn shuts down, then raises the signal again (or, a signal caught as it shut down, returns)
    print("\nglassgrad playground stopped", flush=True)  # after the ^C the terminal echoed


def _listen(host: str, port: int) -> socket.socket:
    """Listen here, so a busy port is a one-line error and port 0 gets a real number to print."""
    from glassgrad.playground.server import listen

    from . import CommandError

    try:
        return listen(host, port)
    except OSError as error:
        message = f"cannot listen on {host}:{port} ({error.strerror}); choose another port with --port"
        raise CommandError(message) from None


def _run(app: Any, listener: socket.socket, url: str, open_browser: bool) -> None:
    import sys
    import threading
    import webbrowser

    from glassgrad.playground.server import GIL_TURN_SECONDS, make_server

    server = make_server(app)
    sys.setswitchinterval(GIL_TURN_SECONDS)  # this process only serves: short turns keep quick requests quick
    if open_browser:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    server.run(sockets=[listener])


def register(app: typer.Typer) -> None:
    app.command()(serve)
