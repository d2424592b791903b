"""Values from files and the command line, shown on a terminal as text and never as markup.

A kecamatan called ``Amplas [/bold]``, a path ``x[/b].toml`` or a name holding an ANSI or OSC
escape must print as the characters it holds: rich would read the first two as markup (and fail or
make a hyperlink), a terminal would obey the third. ``printable`` escapes control characters,
``plain`` also escapes rich markup, and ``TextTable`` makes every cell and title plain text.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text


def _escaped(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(value: object) -> str:
    """``value`` as text with every control or format character written as an escape."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escaped(ch) for ch in text)


def plain(value: object) -> str:
    """``value`` ready to be put inside a rich markup string: shown exactly, styled by nothing."""
    return escape(printable(value))


def text(value: object, style: str = "") -> Text:
    return Text(printable(value), style=style)


class TextTable(Table):
    """A rich table whose string cells and title are plain text; style a cell with ``text()``."""

    def __init__(self, title: str | None = None, **kwargs: Any) -> None:
        super().__init__(title=text(title) if title is not None else None, **kwargs)

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(text(r) if isinstance(r, str) else r for r in renderables), **kwargs)
