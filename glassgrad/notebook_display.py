"""How glassgrad's objects draw themselves in Jupyter: tensors, modules, gradient checks and training histories
(``_repr_html_``; histories also ``_repr_svg_``). Practice problems use :func:`box` too
(:func:`glassgrad.practice.display.problem_html`).

Every number is written by the glass box's one formatter (:func:`glassgrad.trace.numbers.format_number`:
4 decimals, the sign always written) in the glass box's matrix markup
(:func:`glassgrad.trace.render_html.matrix_html`), blue for positive and orange for negative
(:data:`~glassgrad.trace.numbers.SIGN_COLOURS`), so a tensor in a cell reads like a step of a trace.
Each display sits in its own box that scrolls sideways (``overflow-x: auto``) when it is wider than the
notebook, and every text that comes from the user (a layer's name, its settings) is HTML-escaped.

A training history draws its loss per epoch as a small hand-made SVG chart (no plotting library):
``x`` is the epoch, ``y`` the loss from the lowest to the highest value shown (on a log scale,
``log₁₀ L``, when the highest is over 100 times the lowest), one point per epoch whose tooltip
gives the exact value.

>>> import glassgrad as gg
>>> "+2.0000" in tensor_html(gg.tensor([2.0, -1.0]))
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Any

from .arguments import counted
from .trace.numbers import SIGN_COLOURS, format_number
from .trace.render_html import matrix_html

STYLE = (
    "<style>.gg-box{overflow-x:auto;max-width:100%;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
    "color:#1b1b1b}"
    ".gg-box .gg-head{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:0.85rem;color:#475569;"
    "margin:0.2rem 0}"
    ".gg-box table.matrix{border-collapse:collapse;font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
    "font-size:0.85rem;border-left:2px solid #444;border-right:2px solid #444;margin:0.1rem 0 0.4rem}"
    ".gg-box table.matrix td{padding:0 0.35rem;text-align:right}"
    ".gg-box table.plain{border-collapse:collapse;margin:0.3rem 0}"
    ".gg-box table.plain td,.gg-box table.plain th{border:1px solid #cbd5e1;padding:0.15rem 0.5rem;"
    "text-align:left;vertical-align:top}"
    ".gg-box table.plain table.matrix td{border:none;padding:0 0.35rem}"
    ".gg-box .arch{font-family:ui-monospace,'DejaVu Sans Mono',monospace;white-space:pre}"
    f".gg-box .pos{{color:{SIGN_COLOURS['positive']}}}.gg-box .neg{{color:{SIGN_COLOURS['negative']}}}"
    ".gg-box .zero{color:#666}.gg-box .note{color:#555;font-size:0.85rem}"
    ".gg-box .good{color:#15803d;font-weight:600}.gg-box .bad{color:#b91c1c;font-weight:600}</style>"
)
CHART_WIDTH = 420
CHART_HEIGHT = 220
MARGIN = 48
"""The loss chart's size in pixels and the space left of and below it for the axis labels."""
LOG_SCALE_RANGE = 100
"""A loss chart whose highest loss is more than this many times its lowest is drawn on a log scale."""
MAX_POINTS = 400
"""Epochs beyond this many are drawn as a line only (no point and tooltip each)."""


def box(kind: str, body: str) -> str:
    """``body`` in a box of its own that scrolls sideways when too wide, with the shared styles."""
    return f'<div class="gg-box gg-{kind}">{STYLE}{body}</div>'


def tensor_html(tensor: Any) -> str:
    """A tensor: shape, dtype, how it was made (grad_fn or requires_grad), its values and its ``.grad``."""
    array = tensor.numpy()
    facts = [f"shape ({', '.join(map(str, array.shape))})", str(array.dtype)]
    if tensor.grad_fn is not None:
        facts.append(f"grad_fn={tensor.grad_fn.name}")
    elif tensor.requires_grad:
        facts.append("requires_grad")
    values = matrix_html(array) if array.size else '<div class="note">no values: the tensor is empty</div>'
    parts = [f'<div class="gg-head">tensor · {escape(" · ".join(facts))}</div>', values]
    if tensor._grad is not None:  # not .grad: reading that on a non-leaf warns
        parts += ['<div class="gg-head">.grad</div>', matrix_html(tensor._grad.numpy())]
    return box("tensor", "".join(parts))


def module_html(module: Any) -> str:
    """A module: its layers as ``repr`` lists them, each with its parameter count, and the totals."""
    lines = module._describe()
    if module._modules:  # the whole model's count goes in the heading instead
        lines[0] = (lines[0][0], None)
    rows = []
    for text, owner in lines:
        count = owner.num_parameters() if owner is not None else 0
        frozen = count - owner.num_parameters(trainable_only=True) if count else 0
        note = "" if not frozen else " (all frozen)" if frozen == count else f" ({frozen:,} frozen)"
        rows.append(f'<tr><td class="arch">{escape(text)}</td><td>{f"{count:,}{note}" if count else ""}</td></tr>')
    total, trainable = module.num_parameters(), module.num_parameters(trainable_only=True)
    summary = f"{total:,} parameters" + ("" if trainable == total else f", {trainable:,} of them trainable")
    return box("module", f'<div class="gg-head">{escape(type(module).__name__)} · {summary}</div>'
                         f'<table class="plain"><thead><tr><th>layer</th><th>parameters</th></tr></thead>'
                         f'<tbody>{"".join(rows)}</tbody></table>')


