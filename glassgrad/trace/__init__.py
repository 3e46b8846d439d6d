"""The glass box: record every number the engine computes and show it the way the lessons do.

>>> import glassgrad as gg
>>> import glassgrad.nn.functional as F
>>> w = gg.tensor([[0.5, -1.0]], requires_grad=True)
>>> with gg.trace() as tape:
...     loss = F.mse_loss(F.linear(gg.tensor([[2.0, 1.0]]), w), gg.tensor([[1.0]]))
...     loss.backward()
>>> [step["formula"] for step in tape.describe()["forward"]]
['ŷ = W₁·X', 'L = (1/n) Σ (ŷ − y)²   (n = 1)']

Modules: :mod:`.tape` (recording), :mod:`.layers` (grouping by layer, symbols),
:mod:`.local` (numeric local derivatives), renderers :mod:`.render_text` (rich),
:mod:`.render_markdown`, :mod:`.render_html`, :mod:`.render_json`, and :mod:`.graph` (SVG).
Renderers load lazily: importing this package costs only the tape.

Note: ``gg.trace`` is the function :func:`trace`; import the modules of this package with
``from glassgrad.trace import render_json`` (``import glassgrad.trace as t`` gives the function).
"""

from __future__ import annotations

from .tape import Tape, trace

FORMATS = ("text", "md", "html", "json")


def render(document: dict, format: str = "text", ops: bool = False) -> str:
    """A described trace (``tape.describe()`` or a lesson's document) as text, Markdown, HTML or JSON.

    ``ops=True`` adds the op-by-op view to text, Markdown and HTML (JSON always has it).
    """
    if format == "text":
        from .render_text import render_text

        return render_text(document, ops=ops)
    if format == "md":
        from .render_markdown import render_markdown

        return render_markdown(document, ops=ops)
    if format == "html":
        from .render_html import render_html

        return render_html(document, ops=ops)
    if format == "json":
        from .render_json import render_json

        return render_json(document)
    raise ValueError(f"unknown format {format!r}: choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "Tape", "render", "trace"]
