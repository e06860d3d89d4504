"""The one protocol every backend implements: a model that makes one model call at a time.

A *model call* is one request to the model: render or send the chat, then stream what the
model writes as turn events (``app.domain.events``), ending with exactly one
``TurnFinished``. A *turn* may take several calls (Answer now on a cloud model; tool rounds);
stringing calls into a turn is the turn runner's job
(:mod:`app.controllers.turn_runner`), the same for every backend.

Local backends are synchronous generators that run on the model worker's thread and check
``control`` per token; cloud backends are asynchronous generators that run on an asyncio
loop and are stopped by cancelling the task. The runner adapts the first to the second in
one place (:func:`app.controllers.turn_runner.events_of`). What a backend can do is declared
as class attributes (simonw/llm's ``Model`` flags), never found by ``hasattr``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, AsyncIterator, Callable, ClassVar, Iterator, Protocol, Union

from app.domain.events import TurnEvent
from app.domain.profiles import ModelProfile
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest

if TYPE_CHECKING:
    from app.domain.context_budget import ContextUsage
    from app.domain.model_info import ModelInfo

__all__ = ["Backend", "LocalBackend", "ModelCall", "TurnControl", "TurnRequest"]

ModelCall = Union[Iterator[TurnEvent], AsyncIterator[TurnEvent]]


class Backend(Protocol):
    """A model that runs model calls. Capabilities are class attributes."""

    is_async: ClassVar[bool]  # stream() is an async generator (cloud) rather than a generator (local)
    supports_answer_now: ClassVar[bool]  # ends its own thinking when control.answer_now() is pressed
    counts_exactly: ClassVar[bool]  # token counts come from the model's own tokenizer
    token_ids: ClassVar[bool]  # TokenCounts carry the id of each sampled token (loop detection by ids)

    profile: ModelProfile

    def load(self, progress: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None) -> None:
        """Make the model ready (blocking; off the GUI thread); abandoned when ``should_stop()``."""

    def stream(self, request: TurnRequest, control: TurnControl) -> ModelCall:
        """One model call: yields turn events, ending with exactly one ``TurnFinished``."""

    def close(self) -> None:
        """Free what the model holds."""


class LocalBackend(Backend, Protocol):
    """A model run in Ponder's process: it has a memory cost and can measure a prompt exactly."""

    def info(self) -> "ModelInfo":
        """What the loaded model is and can do (sent to the GUI with ``load_finished``)."""

    @property
    def loaded(self) -> bool:
        """The model is in memory."""

    @property
    def memory_bytes(self) -> int:
        """What the loaded model holds (weights, KV cache, overhead); 0 when not loaded."""

    @property
    def memory_key(self) -> object:
        """Backends with equal keys hold the same memory (profiles sharing one loaded file)."""

    def measure_prompt(self, request: TurnRequest) -> tuple[list[int], "ContextUsage"]:
        """The prompt's tokens and how they split the context window, without generating."""
