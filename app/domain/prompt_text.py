"""A prompt as Ponder takes it from the command line, a file or standard input: UTF-8 text
that is not blank.

Bytes are decoded as UTF-8 (a byte-order mark is dropped); text from the command line
arrives with undecodable bytes as lone surrogates (Python's ``surrogateescape``), which are
turned back into their bytes so the error can name the first bad one. A lone surrogate
cannot be encoded at all, so it would fail later, in the tokenizer or the HTTP request.
"""

from __future__ import annotations

import os

from app.errors import UsageError

HOW = "give it as an argument, with --file PATH, or on standard input (ponder ask -)"


def decode_prompt(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text; UsageError naming ``source`` and the first bad byte otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start} "
                         "is not valid UTF-8); save or type it as UTF-8.") from None


def command_line_text(text: str, source: str) -> str:
    """``text`` from ``sys.argv``, checked to be valid Unicode text (see the module docstring)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = os.fsencode(text)  # surrogateescape: the bytes the terminal sent
    except UnicodeEncodeError as exc:
        raise UsageError(f"{source} holds a lone surrogate (U+{ord(text[exc.start]):04X} at character "
                         f"{exc.start}), which is not text; remove it.") from None
    return decode_prompt(raw, source)


def joined(parts: list[str]) -> str:
    """The prompt made of several sources (the question, then a file), a blank line between."""
    return "\n\n".join(p for p in parts if p.strip())


def require_text(prompt: str) -> str:
    """``prompt`` unless it is empty or only whitespace (a UsageError saying how to give one)."""
    if not prompt:
        raise UsageError(f"The prompt is empty; {HOW}.")
    if not prompt.strip():
        raise UsageError(f"The prompt is only whitespace; {HOW}.")
    return prompt
