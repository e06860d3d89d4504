"""Local GGUF models through llama-cpp-python: one model call at a time.

The prompt is rendered with the model's own chat template (from the GGUF metadata) and
tokenized with its tokenizer, so prompt counts are exact. Generated tokens are detokenized
by Ponder itself with special tokens rendered (llama-cpp-python's completion API drops
control tokens, which would hide markers such as gpt-oss's), decoded incrementally so a
UTF-8 character split across tokens never shows a replacement character, and passed with
their special flag to the reasoning parser (:mod:`app.backends.llama_decode`).

Stopping is cooperative: llama.cpp's abort callback sees Stop while the prompt is
evaluated (:mod:`app.backends.llama_model`), the decode loop checks it per token. After a
call, llama.cpp's context holds exactly the prompt plus every token counted in the call's
``TokenCounts`` (the end-of-generation token is neither shown nor evaluated).
Everything that touches llama-cpp-python's internals goes through
:mod:`app.backends.llama_adapter`.
"""

from __future__ import annotations

import time
from typing import Callable, ClassVar, Iterator

from jinja2 import TemplateError

from app import paths
from app.backends import llama_adapter as adapter
from app.backends.base import TurnControl, TurnRequest
from app.backends.llama_model import LlamaModel, LoadCancelled, ModelPool, check_fits, check_gguf, memory_estimate
from app.domain import events as ev
from app.domain.chat_template import RenderStopped, render_chat
from app.domain.context_budget import ContextUsage, answer_reserve
from app.domain.conversation import drop_oldest_turns
from app.domain.model_info import ModelInfo
from app.domain.model_reasoning import ReasoningSetup, resolve_reasoning
from app.domain.profiles import DEFAULT_N_CTX, ModelProfile
from app.domain.tools.chat_format import tools_json
from app.domain.tools.detect import resolve_tool_family
from app.domain.tools.families import tool_family
from app.domain.tools.history import template_messages
from app.domain.tools.prompt import with_tools_system
from app.errors import BackendError, ChatTemplateError, ModelFileError

__all__ = ["DEFAULT_N_CTX", "LlamaBackend", "LoadCancelled", "check_fits", "check_gguf", "memory_estimate"]


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


