"""The landscape drawn with matplotlib: the map with the walks, the 1-D slice, and the loss per step.

:func:`figure` draws what :func:`.landscape.landscape` computed (it computes nothing itself);
:func:`save` writes ``landscape.png``, ``landscape.svg`` and ``landscape.json``. matplotlib loads
when a figure is drawn.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..arguments import counted
from ..io import write_atomically
from ..trace.numbers import PRECISION_NOTE, rounded_text, rounding_note
from .landscape import to_json


def _off_map(point: dict, window: tuple[float, float, float, float]) -> bool:
    u, v = point["weights"]
    return not (window[0] <= u <= window[1] and window[2] <= v <= window[3])


COLOUR_BAR_DIGITS = 2
"""The colour bar's band edges (the contour heights, from the map's lowest loss to its highest) are written with this
many significant digits, by the glass box's one rule (:func:`~glassgrad.trace.numbers.rounded_text`), and its label
says so."""
COLOURS = {0.001: "#7a7a7a", 0.1: "#1f77b4", 1.0: "#2ca02c", 10.0: "#d62728"}


def _colour(rate: float, rank: int) -> str:
    return COLOURS.get(rate, ("#9467bd", "#8c564b", "#e377c2", "#17becf")[rank % 4])


def _arrow(axes: Any, point: dict, window: tuple[float, float, float, float], colour: str) -> None:
    """The downhill direction −∇L at ``point``: the way the step goes on the map, drawn an eighth of the map
    long (its length is not ‖∇L‖; the step's own length is η·‖∇L‖)."""
    spans = np.array([window[1] - window[0], window[3] - window[2]])
    on_screen = -np.asarray(point["gradient"], dtype=float) / spans  # the step's direction in map fractions
    norm = float(np.linalg.norm(on_screen))
    if norm == 0 or not math.isfinite(norm):
        return
    (u, v), (du, dv) = point["weights"], on_screen / norm * 0.125 * spans
    axes.annotate("", xy=(u + du, v + dv), xytext=(u, v), arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.6})


def _contour_levels(loss: np.ndarray) -> np.ndarray:
    """16 log-spaced contour heights from the map's lowest loss to its highest.

    A flat map (a slice through weights that do not reach the output, such as a weight of the
    switched-off hidden unit: ``L`` is the same at every grid point) has no range to split; it is
    drawn in one colour between heights 0.1% either side of its one value, with no contour lines
    inside (matplotlib refuses levels that do not increase).
    """
    low, high = float(loss.min()), float(loss.max())
    if not high > low:
        low, high = low * 0.999, high * 1.001
    return np.geomspace(low, high, 16)


