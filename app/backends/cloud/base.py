"""What every cloud backend shares: one HTTP streaming request per turn, read as SSE events.

A provider module supplies the request (URL, headers, JSON body) and a :class:`TurnReader`
that maps the provider's events onto turn events; :class:`CloudBackend` does the rest, the
same way for every provider:

* ``TurnStarted(where=host)`` with an estimated prompt size and ``Usage(estimated=True)``
  first; estimated ``TokenCounts`` after every piece of text; the provider's usage
  (``estimated=False``) at the end, or the estimate again when none came;
* HTTP 429: waits ``Retry-After`` (at most :attr:`CloudBackend.max_retries` times),
  emitting a ``RetryWait`` countdown once a second;
* the profile's ``[model.timeouts]`` bound every wait (:mod:`app.backends.cloud.deadlines`):
  keep-alives and empty events do not keep a silent server's call alive;
* redirects are refused, never followed (the key must not go to another host);
* every fault ends the turn with ``TurnFinished("error", message)``, keeping what streamed;
  the API key is removed from any text first;
* exactly one ``TurnFinished``. Cancelling the task that iterates :meth:`CloudBackend.stream`
  closes the connection at once (the ``CancelledError`` propagates; the turn runner reports
  the turn as cancelled, or asks again after Answer now: :mod:`app.controllers.turn_runner`).

Tool calls (:mod:`app.backends.cloud.tool_calls`): each reader collects the calls of its
call in ``calls`` and yields ``ToolCallOpened`` / ``ToolCallParsed``; at the end of a call that
made calls it yields one ``ProviderState(backend, data)`` with what the next request must
send back for this assistant turn, and the call finishes with ``"tool_calls"`` (the runner
then runs the round and asks again). A call the stream cut off is never offered as runnable.

Earlier turns' reasoning is not sent back in plain turns: their assistant dicts hold the
answer only. Tool rounds are sent back in each provider's own form, with the passback it
requires (Anthropic's signed thinking blocks, Responses' encrypted reasoning items, Gemini's
thought signatures, DeepSeek's ``reasoning_content``) taken from the round's
``provider_state`` when the reader recorded it; Ponder's private keys never go out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Any, Callable, ClassVar

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from app.backends.cloud.deadlines import CallDeadlines, LimitReached
from app.backends.cloud.faults import (
    CloudFault,
    limit_fault,
    provider_detail,
    redact,
    redirect_fault,
    retry_after_seconds,
    status_fault,
    transport_fault,
)
from app.backends.cloud.keys import require_key
from app.backends.cloud.tally import Tally, estimate_prompt, estimate_tokens
from app.backends.cloud.tool_calls import CallBook, schema_text
from app.domain import events as ev
from app.domain.context_budget import ContextUsage
from app.domain.profiles import ModelProfile
from app.domain.reasoning.fields import FieldReasoningAdapter
from app.domain.turn_control import TurnControl
from app.domain.turn_request import TurnRequest
from app.errors import PonderError

log = logging.getLogger(__name__)

ERROR_BODY_LIMIT = 8192


class MalformedEvent(Exception):
    """An event whose data is not what the provider documents (carries a short excerpt)."""


class ProviderStreamError(Exception):
    """The provider reported an error inside the event stream (its own sentence)."""


class TurnReader(ABC):
    """The state of one provider stream: SSE events in, turn events out.

    ``done`` stops reading at once (the provider's end event); :meth:`complete` says whether
    the stream ended properly (else the connection dropped); ``finish_reason`` and ``error``
    end the turn; :meth:`usage` is the provider's report, if any. An event is meaningful (it
    restarts the idle limit) when it yields turn events or sets ``done``, ``finish_reason`` or
    ``error``; :meth:`feed` calls :meth:`note_progress` for other meaningful ones (a usage
    report, a tool-call fragment). Lifecycle, empty and heartbeat events are not meaningful.

    ``calls`` collects the call's tool calls; :meth:`provider_state` is what the provider needs
    back for this assistant turn (``ProviderState`` under :attr:`backend`, the models.toml name).
    """

    backend: ClassVar[str] = ""

    def __init__(self, profile: ModelProfile, clock: Callable[[], float]) -> None:
        self.profile = profile
        self.clock = clock
        self.fields = FieldReasoningAdapter(clock)
        self.calls = CallBook(clock)
        self.done = False
        self.finish_reason: str | None = None
        self.error: str | None = None
        self.progress = False  # set by note_progress during one feed

    @abstractmethod
    def feed(self, sse: ServerSentEvent) -> list[ev.TurnEvent]:
        """Turn events for one SSE event; raises MalformedEvent or ProviderStreamError."""

    def note_progress(self) -> None:
        """The event being fed is meaningful though it yields no turn event (usage, a tool-call fragment)."""
        self.progress = True

    def complete(self) -> bool:
        """The stream carried the provider's end (or finish reason), so nothing was cut off."""
        return self.done

    def close(self, truncated: bool) -> list[ev.TurnEvent]:
        """Events that end the turn's text (an open block closes; ``truncated`` if cut off),
        then the tool calls' end (:meth:`end_calls`)."""
        return self.fields.finish(truncated) + self.end_calls(truncated)

    def end_calls(self, truncated: bool) -> list[ev.TurnEvent]:
        """Calls still open complete (or are cut off when ``truncated``); after a call that made
        tool calls, the provider's passback as one ``ProviderState``."""
        out = self.calls.finish(truncated)
        if self.calls.parsed and not truncated:
            data = self.provider_state()
            if data is not None:
                out.append(ev.ProviderState(self.backend, data))
        return out

    def provider_state(self) -> Any:
        """What the next request must send back for this assistant turn (JSON data), or None."""
        return None

    def usage(self, tally: Tally) -> ev.Usage | None:
        """The provider's usage for the turn (``estimated=False`` when exact), or None."""
        return None

    @staticmethod
    def load(sse: ServerSentEvent) -> dict[str, Any] | None:
        """The JSON object of an event; None for an empty data line."""
        data = sse.data.strip()
        if not data:
            return None
        try:
            obj = json.loads(data)
        except ValueError:
            raise MalformedEvent(data) from None
        if not isinstance(obj, dict):
            raise MalformedEvent(data)
        return obj


