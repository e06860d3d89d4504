"""The last few kilobytes of a child's stderr, kept in memory without ever blocking the loop.

A local MCP server writes its logs and its dying words to stderr; Ponder keeps only the
tail, to say in one line why a server failed. POSIX loops read a pipe as data arrives
(``add_reader``) and :meth:`StderrTail.drain` takes what is waiting synchronously, so a
crash message is never lost to timing; the end of the pipe tells that the child is gone. Loops without ``add_reader`` (Windows' proactor)
get a temporary file instead, trimmed to the tail whenever it is read.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Callable
from typing import IO

TAIL_BYTES = 8192
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class StderrTail:
    """``file`` is what the child gets as stderr; :meth:`last_line` what it said last."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self.on_eof: Callable[[], None] | None = None
        self._tail = bytearray()
        self._read_fd: int | None = None
        self._temp: IO[bytes] | None = None
        read_fd, write_fd = os.pipe()
        try:
            os.set_blocking(read_fd, False)
            self._loop.add_reader(read_fd, self._on_readable)
        except (NotImplementedError, AttributeError, OSError):
            os.close(read_fd)
            os.close(write_fd)
            self._temp = tempfile.TemporaryFile()
            self.file: IO = self._temp
        else:
            self._read_fd = read_fd
            self.file = os.fdopen(write_fd, "w", encoding="utf-8", errors="replace")

    def _keep(self, data: bytes) -> None:
        self._tail += data
        if len(self._tail) > TAIL_BYTES:
            del self._tail[:-TAIL_BYTES]

    def _on_readable(self) -> None:
        self.drain()

    def drain(self) -> None:
        """Take whatever the child has written so far."""
        if self._read_fd is not None:
            while True:
                try:
                    data = os.read(self._read_fd, 65536)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    self._stop_reading()
                    return
                if not data:
                    self._stop_reading()
                    if self.on_eof is not None:
                        self.on_eof()
                    return
                self._keep(data)
        elif self._temp is not None:
            self._temp.seek(0, os.SEEK_END)
            size = self._temp.tell()
            self._temp.seek(max(0, size - TAIL_BYTES))
            self._tail = bytearray(self._temp.read()[-TAIL_BYTES:])
            if size > 16 * TAIL_BYTES:
                self._temp.seek(0)
                self._temp.truncate()

    def release_writer(self) -> None:
        """Close Ponder's copy of the pipe's write end once the child has its own.

        From then on, end of file means the child (and whatever inherited its stderr) has
        exited or closed stderr, and ``on_eof`` is called. No-op in temporary-file mode.
        """
        if self._read_fd is not None:
            try:
                self.file.close()
            except OSError:
                pass

    def _stop_reading(self) -> None:
        if self._read_fd is not None:
            try:
                self._loop.remove_reader(self._read_fd)
            except (ValueError, RuntimeError):
                pass
            os.close(self._read_fd)
            self._read_fd = None

    def last_line(self, limit: int = 240) -> str:
        """The last non-blank line, as plain printable text (no colours, no controls)."""
        self.drain()
        text = _ANSI.sub("", self._tail.decode("utf-8", errors="replace"))
        for line in reversed(text.splitlines()):
            line = _CONTROL.sub("", line).strip()
            if line:
                return line if len(line) <= limit else line[:limit - 1] + "…"
        return ""

    def close(self) -> None:
        """Stop reading and release the pipe or file."""
        self.drain()
        self._stop_reading()
        try:
            self.file.close()
        except OSError:
            pass