def figure(data: dict) -> Any:
    """The landscape as a matplotlib Figure: the map with the four walks, the 1-D slice, and L per step."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter

    from .experiments import new_figure

    figure, (map_axes, line_axes, loss_axes) = new_figure(3, width=5.4)
    figure.set_size_inches(17, 5.2)
    figure.subplots_adjust(left=0.05, right=0.98, bottom=0.12, top=0.86, wspace=0.28)
    grid = data["grid"]
    loss = np.asarray(grid["loss"])
    levels = _contour_levels(loss)
    filled = map_axes.contourf(grid["x"], grid["y"], loss, levels=levels, norm=LogNorm(), cmap="viridis")
    map_axes.contour(grid["x"], grid["y"], loss, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    bar_note = rounding_note(COLOUR_BAR_DIGITS, significant=True)
    figure.colorbar(filled, ax=map_axes, label=f"loss L, log scale ({bar_note})",
                    format=FuncFormatter(lambda value, _: rounded_text(value, COLOUR_BAR_DIGITS, "g")))
    window = (grid["x"][0], grid["x"][-1], grid["y"][0], grid["y"][-1])
    for rank, path in enumerate(data["paths"]):
        colour, rate, points = _colour(path["learning_rate"], rank), path["learning_rate"], path["points"]
        map_axes.plot([p["weights"][0] for p in points], [p["weights"][1] for p in points], "-o", color=colour,
                      markersize=3.5, linewidth=1.2, label=f"η = {rate:g}: {path['label']}")  # clipped to the map
        on_map = [point for point in points if not _off_map(point, window)]
        _arrow(map_axes, on_map[-1], window, colour)
        if len(on_map) < len(points):
            last = points[-1]
            map_axes.text(0.03, 0.97, f"η = {rate:g} leaves the map at step {points[len(on_map)]['step']};\n"
                          f"L = {last['text']['loss']} after {counted(last['step'], 'step')}",
                          transform=map_axes.transAxes, va="top", fontsize=8.5, color=colour,
                          bbox={"facecolor": "white", "alpha": 0.85})
    map_axes.set_xlim(window[0], window[1])
    map_axes.set_ylim(window[2], window[3])
    map_axes.set_xlabel(data["weights"][0]["label"])  # the learner's name, the code's index beside it
    map_axes.set_ylabel(data["weights"][1]["label"])
    map_axes.set_title(f"L over ({data['weights'][0]['symbol']}, {data['weights'][1]['symbol']}); "
                       "arrows: −∇L, the way downhill", fontsize=10)
    map_axes.legend(fontsize=8, loc="lower right")
    line = data["slice_1d"]
    line_axes.plot(line["x"], line["loss"], color="#333", linewidth=1.2)
    line_window = (line["x"][0], line["x"][-1])
    low, high = min(line["loss"]), max(line["loss"])
    for rank, path in enumerate(line["paths"]):
        colour = _colour(path["learning_rate"], rank)
        shown = [p for p in path["points"] if line_window[0] <= p["weights"][0] <= line_window[1]]
        line_axes.plot([p["weights"][0] for p in shown], [p["loss"] for p in shown], "-o", color=colour,
                       markersize=3.5, linewidth=0.8, label=f"η = {path['learning_rate']:g}: {path['label']}")
    margin = 0.05 * (high - low) or 0.001 * abs(high) or 1.0  # a flat slice: a band around its one value
    line_axes.set_ylim(low - margin, high + margin)
    line_axes.set_xlabel(f"{line['label']}, everything else fixed")
    line_axes.set_ylabel("loss L")
    line_axes.set_title(f"1-D slice: the slope under your feet is ∂L/∂{line['symbol']}", fontsize=10)
    line_axes.legend(fontsize=8)
    for rank, path in enumerate(data["paths"]):
        loss_axes.plot([p["step"] for p in path["points"]], np.log10([p["loss"] for p in path["points"]]), "-o",
                           color=_colour(path["learning_rate"], rank), markersize=3,
                           label=f"η = {path['learning_rate']:g}: {path['label']}")
    loss_axes.set_xlabel("step")
    loss_axes.set_ylabel("log₁₀ L  (2 = a loss of 100, 24 = 10²⁴)")  # matplotlib's log axis overflows near 1e308
    loss_axes.set_title("the same four walks: L per step", fontsize=10)
    loss_axes.legend(fontsize=8)
    figure.suptitle(data["title"] + f"  ({data['loss']['convention'].split(':')[0]})", fontsize=11)
    figure.text(0.5, 0.925, PRECISION_NOTE, ha="center", fontsize=8.5)  # for the L written on the map
    return figure


def save(data: dict, folder: str | Path) -> list[Path]:
    """Write ``landscape.png``, ``landscape.svg`` and ``landscape.json`` into ``folder`` (atomically)."""
    folder = Path(folder)
    drawing = figure(data)
    files = []
    for kind in ("png", "svg"):
        buffer = io.BytesIO()
        drawing.savefig(buffer, format=kind, dpi=100)
        files.append(write_atomically(folder / f"landscape.{kind}", buffer.getvalue()))
    files.append(write_atomically(folder / "landscape.json", to_json(data)))
    return files
