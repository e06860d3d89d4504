"""Pays the one-off costs of the first rendered answer while the app is idle.

The first Markdown render in a process builds the parser, loads fonts and imports
Pygments' lexers (~150 ms here). Done once right after the window shows, that cost no
longer lands in the middle of the first streamed answer as a GUI stall.
"""

from __future__ import annotations

SAMPLE = "# Title\n\nSome **bold** text and `code`.\n\n- one\n- two\n\n```python\nprint('hello')\n```\n\nEnd.\n"


def warm_up_rendering() -> None:
    from app.ui.markdown_view import MarkdownView

    view = MarkdownView()
    view.append_text(SAMPLE)
    view.flush()
    view.finish()
    view.deleteLater()
