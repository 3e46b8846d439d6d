"""The chapter map: the lessons' diagram of a network, Y → H → X, each part filled in when its chapter is complete.

The diagram is drawn top-down in the order the gradient travels: the loss L, the outputs Y, the
weights W₂, the hidden units H, the weights W₁, the inputs X, with a skip connection beside them
and, below, four boxes for what acts on every weight (the update, the learning rate, the optimizer,
the gradient check). It is narrow and tall, so that a phone shows it at a readable size. Each
chapter file names one part (``map_part``); a part is filled once every chapter naming it is
complete, and is labelled with those chapters' numbers.

The same map is drawn as SVG (the page, Jupyter: :meth:`ChapterMap._repr_svg_`) and as text
(``glassgrad learn`` in the terminal).

>>> from glassgrad.course import load_course
>>> chapter_map = ChapterMap(load_course(), {"gradient"})
>>> chapter_map.part("loss").done
True
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from rich.cells import cell_len

from .chapters import Chapter, Course

PARTS = {
    "loss": ("L", "the loss"),
    "output": ("Y", "the outputs ŷ"),
    "weights-out": ("W₂", "the weights into Y"),
    "hidden": ("H", "the hidden units"),
    "weights-in": ("W₁", "the weights into H"),
    "input": ("X", "the inputs"),
    "skip": ("skip", "a skip connection"),
    "update": ("w ← w − η·g", "the update"),
    "learning-rate": ("η", "the learning rate"),
    "optimizer": ("Adam", "the optimizer"),
    "gradient-check": ("check", "the gradient check"),
}
"""Every part of the diagram, in the order the gradient meets them: (its symbol, what it is)."""

LAYERS = {"output": 4, "hidden": 3, "input": 4}
"""Units drawn in each layer (the lessons' 4→3→4 network)."""
WIDTH, HEIGHT = 310, 400
TEXT_WIDTH = 80
"""The columns of the text map: an 80-column terminal shows it without breaking a line."""
FILLED, EMPTY, LINE, FAINT = "#1d7a6f", "#ffffff", "#5b6770", "#c9d1d6"


@dataclass(frozen=True)
class Part:
    """One part of the map: its key, the chapters that fill it, and whether all of them are complete."""

    key: str
    chapters: tuple[Chapter, ...]
    done: bool

    @property
    def label(self) -> str:
        return ", ".join(str(chapter.number) for chapter in self.chapters)


class ChapterMap:
    """The map of ``course`` with the chapters in ``completed`` (ids) filled in."""

    def __init__(self, course: Course, completed: set[str] | frozenset[str]) -> None:
        self.course = course
        self.completed = frozenset(completed)

    def part(self, key: str) -> Part:
        chapters = tuple(chapter for chapter in self.course.chapters if chapter.map_part == key)
        return Part(key, chapters, bool(chapters) and all(c.id in self.completed for c in chapters))

    def parts(self) -> list[Part]:
        return [self.part(key) for key in PARTS]

    def count(self) -> tuple[int, int]:
        """(chapters complete, chapters in the course)."""
        return sum(c.id in self.completed for c in self.course.chapters), len(self.course.chapters)

    # --- text ----------------------------------------------------------------------------------------------------

    def text(self) -> str:
        """The map for a terminal: one line per part, top (the loss) to bottom (the inputs), ■ complete, □ to do.

        Every line fits :data:`TEXT_WIDTH` columns, counted as a terminal shows them (a wide character, CJK, takes
        two): a part's chapter titles that would go past it continue on the next line, under the part's name (a
        single word longer than the room left stays whole).
        """
        done, total = self.count()
        lines = [f"Chapter map: Y → H → X ({done} of {total} chapters complete; ■ complete, □ to do)"]
        for part in self.parts():
            symbol, name = PARTS[part.key]
            if part.key in LAYERS:
                drawing = " ".join(("●" if part.done else "○") for _ in range(LAYERS[part.key]))
            elif part.key.startswith("weights"):
                drawing = "┃ ┃ ┃" if part.done else "┊ ┊ ┊"
            else:
                drawing = "■" if part.done else "□"
            titles = "; ".join(f"{c.number}. {c.title}" for c in part.chapters) or "(no chapter)"
            mark = "■" if part.done else "□"
            head = f"  {symbol:<11} {drawing:<8} {mark} "
            lines += _fill_cells(f"{name}: {titles}", head, " " * cell_len(head))
        return "\n".join(lines)

    # --- SVG -----------------------------------------------------------------------------------------------------

    def svg(self) -> str:
        """The map as a standalone SVG (no scripts, no outside references)."""
        done, total = self.count()
        parts = {part.key: part for part in self.parts()}
        body = [self._title(done, total), self._skip(parts["skip"]), self._weights(parts["weights-out"], "output",
                                                                                  "hidden", 112, 182),
                self._weights(parts["weights-in"], "hidden", "input", 182, 252), self._loss(parts["loss"])]
        body += [self._layer(parts[key], y) for key, y in (("output", 112), ("hidden", 182), ("input", 252))]
        body += [self._box(parts[key], 10 + 150 * (place % 2), 290 + 54 * (place // 2)) for place, key in
                 enumerate(("update", "learning-rate", "optimizer", "gradient-check"))]
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
                f'height="{HEIGHT}" role="img" aria-label="Chapter map: {done} of {total} chapters complete" '
                f'class="chapter-map" font-family="system-ui, sans-serif" font-size="13">'
                + "".join(body) + "</svg>")

    def _group(self, part: Part, inner: str, caption: str) -> str:
        titles = "; ".join(f"{c.number}. {c.title}" for c in part.chapters) or "no chapter"
        state = "complete" if part.done else "to do"
        return (f'<g data-part="{part.key}" data-done="{str(part.done).lower()}"><title>'
                f'{escape(PARTS[part.key][1])}: {escape(titles)} ({state})</title>{inner}{caption}</g>')

    def _stroke(self, part: Part) -> str:
        if not part.chapters:
            return f'stroke="{FAINT}" stroke-dasharray="3 3"'
        return f'stroke="{FILLED}"' if part.done else f'stroke="{LINE}" stroke-dasharray="4 3"'

    def _fill(self, part: Part) -> str:
        return FILLED if part.done else EMPTY

    def _label(self, part: Part, x: float, y: float, anchor: str = "start") -> str:
        if not part.chapters:
            return ""
        text = "ch. " + part.label
        return (f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="{FILLED if part.done else LINE}" '
                f'font-weight="{"bold" if part.done else "normal"}">{escape(text)}</text>')

    @staticmethod
    def _centres(key: str) -> list[float]:
        count = LAYERS[key]
        return [140 + (i - (count - 1) / 2) * 46 for i in range(count)]

    def _title(self, done: int, total: int) -> str:
        return (f'<text x="12" y="20" font-size="14" font-weight="bold" fill="#222">Y → H → X</text>'
                f'<text x="12" y="38" fill="{LINE}">{done} of {total} chapters complete</text>')

    def _loss(self, part: Part) -> str:
        shape = (f'<rect x="120" y="48" width="40" height="28" rx="6" fill="{self._fill(part)}" '
                 f'{self._stroke(part)} stroke-width="2"/>'
                 f'<text x="140" y="67" text-anchor="middle" fill="{"#fff" if part.done else "#222"}">L</text>'
                 f'<line x1="140" y1="76" x2="140" y2="98" stroke="{LINE}"/>')
        return self._group(part, shape, self._label(part, 168, 67))

    def _layer(self, part: Part, y: float) -> str:
        symbol = PARTS[part.key][0]
        circles = "".join(f'<circle cx="{x}" cy="{y}" r="13" fill="{self._fill(part)}" {self._stroke(part)} '
                          f'stroke-width="2"/>' for x in self._centres(part.key))
        name = f'<text x="10" y="{y + 5}" font-size="15" font-weight="bold" fill="#222">{symbol}</text>'
        return self._group(part, name + circles, self._label(part, 238, y + 4))

    def _weights(self, part: Part, upper: str, lower: str, y1: float, y2: float) -> str:
        lines = "".join(f'<line x1="{a}" y1="{y1 + 13}" x2="{b}" y2="{y2 - 13}" {self._stroke(part)} '
                        f'stroke-width="{2 if part.done else 1}"/>'
                        for a in self._centres(upper) for b in self._centres(lower))
        caption = (f'<text x="210" y="{(y1 + y2) / 2 + 4}" fill="#222">{PARTS[part.key][0]}</text>'
                   + self._label(part, 238, (y1 + y2) / 2 + 4))
        return self._group(part, lines, caption)

    def _skip(self, part: Part) -> str:
        # bowed out to the left, its name between Y and H: clear of the curve, the weights and the circles
        path = (f'<path d="M 60 248 C 18 226, 18 138, 60 116" fill="none" {self._stroke(part)} '
                f'stroke-width="{3 if part.done else 1.5}"/>')
        return self._group(part, path, '<text x="40" y="150" fill="#222">skip</text>'
                                       + self._label(part, 40, 166))

    def _box(self, part: Part, x: float, y: float) -> str:
        symbol, name = PARTS[part.key]
        colour = "#fff" if part.done else "#222"
        shape = (f'<rect x="{x}" y="{y}" width="140" height="44" rx="6" fill="{self._fill(part)}" '
                 f'{self._stroke(part)} stroke-width="2"/>'
                 f'<text x="{x + 8}" y="{y + 18}" fill="{colour}" font-weight="bold">{escape(symbol)}</text>'
                 f'<text x="{x + 8}" y="{y + 35}" fill="{colour}">{escape(name)}</text>')
        label = "" if not part.chapters else (
            f'<text x="{x + 132}" y="{y + 18}" text-anchor="end" fill="{colour}">ch. {escape(part.label)}</text>')
        return self._group(part, shape, label)

    # --- Jupyter -------------------------------------------------------------------------------------------------

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_html_(self) -> str:
        done, total = self.count()
        return (f'<figure style="margin:0">{self.svg()}<figcaption>{escape(self.course.title)}: {done} of {total} '
                "chapters complete</figcaption></figure>")


def _fill_cells(text: str, first: str, rest: str) -> list[str]:
    """``text`` broken between words into lines of at most :data:`TEXT_WIDTH` terminal cells, the first line after
    ``first``, the others after ``rest``. A line's width is the sum of its characters' cells (rich's ``cell_len``:
    2 for a wide character such as CJK), not its count of characters; a word longer than the room stays whole."""
    lines, line, empty = [], first, True
    for word in text.split():
        if not empty and cell_len(f"{line} {word}") > TEXT_WIDTH:
            lines.append(line)
            line, empty = rest, True
        line, empty = (line + word if empty else f"{line} {word}"), False
    return [*lines, line]
