"""A trace as a standalone HTML page: offline (no CDN, no script), readable without colour.

Everything is in the one file: the styles inline, the computational graph as inline SVG.
Positive numbers are blue and negative ones orange (as in the terminal and the playground), and the
sign is written as well (``+0.4400``, ``-0.5500``), so a grey-scale print or a colour-blind reader
loses nothing.
:func:`html_fragment` gives the same content as a ``<div>`` for Jupyter (``_repr_html_``).

>>> import glassgrad as gg
>>> x = gg.tensor([2.0], requires_grad=True)
>>> with gg.trace() as tape:
...     (x * x).sum().backward()
>>> render_html(tape.describe()).startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

import numpy as np

from .numbers import PRECISION_NOTE, SIGN_COLOURS, matrix_blocks, matrix_cells
from .sections import Figure, Paragraphs, Steps, Summary, Table, blocks

STYLE = """
.gg-trace { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; max-width: 72rem; }
.gg-trace h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
.gg-trace h2 { font-size: 1.2rem; margin-top: 1.6rem; border-bottom: 1px solid #ccc; }
.gg-trace table.steps, .gg-trace table.plain { border-collapse: collapse; margin: 0.5rem 0; display: block;
  max-width: 100%; overflow-x: auto; } /* a wide table scrolls in its own box: the page never scrolls sideways */
.gg-trace table.steps > tbody > tr > td, .gg-trace table.steps > thead > tr > th,
.gg-trace table.plain > tbody > tr > td, .gg-trace table.plain > thead > tr > th { border: 1px solid #ccc;
  padding: 0.3rem 0.5rem;
  vertical-align: top; text-align: left; }
.gg-trace .formula { font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: nowrap; }
.gg-trace .note { color: #555; font-size: 0.85rem; }
.gg-trace table.matrix { border-collapse: collapse; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  font-size: 0.85rem; border-left: 2px solid #444; border-right: 2px solid #444; margin: 0.1rem 0 0.4rem; }
.gg-trace table.matrix td { padding: 0 0.35rem; text-align: right; }
.gg-trace .pos { color: POSITIVE; } .gg-trace .neg { color: NEGATIVE; } .gg-trace .zero { color: #666; }
.gg-trace table.matrix td, .gg-trace .pos, .gg-trace .neg, .gg-trace .zero, .gg-trace .number { white-space: nowrap; }
/* a number never breaks inside (-0.5500 and 1.0e-07 have a hyphen a browser may break after): its table scrolls */
.gg-trace .label { font-size: 0.85rem; }
.gg-trace figure { margin: 0.5rem 0; } .gg-trace figure svg { max-width: 100%; height: auto; }
.gg-trace figure.scrolls { overflow-x: auto; max-width: 100%; container-type: scroll-state;
  background: linear-gradient(to left, #fff 40%, #fff0) right / 3rem 100% no-repeat local,
    linear-gradient(to left, #0004, #0000) right / 1.5rem 100% no-repeat scroll; }
.gg-trace figure.scrolls svg { max-width: none; } .gg-trace figure.scrolls > table { display: table; max-width: none; }
.gg-trace figure.scrolls .scroll-hint { display: none; position: sticky; left: 0; width: max-content; }
@container scroll-state(scrollable: inline-end) { .gg-trace figure.scrolls .scroll-hint { display: block; } }
/* a drawing too wide to shrink legibly keeps its size and scrolls sideways in its own box; while more of it is to
   the right, its right edge is shaded (the white cover at the content's far end hides the shade once scrolled
   there, or when nothing overflows) and, where the browser can tell (scroll-state queries), a line says so */
""".replace("POSITIVE", SIGN_COLOURS["positive"]).replace("NEGATIVE", SIGN_COLOURS["negative"])


SIGNED_NUMBER = re.compile(r"(?<![\w.])(?:[-−]\d+(?:\.\d+)?(?:e[-+]\d+)?|\+?\d+(?:\.\d+)?e-\d+)%?(?![\w.])")
"""A number written with a hyphen or minus, one a browser may break after (``-0.5500``, ``1.0e-07``)."""


def prose(text: str) -> str:
    """``text`` escaped for HTML, each number in it with a hyphen or minus (:data:`SIGNED_NUMBER`) kept whole on
    its line (escaping adds no digits a number could take: ``&#x27;`` follows an ``x``).

    >>> prose("fell from -0.5500 to 1.0e-07 (3%)")
    'fell from <span class="number">-0.5500</span> to <span class="number">1.0e-07</span> (3%)'
    """
    return SIGNED_NUMBER.sub(r'<span class="number">\g<0></span>', escape(text))


def scrolling_figure(content: str, what: str) -> str:
    """``content`` (a drawing, a table) at its own size in a box that scrolls sideways, with a visible cue while more
    is to the right."""
    return (f'<figure class="scrolls">{content}<figcaption class="note scroll-hint">scroll sideways to see the whole '
            f'{escape(what)} →</figcaption></figure>')


def _sign_class(text: str) -> str:
    text = text.strip()
    return "neg" if text.startswith("-") else "pos" if text.startswith("+") else "zero"


def _number_cell(text: str) -> str:
    return f'<td class="{_sign_class(text)}">{escape(text.strip())}</td>'


def matrix_html(values: Any) -> str:
    """``values`` as a small bracketed table, each number with its sign written and coloured; a tensor of 3 or more
    dims as its matrices, each after its heading (``[2,·,·]``)."""
    if np.ndim(values) == 0:
        text = matrix_cells(values)[0][0][0]  # written as a matrix's cell is: an integer or a bool stays whole
        return f'<span class="{_sign_class(text)}">{escape(text)}</span>'
    blocks, cut = matrix_blocks(values)
    tables = []
    for heading, cells in blocks:
        rows = "".join("<tr>" + "".join(_number_cell(cell) for cell in row) + "</tr>" for row in cells)
        label = f'<div class="label">{escape(heading)}</div>' if heading else ""
        tables.append(f'{label}<table class="matrix"><tbody>{rows}</tbody></table>')
    note = f'<div class="note">({escape(cut)})</div>' if cut else ""
    return "".join(tables) + note


def _steps(block: Steps) -> str:
    rows = []
    for row in block.rows:
        values = "".join(f'<div class="label">{escape(label)}</div>{matrix_html(array)}' for label, array in row.values)
        note = f'<div class="note">{prose(row.note)}</div>' if row.note else ""
        rows.append(f'<tr><td>{escape(row.step)}</td><td><span class="formula">{escape(row.formula)}</span>{note}</td>'
                    f"<td>{values}</td></tr>")
    return (f'<p class="note">{escape(block.intro)}</p>' + scrolling_figure(
        '<table class="steps"><thead><tr><th>step</th><th>formula</th><th>values</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>', "table"))


def _cell(value: Any) -> str:
    if isinstance(value, str) or value is None:
        return f"<td>{prose(value or '')}</td>"
    return f"<td>{matrix_html(value)}</td>"


def _table(block: Table) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in block.columns)
    body = "".join("<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in block.rows)
    intro = f'<p class="note">{escape(block.intro)}</p>' if block.intro else ""
    return intro + scrolling_figure(f'<table class="plain"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>',
                                    "table")


def _graph(document: dict) -> str:
    if not document.get("forward"):
        return ""
    from .graph import graph_svg

    return ('<h2>Computational graph</h2><p class="note">each box: the value (top) and ∂L/∂ of it (bottom)</p>'
            + scrolling_figure(graph_svg(document, fit=False), "graph"))


def html_fragment(document: dict, ops: bool = False, graph: bool = True, style: bool = True) -> str:
    """``document`` as one ``<div>`` with its own styles (for Jupyter or embedding in a page)."""
    parts = [f'<div class="gg-trace"><style>{STYLE}</style>' if style else '<div class="gg-trace">',
             f"<h1>{escape(document.get('title', 'trace'))}</h1>",
             f'<p class="note">{escape(PRECISION_NOTE)}; signs are written, colours only repeat them.</p>']
    for block in blocks(document, ops=ops):
        if not isinstance(block, Figure):  # a figure has its caption instead
            parts.append(f"<h2>{escape(block.title)}</h2>")
        if isinstance(block, Paragraphs):
            parts += [f"<p>{prose(paragraph)}</p>" for paragraph in block.paragraphs]
        elif isinstance(block, Summary):
            items = "".join(f"<li><strong>{escape(label)}</strong>: <code>{prose(value)}</code></li>"
                            for label, value in block.items)
            parts.append(f"<ul>{items}</ul>")
        elif isinstance(block, Steps):
            parts.append(_steps(block))
        elif isinstance(block, Table):
            parts.append(_table(block))
        elif isinstance(block, Figure):
            parts.append(f"<figure>{block.svg}<figcaption>{escape(block.title)}</figcaption></figure>")
        if graph and isinstance(block, Steps) and block.title == "Forward pass":
            parts.append(_graph(document))
    parts.append("</div>")
    return "\n".join(parts)


def html_page(title: str, body: str) -> str:
    """A complete, standalone HTML page around ``body`` (which brings its own styles)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)} — glassgrad</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n"
            "</body>\n</html>\n")


def render_html(document: dict, ops: bool = False) -> str:
    """``document`` as a complete, standalone HTML page."""
    return html_page(document.get("title", "trace"), html_fragment(document, ops=ops, style=False))
