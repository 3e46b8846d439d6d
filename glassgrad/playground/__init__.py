"""The interactive playground (``glassgrad serve``): step through backprop, train, practise, in a browser.

Every number on the page comes from the Python engine through a small JSON API
(:mod:`.app`); the page (``static/``: HTML, CSS, ES modules, SVG) only renders it.
Nothing here is imported by ``import glassgrad``: the web stack loads when the server starts.

>>> from glassgrad.playground import create_app   # doctest: +SKIP
>>> app = create_app(output_dir="glassgrad-output")  # an ASGI app for uvicorn
"""

from .app import create_app

__all__ = ["create_app"]
