"""Safe Markdown rendering and the stable-prefix logic behind incremental streaming."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ui.markdown_html import RenderUpdate, StreamingMarkdown, render_markdown, stable_prefix_length

SAMPLES = [
    "# Title\n\nSome *para* with `code` and **bold**.\n\n- one\n- two\n  - nested\n\n1. first\n2. second\n\n"
    "```python\ndef f(x):\n    return x\n\n\nprint(f(1))\n```\n\n> quote\n> more\n\n---\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\nEnd.\n",
    "Para one\nstill one\n\nPara two\n# Heading right after\nText\n```\nunclosed fence\n\nwith blank\n",
    "- a\n\n- b\n\n  continued\n\n- c\n\nafter list\n\n    indented code\n\n    more\n\ntext\n~~~\ntilde\n~~~\n***\n",
    "Setext\n===\n\nAnother\n---\npara\n\n| x |\n|--|\n| y |\nlazy row\n\nEnd.",
    "#\n\n- \n- a\n\n> \n\n```\n```\n\n| a | b |\n|---|---|\n| c |\n\n---\nend\n",  # empty blocks
    "> quote\nlazy\n\n> ```\n> code\n\nout\n\n1) one\n2) two\n\n3. three\n\n+ plus\n\n* star\n",
]


def _stream_in_chunks(text: str, seed: int) -> tuple[StreamingMarkdown, str]:
    rnd = random.Random(seed)
    stream = StreamingMarkdown()
    stable: list[str] = []
    i = 0
    while i < len(text):
        j = i + rnd.randint(1, 12)
        stable.append(stream.append(text[i:j]).stable_html)
        i = j
    final = stream.finish()
    assert not final.replace_all
    stable.append(final.stable_html)
    return stream, "".join(stable)


# --- whole-text rendering -------------------------------------------------------------------


def test_headings_lists_and_emphasis() -> None:
    html = render_markdown("# Title\n\n## Sub\n\n- one\n- two\n\n1. first\n\n*it* **bold** ~~gone~~")
    assert "<h1>Title</h1>" in html
    assert "<h2>Sub</h2>" in html
    assert "<ul>" in html and "<li>one</li>" in html
    assert "<ol>" in html
    assert "<em>it</em>" in html and "<strong>bold</strong>" in html
    assert "<s>gone</s>" in html


def test_fenced_code_is_monospace_pre_and_escaped() -> None:
    html = render_markdown("```\nif a < b:\n    pass\n```\n")
    assert "<pre" in html and "monospace" in html
    assert "if a &lt; b:" in html
    assert "\n</code>" not in html  # no empty last line in the view


def test_fenced_code_with_language_is_highlighted_with_inline_styles() -> None:
    html = render_markdown("```python\ndef f():\n    return 1\n```\n")
    assert '<span style="' in html
    assert "class=" not in html
    plain = render_markdown("```python\ndef f():\n    return 1\n```\n", highlight=False)
    assert "<span" not in plain


def test_unknown_language_falls_back_to_plain_code() -> None:
    html = render_markdown("```no-such-language\nx\n```\n")
    assert "<pre" in html and ">x</code>" in html


def test_tables() -> None:
    html = render_markdown("| a | b |\n|---|--:|\n| 1 | 2 |\n")
    assert "<table" in html and "<th>a</th>" in html and "<td>1</td>" in html


@pytest.mark.parametrize(
    "raw",
    ['<img src="http://example.com/x.png">', "<script>alert(1)</script>", '<iframe src="http://e/"></iframe>'],
)
def test_raw_html_is_escaped_as_text(raw: str) -> None:
    for text in (raw, f"before {raw} after", f"{raw}\n\npara"):
        html = render_markdown(text)
        assert "<img" not in html and "<script" not in html and "<iframe" not in html
        assert "&lt;" in html


def test_markdown_image_becomes_text_with_alt_and_url() -> None:
    html = render_markdown("look ![a *cat*](http://evil/x.png \"t\") here")
    assert "<img" not in html
    assert "[image: a cat]" in html and "http://evil/x.png" in html
    assert "<a " not in html


def test_only_http_https_and_mailto_links_stay_links() -> None:
    html = render_markdown(
        "[w](https://example.com) [h](http://example.com) <me@example.org> "
        "[js](javascript:alert(1)) [rel](/etc/passwd) [file](file:///etc/passwd) [ftp](ftp://x/y)"
    )
    assert '<a href="https://example.com">w</a>' in html
    assert '<a href="http://example.com">h</a>' in html
    assert '<a href="mailto:me@example.org">' in html
    assert html.count("<a ") == 3
    assert " rel " in html and " ftp" in html  # the link text survives as text
    assert "[file](file:///etc/passwd)" in html  # markdown-it refuses these links outright
    assert 'href="javascript' not in html


# --- stable prefix --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("para", 0),
        ("para\n\n", 0),  # nothing has started after it yet
        ("a\n\nb", 0),
        ("a\n\nb\n", 0),  # the line after the new block's first line is not complete
        ("a\n\nb\nc\n", 3),
        ("# H\ntext\n\n", 4),
        ("```\ncode\n\nmore\n\n\n", 0),  # blank lines inside an open fence
        ("text\n\n```\ncode\n\nmore\n\n", 6),
        ("```\ncode\n```\nafter\n\n", len("```\ncode\n```\n")),
        ("- a\n\n- b\n\n- c\n\n", 0),  # a loose list goes on
        ("- a\n\n  more\n\n", 0),
        ("para\n| a | b |\n", 0),  # may still become a table
    ],
)
def test_stable_prefix_length_cases(text: str, expected: int) -> None:
    assert stable_prefix_length(text) == expected


@pytest.mark.parametrize("text", SAMPLES)
def test_every_stable_prefix_is_a_real_block_boundary(text: str) -> None:
    previous = 0
    for n in range(len(text) + 1):
        p = stable_prefix_length(text[:n])
        assert p >= previous, "stable text never becomes unstable again"
        previous = p
        if p:
            assert render_markdown(text[:p]) + render_markdown(text[p:]) == render_markdown(text)


# --- streaming ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("text", SAMPLES)
def test_streaming_stable_html_equals_whole_render(text: str, seed: int) -> None:
    stream, html = _stream_in_chunks(text, seed)
    assert html == render_markdown(text)
    assert stream.text == text


_LINES = st.sampled_from(
    [
        "# heading", "para text", "more *words* and `code`", "- item", "  - nested", "1. one", "2) two",
        "```", "```python", "~~~", "> quote", "", "", "    indented", "| a | b |", "|---|---|",
        "***", "Setext", "===", "---", "[link](http://x.com)", "x = 1", "+ plus",
    ]
)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_LINES, max_size=25), cuts=st.lists(st.integers(1, 15), min_size=1, max_size=40))
def test_streaming_equals_whole_render_for_generated_markdown(lines: list[str], cuts: list[int]) -> None:
    text = "\n".join(lines)
    stream = StreamingMarkdown()
    html: list[str] = []
    i = k = 0
    while i < len(text):
        j = i + cuts[k % len(cuts)]
        html.append(stream.append(text[i:j]).stable_html)
        i, k = j, k + 1
    html.append(stream.finish().stable_html)
    assert "".join(html) == render_markdown(text)


def test_tail_is_rerendered_until_blocks_finish() -> None:
    stream = StreamingMarkdown()
    update = stream.append("Hello *wor")
    assert update.stable_html == "" and "Hello" in update.tail_html
    update = stream.append("ld*\n\nNext\n\n")
    assert update.stable_html == "<p>Hello <em>world</em></p>\n"
    assert update.tail_html == "<p>Next</p>\n"
    assert stream.tail_text == "Next\n\n"


def test_crlf_split_across_deltas_is_one_newline() -> None:
    stream = StreamingMarkdown()
    for delta in ("a\r", "\n\r", "\nb\r"):
        stream.feed(delta)
    stream.finish()
    assert stream.text == "a\n\nb\n"


def test_reference_defined_after_shown_blocks_rerenders_once_at_finish() -> None:
    text = "See [the docs][d].\n\nMore text.\n\nEven more.\n\n[d]: https://example.com\n"
    stream = StreamingMarkdown()
    for ch in text:
        stream.append(ch)
    final = stream.finish()
    assert final.replace_all
    assert final.stable_html == render_markdown(text)
    assert '<a href="https://example.com">the docs</a>' in final.stable_html


def test_parse_cost_per_render_does_not_grow_with_total_length() -> None:
    stream = StreamingMarkdown()
    costs: list[int] = []
    paragraphs = 0
    for i in range(2000):
        before = stream.parsed_chars
        paragraphs += stream.append(f"Paragraph {i} with some *emphasis* and `code`.\n\n").stable_html.count("<p>")
        costs.append(stream.parsed_chars - before)
    assert sum(costs[-10:]) <= 3 * sum(costs[:10])
    assert len(stream.tail_text) < 200
    paragraphs += stream.finish().stable_html.count("<p>")
    assert paragraphs == 2000


def test_empty_blocks_get_a_no_break_space() -> None:
    html = render_markdown("#\n\n- \n- a\n\n> \n\n```\n```\n\n| a | b |\n|---|---|\n| c |\n")
    for fragment in ("<h1>\u00a0</h1>", "<li>\u00a0</li>", "<p>\u00a0</p>", "<td>\u00a0</td>", ">\u00a0</code></pre>"):
        assert fragment in html


# --- open blocks: long lists and fences cut at items and lines ---------------------------------

LONG_LIST = "Intro.\n\n" + "".join(f"- item {i} with *emphasis* and `code`\n" for i in range(60)) + "\nAfter.\n"
LONG_ORDERED = "".join(f"{i + 3}. step {i}\n" for i in range(40)) + "\nEnd.\n"
LONG_FENCE = "Code:\n\n```python\n" + "".join(f"x_{i} = {i}  # <tag>\n" for i in range(60)) + "```\n\nDone.\n"
TURNS_LOOSE = "".join(f"- tight {i}\n" for i in range(20)) + "\n- now loose\n- more\n"
PARAGRAPH_LESS_LOOSE = "- ```\n  a\n  ```\n\n- ```\n  b\n  ```\n- text item\n- another\n"
OPEN_BLOCK_SAMPLES = [
    LONG_LIST, LONG_ORDERED, LONG_FENCE, TURNS_LOOSE, PARAGRAPH_LESS_LOOSE,
    "- a\n  - nested\n  - more\n- b\n\n  second para\n- c\n  ```\n  code\n  ```\n- d\n",
    "1. one\n\t- tab\n1.\n2. two\n-\n",  # a nested list, then the outer one goes on
    "   - three\n   - spaces\n - one\n- none\n",
    "- [r] uses a ref\n- b\n- c\n\n[r]: https://example.com\n",
    "~~~\n\n~~~~\nx\n~~~\n\n````\n```\nstill code\n````\n",
    "  ```\n  indented fence\n    keeps two\n  ```\n- list\n- after\n* other list\n* goes\n",
    "```\n\n\n   \n```\n\n```js\nlet a = 1;\n```\n",
    "- -\n- * *\n- ---\n1) x\n1) y\n2. z\n",
]


def _stream_pieces(text: str, cuts: list[int]) -> tuple[StreamingMarkdown, list[RenderUpdate]]:
    stream = StreamingMarkdown()
    updates = []
    i = k = 0
    while i < len(text):
        j = i + cuts[k % len(cuts)]
        updates.append(stream.append(text[i:j]))
        i, k = j, k + 1
    updates.append(stream.finish())
    return stream, updates


@pytest.mark.parametrize("cuts", [[1], [3, 1, 7], [12, 30], [200]])
@pytest.mark.parametrize("text", OPEN_BLOCK_SAMPLES)
def test_open_blocks_stream_to_the_whole_render(text: str, cuts: list[int]) -> None:
    _stream, updates = _stream_pieces(text, cuts)
    assert not any(u.replace_all for u in updates[:-1])
    html = updates[-1].stable_html if updates[-1].replace_all else "".join(u.stable_html for u in updates)
    assert html == render_markdown(text)


def test_a_long_list_is_cut_at_its_items_and_shown_piece_by_piece() -> None:
    stream, updates = _stream_pieces(LONG_LIST, [5])
    added = [u for u in updates if u.open_html]
    assert len(added) >= 50  # the items came one at a time
    assert all(u.open_context for u in added[1:])  # each continued the list after the last shown item
    assert sum(u.open_reset for u in updates) == 0
    assert len(stream.tail_text) == 0
    closed = [u for u in updates if u.open_closed]
    assert len(closed) == 1 and closed[0].stable_html.startswith("<ul>")


def test_a_list_that_turns_loose_is_shown_again_once() -> None:
    _stream, updates = _stream_pieces(TURNS_LOOSE, [4])
    resets = [u for u in updates if u.open_reset]
    assert len(resets) == 1 and resets[0].open_html.count("<p>") == 20  # the 20 tight items, now loose


def test_a_closed_fence_with_a_language_is_shown_again_highlighted() -> None:
    _stream, updates = _stream_pieces(LONG_FENCE, [6])
    assert any(u.open_html and "x_30" in u.open_html and "<span" not in u.open_html for u in updates)
    [closed] = [u for u in updates if u.open_closed]
    assert closed.open_reset and '<span style="' in closed.open_html


@pytest.mark.parametrize(("shape", "line"), [
    ("list", lambda i: f"- item {i}: *some* `code` and [a link](https://e.org/{i})\n"),
    ("ordered", lambda i: f"{i + 1}. step {i} with **bold** text\n"),
    ("fence", lambda i: f"    value_{i} = compute({i})  # <b>\n"),
])
def test_parse_cost_per_render_inside_an_open_block_does_not_grow(shape, line) -> None:
    stream = StreamingMarkdown()
    stream.append("Intro\n\n" + ("```python\n" if shape == "fence" else ""))
    costs = []
    for i in range(400):
        before = stream.parsed_chars
        stream.append(line(i))
        costs.append(stream.parsed_chars - before)
    assert sum(costs[-10:]) <= 3 * sum(costs[5:15])
    assert len(stream.tail_text) < 300


_OPEN_LINES = st.sampled_from(
    [
        "- item", "- *em* item", "* star", "+ plus", "1. one", "7. seven", "2) paren", "  - nested", "    - deeper",
        "  continued", "lazy line", "", "", "", "```", "```python", "~~~", "  ```", "x = 1", "  code", "-", "1.",
        "- [r]", "[r]: http://r.org", "# heading", "---", "> quote", "para",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    head=st.lists(_OPEN_LINES, max_size=4),
    items=st.lists(st.sampled_from(["- it", "1. it", "* it", "- it\n", "- it\n  more", "- it\n  ```\n  c\n  ```"]),
                   min_size=2, max_size=20),
    code=st.lists(st.sampled_from(["c = 1", "", "  x", "if a < b:", "```", "~~~"]), max_size=12),
    tail=st.lists(_OPEN_LINES, max_size=8),
    fence_first=st.booleans(),
    cuts=st.lists(st.integers(1, 15), min_size=1, max_size=30),
)
def test_generated_lists_and_fences_stream_to_the_whole_render(head, items, code, tail, fence_first, cuts) -> None:
    lists = [f"{item} {i}" if "\n" not in item else item.replace("it", f"it {i}", 1) for i, item in enumerate(items)]
    fence = ["```py", *code] if code else []
    body = (fence + lists) if fence_first else (lists + fence)
    text = "\n".join(head + body + tail)
    _stream, updates = _stream_pieces(text, cuts)
    assert not any(u.replace_all for u in updates[:-1])  # never had to start over
    html = updates[-1].stable_html if updates[-1].replace_all else "".join(u.stable_html for u in updates)
    assert html == render_markdown(text)
