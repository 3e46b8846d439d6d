"""The interactive playground (``glassgrad serve``): step through backprop, train, practise, in a browser.

Every number on the page comes from the Python engine through a small JSON API
(:mod:`.app`); the page (``static/``: HTML, CSS, ES modules, SVG) only renders it.
Nothing here is imported by ``import glassgrad``: the web stack loads when the server starts
(``create_app`` is imported on first use, so the Code view's child process,
:mod:`.code_child`, starts without it). ``create_app`` gives an ASGI app for uvicorn:

>>> from glassgrad.playground import create_app   # doctest: +SKIP
>>> app = create_app(output_dir="glassgrad-output")  # doctest: +SKIP
"""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