def estimate_prompt_usage(profile: ModelProfile, request: TurnRequest) -> ContextUsage:
    """The next prompt of a cloud model, estimated as a turn's start estimates it (the provider
    counts it once the request is sent): the gauge's preview before sending."""
    prompt, system = estimate_prompt(request.messages)
    schemas = estimate_tokens(schema_text(request.tools)) if request.tools else 0
    return ContextUsage(n_ctx=profile.context_window or 0, system=system, tools=schemas,
                        history=max(0, prompt - system), estimated=True)


class CloudBackend(ABC):
    """One cloud model: streams model calls as turn events over ``httpx`` (see module docstring)."""

    is_async: ClassVar[bool] = True
    supports_answer_now: ClassVar[bool] = False  # no such control: the runner asks again
    counts_exactly: ClassVar[bool] = False  # estimates until the provider's usage arrives
    token_ids: ClassVar[bool] = False
    max_retries = 3
    reader_class: type[TurnReader]

    def __init__(self, profile: ModelProfile, *, key: str | None = None,
                 clock: Callable[[], float] = time.monotonic, max_retry_wait: float = 60.0,
                 default_retry_wait: float = 2.0):
        self.profile = profile
        self.clock = clock
        self.host = profile.host
        self.limits = profile.timeouts
        connect = self.limits.connect
        # No read timeout: keep-alives would satisfy it forever, and CallDeadlines bounds every
        # wait on the response instead.
        self.timeout = httpx.Timeout(connect=connect, read=None, write=30.0, pool=connect)
        self.max_retry_wait = max_retry_wait
        self.default_retry_wait = default_retry_wait
        self._key = key  # None: looked up (keyring, then api_key_env) at every turn

    # -- what each provider supplies ---------------------------------------------------------
    @abstractmethod
    def url(self, request: TurnRequest) -> str:
        """The streaming endpoint."""

    @abstractmethod
    def headers(self, key: str | None) -> dict[str, str]:
        """Request headers, the key included (never in the URL)."""

    @abstractmethod
    def payload(self, request: TurnRequest) -> dict[str, Any]:
        """The JSON body."""

    def request_headers(self, request: TurnRequest) -> dict[str, str]:
        """Headers this request needs beside :meth:`headers` (e.g. a beta feature)."""
        return {}

    def auth_error(self, status: int, body: bytes) -> bool:
        """True when an error status other than 401/403 means a bad key (Gemini: 400)."""
        return False

    @property
    def api_model(self) -> str:
        """The provider's model name."""
        return self.profile.model or self.profile.id

    @property
    def base(self) -> str:
        return (self.profile.base_url or "").rstrip("/")

    # -- the rest of the Backend protocol ------------------------------------------------------
    def load(self, progress: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None) -> None:
        """Nothing to load for a cloud model."""

    def close(self) -> None:
        """Nothing to free (connections close with each turn)."""

    # -- the turn ----------------------------------------------------------------------------
    async def stream(self, request: TurnRequest, control: TurnControl | None = None, *,
                     client: httpx.AsyncClient | None = None) -> AsyncIterator[ev.TurnEvent]:
        """One model call, yielding turn events; ends with exactly one ``TurnFinished``.
        ``control`` is not read: Stop cancels the task that iterates this."""
        clock = self.clock
        prompt, system = estimate_prompt(request.messages)
        schemas = estimate_tokens(schema_text(request.tools)) if request.tools else 0
        prompt += schemas
        yield ev.TurnStarted(clock(), self.profile.id, prompt, self.profile.context_window or 0,
                             where=self.host, system_tokens=system, tool_tokens=schemas)
        yield ev.Usage(prompt, 0, 0, estimated=True)
        tally = Tally(clock)
        reader = self.reader_class(self.profile, clock)
        key: str | None = self._key
        finish, error = "stop", None
        try:
            if key is None:  # off the loop's thread: a keyring may block (unlock prompt)
                key = await asyncio.get_running_loop().run_in_executor(None, require_key, self.profile)
            limits = CallDeadlines(self.limits, asyncio.get_running_loop().time)
            async with _client_scope(client, self.timeout) as http:
                async for batch in self._exchange(http, request, key, reader, limits):
                    for event in tally.counted(batch):
                        yield event
            finish = reader.finish_reason or "stop"
            if reader.error:
                finish, error = "error", reader.error
        except PonderError as exc:
            finish, error = "error", str(exc)
        for event in tally.counted(reader.close(truncated=finish in ("length", "error"))):
            yield event
        if finish == "stop" and reader.calls.parsed:  # the model stopped to call tools
            finish = "tool_calls"
        usage = reader.usage(tally)
        if usage is not None and usage.reasoning_tokens > 0 and not tally.saw_reasoning:
            yield ev.HiddenReasoning(usage.reasoning_tokens)
        if usage is None:
            usage = ev.Usage(prompt, tally.reasoning_tokens, tally.answer_tokens, estimated=True)
        yield usage
        if error:
            log.info("Cloud turn of %s failed: %s", self.profile.id, redact(error, key))
        yield ev.TurnFinished(clock(), finish, redact(error, key))

    async def _exchange(self, http: httpx.AsyncClient, request: TurnRequest, key: str | None,
                        reader: TurnReader, limits: CallDeadlines) -> AsyncIterator[list[ev.TurnEvent]]:
        """POST the request (retrying on 429) and yield the reader's events per SSE event."""
        url, body = self.url(request), self.payload(request)
        headers = {"accept": "text/event-stream", "cache-control": "no-store", **self.request_headers(request),
                   **self.headers(key)}
        for attempt in range(self.max_retries + 1):
            wait: float | None = None
            response: httpx.Response | None = None
            streaming = False
            limits.request_sent()
            try:
                outgoing = http.build_request("POST", url, json=body, headers=headers, timeout=self.timeout)
            except httpx.InvalidURL as exc:  # (not an httpx.HTTPError)
                raise transport_fault(self.profile, self.host, exc, streaming=False) from exc
            try:
                try:
                    # follow_redirects=False whatever the client says: the key goes to base_url's host only.
                    response = await limits.within(http.send(outgoing, stream=True, follow_redirects=False))
                except httpx.InvalidURL:  # httpx builds the next request of a redirect even when not following
                    raise redirect_fault(self.profile, self.host, None, url, None) from None
                status = response.status_code
                log.debug("%s answered HTTP %s for %s", self.host, status, self.profile.id)
                if status == 429 and attempt < self.max_retries:
                    wait = retry_after_seconds(response.headers, self.default_retry_wait * 2**attempt)
                elif 300 <= status < 400:
                    raise redirect_fault(self.profile, self.host, status, url,
                                         redact(response.headers.get("location"), key))
                elif not 200 <= status < 300:
                    head = await _read_head(response, limits)
                    detail = redact(provider_detail(head), key) or ""
                    raise status_fault(self.profile, self.host, status, detail,
                                       auth=self.auth_error(status, head))
                else:
                    streaming = True
                    async with aclosing(self._events(response, reader, key, limits)) as batches:
                        async for batch in batches:
                            yield batch
                    if not reader.complete():
                        raise CloudFault(f"The connection to {self.host} ended before the answer of "
                                         f'"{self.profile.id}" was complete; what arrived is kept. Try again.',
                                         model_id=self.profile.id)
                    return
            except LimitReached as reached:
                keepalives = response is not None and response.num_bytes_downloaded > limits.heard_bytes
                raise limit_fault(self.profile, self.host, reached, answered=response is not None,
                                  keepalives=keepalives) from None
            except SSEError:  # (an httpx.TransportError: first)
                assert response is not None
                raise CloudFault(f'{self.host} did not answer "{self.profile.id}" with an event stream '
                                 f"(content type {response.headers.get('content-type', 'none')!r}). Check the "
                                 '"base_url" in models.toml.', model_id=self.profile.id) from None
            except httpx.HTTPError as exc:
                if streaming and reader.done:  # the answer was complete; only the tail of the body failed
                    log.debug("%s: the connection failed after the end event (%s)", self.host, type(exc).__name__)
                    return
                raise transport_fault(self.profile, self.host, exc, streaming=streaming) from exc
            finally:
                if response is not None:
                    await response.aclose()
            assert wait is not None
            if wait > self.max_retry_wait:
                raise CloudFault(f'{self.host} is rate-limiting "{self.profile.id}" (HTTP 429) and asks to wait '
                                 f"{wait:.0f} s. Try again later.", model_id=self.profile.id, status=429)
            try:
                async for batch in self._countdown(wait, attempt + 1, limits):
                    yield batch
            except LimitReached as reached:
                raise limit_fault(self.profile, self.host, reached, answered=False, keepalives=False) from None

    async def _events(self, response: httpx.Response, reader: TurnReader, key: str | None,
                      limits: CallDeadlines) -> AsyncIterator[list[ev.TurnEvent]]:
        """The reader's events per SSE event, each wait under the call's deadlines; stops at the
        provider's end event. Only meaningful events restart the idle limit (see TurnReader)."""
        events = EventSource(response).aiter_sse()
        try:
            while not reader.done:
                sse = await limits.within(anext(events, None))
                if sse is None:
                    return
                before = (reader.done, reader.finish_reason, reader.error)
                reader.progress = False
                batch = self._read(reader, sse, key)
                if batch or reader.progress or before != (reader.done, reader.finish_reason, reader.error):
                    limits.progressed(response.num_bytes_downloaded)
                if batch:
                    yield batch
        finally:
            # Closed here, not left to a garbage collector: qasync installs no async-generator
            # finalizer of its own (see app.controllers.cloud_host).
            await events.aclose()

    def _read(self, reader: TurnReader, sse: ServerSentEvent, key: str | None) -> list[ev.TurnEvent]:
        try:
            return reader.feed(sse)
        except MalformedEvent as exc:
            excerpt = redact(str(exc), key) or ""
            excerpt = excerpt[:80] + ("…" if len(excerpt) > 80 else "")
            message = (f'{self.host} sent an event Ponder cannot read ({excerpt!r}) in the answer of '
                       f'"{self.profile.id}"; the answer stops there, with what had arrived.')
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
            message = (f'{self.host} sent an event of an unexpected shape in the answer of "{self.profile.id}" '
                       f"({type(exc).__name__}); the answer stops there, with what had arrived.")
        except ProviderStreamError as exc:
            message = (f'{self.host} reported an error in the middle of the answer of "{self.profile.id}": '
                       f"{redact(str(exc), key)}. What arrived is kept; try again.")
        raise CloudFault(message, model_id=self.profile.id)

    async def _countdown(self, wait: float, attempt: int, limits: CallDeadlines) -> AsyncIterator[list[ev.TurnEvent]]:
        """``RetryWait`` once a second until ``wait`` has passed, then ``RetryWait(0)``
        (within the call's total cap)."""
        remaining = round(wait, 6)
        while remaining > 0:
            whole = math.ceil(remaining)
            yield [ev.RetryWait(self.clock(), float(whole), attempt, self.max_retries)]
            step = remaining - (whole - 1)
            await limits.within(asyncio.sleep(step), "total")
            remaining = round(remaining - step, 6)
        yield [ev.RetryWait(self.clock(), 0.0, attempt, self.max_retries)]


@asynccontextmanager
async def _client_scope(client: httpx.AsyncClient | None, timeout: httpx.Timeout) -> AsyncIterator[httpx.AsyncClient]:
    """The caller's client as is, or a fresh one closed afterwards."""
    if client is not None:
        yield client
        return
    async with httpx.AsyncClient(timeout=timeout) as own:
        yield own


async def _read_head(response: httpx.Response, limits: CallDeadlines) -> bytes:
    """At most :data:`ERROR_BODY_LIMIT` bytes of an error response's body, read for at most
    ``ERROR_BODY_SECONDS``: a body that never ends is cut there (the caller closes it)."""
    chunks: list[bytes] = []
    size = 0
    pieces = response.aiter_bytes()
    limits.reading_error_body()
    try:
        while size < ERROR_BODY_LIMIT:
            chunk = await limits.within(anext(pieces, None), "error_body")
            if chunk is None:
                break
            chunks.append(chunk)
            size += len(chunk)
    except LimitReached as reached:
        if reached.which != "error_body":
            raise
        log.debug("%s: the error body did not end within %g s", response.url.host, reached.seconds)
    finally:
        await pieces.aclose()
    return b"".join(chunks)[:ERROR_BODY_LIMIT]
