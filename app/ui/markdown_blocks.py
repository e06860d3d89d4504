"""Open blocks of a streaming Markdown text: a top-level list cut at its items, a fence at its lines.

`StreamingMarkdown` cuts its live tail at top-level block boundaries; a block that is still
growing (a list of 400 items, a long code fence) would then be re-parsed and re-shown whole
on every render. An open block keeps what of it is finished instead, and each render parses
only what comes after:

* `OpenList`: items are finished once the next item has started (its first line and the
  line after it are complete). A render parses a one-line synthetic item, the last finished
  item (the *context*) and the live items. Everything about an item except its paragraphs'
  tightness is decided by the item and its neighbours, so the tokens are the whole text's;
  tightness is a property of the whole list, read off the synthetic item (whose paragraph
  markdown-it hides exactly when the list is tight) and kept as the OR over the finished
  parts. A list that turns loose after items were shown is shown again once (``reset``).
* `OpenFence`: a content line is finished once it is complete (a closing fence is the only
  complete line that is not content). A render parses the opening line and what follows the
  finished lines. The finished lines are shown unhighlighted; when the fence closes and its
  highlighted (final) HTML differs, it is shown again once.

Each render returns an `OpenStep`. Its HTML is standalone (a ``<ul>``/``<ol>``/``<pre>`` of its
own); where it continues the block already shown it begins with the context piece, given
alone in ``*_context`` so the view can drop those blocks and join the rest to what it shows.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

_LIST_OPENS = {"bullet_list_open": "bullet_list_close", "ordered_list_open": "ordered_list_close"}


class Diverged(Exception):
    """The text no longer parses as the open block expects (never seen; the caller starts afresh)."""


class Host(Protocol):
    """What an open block needs from its `StreamingMarkdown`."""

    def _parse(self, text: str, env: MutableMapping[str, Any]) -> list[Token]: ...
    def _env(self, *, highlight: bool) -> MutableMapping[str, Any]: ...
    def _render(self, tokens: Sequence[Token], env: MutableMapping[str, Any]) -> str: ...
    def _commit_refs(self, env: MutableMapping[str, Any], *, before_line: int | None) -> None: ...
    def _split(self, tokens: Sequence[Token], text: str) -> tuple[int, int, int]: ...
    def _code_html(self, code: str) -> str: ...


@dataclass
class OpenStep:
    """What one render of an open block produced."""

    tail: str  # the block's live source after this render (the context piece first, for lists)
    add_html: str = ""  # standalone HTML to add to the block as shown
    add_context: str = ""  # add_html begins with this piece, already shown: continue after it
    reset: bool = False  # what was shown of the block is replaced by add_html
    tail_html: str = ""
    tail_context: str = ""
    closed_html: str | None = None  # the block is finished: its final HTML
    rest: str = ""  # the source after the finished block


def _line_start(text: str, line: int) -> int:
    """Offset of line ``line`` (0-based) in ``text``."""
    offset = -1
    for _ in range(line):
        offset = text.index("\n", offset + 1)
    return offset + 1


def _complete_lines(text: str) -> int:
    return text.count("\n")


# --- lists -----------------------------------------------------------------------------------


def _items(tokens: Sequence[Token]) -> tuple[list[tuple[int, int]], int]:
    """(start, end) token spans of the top-level list's items, and the index of its close token."""
    close = _LIST_OPENS[tokens[0].type]
    spans: list[tuple[int, int]] = []
    start = -1
    for i, token in enumerate(tokens):
        if token.level == 1 and token.type == "list_item_open":
            start = i
        elif token.level == 1 and token.type == "list_item_close":
            spans.append((start, i + 1))
        elif token.level == 0 and token.type == close:
            return spans, i
    raise Diverged("the list has no end")


def _set_tight(tokens: Sequence[Token], tight: bool) -> None:
    """What markdown-it's markTightParagraphs does for a top-level list's items.

    Paragraphs without a source line are the no-break spaces of empty items
    (`_fill_empty_blocks`), hidden either way.
    """
    for i, token in enumerate(tokens):
        if token.level == 2 and token.type == "paragraph_open" and token.map is not None:
            token.hidden = tokens[i + 2].hidden = tight


def list_can_open(tokens: Sequence[Token], index: int, line: int, text: str) -> bool:
    """True when the tail (``text``, starting at line ``line`` of the parse) begins with a top-level
    list whose second item has started on a finished line."""
    first = tokens[index]
    if first.type not in _LIST_OPENS or first.level != 0 or first.map is None or first.map[0] != line:
        return False
    last_safe = line + _complete_lines(text) - 2
    seen = 0
    for token in tokens[index + 1:]:
        if token.level == 0:
            break
        if token.level == 1 and token.type == "list_item_open" and token.map is not None:
            seen += 1
            if seen >= 2:
                return token.map[0] <= last_safe
    return False