class LlamaBackend:
    """A local model profile: its template, reasoning markers and sampling, over a loaded
    :class:`~app.backends.llama_model.LlamaModel` (its own, or one shared through a pool with
    the other profiles on the same file); loads on the calling (worker) thread."""

    is_async: ClassVar[bool] = False
    supports_answer_now: ClassVar[bool] = True  # feeds the end marker itself
    counts_exactly: ClassVar[bool] = True
    token_ids: ClassVar[bool] = True

    def __init__(self, profile: ModelProfile, *, pool: ModelPool | None = None, threads: int | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.profile = profile
        self.clock = clock
        self.pool = pool  # None: the model is this backend's own
        self.threads_setting = threads
        self.available_memory: int | None = None  # None: measured when loading
        self.model: LlamaModel | None = None
        self.template: str | None = None
        self.template_note = ""  # why the template is not the file's own (empty when it is)
        self.setup: ReasoningSetup | None = None
        self.end_ids: list[int] = []  # what a budget cut feeds: the end marker and a blank line
        self.tool_family: str | None = None  # how the model writes tool calls (None: it is offered none)
        self.tool_markers_special = False  # its call markers are special tokens of the vocabulary
        self.renders_tools = False  # the template puts ``tools`` into the prompt itself
        self.last_prompt_text = ""  # of the last measured prompt (for the model's held context)
        # An optional llama-cpp-python logits processor (tests use one to force tokens).
        self.logits_processor = None

    # -- loading -------------------------------------------------------------------------
    @property
    def llm(self):
        """llama-cpp-python's ``Llama`` of the loaded model (None when not loaded)."""
        return self.model.llm if self.model is not None else None

    @property
    def loaded(self) -> bool:
        return self.llm is not None

    def load(self, progress: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None) -> None:
        if self.loaded:
            return
        path = paths.resolve_model_path(self.profile.path or "")
        options = {"should_stop": should_stop, "available_memory": self.available_memory, "progress": progress}
        lookup = self.profile.prompt_lookup
        if self.pool is not None:
            model = self.pool.acquire(path, self.profile.local_n_ctx, prompt_lookup=lookup, **options)
        else:
            model = LlamaModel(path, self.profile.local_n_ctx, threads_setting=self.threads_setting,
                               prompt_lookup=lookup)
            model.load(**options)
        try:
            self.template, self.template_note = template_for(self.profile, model.llm)  # a preset when the file has none
        except ModelFileError:
            self._let_go(model)
            raise
        self.model = model
        name = model.llm.metadata.get("general.name", "") + " " + path.name
        self.setup = self._reasoning_setup(name)
        self._tool_setup(name)

    def _let_go(self, model: LlamaModel) -> None:
        if self.pool is not None:
            self.pool.release(model)
        else:
            model.close()

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

    def _tool_setup(self, name: str) -> None:
        try:
            self.tool_family = resolve_tool_family(self.template, name, self.profile.tool_format)
        except ValueError:  # checked when models.toml was read; a stale value means no tools
            self.tool_family = None
        if self.tool_family is None:
            return
        opener = tool_family(self.tool_family).markers[0]
        ids = self.tokenize_plain(opener)
        self.tool_markers_special = len(ids) == 1 and self.is_special(ids[0])
        from app.domain.tools.types import ToolSpec

        probe = [{"role": "user", "content": "hi"}]
        spec = ToolSpec("probe_tool", "A probe.", {"type": "object", "properties": {}})
        try:
            self.renders_tools = self.render_prompt(probe, tools=tools_json([spec])) != self.render_prompt(probe)
        except ChatTemplateError:
            self.renders_tools = False

    @property
    def memory_key(self) -> tuple | None:
        """Backends with the same key share their memory (one loaded file)."""
        return self.model.key if self.model is not None else None

    @property
    def memory_bytes(self) -> int:
        """What the loaded model holds: weights, KV cache and overhead (the fit verdict's
        estimate, so the residency budget and the verdict agree)."""
        return self.model.memory_bytes if self.model is not None else 0

    def info(self) -> ModelInfo:
        setup, model = self.setup, self.model
        threads = model.threads if model is not None else None
        return ModelInfo(
            model_id=self.profile.id,
            can_switch_thinking=bool(setup and (setup.enable_thinking_switch or setup.prompt_suffix)),
            reasons=bool(setup and setup.spec is not None),
            n_ctx=self.n_ctx(), memory_bytes=self.memory_bytes,
            model_path=str(model.path) if model is not None else "",
            n_threads=threads.decode if threads else 0, n_threads_batch=threads.batch if threads else 0,
            tool_format=self.tool_family,
        )

    def close(self) -> None:
        """Free the model (or let a shared one go: the pool frees it when no profile uses it)."""
        if self.model is not None:
            model, self.model = self.model, None
            self._let_go(model)

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
                bos_token=self.model.bos_text,
                eos_token=self.model.eos_text,
                should_stop=should_stop,
                **extra,
            )
        except TemplateError as exc:
            raise ChatTemplateError(self._template_name(), str(exc)) from None
        if add_generation_prompt and self.setup is not None and thinking is not False:
            prompt += self.setup.prompt_suffix
        return prompt

    def chat_prompt(self, messages, markup=(), tools=(), *, thinking: bool | None = None,
                    should_stop=None) -> tuple[str, list[dict], list[tuple[int, ...]]]:
        """(prompt text, the chat as the template got it, Ponder's markup offsets per message):
        tool rounds shaped for the model's family, the tools in the template's ``tools`` or, when
        it ignores them, in the system message."""
        chat, marks = self._template_chat(messages, markup)
        tools = tuple(tools) if self.tool_family else ()
        if tools and not self.renders_tools:
            had_system = bool(chat) and chat[0].get("role") == "system"
            start = len(chat[0].get("content") or "") + 2 if had_system and chat[0].get("content") else 0
            chat = with_tools_system(chat, tools, self.tool_family)
            ours = tuple(start + o for o in self.model.special_offsets(chat[0]["content"][start:]))
            marks = [tuple(marks[0]) + ours, *marks[1:]] if had_system else [ours, *marks]
        extra = {"tools": tools_json(tools)} if tools and self.renders_tools else {}
        text = self.render_prompt(chat, thinking=thinking, should_stop=should_stop, **extra)
        return text, chat, marks

    def _template_chat(self, messages, markup) -> tuple[list[dict], list[tuple[int, ...]]]:
        """Generic chat dicts as the template takes them, with the markup offsets re-aligned."""
        chat: list[dict] = []
        marks: list[tuple[int, ...]] = []
        i = 0
        while i < len(messages):
            m = messages[i]
            if m.get("role") == "assistant" and m.get("tool_calls"):
                j = i + 1
                while j < len(messages) and messages[j].get("role") == "tool":
                    j += 1
                if self.renders_tools:
                    shaped = template_messages(messages[i:j], self.tool_family)
                    chat += shaped
                    marks += [()] * len(shaped)
                else:
                    for d, o in self._written_round(messages[i:j]):
                        chat.append(d)
                        marks.append(o)
                i = j
                continue
            if m.get("role") != "tool":  # a result without its call was dropped with it
                chat.append({"role": m["role"], "content": m.get("content") or ""})
                marks.append(tuple(markup[i]) if i < len(markup) else ())
            i += 1
        return chat, marks

    def _written_round(self, round_: list) -> list[tuple[dict, tuple[int, ...]]]:
        """A tool round for a template that knows no tools: the calls as the model wrote them
        (so the next prompt continues the cached one), the results in a user turn wrapped as the
        tools text told the model (``<tool_response>``). Ponder's markup keeps its offsets."""
        assistant, results = round_[0], round_[1:]
        if assistant.get("written"):  # as generated: after the prompt suffix of a model Ponder makes think
            suffix = self.setup.prompt_suffix if self.setup is not None else ""
            content = assistant["written"] if assistant["written"].startswith(suffix) else suffix + assistant["written"]
            own = self._structural_offsets(content)
        else:  # an earlier turn's round: its text and the calls
            calls = "".join(c.raw for c in assistant["tool_calls"])
            content = (assistant.get("content") or "") + calls
            own = tuple(len(assistant.get("content") or "") + o for o in self._structural_offsets(calls))
        parts, offsets, at = [], [], 0
        for r in results:
            head, tail = "<tool_response>\n", "\n</tool_response>"
            text = f"{head}{r.get('content') or ''}{tail}"
            offsets += [at + o for o in self.model.special_offsets(head)]
            offsets += [at + len(head) + len(r.get("content") or "") + o for o in self.model.special_offsets(tail)]
            parts.append(text)
            at += len(text) + 1
        return [({"role": "assistant", "content": content}, own),
                ({"role": "user", "content": "\n".join(parts)}, tuple(offsets))]

    def _structural_offsets(self, text: str) -> tuple[int, ...]:
        """Offsets of the call and reasoning markers in model-written ``text``: those stay
        markup when it is sent back; any other special-token text in it stays text."""
        markers = set(tool_family(self.tool_family).markers) if self.tool_family else set()
        spec = self.setup.spec if self.setup is not None else None
        if spec is not None:
            markers |= {spec.start, spec.end}
        return tuple(o for o in self.model.special_offsets(text) if any(text.startswith(m, o) for m in markers))

    def _template_name(self) -> str:
        name = self.model.path.name if self.model is not None else (self.profile.path or self.profile.id)
        return f"{name} ({self.template_note})" if self.template_note else name

    def tokenize(self, text: str) -> list[int]:
        return self.model.tokenize(text)

    def tokenize_plain(self, text: str) -> list[int]:
        return self.model.tokenize_plain(text)

    def tokenize_prompt(self, text: str, messages, markup=()) -> list[int]:
        return self.model.tokenize_prompt(text, messages, markup)

    def n_ctx(self) -> int:
        return self.llm.n_ctx() if self.llm else self.profile.local_n_ctx

    def piece(self, token: int) -> bytes:
        return self.model.piece(token)

    def is_special(self, token: int) -> bool:
        return self.model.is_special(token)

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
                             carried_tokens=usage.carried_reasoning, tool_tokens=usage.tools)
        reserve = answer_reserve(n_ctx)
        if len(prompt) + reserve > n_ctx:
            yield self._overflow_plan(request, len(prompt), n_ctx, reserve)
            yield ev.TurnFinished(self.clock(), "error",
                                  f"The prompt needs {len(prompt):,} tokens and the answer {reserve:,} more, but the "
                                  f"context holds {n_ctx:,}. Nothing was cut: strip earlier thinking, leave out the "
                                  "oldest turns, start a new chat, or raise n_ctx for this model.")
            return
        if not self.model.prefill(prompt, control):
            yield ev.TurnFinished(self.clock(), "cancelled")
            return
        yield from Decoder(self, prompt, request, control).run()

    def measure_prompt(self, request: TurnRequest, should_stop=None) -> tuple[list[int], ContextUsage]:
        """The prompt's tokens and how they split the window (exact: own template, tokenizer).

        Carried reasoning is the difference between rendering the chat with the earlier
        reasoning the policy keeps and rendering it stripped.
        """
        def tokens(messages, markup=(), tools=request.tools) -> tuple[list[int], str, list[dict]]:
            text, chat, marks = self.chat_prompt(messages, markup, tools, thinking=request.thinking,
                                                 should_stop=should_stop)
            return self.tokenize_prompt(text, chat, marks), text, chat

        prompt, text, chat = tokens(request.messages, request.markup)
        self.last_prompt_text = text
        tool_tokens = carried = 0
        if request.tools and self.tool_family:
            tool_tokens = max(0, len(prompt) - len(tokens(request.messages, request.markup, ())[0]))
        if request.stripped_messages is not None and request.stripped_messages != request.messages:
            carried = max(0, len(prompt) - len(tokens(request.stripped_messages)[0]))
        system = max(0, self._system_tokens(text, chat) - tool_tokens)  # the schemas usually open the prompt
        usage = ContextUsage(n_ctx=self.llm.n_ctx(), system=system, carried_reasoning=carried, tools=tool_tokens,
                             history=max(0, len(prompt) - system - carried - tool_tokens))
        return prompt, usage

    def _overflow_plan(self, request: TurnRequest, needed: int, n_ctx: int, reserve: int) -> ev.ContextOverflow:
        """What would make the prompt fit: stripping earlier reasoning, then leaving out turns."""
        def fits(chat) -> bool:
            text, shaped, marks = self.chat_prompt(chat, (), request.tools, thinking=request.thinking)
            return len(self.tokenize_prompt(text, shaped, marks)) + reserve <= n_ctx

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
