"""Text that Ponder did not write itself (a model's or a server's), made safe for a terminal.

A terminal obeys control characters: ESC starts sequences that clear the screen (``ESC[2J``),
set the window title (OSC 0) or write the clipboard (OSC 52), a carriage return overwrites
what was printed, and C1 controls (U+0080–U+009F) are the same sequences in one character.
:func:`strip_controls` removes every control character except newline and tab; it works one
character at a time, so streamed pieces may be cleaned one by one. :func:`escape_json_controls`
is for JSON text: ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls but writes DEL
and C1 controls raw.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but \t \n, DEL, C1
_RAW_IN_JSON = re.compile("[\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """``text`` without C0 controls (other than newline and tab), DEL and C1 controls."""
    return _CONTROLS.sub("", text)


def escape_json_controls(json_text: str) -> str:
    """JSON text with DEL and the C1 controls written as ``\\u00XX``: the same JSON value.

    These characters can only occur inside JSON strings (the syntax is ASCII), where an
    escape means the same character.
    """
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)