def gradcheck_html(report: Any) -> str:
    """A gradient check: the verdict, the passes each method needed, and the worst error per input (written as the
    report's text writes them, :meth:`~glassgrad.gradcheck.GradcheckReport.error_texts`; its note below the table)."""
    verdict = '<span class="good">passed</span>' if report.ok else '<span class="bad">FAILED</span>'
    rows = "".join(
        f"<tr><td>{check.index}</td><td>({', '.join(map(str, check.shape))})</td>"
        + "".join(f"<td>{text}</td>" for text in report.error_texts(check))
        + f"<td>{'✓' if check.ok else '✗ at ' + escape(str(check.worst_element))}</td></tr>" for check in report.inputs)
    return box("gradcheck", (
        f"<div>gradcheck {verdict}: {report.forward_passes} forward passes (2 per input element) against "
        f"{report.analytical_passes}; tolerance atol {report.atol:g}, rtol {report.rtol:g}</div>"
        '<table class="plain"><thead><tr><th>input</th><th>shape</th><th>max |analytical − numerical|</th>'
        f"<th>max relative error</th><th>agree</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<div class="note">{escape(report.note(with_worst=False))}</div>'))


def _curve(values: list[float], height: Callable[[float], float], colour: str, key: str) -> str:
    """One loss curve as a polyline and, for a short history, a point per epoch with its value as tooltip;
    ``height`` maps a loss to its place between the lowest (0) and highest (1) value drawn."""
    steps = max(len(values) - 1, 1)
    width, tall = CHART_WIDTH - MARGIN - 10, CHART_HEIGHT - MARGIN - 10
    points = [(MARGIN + width * i / steps, 10 + tall * (1 - height(value)))
              for i, value in enumerate(values) if math.isfinite(value)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    drawn = f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>'
    if len(values) <= MAX_POINTS:
        finite = [(i, value) for i, value in enumerate(values) if math.isfinite(value)]
        drawn += "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"><title>epoch {i + 1}: '
                         f"{key} {value!r}</title></circle>" for (x, y), (i, value) in zip(points, finite))
    return drawn


def history_svg(history: Any) -> str:
    """The losses per epoch (train, and validation when there is one) as an SVG line chart."""
    curves = [(key, history[key]) for key in ("train_loss", "val_loss") if history[key]]
    finite = [v for _, values in curves for v in values if math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    logarithmic = low > 0 and high / low > LOG_SCALE_RANGE
    scale = math.log10 if logarithmic else float
    span = scale(high) - scale(low) or 1.0

    def height(value: float) -> float:
        return (scale(value) - scale(low)) / span

    colours = {"train_loss": SIGN_COLOURS["positive"], "val_loss": SIGN_COLOURS["negative"]}
    bottom = CHART_HEIGHT - MARGIN
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
             f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" font-family="sans-serif" font-size="11" role="img" '
             'aria-label="loss per epoch">',
             f'<line x1="{MARGIN}" y1="10" x2="{MARGIN}" y2="{bottom}" stroke="#444"/>',
             f'<line x1="{MARGIN}" y1="{bottom}" x2="{CHART_WIDTH - 10}" y2="{bottom}" stroke="#444"/>',
             f'<text x="{MARGIN - 4}" y="14" text-anchor="end">{format_number(high, signed=False)}</text>',
             f'<text x="{MARGIN - 4}" y="{bottom}" text-anchor="end">{format_number(low, signed=False)}</text>',
             f'<text x="{MARGIN}" y="{bottom + 16}">1</text>',
             f'<text x="{CHART_WIDTH - 10}" y="{bottom + 16}" text-anchor="end">{len(history)}</text>',
             f'<text x="{(CHART_WIDTH + MARGIN) / 2}" y="{bottom + 32}" text-anchor="middle">epoch</text>']
    if logarithmic:
        parts.append(f'<text x="{MARGIN + 4}" y="{bottom - 4}" fill="#475569">log scale</text>')
    for number, (key, values) in enumerate(curves):
        parts.append(_curve(values, height, colours[key], key))
        parts.append(f'<text x="{CHART_WIDTH - 10}" y="{24 + 14 * number}" text-anchor="end" '
                     f'fill="{colours[key]}">{key.replace("_", " ")}</text>')
    parts.append("</svg>")
    return "".join(parts)


def history_html(history: Any) -> str:
    """A training history: the loss chart, then the first and last epoch's records."""
    if not len(history):
        return box("history", '<div class="gg-head">History · no epochs yet</div>')
    keys = [key for key in history.records[-1] if key != "epoch"]
    head = "".join(f"<th>{escape(key)}</th>" for key in keys)
    shown = history.records[:1] + history.records[-1:] if len(history) > 1 else history.records
    body = "".join(f"<tr><td>{record.get('epoch', '')}</td>" + "".join(
        f"<td>{format_number(record[key], signed=False) if key in record else ''}</td>" for key in keys) + "</tr>"
        for record in shown)
    stopped = (f'<div class="bad">stopped early: {escape(history.diverged.message)}</div>'
               if history.diverged is not None else "")
    return box("history", f'<div class="gg-head">History · {counted(len(history), "epoch")}</div>{history_svg(history)}'
                          f'<table class="plain"><thead><tr><th>epoch</th>{head}</tr></thead><tbody>{body}</tbody>'
                          f"</table>{stopped}")
