"""Model and server text for a terminal: no control character but newline and tab survives."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from app.domain.terminal_text import escape_json_controls, strip_controls

# Text rich in controls: ESC sequences, OSC, C1, carriage returns, and ordinary characters.
CONTROLS = st.sampled_from(["\x1b", "\x9b", "\x9d", "\x07", "\r", "\x00", "\x7f", "\x08", "\x85", "\n", "\t"])
PIECES = st.one_of(CONTROLS, st.text(max_size=8), st.sampled_from(["[2J", "]0;pwned", "]52;c;aGk=", "é", "🙂"]))
HOSTILE = st.lists(PIECES, max_size=30).map("".join)


def allowed(c: str) -> bool:
    return unicodedata.category(c) != "Cc" or c in "\n\t"


@given(HOSTILE)
def test_only_newline_and_tab_of_the_controls_survive_and_nothing_else_is_lost(text):
    out = strip_controls(text)
    assert all(allowed(c) for c in out)
    assert out == "".join(c for c in text if allowed(c))


@given(HOSTILE, HOSTILE)
def test_streamed_pieces_clean_the_same_as_the_whole(a, b):
    assert strip_controls(a) + strip_controls(b) == strip_controls(a + b)


def test_the_attacks_of_the_issue_lose_their_escape_character():
    text = "\x1b[2J\x1b]0;owned\x07\x1b]52;c;aGVsbG8=\x07\x9b31mred\r\nok\tdone"
    assert strip_controls(text) == "[2J]0;owned]52;c;aGVsbG8=31mred\nok\tdone"


@given(st.recursive(st.none() | HOSTILE | st.integers(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE, inner, max_size=4),
                    max_leaves=12))
def test_json_keeps_its_value_and_writes_no_raw_control(value):
    text = escape_json_controls(json.dumps(value, ensure_ascii=False, indent=2))
    assert json.loads(text) == value
    assert all(allowed(c) for c in text)
