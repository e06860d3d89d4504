"""MarkdownView: safe display of model output, incremental streaming, links and sizing."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QUrl, Qt
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtNetwork import QNetworkAccessManager
from PySide6.QtWidgets import QApplication, QFrame, QVBoxLayout, QWidget

from app.ui.markdown_view import MarkdownView

# Shown top-level windows on the offscreen platform warn about size hints; harmless here.
shown = pytest.mark.qt_log_ignore("propagateSizeHints")

UNSAFE = (
    'Look <img src="http://example.com/x.png"> and <script>alert(1)</script> here.\n\n'
    "![x](http://evil/x.png)\n\n"
    '<iframe src="http://example.com/"></iframe>\n'
)

TEXTS = [
    "# Title\n\nSome *para* with `code` and **bold**.\n\n- one\n- two\n  - nested\n\n1. first\n2. second\n\n"
    "```python\ndef f(x):\n    return x\n\n\nprint(f(1))\n```\n\n> quote\n> more\n\n---\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\nEnd ![x](http://evil/x.png).\n",
    "Para one\nstill one\n\nPara two\n# Heading right after\nText\n```\nunclosed fence\n\nwith blank\n",
    "- a\n\n- b\n\n  continued\n\n- c\n\nafter list\n\n    indented code\n\n    more\n\ntext\n~~~\ntilde\n~~~\n***\n",
    "Setext\n===\n\nAnother\n---\npara\n\n| x |\n|--|\n| y |\nlazy row\n\n## End",
    "#\n\n- \n- a\n\n> \n\n```\n```\n\n| a | b |\n|---|---|\n| c |\n\n---\nend\n",  # empty blocks
]


def _blocks(doc: QTextDocument) -> list[tuple]:
    """The document's block structure: text, heading level, list style and code-ness."""
    out = []
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        text_list = block.textList()
        out.append(
            (
                block.text(),
                fmt.headingLevel(),
                text_list.format().style() if text_list else None,
                fmt.nonBreakableLines(),
                fmt.leftMargin(),
                fmt.topMargin(),
            )
        )
        block = block.next()
    return out


def _has_images(doc: QTextDocument) -> bool:
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            if it.fragment().charFormat().isImageFormat():
                return True
            it += 1
        block = block.next()
    return False


@pytest.fixture
def host(qtbot) -> QWidget:
    widget = QWidget()
    QVBoxLayout(widget)
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    return widget


def _add_view(host: QWidget) -> MarkdownView:
    view = MarkdownView()
    host.layout().addWidget(view)
    return view


@pytest.fixture
def view(host: QWidget) -> MarkdownView:
    return _add_view(host)


def _stream(view: MarkdownView, text: str, seed: int) -> None:
    rnd = random.Random(seed)
    i = 0
    while i < len(text):
        j = i + rnd.randint(1, 20)
        view.append_text(text[i:j])
        view.flush()
        i = j
    view.finish()


def test_widget_is_a_frameless_read_only_selectable_view(view: MarkdownView) -> None:
    assert view.isReadOnly()
    assert view.frameShape() == QFrame.Shape.NoFrame
    assert not view.openLinks() and not view.openExternalLinks()
    assert view.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert view.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def test_headings_lists_and_code_blocks(view: MarkdownView) -> None:
    view.set_text("# Title\n\n- one\n- two\n\n```python\nx = 1\n```\n\nafter `inline`\n")
    blocks = {b[0]: b for b in _blocks(view.document())}
    assert blocks["Title"][1] == 1
    assert blocks["one"][2] is not None and blocks["two"][2] is not None
    assert blocks["x = 1"][3], "code keeps its line breaks (<pre>)"
    doc = view.document()
    for word in ("x = 1", "inline"):
        cursor = QTextCursor(doc)
        cursor.setPosition(doc.toPlainText().index(word) + 1)
        assert "monospace" in cursor.charFormat().fontFamilies()
    assert view.toPlainText() == "Title\none\ntwo\nx = 1\nafter inline"


def test_model_html_and_images_are_text_and_nothing_is_loaded(host: QWidget) -> None:
    whole = _add_view(host)
    whole.set_text(UNSAFE)
    streamed = _add_view(host)
    _stream(streamed, UNSAFE, seed=1)
    for view in (whole, streamed):
        shown_text = view.toPlainText()
        assert '<img src="http://example.com/x.png">' in shown_text
        assert "<script>alert(1)</script>" in shown_text
        assert '<iframe src="http://example.com/"></iframe>' in shown_text
        assert "[image: x] (http://evil/x.png)" in shown_text
        assert not _has_images(view.document())
        view.grab()  # paint, which is when images would be fetched
        assert view.blocked_resource_requests == 0
        assert view.findChildren(QNetworkAccessManager) == []
    assert QApplication.instance().findChildren(QNetworkAccessManager) == []


