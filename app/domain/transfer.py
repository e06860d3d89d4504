"""Download progress as people read it: bytes done, speed, time left ("42% · 12.3 MB/s · 3 min left").

:class:`TransferRate` smooths the speed over the last seconds (an exponential moving
average of bytes per second, so one slow chunk does not make the estimate jump) and
derives the time left from it. Pure arithmetic: the caller passes the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.hardware_fit import format_bytes

SMOOTHING_S = 3.0  # the speed follows changes over about this many seconds


@dataclass(frozen=True)
class Progress:
    """One progress report. ``phase`` is "downloading" or "verifying"; ``speed`` is bytes per
    second (0 while unknown) and ``eta`` the seconds left (None while unknown)."""

    file: str
    done: int
    total: int | None
    speed: float = 0.0
    eta: float | None = None
    phase: str = "downloading"
    part: int = 1
    parts: int = 1

    @property
    def fraction(self) -> float | None:
        """done / total, or None when the size is unknown."""
        return self.done / self.total if self.total else None

    def text(self) -> str:
        """"42% · 1.2 of 4.7 GB · 12 MB/s · 3 min left" (or "verifying 42%")."""
        share = f"{self.fraction:.0%}" if self.fraction is not None else format_bytes(self.done)
        if self.phase == "verifying":
            return f"verifying the checksum {share}"
        parts = [share]
        if self.total:
            parts.append(f"{format_bytes(self.done)} of {format_bytes(self.total)}")
        if self.speed > 0:
            parts.append(f"{format_bytes(self.speed)}/s")
        if self.eta is not None:
            parts.append(f"{duration_text(self.eta)} left")
        if self.parts > 1:
            parts.append(f"part {self.part} of {self.parts}")
        return " · ".join(parts)


def duration_text(seconds: float) -> str:
    """"45 s", "3 min", "1 h 20 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


class TransferRate:
    """Speed and time left of one transfer, from (time, bytes done) samples."""

    def __init__(self, start_time: float, start_bytes: int = 0) -> None:
        self._time = start_time
        self._bytes = start_bytes
        self.speed = 0.0

    def update(self, now: float, done: int) -> float:
        """Take a sample; returns the smoothed speed in bytes per second."""
        elapsed = now - self._time
        if elapsed <= 0:
            return self.speed
        instant = (done - self._bytes) / elapsed
        weight = min(1.0, elapsed / SMOOTHING_S)
        self.speed = instant if self.speed == 0 else self.speed + weight * (instant - self.speed)
        self._time, self._bytes = now, done
        return self.speed

    def eta(self, done: int, total: int | None) -> float | None:
        """Seconds left at the current speed, or None while unknown."""
        if not total or self.speed <= 0:
            return None
        return max(0.0, (total - done) / self.speed)
