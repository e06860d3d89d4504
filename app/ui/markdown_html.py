"""Safe Markdown -> HTML for model output, whole or streaming (no Qt imports).

Model output is untrusted: raw HTML is escaped and shown as text, images are rendered as
text and never loaded, and links survive only for http, https and mailto.

`StreamingMarkdown` keeps the state for a message that grows token by token. Text is split at
the boundary of finished top-level blocks: the HTML of newly finished blocks is handed out
once, and only the live tail after the boundary is parsed and rendered again on each render.
A top-level list or code fence that is still growing is cut further, at its finished items
and lines (see `app.ui.markdown_blocks`), so a render costs the same at item 400 as at item 10.
"""

from __future__ import annotations

import functools
import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from app.ui.markdown_blocks import Diverged, OpenFence, OpenList, OpenStep, fence_can_open, list_can_open

ALLOWED_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
CODE_FONT_FAMILY = "'JetBrains Mono', Menlo, Consolas, 'DejaVu Sans Mono', 'Courier New', monospace"
PYGMENTS_STYLE = "default"
# Pygments needs about 4 ms per 1,000 characters of Python (30x plain escaping). It runs once
# per finished block; past this size a block stays plain so it cannot stall the GUI thread.
HIGHLIGHT_MAX_CHARS = 6_000
_MAX_SHOWN_URL = 200
_HIGHLIGHT = "ponder_highlight"  # env key: highlight fenced code (finished blocks only)
_REFS = "references"  # env key used by markdown-it for link reference definitions
_NBSP = "\u00a0"
# Text that, added to a plain paragraph on its line, leaves it a plain paragraph with exactly
# this text: letters, digits, single spaces and punctuation that no Markdown rule reads mid-line
# (no emphasis, code, links, entities, escapes, HTML, tables or line breaks).
_PLAIN_RUN = re.compile(r"(?:[^\W_]|[ ,.;:'\"?()%$@/])+")
_LETTER = re.compile(r"[^\W\d_]")
_BRACKET_LINE = re.compile(r"(?m)^ {0,3}\[")  # may be a link reference definition: shows as nothing


# --- renderer rules ---------------------------------------------------------------------


def _link_allowed(href: str) -> bool:
    try:
        scheme = urlsplit(href).scheme.lower()
    except ValueError:
        return False
    return scheme in ALLOWED_LINK_SCHEMES


