"""``glassgrad serve``: the interactive playground, a local web app on this machine only.

It binds 127.0.0.1 by default (``--host`` accepts only loopback addresses: the app also
refuses requests addressed to any other host name), prints its URL and opens the browser
unless ``--no-browser``. Saved models go to ``--output-dir`` and nowhere else.
"""

from __future__ import annotations

import socket
from pathlib import Path

import typer

from . import switch

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def serve(
    port: int = typer.Option(8000, help="Port to listen on (0 picks a free one)."),
    no_browser: bool = switch("--no-browser", "Print the URL but do not open a browser"),
    host: str = typer.Option("127.0.0.1", help="Loopback address to bind: 127.0.0.1, localhost or ::1."),
    output_dir: Path = typer.Option(Path("glassgrad-output"), help="The only folder the playground writes to."),
) -> None:
    """Start the playground: step through backprop, train, and practise in your browser."""
    from . import CommandError

    if host not in LOOPBACK_HOSTS:
        raise CommandError(f"--host {host} is not a loopback address: the playground serves this machine only "
                           f"(use one of {', '.join(LOOPBACK_HOSTS)})")
    if not 0 <= port <= 65535:
        raise CommandError(f"--port {port} is out of range: use 1 to 65535 (or 0 for any free port)")
    if output_dir.exists() and not output_dir.is_dir():
        raise CommandError(f"--output-dir {output_dir} is a file, not a folder: name a folder (it is made when needed)")
    listener = _listen(host, port)
    shown_host = "[::1]" if host == "::1" else host
    url = f"http://{shown_host}:{listener.getsockname()[1]}/"
    print(f"glassgrad playground: {url}  (Ctrl+C to stop)", flush=True)
    _run(listener, url, open_browser=not no_browser, output_dir=output_dir)


def _listen(host: str, port: int) -> socket.socket:
    """Listen here, so a busy port is a one-line error and port 0 gets a real number to print."""
    from glassgrad.playground.server import listen

    from . import CommandError

    try:
        return listen(host, port)
    except OSError as error:
        message = f"cannot listen on {host}:{port} ({error.strerror}); choose another port with --port"
        raise CommandError(message) from None


def _run(listener: socket.socket, url: str, open_browser: bool, output_dir: Path) -> None:
    import sys
    import threading
    import webbrowser

    from glassgrad.playground import create_app
    from glassgrad.playground.server import GIL_TURN_SECONDS, make_server

    server = make_server(create_app(output_dir))
    sys.setswitchinterval(GIL_TURN_SECONDS)  # this process only serves: short turns keep quick requests quick
    if open_browser:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    server.run(sockets=[listener])


def register(app: typer.Typer) -> None:
    app.command()(serve)
