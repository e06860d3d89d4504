"""Local GGUF models through llama-cpp-python: one model call at a time.

The prompt is rendered with the model's own chat template (from the GGUF metadata) and
tokenized with its tokenizer, so prompt counts are exact. Generated tokens are detokenized
by Ponder itself with special tokens rendered (llama-cpp-python's completion API drops
control tokens, which would hide markers such as gpt-oss's), decoded incrementally so a
UTF-8 character split across tokens never shows a replacement character, and passed with
their special flag to the reasoning parser (:mod:`app.backends.llama_decode`).

Stopping is cooperative: the stop event is checked between prompt slices and per token.
After a call, llama.cpp's context holds exactly the prompt plus every token counted in the
call's ``TokenCounts`` (the end-of-generation token is neither shown nor evaluated).
Everything that touches llama-cpp-python's internals goes through
:mod:`app.backends.llama_adapter`.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Callable, ClassVar, Iterator

from jinja2 import TemplateError

from app import paths
from app.backends import llama_adapter as adapter
from app.backends.base import TurnControl, TurnRequest
from app.domain import events as ev
from app.domain.chat_template import RenderStopped, render_chat
from app.domain.context_budget import ContextUsage, answer_reserve
from app.domain.conversation import drop_oldest_turns
from app.domain.hardware_fit import MemoryEstimate
from app.domain.model_info import ModelInfo
from app.domain.model_reasoning import ReasoningSetup, resolve_reasoning
from app.domain.profiles import DEFAULT_N_CTX, ModelProfile
from app.errors import BackendError, ChatTemplateError, ModelFileError

GGUF_MAGIC = b"GGUF"
# Prompt evaluation runs in slices of about this many seconds, so Stop is seen between them.
PREFILL_SLICE_S = 0.08
PREFILL_FIRST_SLICE = 8

__all__ = ["DEFAULT_N_CTX", "LlamaBackend", "check_gguf", "check_fits"]


def check_gguf(path: Path) -> None:
    """Fail early, with a sentence a user can act on, when a file is not a GGUF model."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{path.name} is not a GGUF model file (it does not start with 'GGUF'). "
            "Ponder runs local models in GGUF format; convert it or download a GGUF build."
        )


def memory_estimate(path: Path, n_ctx: int) -> MemoryEstimate:
    """What ``path`` needs loaded with ``n_ctx`` tokens of context (the fit verdict's formula)."""
    from app.backends.gguf_info import read_gguf_info
    from app.domain.hardware_fit import estimate_memory

    return estimate_memory(read_gguf_info(path).shape(), n_ctx)


def check_fits(path: Path, estimate: MemoryEstimate, available_bytes: int | None = None) -> None:
    """Refuse, before loading, a model that cannot fit this machine's memory; "tight" loads."""
    from app.domain.hardware_fit import fit_verdict, machine_memory

    available = available_bytes if available_bytes is not None else machine_memory().available_bytes
    verdict = fit_verdict(estimate, available)
    if verdict.status == "won't fit":
        raise ModelFileError(f"{path.name} is too large for this machine: {verdict.explanation} "
                             "Pick a smaller quantization, lower n_ctx, or close other programs.")


def template_for(profile: ModelProfile, llm) -> tuple[str, str]:
    """(template text, note) for ``llm`` loaded from ``profile``: the file's own template, a
    preset or a .jinja file (:func:`app.domain.chat_presets.resolve_chat_template`); the
    tokenizer tells whether a chat marker is one token of the vocabulary."""
    from app.domain.chat_presets import resolve_chat_template

    def vocab_contains(marker: str) -> bool:
        ids = llm.tokenize(marker.encode("utf-8"), add_bos=False, special=True)
        return len(ids) == 1 and adapter.token_text(llm, ids[0]) == marker

    meta = llm.metadata
    return resolve_chat_template(profile.chat_template, meta.get("tokenizer.chat_template"),
                                 meta.get("general.architecture", ""), vocab_contains)


class LoadCancelled(BackendError):
    """The user no longer wanted the model (Stop, a switch, or quitting) while it loaded."""