class OpenList:
    """A top-level list whose finished items are shown and never parsed again."""

    def __init__(self, head: Token, close: Token, host: Host) -> None:
        self.ordered = head.type == "ordered_list_open"
        self.marker = head.markup
        env = host._env(highlight=True)
        self.head_html = host._render([head], env)
        self.close_html = host._render([close], env)
        self.loose = False
        self.items: list[list[Token]] = []  # finished items' tokens, to show them loose (while tight)
        self.html: list[str] = []  # and their HTML

    @classmethod
    def enter(cls, host: Host, tokens: Sequence[Token], index: int, tail: str) -> tuple[OpenList, OpenStep]:
        """Open the list at the start of ``tail`` (see `list_can_open`) and finish its first items."""
        close = _items(tokens[index:])[1]
        block = cls(tokens[index], tokens[index + close], host)
        step = block._advance(host, tail, first=True)
        return block, step

    def render(self, host: Host, tail: str, *, finish: bool) -> OpenStep:
        return self._advance(host, tail, first=False, finish=finish)

    # -- internals ----------------------------------------------------------------------------
    def _synthetic(self, tail: str) -> str:
        """A one-line item to parse before ``tail``: a sibling of its first item, tight by itself."""
        indent = len(tail) - len(tail.lstrip(" "))
        return " " * min(indent, 3) + ("1" if self.ordered else "") + self.marker + " X\n"

    def _parse(self, host: Host, text: str, env) -> tuple[list[Token], list[tuple[int, int]], int, bool]:
        tokens = host._parse(text, env)
        if (not tokens or tokens[0].type not in _LIST_OPENS or tokens[0].markup != self.marker
                or (tokens[0].type == "ordered_list_open") != self.ordered or len(tokens) < 3
                or tokens[2].type != "paragraph_open"):
            raise Diverged("the list did not parse as a list")
        spans, close = _items(tokens)
        if len(spans) < 2:
            raise Diverged("the list lost its items")
        return tokens, spans, close, not tokens[2].hidden

    def _wrap(self, html: str) -> str:
        return self.head_html + html + self.close_html

    def _render_items(self, host: Host, items: list[list[Token]], loose: bool, env) -> list[str]:
        out = []
        for item in items:
            _set_tight(item, not loose)
            out.append(host._render(item, env))
        return out

    def _advance(self, host: Host, tail: str, *, first: bool, finish: bool = False) -> OpenStep:
        synthetic = self._synthetic(tail)
        text = synthetic + tail
        env = host._env(highlight=finish)
        tokens, spans, close, sub_loose = self._parse(host, text, env)
        live_from = 1 if first else 2  # spans[0] is the synthetic item, spans[1] the context when not first
        if finish:
            return self._close(host, text, synthetic, tokens, spans, live_from, sub_loose, env, finish=True)
        _offset, _line, boundary = host._split(tokens, text)
        if boundary > close:  # a block after the list has started: the list is done
            return self._close(host, text, synthetic, tokens, spans, live_from, sub_loose, env, finish=False)
        last_safe = _complete_lines(text) - 2
        cut = None  # the last item that started on a finished line; the ones before it are done
        for n in range(len(spans) - 1, live_from, -1):
            if tokens[spans[n][0]].map[0] <= last_safe:
                cut = n
                break
        step = OpenStep(tail=tail)
        shown_context = self.html[-1] if self.html else ""
        if cut is not None:
            cut_line = tokens[spans[cut][0]].map[0]
            # finished items are decided by the text up to the next item's first line
            done_env = host._env(highlight=True)
            done_text = text[:_line_start(text, cut_line + 1)] if cut_line + 1 <= _complete_lines(text) else text
            done_tokens, done_spans, _close, done_loose = self._parse(host, done_text, done_env)
            host._commit_refs(done_env, before_line=cut_line)
            new_items = [list(done_tokens[a:b]) for a, b in done_spans[live_from:cut]]
            loose = self.loose or done_loose
            if loose and not self.loose:
                self.html = self._render_items(host, self.items, True, done_env)
                step.reset = True
            self.loose = loose
            new_html = self._render_items(host, new_items, loose, done_env)
            self.items = [] if loose else self.items + new_items  # a loose list stays loose
            self.html += new_html
            if step.reset or first:
                step.add_html = self._wrap("".join(self.html))
            else:
                step.add_html = self._wrap(shown_context + "".join(new_html))
                step.add_context = self._wrap(shown_context)
            context_line = tokens[spans[cut - 1][0]].map[0]
            step.tail = text[_line_start(text, context_line):]
            live_from = cut
        elif first:
            raise Diverged("nothing of the list is finished")
        # the live items, shown after the context as the whole text would show them now
        live_env = host._env(highlight=False)
        live = [list(tokens[a:b]) for a, b in spans[live_from:]]
        live_html = "".join(self._render_items(host, live, self.loose or sub_loose, live_env))
        after = host._render(tokens[close + 1:], env)
        context = self.html[-1]
        step.tail_html = self._wrap(context + live_html) + after
        step.tail_context = self._wrap(context)
        return step

    def _close(self, host: Host, text: str, synthetic: str, tokens, spans, live_from: int, sub_loose: bool, env,
               *, finish: bool) -> OpenStep:
        end_line = tokens[0].map[1]
        host._commit_refs(env, before_line=None if finish else end_line)
        live = [list(tokens[a:b]) for a, b in spans[live_from:]]
        loose = self.loose or sub_loose
        highlight_env = host._env(highlight=True)
        step = OpenStep(tail="")
        if loose and not self.loose:
            self.html = self._render_items(host, self.items, True, highlight_env)
            step.reset = True
        self.loose = loose
        live_html = "".join(self._render_items(host, live, loose, highlight_env))
        step.closed_html = self._wrap("".join(self.html) + live_html)
        if step.reset:
            step.add_html = step.closed_html
        elif live_html:
            step.add_html = self._wrap(self.html[-1] + live_html)
            step.add_context = self._wrap(self.html[-1])
        rest_start = _line_start(text, end_line) if end_line <= _complete_lines(text) else len(text)
        step.rest = text[max(rest_start, len(synthetic)):]
        return step


