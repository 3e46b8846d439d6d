"""One entry point to every renderer: a described trace as text, Markdown, HTML or JSON."""

from __future__ import annotations

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