def _drop_unsafe_links(state: StateCore) -> None:
    """Core rule: unwrap links whose scheme is not allowed, keeping their text."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[Token] = []
        dropping = False  # links cannot nest, so a flag pairs each open with its close
        for child in block.children:
            if child.type == "link_open" and not _link_allowed(str(child.attrGet("href") or "")):
                dropping = True
                continue
            if child.type == "link_close" and dropping:
                dropping = False
                continue
            kept.append(child)
        block.children = kept


def _nbsp_paragraph(level: int, *, hidden: bool) -> list[Token]:
    text = Token("text", "", 0, content=_NBSP)
    inline = Token("inline", "", 0, content=_NBSP, level=level + 1, children=[text], block=True)
    return [
        Token("paragraph_open", "p", 1, level=level, hidden=hidden, block=True),
        inline,
        Token("paragraph_close", "p", -1, level=level, hidden=hidden, block=True),
    ]


_TEXT_CONTAINERS = frozenset({"heading_open", "th_open", "td_open"})
_EMPTY_CLOSES = {"list_item_close": "list_item_open", "blockquote_close": "blockquote_open"}


def _fill_empty_blocks(state: StateCore) -> None:
    """Core rule: give empty headings, table cells, list items and quotes a no-break space.

    QTextDocument merges an empty block into its neighbour or keeps it depending on what
    surrounds it, so the same HTML would look different whole and streamed.
    """
    out: list[Token] = []
    for token in state.tokens:
        previous = out[-1].type if out else ""
        if token.type == "inline" and previous in _TEXT_CONTAINERS and not token.content.strip():
            token.children = [Token("text", "", 0, content=_NBSP)]
        elif token.type in _EMPTY_CLOSES and previous == _EMPTY_CLOSES[token.type]:
            out.extend(_nbsp_paragraph(token.level + 1, hidden=token.type == "list_item_close"))
        out.append(token)
    state.tokens = out


def _shorten(url: str) -> str:
    return url if len(url) <= _MAX_SHOWN_URL else url[: _MAX_SHOWN_URL - 1] + "\u2026"


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Images become plain text: nothing is ever fetched or made clickable."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = str(token.attrGet("src") or "")
    label = f"[image: {alt}]" if alt else "[image]"
    if src:
        label += f" ({_shorten(src)})"
    return f"<span>{escapeHtml(label)}</span>"


@functools.lru_cache(maxsize=64)
def _lexer(lang: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@functools.lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(noclasses=True, nowrap=True, style=PYGMENTS_STYLE)


def _highlight(code: str, lang: str) -> str | None:
    if not lang or len(code) > HIGHLIGHT_MAX_CHARS:
        return None
    lexer = _lexer(lang.lower())
    if lexer is None:
        return None
    from pygments import highlight

    return highlight(code, lexer, _formatter()).rstrip("\n")


_CODE_STYLE = f'style="font-family: {CODE_FONT_FAMILY};"'


def _pre(body: str) -> str:
    # The family goes on <code> too: QTextDocument gives <code> its own "monospace" family,
    # which not every platform resolves to a fixed-pitch font.
    return f"<pre {_CODE_STYLE}><code {_CODE_STYLE}>{body}</code></pre>\n"


def _render_code_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f"<code {_CODE_STYLE}>{escapeHtml(tokens[idx].content)}</code>"


def _code_text(token: Token) -> str:
    # A trailing newline inside <pre> becomes an empty extra line in QTextDocument.
    code = token.content[:-1] if token.content.endswith("\n") else token.content
    return code if code.strip() else _NBSP


def _render_fence(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    code = _code_text(token)
    info = token.info.strip()
    lang = info.split(maxsplit=1)[0] if info else ""
    body = _highlight(code, lang) if env.get(_HIGHLIGHT, True) else None
    return _pre(body if body is not None else escapeHtml(code))


def _render_code_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return _pre(escapeHtml(_code_text(tokens[idx])))


def _render_table_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return '<table border="1" cellspacing="0" cellpadding="4">\n'


def make_parser() -> MarkdownIt:
    """A CommonMark parser (plus tables and strikethrough) configured for untrusted text."""
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.core.ruler.push("ponder_drop_unsafe_links", _drop_unsafe_links)
    md.core.ruler.push("ponder_fill_empty_blocks", _fill_empty_blocks)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_code_block)
    md.add_render_rule("code_inline", _render_code_inline)
    md.add_render_rule("table_open", _render_table_open)
    return md


@functools.lru_cache(maxsize=1)
def _shared_parser() -> MarkdownIt:
    return make_parser()


def render_markdown(text: str, *, highlight: bool = True) -> str:
    """Render a whole Markdown text to safe HTML (raw HTML escaped, images as text)."""
    return _shared_parser().render(text, {_HIGHLIGHT: highlight})


# --- finding the stable prefix -------------------------------------------------------------


def _stable_split(tokens: Sequence[Token], text: str) -> tuple[int, int, int]:
    """Return (char offset, line, token index) of the last safe boundary, or (0, 0, 0).

    A boundary is the first line of a top-level block such that the blocks before it can no
    longer change. Block structure is decided line by line, with at most one line of
    look-ahead (a table's delimiter row), so the boundary line and the line after it must
    both be complete. Reference definitions used before they are defined are the exception;
    `StreamingMarkdown.finish` deals with them.
    """
    last_safe_line = text.count("\n") - 2
    if last_safe_line < 1:
        return 0, 0, 0
    line = index = 0
    for i, token in enumerate(tokens):
        if token.level != 0 or token.nesting == -1 or token.map is None:
            continue
        start = token.map[0]
        if start > last_safe_line:
            break
        if start >= 1:
            line, index = start, i
    if line == 0:
        return 0, 0, 0
    offset = -1
    for _ in range(line):
        offset = text.index("\n", offset + 1)
    return offset + 1, line, index


def stable_prefix_length(text: str) -> int:
    """Length of the longest prefix of streaming `text` made only of finished top-level blocks.

    Pure and O(len(text)) per call; use `StreamingMarkdown` to follow a growing text cheaply.
    """
    text = _normalize_newlines(text)
    tokens = _shared_parser().parse(text, {})
    return _stable_split(tokens, text)[0]


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- streaming ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderUpdate:
    """What changed since the previous render of a `StreamingMarkdown`.

    `stable_html` is the HTML of blocks that became final: append it once after the
    earlier stable HTML (all of it, concatenated, is the whole text rendered at once).
    `tail_html` replaces the previous tail entirely. When `replace_all` is true, everything
    shown so far is dropped first (happens at most once, from `finish`, or if the text ever
    stopped parsing as the open block expected).

    Between the stable blocks and the tail there may be an *open block* (a list or a fence
    that is still growing; see `app.ui.markdown_blocks`), shown piece by piece:

    * `open_reset`: drop what is shown of the open block first.
    * `open_html`: add this at the end of the open block. When `open_context` is set,
      `open_html` begins with that piece, which is shown already: drop its blocks and
      continue the list or code after it; otherwise `open_html` starts the block.
    * `open_closed`: the open block is finished and final as shown (after `open_html`); the
      first `open_shown` characters of `stable_html` are its HTML, the rest follows it.
      Without `open_closed`, `stable_html` goes before the open block (which then is empty).
    * `tail_context`: like `open_context`, for `tail_html` (the live items or line of the
      open block, then whatever follows it).

    `append_text` (when set, nothing else is): the tail is a plain paragraph and the new text
    cannot change how it parses (words and plain punctuation on the same line): add it as
    plain text at the end of what is shown, instead of replacing the tail.
    """

    stable_html: str
    tail_html: str
    replace_all: bool = False
    open_html: str = ""
    open_context: str = ""
    open_reset: bool = False
    open_closed: bool = False
    open_shown: int = 0
    tail_context: str = ""
    append_text: str = ""


@dataclass
class _Update:
    stable: list[str] = field(default_factory=list)
    tail: str = ""
    tail_context: str = ""
    open_html: str = ""
    open_context: str = ""
    open_reset: bool = False
    open_closed: bool = False
    open_shown: int = 0

    def take(self, step: OpenStep) -> None:
        self.open_reset = self.open_reset or step.reset
        self.open_html, self.open_context = step.add_html, step.add_context
        self.tail, self.tail_context = step.tail_html, step.tail_context
        if step.closed_html is not None:
            self.open_closed = True
            self.open_shown = len(step.closed_html)
            self.stable.append(step.closed_html)

    def done(self, *, replace_all: bool = False) -> RenderUpdate:
        return RenderUpdate("".join(self.stable), self.tail, replace_all, self.open_html, self.open_context,
                            self.open_reset, self.open_closed, self.open_shown, self.tail_context)


def _line_may_grow(paragraph: str) -> bool:
    """Whether plain text may be added to the current line of ``paragraph`` (shown as exactly its
    text): the line already holds a letter, so nothing can make it a list item, heading or
    table row, and no entity or escape is open on it. Added plain text keeps this true. No line
    may start with "[": ``[word]:`` plus more text would turn it into a link reference
    definition, which shows nothing."""
    line = paragraph[paragraph.rfind("\n") + 1:]
    return (_LETTER.search(line) is not None and "&" not in line and "\\" not in line
            and _BRACKET_LINE.search(paragraph) is None)


def _stays_plain(last: str, added: str) -> bool:
    """Whether ``added`` after a line that may grow (ending in ``last``) keeps it a plain
    paragraph of exactly that text; no double space may appear (HTML would show one)."""
    return bool(_PLAIN_RUN.fullmatch(added)) and "  " not in last + added


def _ends_in_plain_paragraph(html: str, source: str) -> bool:
    """Whether the HTML of ``source`` ends with its last paragraph as exactly that text."""
    cut = source.rfind("\n\n")
    last = source[cut + 2:] if cut >= 0 else source
    return bool(last) and html.endswith(f"<p>{escapeHtml(last)}</p>\n") and (cut >= 0 or html.startswith("<p>"))


class StreamingMarkdown:
    """Markdown that grows by appending, rendered so that each call costs O(delta + tail).

    `feed` only accumulates. `render` parses the text after the last boundary once, hands out
    the HTML of blocks that have become final and re-renders only the live tail. Finished
    fenced code is syntax-highlighted; the live tail is not, to keep per-token work small.
    A top-level list or fence at the start of the tail is an open block: its finished items
    or lines are handed out once (`RenderUpdate.open_html`) and not parsed again.

    `parsed_chars` counts every character handed to the Markdown parser, so callers and
    tests can check that the cost does not grow with the length of the whole text.
    """

    def __init__(self) -> None:
        self._md = make_parser()
        self._refs: dict[str, Any] = {}  # reference definitions of the stable text
        self._parts: list[str] = []
        self._text_cache: str | None = ""
        self._tail = ""  # source after the last boundary (of the open block: its live part)
        self._open: OpenList | OpenFence | None = None
        self._pending_cr = False
        self._dirty = False
        self._has_stable = False
        self._late_refs = False
        # When the tail is shown as exactly this plain paragraph whose line may grow: its length
        # (the tail only grows between renders; anything that rewrites it resets this)
        self._plain_tail: int | None = None
        self.parsed_chars = 0

    @property
    def text(self) -> str:
        """All Markdown source fed so far (newlines normalised)."""
        if self._text_cache is None:
            self._text_cache = "".join(self._parts)
            self._parts = [self._text_cache]
        return self._text_cache

    @property
    def tail_text(self) -> str:
        """The source that is still live (after the last finished block, item or line)."""
        return self._tail

    @property
    def dirty(self) -> bool:
        """True when text was fed since the last render."""
        return self._dirty

    def feed(self, delta: str) -> None:
        """Append `delta` without rendering anything."""
        if self._pending_cr:
            delta = "\r" + delta
            self._pending_cr = False
        if delta.endswith("\r"):  # may be the first half of a "\r\n" split across deltas
            delta = delta[:-1]
            self._pending_cr = True
        if not delta:
            return
        delta = _normalize_newlines(delta)
        self._parts.append(delta)
        self._text_cache = None
        self._tail += delta
        self._dirty = True

    def append(self, delta: str) -> RenderUpdate:
        """`feed` then `render`."""
        self.feed(delta)
        return self.render()

    def render(self) -> RenderUpdate:
        """Promote newly finished blocks (and items and lines) and render the live tail."""
        self._dirty = False
        shown = self._plain_tail
        if shown is not None and _stays_plain(self._tail[shown - 1:shown], added := self._tail[shown:]):
            self._plain_tail = len(self._tail)
            return RenderUpdate("", "", append_text=added)
        self._plain_tail = None
        out = _Update()
        try:
            if self._open is not None:
                self._step_open(out, finish=False)
            if self._open is None:
                self._step(out, may_open=not out.open_closed)
        except Diverged:
            return self._afresh()
        if (self._open is None and not out.tail_context and _ends_in_plain_paragraph(out.tail, self._tail)
                and _line_may_grow(self._tail)):
            self._plain_tail = len(self._tail)
        return out.done()

    def finish(self) -> RenderUpdate:
        """Treat everything as finished: all remaining text becomes stable HTML."""
        if self._pending_cr:
            self._pending_cr = False
            self.feed("\n")
        self._dirty = False
        self._plain_tail = None
        out = _Update()
        if self._open is not None:
            try:
                self._step_open(out, finish=True)
            except Diverged:
                self._open = None
                self._late_refs = True  # render the whole message once, below
        env = self._env(highlight=True)
        tokens = self._parse(self._tail, env)
        self._commit_refs(env, before_line=None)
        if self._late_refs:
            # A reference defined after earlier blocks were shown may change them:
            # render the whole message once instead of guessing which blocks used it.
            self._late_refs = False
            self._tail = ""
            full_env = {_HIGHLIGHT: True}
            html = self._md.render(self._count(self.text), full_env)
            self._refs = dict(full_env.get(_REFS, {}))
            return RenderUpdate(html, "", replace_all=True)
        out.stable.append(self._md.renderer.render(tokens, self._md.options, env))
        out.tail = out.tail_context = ""
        self._has_stable = self._has_stable or bool(self._tail) or out.open_closed
        self._tail = ""
        return out.done()

    # -- internals ----------------------------------------------------------------------------
    def _step(self, out: _Update, *, may_open: bool) -> None:
        """Split off finished top-level blocks; open a list or fence that starts the tail."""
        env = self._env(highlight=False)
        tokens = self._parse(self._tail, env)
        offset, line, index = _stable_split(tokens, self._tail)
        if offset:
            out.stable.append(self._md.renderer.render(tokens[:index], self._md.options, self._env(highlight=True)))
            self._commit_refs(env, before_line=line)
            self._tail = self._tail[offset:]
            self._has_stable = True
        if may_open and index < len(tokens):
            kind = (OpenList if list_can_open(tokens, index, line, self._tail)
                    else OpenFence if fence_can_open(tokens, index, line, self._tail) else None)
            if kind is not None:
                self._open, step = kind.enter(self, tokens, index, self._tail)
                self._tail = step.tail
                self._has_stable = True
                out.take(step)
                return
        out.tail = self._md.renderer.render(tokens[index:], self._md.options, env)

    def _step_open(self, out: _Update, *, finish: bool) -> None:
        assert self._open is not None
        step = self._open.render(self, self._tail, finish=finish)
        out.take(step)
        if step.closed_html is not None:
            self._open = None
            self._tail = step.rest
        else:
            self._tail = step.tail

    def _afresh(self) -> RenderUpdate:
        """Start over from the whole text, everything shown so far replaced (a safety net)."""
        text, refs_cleared = self.text, {}
        self._refs, self._open, self._tail, self._has_stable, self._late_refs = refs_cleared, None, text, False, False
        out = _Update()
        self._step(out, may_open=False)
        return out.done(replace_all=True)

    def _env(self, *, highlight: bool) -> MutableMapping[str, Any]:
        env: dict[str, Any] = {_HIGHLIGHT: highlight}
        if self._refs:
            env[_REFS] = dict(self._refs)
        return env

    def _count(self, text: str) -> str:
        self.parsed_chars += len(text)
        return text

    def _parse(self, text: str, env: MutableMapping[str, Any]) -> list[Token]:
        return self._md.parse(self._count(text), env)

    def _render(self, tokens: Sequence[Token], env: MutableMapping[str, Any]) -> str:
        return self._md.renderer.render(tokens, self._md.options, env)

    def _split(self, tokens: Sequence[Token], text: str) -> tuple[int, int, int]:
        return _stable_split(tokens, text)

    def _code_html(self, code: str) -> str:
        return _pre(code)

    def _commit_refs(self, env: MutableMapping[str, Any], *, before_line: int | None) -> None:
        for label, ref in env.get(_REFS, {}).items():
            if label in self._refs:
                continue
            ref_map = ref.get("map")
            if before_line is not None and (ref_map is None or ref_map[1] > before_line):
                continue
            self._refs[label] = ref
            if self._has_stable:
                self._late_refs = True