# --- fences ----------------------------------------------------------------------------------


def _content_lines(content: str) -> int:
    return content.count("\n") + (1 if content and not content.endswith("\n") else 0)


def _closed(token: Token, text: str) -> bool:
    """The fence has its closing line, and that line is complete."""
    assert token.map is not None
    has_closer = token.map[1] - token.map[0] - 1 > _content_lines(token.content)
    return has_closer and _complete_lines(text) >= token.map[1]


def fence_can_open(tokens: Sequence[Token], index: int, line: int, text: str) -> bool:
    """True when the tail (``text``, at line ``line`` of the parse) begins with an open top-level
    fence that has a complete content line."""
    first = tokens[index]
    if first.type != "fence" or first.level != 0 or first.map is None or first.map[0] != line:
        return False
    if first.map[1] - first.map[0] - 1 > _content_lines(first.content):
        return False  # it has its closing line already: an ordinary block
    done = first.content[: first.content.rfind("\n") + 1]
    return bool(done.strip())  # Qt shows a <pre> of nothing but newlines differently


class OpenFence:
    """A top-level fenced code block whose finished lines are shown and never parsed again."""

    def __init__(self, opening: str) -> None:
        self.opening = opening  # the opening line, with its newline
        self.code: list[str] = []  # finished content lines, each with its newline
        self.html: list[str] = []  # and escaped, without it

    @classmethod
    def enter(cls, host: Host, tokens: Sequence[Token], index: int, tail: str) -> tuple[OpenFence, OpenStep]:
        """Open the fence at the start of ``tail`` (see `fence_can_open`) and finish its complete lines."""
        opening = tail[: tail.index("\n") + 1]
        block = cls(opening)
        return block, block._advance(host, tail[len(opening):], finish=False)

    def render(self, host: Host, tail: str, *, finish: bool) -> OpenStep:
        return self._advance(host, tail, finish=finish)

    def _advance(self, host: Host, tail: str, *, finish: bool) -> OpenStep:
        text = self.opening + tail
        env = host._env(highlight=finish)
        tokens = host._parse(text, env)
        if not tokens or tokens[0].type != "fence" or tokens[0].map is None or tokens[0].map[0] != 0:
            raise Diverged("the fence did not parse as a fence")
        fence = tokens[0]
        if finish or _closed(fence, text):
            return self._close(host, text, fence)
        content = fence.content
        done = content[: content.rfind("\n") + 1]
        step = OpenStep(tail=tail)
        context = self.html[-1] if self.html else None
        if done:
            lines = done.split("\n")[:-1]
            self.code += [line + "\n" for line in lines]
            new = [escapeHtml(line) for line in lines]
            self.html += new
            if context is None:
                step.add_html = host._code_html("\n".join(new))
            else:
                step.add_html = host._code_html("\n".join([context, *new]))
                step.add_context = host._code_html(context)
            step.tail = tail[_line_start(tail, len(lines)):]
        partial = content[len(done):]
        if partial and self.html:
            step.tail_html = host._code_html("\n".join([self.html[-1], escapeHtml(partial)]))
            step.tail_context = host._code_html(self.html[-1])
        elif partial:
            step.tail_html = host._code_html(escapeHtml(partial))
        return step

    def _close(self, host: Host, text: str, fence: Token) -> OpenStep:
        fence.content = "".join(self.code) + fence.content
        final = host._render([fence], host._env(highlight=True))
        remaining = fence.content[len("".join(self.code)):]
        rest_lines = remaining.split("\n")
        if rest_lines and rest_lines[-1] == "":
            rest_lines.pop()
        shown = "\n".join(self.html + [escapeHtml(line) for line in rest_lines])
        step = OpenStep(tail="", closed_html=final)
        if final != host._code_html(shown) or not self.html:
            step.reset = True
            step.add_html = final
        elif rest_lines:
            step.add_html = host._code_html("\n".join([self.html[-1], *(escapeHtml(line) for line in rest_lines)]))
            step.add_context = host._code_html(self.html[-1])
        end_line = fence.map[1] if fence.map else 0
        rest_start = _line_start(text, end_line) if end_line <= _complete_lines(text) else len(text)
        step.rest = text[max(rest_start, len(self.opening)):]
        return step
