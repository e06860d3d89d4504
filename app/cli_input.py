"""What ``ponder ask`` takes in: checked option values (argparse types) and the prompt
from the command line, standard input (``ponder ask -``, or piped input when no prompt is
given) or a file (``--file PATH``); with a prompt and a file, the prompt comes first.

Every bad value is one line on stderr and exit status 2 (see :class:`OneLineParser`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from app.domain.prompt_text import command_line_text, decode_prompt, joined, require_text
from app.errors import UsageError

STDIN = "-"
MAX_PROMPT_BYTES = 64 * 1024 * 1024  # far beyond any context window; keeps a runaway pipe from filling memory


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (argparse prints the usage first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message.rstrip('.')}. See {self.prog} --help.\n")


def whole_number(minimum: int):
    """An argparse type: an integer of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    parse.__name__ = f"whole number ≥ {minimum}"
    return parse


def temperature(text: str) -> float:
    """An argparse type: a finite number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number such as 0.7, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of at least 0 such as 0.7, not {text!r}")
    return value


def tool_names(text: str) -> list[str]:
    """An argparse type: ``NAME[,NAME...]`` (tools and MCP servers; checked when the turn starts)."""
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"must be names separated by commas, such as calculator,python, not {text!r}")
    return list(dict.fromkeys(names))


def argv_text(what: str):
    """An argparse type: command-line text that is valid Unicode (see app.domain.prompt_text)."""
    def parse(text: str) -> str:
        try:
            return command_line_text(text, what)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = what
    return parse


def _read_limited(stream, source: str) -> bytes:
    data = stream.read(MAX_PROMPT_BYTES + 1)
    if len(data) > MAX_PROMPT_BYTES:
        raise UsageError(f"{source} is larger than {MAX_PROMPT_BYTES // (1024 * 1024)} MB; give a shorter prompt.")
    return data


def read_stdin(stdin=None) -> str:
    stdin = sys.stdin if stdin is None else stdin
    if stdin is None:
        raise UsageError("There is no standard input to read the prompt from; give it as an argument.")
    return decode_prompt(_read_limited(stdin.buffer, "Standard input"), "Standard input")


def read_file(name: str) -> str:
    path = Path(name).expanduser()
    source = f"The prompt file {path}"
    try:
        with path.open("rb") as file:
            data = _read_limited(file, source)
    except IsADirectoryError:
        raise UsageError(f"{source} is a folder; give the path of a text file.") from None
    except OSError as exc:
        raise UsageError(f"{source} cannot be read ({exc.strerror or exc}); check the path and "
                         "that the file is readable.") from None
    return decode_prompt(data, source)


def read_prompt(prompt: str | None, file: str | None, stdin=None) -> tuple[str, str]:
    """The prompt and where it came from ("argument", "stdin", "file", "argument+file", ...)."""
    stdin = sys.stdin if stdin is None else stdin
    parts: list[str] = []
    sources: list[str] = []
    if prompt == STDIN or (prompt is None and file is None and stdin is not None and not stdin.isatty()):
        parts.append(read_stdin(stdin))
        sources.append("stdin")
    elif prompt is not None:
        parts.append(prompt)
        sources.append("argument")
    if file is not None:
        parts.append(read_file(file))
        sources.append("file")
    return require_text(joined(parts) if len(parts) > 1 else (parts[0] if parts else "")), "+".join(sources)