class LlamaBackend:
    """A local model: loads on the calling (worker) thread and streams model calls."""

    is_async: ClassVar[bool] = False
    supports_answer_now: ClassVar[bool] = True  # feeds the end marker itself
    counts_exactly: ClassVar[bool] = True
    token_ids: ClassVar[bool] = True

    def __init__(self, profile: ModelProfile, *, n_threads: int | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.profile = profile
        self.clock = clock
        self.available_memory: int | None = None  # None: measured when loading
        # llama-cpp-python's own default: half the logical cores (the physical ones on most
        # machines), which also leaves the GUI thread a core of its own.
        self.n_threads = n_threads or int(os.environ.get("PONDER_N_THREADS", 0)) or max(1, (os.cpu_count() or 2) // 2)
        self.llm = None
        self.template: str | None = None
        self.template_note = ""  # why the template is not the file's own (empty when it is)
        self.bos_text = ""
        self.eos_text = ""
        self.setup: ReasoningSetup | None = None
        self.estimate: MemoryEstimate | None = None
        self._special_cache: dict[int, bool] = {}
        self._special_text: re.Pattern | None | bool = False  # False: not looked up yet
        self._piece_cache: dict[int, bytes] = {}
        self.end_ids: list[int] = []  # what a budget cut feeds: the end marker and a blank line
        # An optional llama-cpp-python logits processor (tests use one to force tokens).
        self.logits_processor = None

    # -- loading -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self.llm is not None

    def load(self, progress: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None) -> None:
        if self.llm is not None:
            return
        path = paths.resolve_model_path(self.profile.path or "")
        check_gguf(path)
        n_ctx = self.profile.local_n_ctx
        estimate = memory_estimate(path, n_ctx)
        check_fits(path, estimate, self.available_memory)
        if progress:
            progress(f"Loading {path.name}…")
        adapter.tolerate_broken_file_templates()  # a template that does not compile must not refuse the model
        try:
            llm = adapter.load_llama(str(path), should_stop=should_stop, n_ctx=n_ctx, n_batch=512,
                                     n_threads=self.n_threads, n_threads_batch=self.n_threads, verbose=False)
        except adapter.LoadAbandoned:
            raise LoadCancelled(f"Loading {path.name} was abandoned.", model_id=self.profile.id) from None
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"Could not load {path.name}: the file is damaged, truncated or of an unsupported "
                f"architecture ({exc}). Re-download it or pick another model."
            ) from exc
        try:
            self.template, self.template_note = template_for(self.profile, llm)  # a preset when the file has none
        except ModelFileError:
            llm.close()
            raise
        self.llm, self.estimate = llm, estimate
        self.bos_text = adapter.token_text(llm, llm.token_bos()) if llm.token_bos() >= 0 else ""
        self.eos_text = adapter.token_text(llm, llm.token_eos()) if llm.token_eos() >= 0 else ""
        name = llm.metadata.get("general.name", "") + " " + path.name
        self.setup = self._reasoning_setup(name)

    def _reasoning_setup(self, name: str) -> ReasoningSetup:
        setup = resolve_reasoning(self.profile.reasoning, self.template, name)
        if setup.spec is None:
            return setup
        # Markers that are single special tokens are matched only as such, so the same
        # characters written inside the reasoning text are not taken for a marker.
        ids = [self.tokenize_plain(m) for m in (setup.spec.start, setup.spec.end)]
        if all(len(i) == 1 and self.is_special(i[0]) for i in ids):
            setup = setup.with_special_markers()
        self.end_ids = self.tokenize_plain(setup.injection_text)
        return setup

    @property
    def memory_bytes(self) -> int:
        """What the loaded model holds: weights, KV cache and overhead (the fit verdict's
        estimate, so the residency budget and the verdict agree)."""
        return self.estimate.total if self.llm is not None and self.estimate is not None else 0

    def info(self) -> ModelInfo:
        setup = self.setup
        return ModelInfo(
            model_id=self.profile.id,
            can_switch_thinking=bool(setup and (setup.enable_thinking_switch or setup.prompt_suffix)),
            reasons=bool(setup and setup.spec is not None),
            n_ctx=self.n_ctx(), memory_bytes=self.memory_bytes,
            model_path=str(self.llm.model_path) if self.llm else "",
            n_threads=self.n_threads, n_threads_batch=self.n_threads,
        )

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None

    # -- prompts -------------------------------------------------------------------------
    def render_prompt(self, messages, *, add_generation_prompt: bool = True, thinking: bool | None = None,
                      should_stop=None, **extra) -> str:
        """The model's own template over ``messages``.

        ``thinking=False`` asks a switchable model not to think: ``enable_thinking=False``
        for templates that take it, no forced-open suffix for models Ponder makes think. A
        template that fails or loops raises :class:`ChatTemplateError` naming it; when
        ``should_stop()`` turns true the render stops (:class:`RenderStopped`).
        """
        if thinking is False and self.setup is not None and self.setup.enable_thinking_switch:
            extra.setdefault("enable_thinking", False)
        try:
            prompt = render_chat(
                self.template or "",
                list(messages),
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_text,
                eos_token=self.eos_text,
                should_stop=should_stop,
                **extra,
            )
        except TemplateError as exc:
            raise ChatTemplateError(self._template_name(), str(exc)) from None
        if add_generation_prompt and self.setup is not None and thinking is not False:
            prompt += self.setup.prompt_suffix
        return prompt

    def _template_name(self) -> str:
        name = Path(self.llm.model_path).name if self.llm is not None else (self.profile.path or self.profile.id)
        return f"{name} ({self.template_note})" if self.template_note else name

    def tokenize(self, text: str) -> list[int]:
        """Tokens of ``text`` with special tokens recognised (and BOS where the model wants it)."""
        add_bos = self.llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
        if self.bos_text and text.startswith(self.bos_text):
            add_bos = False
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def tokenize_prompt(self, text: str, messages, markup=()) -> list[int]:
        """Tokens of a rendered prompt: the template's markup may be special tokens, message
        contents never are — text such as ``<|im_end|>`` typed by a user, written by a model or
        returned by a tool is tokenized as the characters it is, so it cannot forge a turn.

        ``markup`` (per message) gives offsets of Ponder's own reasoning markers inside a
        content, which stay markup. Only the spans of special-token text found inside contents
        are tokenized apart; the rest of the prompt is tokenized as a whole, as before.
        """
        spans = self._content_specials(text, messages, markup)
        if not spans:
            return self.tokenize(text)
        tokens: list[int] = []
        pos = 0
        for a, b in spans:
            if a > pos:
                tokens += self.tokenize(text[pos:a]) if pos == 0 else self.tokenize_plain(text[pos:a])
            tokens += self.llm.tokenize(text[a:b].encode("utf-8"), add_bos=False, special=False)
            pos = b
        if pos < len(text):
            tokens += self.tokenize_plain(text[pos:])
        return tokens

    def _content_specials(self, text: str, messages, markup) -> list[tuple[int, int]]:
        """Spans of ``text`` where a message content holds the text of a special token."""
        pattern = self._special_pattern()
        if pattern is None:
            return []
        spans: list[tuple[int, int]] = []
        cursor = 0
        for i, message in enumerate(messages):
            content = message.get("content")
            if not isinstance(content, str) or not content:
                continue
            own = set(markup[i]) if i < len(markup) else set()
            hits = [(m.start(), m.end()) for m in pattern.finditer(content) if m.start() not in own]
            at = text.find(content, cursor)
            if at >= 0:
                cursor = at + len(content)
                spans += [(at + a, at + b) for a, b in hits]
                continue
            for a, b in hits:  # the template changed the content (trimmed, split): find each by its context
                for lo, hi in ((max(0, a - 24), min(len(content), b + 24)), (max(0, a - 24), b), (a, min(len(content), b + 24))):
                    j = text.find(content[lo:hi], cursor)
                    if j >= 0:
                        spans.append((j + a - lo, j + b - lo))
                        break
        return sorted(set(spans))

    def _special_pattern(self) -> re.Pattern | None:
        if self._special_text is False:
            texts = sorted(adapter.special_texts(self.llm), key=len, reverse=True)
            self._special_text = re.compile("|".join(map(re.escape, texts))) if texts else None
        return self._special_text  # type: ignore[return-value]

    def tokenize_plain(self, text: str) -> list[int]:
        """Tokens of ``text`` as a continuation (no BOS; special tokens recognised)."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def n_ctx(self) -> int:
        return self.llm.n_ctx() if self.llm else self.profile.local_n_ctx

    def piece(self, token: int) -> bytes:
        """The token's bytes with special tokens rendered (cached: pieces never change)."""
        piece = self._piece_cache.get(token)
        if piece is None:
            piece = self._piece_cache[token] = adapter.token_piece(self.llm, token)
        return piece

    def is_special(self, token: int) -> bool:
        special = self._special_cache.get(token)
        if special is None:
            special = self._special_cache[token] = adapter.is_control(self.llm, token)
        return special

    # -- a model call --------------------------------------------------------------------
    def stream(self, request: TurnRequest, control: TurnControl) -> Iterator[ev.TurnEvent]:
        """One model call. ``control.stop()`` ends it; ``control.answer_now()`` ends the
        thinking and lets the model answer."""
        from app.backends.llama_decode import Decoder

        if self.llm is None:
            raise BackendError("The model is not loaded yet.")
        t0 = self.clock()
        try:
            prompt, usage = self.measure_prompt(request, should_stop=lambda: control.stopped)
        except RenderStopped:
            yield ev.TurnFinished(self.clock(), "cancelled")
            return
        n_ctx = usage.n_ctx
        yield ev.TurnStarted(t0, self.profile.id, len(prompt), n_ctx, system_tokens=usage.system,
                             carried_tokens=usage.carried_reasoning)
        reserve = answer_reserve(n_ctx)
        if len(prompt) + reserve > n_ctx:
            yield self._overflow_plan(request, len(prompt), n_ctx, reserve)
            yield ev.TurnFinished(self.clock(), "error",
                                  f"The prompt needs {len(prompt):,} tokens and the answer {reserve:,} more, but the "
                                  f"context holds {n_ctx:,}. Nothing was cut: strip earlier thinking, leave out the "
                                  "oldest turns, start a new chat, or raise n_ctx for this model.")
            return
        if not self._prefill(prompt, control):
            yield ev.TurnFinished(self.clock(), "cancelled")
            return
        yield from Decoder(self, prompt, request, control).run()

    def measure_prompt(self, request: TurnRequest, should_stop=None) -> tuple[list[int], ContextUsage]:
        """The prompt's tokens and how they split the window (exact: own template, tokenizer).

        Carried reasoning is the difference between rendering the chat with the earlier
        reasoning the policy keeps and rendering it stripped.
        """
        text = self.render_prompt(request.messages, thinking=request.thinking, should_stop=should_stop)
        prompt = self.tokenize_prompt(text, request.messages, request.markup)
        carried = 0
        if request.stripped_messages is not None and request.stripped_messages != request.messages:
            stripped = self.render_prompt(request.stripped_messages, thinking=request.thinking, should_stop=should_stop)
            carried = max(0, len(prompt) - len(self.tokenize_prompt(stripped, request.stripped_messages)))
        system = self._system_tokens(text, request.messages)
        usage = ContextUsage(n_ctx=self.llm.n_ctx(), system=system, carried_reasoning=carried,
                             history=max(0, len(prompt) - system - carried))
        return prompt, usage

    def _overflow_plan(self, request: TurnRequest, needed: int, n_ctx: int, reserve: int) -> ev.ContextOverflow:
        """What would make the prompt fit: stripping earlier reasoning, then leaving out turns."""
        def fits(chat) -> bool:
            return len(self.tokenize_prompt(self.render_prompt(chat, thinking=request.thinking), chat)) + reserve <= n_ctx

        base = request.stripped_messages or request.messages
        strip_fits = request.stripped_messages is not None and fits(request.stripped_messages)
        drop = 0
        users = sum(1 for m in base if m["role"] == "user")
        for k in range(1, users):
            if fits(drop_oldest_turns(base, k)):
                drop = k
                break
        return ev.ContextOverflow(needed, n_ctx, reserve, strip_fits, drop)

    def _system_tokens(self, prompt: str, messages) -> int:
        """Tokens before the first user message's text: template preamble and system prompt."""
        first = next((m["content"] for m in messages if m.get("role") == "user"), None)
        at = prompt.find(first) if first else -1
        return len(self.tokenize_prompt(prompt[:at], messages)) if at > 0 else 0

    def _prefill(self, prompt: list[int], control: TurnControl) -> bool:
        """Evaluate all but the last prompt token, reusing the cached prefix.

        Slices are sized to take about ``PREFILL_SLICE_S`` each (measured as it goes), so
        Stop is seen within that time on any machine without starving a fast GPU.
        """
        llm = self.llm
        cached = min(adapter.common_prefix(llm, prompt), len(prompt) - 1)
        adapter.keep_cached(llm, cached)
        todo = prompt[cached:-1]
        i, size = 0, PREFILL_FIRST_SLICE
        while i < len(todo):
            if control.stopped:
                return False
            t0 = time.perf_counter()
            llm.eval(todo[i : i + size])
            per_token = (time.perf_counter() - t0) / len(todo[i : i + size])
            i += size
            size = max(8, min(llm.n_batch, int(PREFILL_SLICE_S / max(per_token, 1e-6))))
        return not control.stopped
