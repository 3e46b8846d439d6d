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

from .formats import FORMATS, render
from .tape import Tape, trace

__all__ = ["FORMATS", "Tape", "render", "trace"]
