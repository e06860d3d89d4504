"""A tool call as Markdown, for the conversation export and the trace export.

Arguments and results are the model's and the tool's text: they go into code fences longer
than any run of backticks in them, so nothing in them can end the fence or turn into Markdown
or HTML; the one-line summary is HTML-escaped.
"""

from __future__ import annotations

import html
import json

from app.domain.messages import ToolCallPart
from app.domain.tools.records import arguments_text

STATE_WORDS = {"writing": "being written", "requested": "requested", "awaiting-approval": "waiting for approval",
               "running": "running", "done": "done", "error": "failed", "denied": "denied"}


def fence(text: str, info: str = "") -> list[str]:
    """``text`` in a code fence longer than any run of backticks in it (so it cannot end early)."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    return [f"{ticks}{info}", text, ticks]


def summary_text(part: ToolCallPart, result_tokens: int | None = None) -> str:
    """``Tool call · calculator · done · 0.01 s · 12 result tokens`` (plain text)."""
    call, result = part.call, part.result
    bits = [f"Tool call · {call.name or 'unknown tool'}", STATE_WORDS.get(part.state, part.state)]
    if result is not None and result.duration_s:
        bits.append(f"{result.duration_s:.2f} s")
    if result_tokens is not None:
        bits.append(f"{result_tokens:,} result tokens")
    return " · ".join(bits)


def tool_call_markdown(part: ToolCallPart, result_tokens: int | None = None) -> list[str]:
    """The lines of a ``<details>`` block: the summary, the arguments (the code for python)
    and the result in fences, a note when the result was cut."""
    call, result = part.call, part.result
    out = ["<details>", f"<summary>{html_text(summary_text(part, result_tokens))}</summary>", ""]
    code = call.arguments.get("code") if call.name == "python" else None
    if isinstance(code, str):
        out += ["Code:", "", *fence(code, "python"), ""]
        rest = {k: v for k, v in call.arguments.items() if k != "code"}
        if rest:
            out += ["Other arguments:", "", *fence(json.dumps(rest, ensure_ascii=False, indent=2), "json"), ""]
    else:
        out += ["Arguments:", "", *fence(arguments_text(call), "json"), ""]
    if call.error:
        out += ["The call as written was unusable:", "", *fence(call.error), ""]
    if result is not None:
        label = ("Declined by the user; the model was told:" if part.state == "denied"
                 else "Error:" if result.is_error else "Result:")
        out += [label, "", *fence(result.text), ""]
        if result.truncated_from:
            out += [f"*(the result was cut from {result.truncated_from:,} characters)*", ""]
    out += ["</details>", ""]
    return out


def html_text(text: str) -> str:
    """Text for a ``<summary>`` or a Markdown line: tags escaped, on one line."""
    return html.escape(" ".join(text.split()), quote=False)