def test_load_resource_refuses_everything_and_counts(view: MarkdownView) -> None:
    doc = view.document()
    result = doc.resource(QTextDocument.ResourceType.ImageResource, QUrl("http://evil/x.png"))
    assert result is None
    assert view.blocked_resource_requests == 1
    doc.setHtml('<img src="file:///etc/hostname"><link rel="stylesheet" href="http://evil/s.css">')
    view.grab()
    assert view.blocked_resource_requests >= 2


def test_the_view_never_imports_qt_network() -> None:
    script = textwrap.dedent(
        """
        import sys
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from app.ui.markdown_view import MarkdownView
        view = MarkdownView()
        view.set_text(sys.argv[1])
        view.append_text("[a](https://example.com)")
        view.flush()
        view.finish()
        view.grab()
        print("PySide6.QtNetwork" in sys.modules, view.blocked_resource_requests)
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", script, UNSAFE],
        capture_output=True, text=True, timeout=120, env=env, cwd=os.getcwd(), check=True,
    )
    assert out.stdout.split() == ["False", "0"]


@shown
def test_clicking_a_link_emits_link_activated_and_opens_nothing(qtbot, host: QWidget, view: MarkdownView) -> None:
    view.set_text("Click [here](https://example.com/a) now.")
    host.show()
    qtbot.waitExposed(host)
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.toPlainText().index("here") + 2)
    with qtbot.waitSignal(view.linkActivated, timeout=2000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(cursor).center())
    assert blocker.args == [QUrl("https://example.com/a")]
    assert view.source() == QUrl()
    assert view.toPlainText() == "Click here now."


@pytest.mark.parametrize("seed", [3, 7])
@pytest.mark.parametrize("text", TEXTS)
def test_streaming_in_chunks_equals_loading_the_whole_text(host: QWidget, text: str, seed: int) -> None:
    whole = _add_view(host)
    whole.set_text(text)
    streamed = _add_view(host)
    _stream(streamed, text, seed)
    assert streamed.toPlainText() == whole.toPlainText()
    assert _blocks(streamed.document()) == _blocks(whole.document())
    assert streamed.plain_text() == text


def _shape(doc: QTextDocument) -> list[tuple]:
    """Text, heading level and list style of each block: what a reader sees of the structure."""
    return [(text, level, style) for text, level, style, *_ in _blocks(doc)]


# Words and the pieces that can turn a plain line into something else when they come later.
_PIECES = ["word", " word", " Word", ",", ".", " 1", "1", ". ", ")", " ", "  ", "&amp", ";", "\\", "*", "_",
           "`", "\n", "\n\n", "-", "#", " 2", "=", "|", "'", '"', "(", "<", ">", "[", "]", ":", "x"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=40))
@example(pieces=["1", ". ", "word"])  # a list item
@example(pieces=["word", "\n", "1", ")", " x"])  # one that interrupts the paragraph
@example(pieces=["x", "\n", "#", " word"])  # a heading
@example(pieces=["[", "word", "]", ":", "word"])  # a link reference definition: shows nothing
@example(pieces=["word &amp", ";"])  # an entity
@example(pieces=["x\\", "."])  # an escape
@example(pieces=["word", "  ", "x"])  # a double space, shown as one
@example(pieces=["word", " ", "x", " ", "\n\n", "y"])
def test_a_live_plain_paragraph_grows_to_what_the_whole_text_shows(host: QWidget, pieces: list[str]) -> None:
    """While it streams, plain text is appended to the shown paragraph without parsing it
    again; after every flush the view must show what the text so far shows when rendered
    whole (list items, entities, escapes and headings that later pieces complete)."""
    streamed = _add_view(host)
    whole = _add_view(host)
    text = ""
    for piece in pieces:
        text += piece
        streamed.append_text(piece)
        streamed.flush()
        whole.set_text(text)
        assert streamed.toPlainText().rstrip() == whole.toPlainText().rstrip(), repr(text)
        assert _shape(streamed.document())[:-1] == _shape(whole.document())[:-1], repr(text)
    streamed.deleteLater()
    whole.deleteLater()


def test_plain_words_are_appended_without_parsing_the_paragraph_again(view: MarkdownView) -> None:
    view.append_text("# A tale\n\nFirst paragraph.\n\nOnce upon a time")
    view.flush()
    before = view.stream.parsed_chars
    rest = " there lived a dragon who baked bread, and (it seems) liked it."
    for word in rest.split(" ")[1:]:
        view.append_text(" " + word)
        view.flush()
    assert view.stream.parsed_chars == before  # every word went in as text
    assert view.toPlainText() == "A tale\nFirst paragraph.\nOnce upon a time" + rest
    view.append_text(" *so*")  # emphasis: parsed again
    view.flush()
    assert view.stream.parsed_chars > before
    assert view.toPlainText() == "A tale\nFirst paragraph.\nOnce upon a time" + rest + " so"


def test_finished_blocks_are_inserted_once_and_the_tail_is_replaced(view: MarkdownView) -> None:
    view.append_text("# Head\n\nfirst para")
    view.flush()
    assert view.toPlainText() == "Head\nfirst para"
    view.append_text("graph\n\nsecond *it")
    view.flush()
    assert view.toPlainText() == "Head\nfirst paragraph\nsecond *it"
    assert view.stream.tail_text.startswith("first paragraph")
    view.append_text("*\n\nthird\n\n")
    view.flush()
    assert view.toPlainText() == "Head\nfirst paragraph\nsecond it\nthird"
    assert view.stream.tail_text == "third\n\n"
    before = view.stream.parsed_chars
    view.flush()  # nothing new: no work
    assert view.stream.parsed_chars == before
    view.finish()
    assert view.toPlainText() == "Head\nfirst paragraph\nsecond it\nthird"


def test_rendering_cost_per_flush_does_not_grow_with_length(view: MarkdownView, monkeypatch) -> None:
    inserted: list[int] = []
    original = MarkdownView._insert_html

    def counting(self: MarkdownView, cursor: QTextCursor, html: str) -> None:
        inserted[-1] += len(html)
        original(self, cursor, html)

    monkeypatch.setattr(MarkdownView, "_insert_html", counting)
    parsed: list[int] = []
    for i in range(300):
        view.append_text(f"Paragraph {i} with some *emphasis* and `code`.\n\n")
        inserted.append(0)
        before = view.stream.parsed_chars
        view.flush()
        parsed.append(view.stream.parsed_chars - before)
    view.finish()
    assert sum(parsed[-10:]) <= 3 * sum(parsed[:10])
    assert sum(inserted[-10:]) <= 3 * sum(inserted[2:12])  # the first flushes fill an empty document
    assert view.toPlainText().count("Paragraph") == 300


@shown
def test_height_follows_the_document_and_width_follows_the_parent(qtbot, host: QWidget, view: MarkdownView) -> None:
    host.layout().addStretch(1)
    host.show()
    qtbot.waitExposed(host)
    view.set_text("short")
    qtbot.waitUntil(lambda: view.height() >= view.document().size().height())
    short = view.height()
    view.set_text("word " * 300)
    qtbot.waitUntil(lambda: view.height() > short)
    tall = view.height()
    assert view.sizeHint().height() == tall
    assert view.height() >= view.document().size().height()
    assert view.width() == host.contentsRect().width() - host.layout().contentsMargins().left() * 2
    host.resize(300, 400)
    qtbot.waitUntil(lambda: view.height() > tall)
    assert view.height() >= view.document().size().height()


@shown
def test_a_growing_paragraph_only_ever_grows_the_view(qtbot, host: QWidget, view: MarkdownView) -> None:
    """A flush cuts the live tail and inserts it again; the view must not pass through the
    cut size (each size change relayouts and repaints the whole chat)."""
    host.layout().addStretch(1)
    host.show()
    qtbot.waitExposed(host)
    heights = []
    view.document().documentLayout().documentSizeChanged.connect(lambda _size: heights.append(view.height()))
    sizes = []
    for word in range(120):  # one paragraph of several lines, as a model streams it
        view.append_text(f"word{word} ")
        view.flush()
        sizes.append(view.height())
    assert sizes[-1] > sizes[0]
    assert heights and heights == sorted(heights)  # also inside a flush, never smaller on the way


def test_set_text_replaces_and_plain_text_is_the_markdown_source(view: MarkdownView) -> None:
    view.set_text("**one**")
    view.set_text("# two")
    assert view.toPlainText() == "two"
    assert view.plain_text() == "# two"


# --- open blocks: long lists and fences ---------------------------------------------------------

OPEN_TEXTS = [
    "Intro.\n\n" + "".join(f"- item {i} with *emphasis* and `code`\n" for i in range(30)) + "\nAfter.\n",
    "".join(f"{i + 3}. step {i}\n" for i in range(25)) + "\nEnd.\n",
    "Code:\n\n```python\n" + "".join(f"x_{i} = {i}  # <tag>\n" for i in range(30)) + "```\n\nDone.\n",
    "".join(f"- tight {i}\n" for i in range(12)) + "\n- now loose\n- more\n",
    "- a\n  - nested\n  - more\n- b\n\n  second para\n- c\n  ```\n  code\n  ```\n- d\n",
    "1. one\n\t- tab\n1.\n2. two\n-\n",
    "***\n```\n1.\nsee\n",
    "   - three\n   - spaces\n - one\n- none\n* other\n* list\n",
    "```\nunclosed\n\nwith blank\n" + "".join(f"line {i}\n" for i in range(20)),
]


@pytest.mark.parametrize("seed", [1, 5])
@pytest.mark.parametrize("text", OPEN_TEXTS)
def test_open_blocks_stream_to_the_same_document_as_the_whole_text(host: QWidget, text: str, seed: int) -> None:
    whole = _add_view(host)
    whole.set_text(text)
    streamed = _add_view(host)
    _stream(streamed, text, seed)
    assert streamed.document().toHtml() == whole.document().toHtml()  # blocks, lists, margins, formats
    assert _blocks(streamed.document()) == _blocks(whole.document())


_VIEW_LINES = st.sampled_from(["- item", "* star", "1. one", "3) x", "  - nested", "  more", "", "", "```", "```py",
                               "~~~", "x = 1", "# head", "---", "para", "-", "> q"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.lists(_VIEW_LINES, max_size=4),
       items=st.lists(st.sampled_from(["- it", "1. it", "- it\n", "- it\n  more", "* it"]), min_size=2, max_size=12),
       code=st.lists(st.sampled_from(["c = 1", "", "  x", "```"]), max_size=8),
       tail=st.lists(_VIEW_LINES, max_size=5), fence_first=st.booleans(), seed=st.integers(0, 50))
def test_generated_lists_and_fences_stream_to_the_same_document(host, head, items, code, tail, fence_first, seed):
    lists = [f"{item} {i}" if "\n" not in item else item.replace("it", f"it {i}", 1) for i, item in enumerate(items)]
    fence = ["```py", *code] if code else []
    text = "\n".join(head + ((fence + lists) if fence_first else (lists + fence)) + tail)
    whole = _add_view(host)
    whole.set_text(text)
    streamed = _add_view(host)
    _stream(streamed, text, seed)
    assert streamed.document().toHtml() == whole.document().toHtml()
    for view in (whole, streamed):
        host.layout().removeWidget(view)
        view.deleteLater()


@pytest.mark.parametrize("fence", [False, True])
def test_flush_cost_inside_a_long_list_or_fence_does_not_grow(view: MarkdownView, monkeypatch, fence: bool) -> None:
    inserted: list[int] = []
    for name in ("_insert_html", "_insert_continuing"):
        original = getattr(MarkdownView, name)

        def counting(self, cursor, html, *rest, _original=original):
            inserted[-1] += len(html)
            _original(self, cursor, html, *rest)

        monkeypatch.setattr(MarkdownView, name, counting)
    view.append_text("Intro\n\n" + ("```python\n" if fence else ""))
    parsed: list[int] = []
    for i in range(300):
        view.append_text(f"    value_{i} = f({i})\n" if fence else f"- item {i} with *emphasis* and `code`\n")
        inserted.append(0)
        before = view.stream.parsed_chars
        view.flush()
        parsed.append(view.stream.parsed_chars - before)
    assert sum(parsed[-10:]) <= 3 * sum(parsed[5:15])
    assert sum(inserted[-10:]) <= 3 * sum(inserted[5:15])
    view.finish()
    assert view.toPlainText().count("value_" if fence else "item ") == 300


def test_model_html_in_long_lists_and_fences_stays_text(host: QWidget) -> None:
    text = ("".join(f'- <img src="http://example.com/{i}.png"> item {i} ![x](http://evil/{i}.png)\n' for i in range(20))
            + "\n```html\n" + "".join(f"<script>alert({i})</script>\n" for i in range(20)) + "```\n")
    whole = _add_view(host)
    whole.set_text(text)
    streamed = _add_view(host)
    _stream(streamed, text, seed=2)
    for view in (whole, streamed):
        shown = view.toPlainText()
        assert '<img src="http://example.com/7.png">' in shown and "<script>alert(13)</script>" in shown
        assert "[image: x] (http://evil/5.png)" in shown
        assert not _has_images(view.document())
        view.grab()
        assert view.blocked_resource_requests == 0
    assert streamed.document().toHtml() == whole.document().toHtml()
    assert QApplication.instance().findChildren(QNetworkAccessManager) == []
