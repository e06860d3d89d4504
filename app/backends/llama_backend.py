"""Local GGUF models through llama-cpp-python.

The prompt is rendered with the model's own chat template (from the GGUF metadata) and
tokenized with its tokenizer, so prompt counts are exact. Generated tokens are detokenized
by Ponder itself with special tokens rendered (llama-cpp-python's completion API drops
control tokens, which would hide markers such as gpt-oss's), decoded incrementally so a
UTF-8 character split across tokens never shows a replacement character, and passed with
their special flag to the reasoning parser.

Stopping is cooperative: the stop event is checked between prompt slices and per token.
After a turn, llama.cpp's context holds exactly the prompt plus every token counted in
the turn's ``TokenCounts`` (the end-of-generation token is neither shown nor evaluated).
"""

from __future__ import annotations

import codecs
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from app import paths
from app.backends.base import TurnRequest
from app.domain import events as ev
from app.domain.chat_template import render_chat
from app.domain.context_budget import ContextUsage, answer_reserve
from app.domain.conversation import drop_oldest_turns
from app.domain.model_reasoning import ReasoningSetup, resolve_reasoning
from app.domain.profiles import ModelProfile
from app.domain.reasoning.detect import prompt_ends_open
from app.domain.reasoning.parser import make_parser
from app.domain.runaway import LoopDetector
from app.domain.steering import Steering
from app.domain.token_stream import TokenStream
from app.errors import BackendError, ModelFileError

GGUF_MAGIC = b"GGUF"
# Prompt evaluation runs in slices of about this many seconds, so Stop is seen between them.
PREFILL_SLICE_S = 0.08
PREFILL_FIRST_SLICE = 8
DEFAULT_N_CTX = 8192


def check_gguf(path: Path) -> None:
    """Fail early, with a sentence a user can act on, when a file is not a GGUF model."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{path.name} is not a GGUF model file (it does not start with 'GGUF'). "
            "Ponder runs local models in GGUF format; convert it or download a GGUF build."
        )


def check_fits(path: Path, n_ctx: int, available_bytes: int | None = None) -> None:
    """Refuse, before loading, a model that cannot fit this machine's memory (weights + KV
    cache + overhead from its metadata); "tight" models load."""
    from app.backends.gguf_info import read_gguf_info
    from app.domain.hardware_fit import estimate_memory, fit_verdict, machine_memory

    estimate = estimate_memory(read_gguf_info(path).shape(), n_ctx)
    available = available_bytes if available_bytes is not None else machine_memory().available_bytes
    verdict = fit_verdict(estimate, available)
    if verdict.status == "won't fit":
        raise ModelFileError(f"{path.name} is too large for this machine: {verdict.explanation} "
                             "Pick a smaller quantization, lower n_ctx, or close other programs.")


class LlamaBackend:
    """A local model: loads on the calling (worker) thread and streams turn events."""

    def __init__(self, profile: ModelProfile, *, n_threads: int | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.profile = profile
        self.clock = clock
        # llama-cpp-python's own default: half the logical cores (the physical ones on most
        # machines), which also leaves the GUI thread a core of its own.
        self.available_memory: int | None = None  # None: measured when loading
        self.n_threads = n_threads or int(os.environ.get("PONDER_N_THREADS", 0)) or max(1, (os.cpu_count() or 2) // 2)
        self.llm = None
        self.template: str | None = None
        self.template_note = ""  # why the template is not the file's own (empty when it is)
        self.bos_text = ""
        self.eos_text = ""
        self.setup: ReasoningSetup | None = None
        self._special_cache: dict[int, bool] = {}
        self._piece_cache: dict[int, bytes] = {}
        self._end_ids: list[int] = []
        # An optional llama-cpp-python logits processor (tests use one to force tokens).
        self.logits_processor = None

    # -- loading -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self.llm is not None

    def load(self, progress: Callable[[str], None] | None = None) -> None:
        if self.llm is not None:
            return
        path = paths.resolve_model_path(self.profile.path or "")
        check_gguf(path)
        check_fits(path, self.profile.n_ctx or DEFAULT_N_CTX, self.available_memory)
        if progress:
            progress(f"Loading {path.name}…")
        import llama_cpp  # imported here: it takes ~0.3 s and the window must open first

        from app.backends.chat_template_source import template_for, tolerate_broken_file_templates

        tolerate_broken_file_templates()  # a template that does not compile must not refuse the model

        try:
            llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self.profile.n_ctx or DEFAULT_N_CTX,
                n_batch=512,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"Could not load {path.name}: the file is damaged, truncated or of an unsupported "
                f"architecture ({exc}). Re-download it or pick another model."
            ) from exc
        self.llm = llm
        self.template, self.template_note = template_for(self.profile, llm)  # a preset when the file has none
        model = llm._model
        self.bos_text = model.token_get_text(llm.token_bos()) if llm.token_bos() >= 0 else ""
        self.eos_text = model.token_get_text(llm.token_eos()) if llm.token_eos() >= 0 else ""
        name = llm.metadata.get("general.name", "") + " " + path.name
        self.setup = self._reasoning_setup(name)

    def _reasoning_setup(self, name: str) -> ReasoningSetup:
        setup = resolve_reasoning(self.profile.reasoning, self.template, name)
        if setup.spec is None:
            return setup
        # Markers that are single special tokens are matched only as such, so the same
        # characters written inside the reasoning text are not taken for a marker.
        ids = [self.llm.tokenize(m.encode(), add_bos=False, special=True) for m in (setup.spec.start, setup.spec.end)]
        if all(len(i) == 1 and self._is_special(i[0]) for i in ids):
            setup = setup.with_special_markers()
        self._end_ids = self.llm.tokenize(setup.injection_text.encode(), add_bos=False, special=True)
        return setup

    @property
    def memory_bytes(self) -> int:
        """What the loaded model holds: its weights (the file) and the KV cache."""
        if self.llm is None:
            return 0
        meta = self.llm.metadata
        arch = meta.get("general.architecture", "llama")
        layers = int(meta.get(f"{arch}.block_count", 0))
        heads = int(meta.get(f"{arch}.attention.head_count", 1)) or 1
        kv_heads = int(meta.get(f"{arch}.attention.head_count_kv", heads))
        head_dim = int(meta.get(f"{arch}.attention.key_length", 0)) or int(meta.get(f"{arch}.embedding_length", 0)) // heads
        kv = 2 * layers * self.llm.n_ctx() * kv_heads * head_dim * 2  # K and V, f16
        return Path(self.llm.model_path).stat().st_size + kv

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None

    # -- prompts -------------------------------------------------------------------------
    def render_prompt(self, messages, *, add_generation_prompt: bool = True, thinking: bool | None = None,
                      **extra) -> str:
        """The model's own template over ``messages``.

        ``thinking=False`` asks a switchable model not to think: ``enable_thinking=False``
        for templates that take it, no forced-open suffix for models Ponder makes think.
        """
        if thinking is False and self.setup is not None and self.setup.enable_thinking_switch:
            extra.setdefault("enable_thinking", False)
        prompt = render_chat(
            self.template or "",
            list(messages),
            add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_text,
            eos_token=self.eos_text,
            **extra,
        )
        if add_generation_prompt and self.setup is not None and thinking is not False:
            prompt += self.setup.prompt_suffix
        return prompt

    def tokenize(self, text: str) -> list[int]:
        add_bos = self.llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
        if self.bos_text and text.startswith(self.bos_text):
            add_bos = False
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def n_ctx(self) -> int:
        return self.llm.n_ctx() if self.llm else (self.profile.n_ctx or DEFAULT_N_CTX)

    def _piece(self, token: int) -> bytes:
        """The token's bytes with special tokens rendered (cached: pieces never change)."""
        piece = self._piece_cache.get(token)
        if piece is None:
            import ctypes

            import llama_cpp

            buf = ctypes.create_string_buffer(64)
            n = llama_cpp.llama_token_to_piece(self.llm._model.vocab, token, buf, len(buf), 0, True)
            if n < 0:
                buf = ctypes.create_string_buffer(-n)
                n = llama_cpp.llama_token_to_piece(self.llm._model.vocab, token, buf, len(buf), 0, True)
            piece = self._piece_cache[token] = buf.raw[:n]
        return piece

    def _is_special(self, token: int) -> bool:
        special = self._special_cache.get(token)
        if special is None:
            import llama_cpp

            attr = self.llm._model.token_get_attr(token)
            special = bool(attr & (llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED))
            self._special_cache[token] = special
        return special

    # -- a turn --------------------------------------------------------------------------
    def stream(self, request: TurnRequest, stop: threading.Event,
               answer_now: threading.Event | None = None) -> Iterator[ev.TurnEvent]:
        """One turn. ``stop`` ends it; ``answer_now`` ends the thinking and lets it answer."""
        if self.llm is None:
            raise BackendError("The model is not loaded yet.")
        t0 = self.clock()
        prompt, usage = self.measure_prompt(request)
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
        if not self._prefill(prompt, stop):
            yield ev.TurnFinished(self.clock(), "cancelled")
            return
        yield from self._decode(prompt, request, stop, answer_now or threading.Event())

    def measure_prompt(self, request: TurnRequest) -> tuple[list[int], ContextUsage]:
        """The prompt's tokens and how they split the window (exact: own template, tokenizer).

        Carried reasoning is the difference between rendering the chat with the earlier
        reasoning the policy keeps and rendering it stripped.
        """
        text = self.render_prompt(request.messages, thinking=request.thinking)
        prompt = self.tokenize(text)
        carried = 0
        if request.stripped_messages is not None and request.stripped_messages != request.messages:
            stripped = self.render_prompt(request.stripped_messages, thinking=request.thinking)
            carried = max(0, len(prompt) - len(self.tokenize(stripped)))
        system = self._system_tokens(text, request.messages)
        usage = ContextUsage(n_ctx=self.llm.n_ctx(), system=system, carried_reasoning=carried,
                             history=max(0, len(prompt) - system - carried))
        return prompt, usage

    def _overflow_plan(self, request: TurnRequest, needed: int, n_ctx: int, reserve: int) -> ev.ContextOverflow:
        """What would make the prompt fit: stripping earlier reasoning, then leaving out turns."""
        def fits(chat) -> bool:
            return len(self.tokenize(self.render_prompt(chat, thinking=request.thinking))) + reserve <= n_ctx

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
        return len(self.tokenize(prompt[:at])) if at > 0 else 0

    def _prefill(self, prompt: list[int], stop: threading.Event) -> bool:
        """Evaluate all but the last prompt token, reusing the cached prefix.

        Slices are sized to take about ``PREFILL_SLICE_S`` each (measured as it goes), so
        Stop is seen within that time on any machine without starving a fast GPU.
        """
        llm = self.llm
        cached = 0
        for a, b in zip(llm._input_ids[: llm.n_tokens], prompt):
            if a != b:
                break
            cached += 1
        cached = min(cached, len(prompt) - 1)
        llm.n_tokens = cached  # eval() drops the KV cache past n_tokens
        todo = prompt[cached:-1]
        i, size = 0, PREFILL_FIRST_SLICE
        while i < len(todo):
            if stop.is_set():
                return False
            t0 = time.perf_counter()
            llm.eval(todo[i : i + size])
            per_token = (time.perf_counter() - t0) / len(todo[i : i + size])
            i += size
            size = max(8, min(llm.n_batch, int(PREFILL_SLICE_S / max(per_token, 1e-6))))
        return not stop.is_set()

    def _inject(self, tokens: TokenStream, setup: ReasoningSetup) -> list[ev.TurnEvent]:
        """Parse the injected end marker like model output; count it as injected."""
        out: list[ev.TurnEvent] = []
        for tid in self._end_ids:
            piece = self._piece(tid).decode("utf-8", "replace")
            out += tokens.inject(piece, 1, special=self._is_special(tid))
        return out

    def _decode(self, prompt: list[int], request: TurnRequest, stop: threading.Event,
                answer_now: threading.Event) -> Iterator[ev.TurnEvent]:
        import llama_cpp

        llm = self.llm
        setup = self.setup
        spec = setup.spec
        forced_open = bool(spec) and prompt_ends_open(self.llm.detokenize(prompt[-16:], special=True)
                                                      .decode("utf-8", "replace"), spec)
        parser = make_parser(spec, forced_open=forced_open)
        tokens = TokenStream(parser, self.clock)
        budget = setup.budget if request.thinking_budget is None else request.thinking_budget
        # A grammar defines the whole output; Ponder's own interventions (cutting, extending,
        # ending the thinking on end-of-generation) would restart the grammar: off then.
        steer = not request.grammar and spec is not None
        steering = Steering(budget=budget if steer else 0, min_thinking=request.min_thinking if steer else 0)
        end_id = self._end_ids[0] if len(self._end_ids) >= 1 and spec and \
            self.tokenize_plain(spec.end) == self._end_ids[:1] else None
        temperature = request.temperature
        if temperature is None:
            temperature = self.profile.temperature if self.profile.temperature is not None else 0.7
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab = llm._model.vocab
        n_ctx = llm.n_ctx()
        grammar = None
        if request.grammar:
            grammar = llama_cpp.LlamaGrammar.from_string(request.grammar, verbose=False)

        def generate(toks: list[int]):
            return llm.generate(toks, temp=temperature, top_k=40, top_p=0.95, min_p=0.05,
                                repeat_penalty=1.0, reset=True, grammar=grammar,
                                logits_processor=self.logits_processor)

        def restart(old, extra: list[int]):
            # generate()'s send() samples at every fed position, which needs logits for all
            # of them; a fresh generator over context + extra evaluates extra in one batch
            # (the cached prefix is reused) and samples after its last token.
            old.close()
            return generate(llm._input_ids[: llm.n_tokens].tolist() + extra)

        gen = generate(prompt)
        loops = LoopDetector()
        unevaluated: list[int] = []  # shown tokens the context does not hold yet
        sampled = 0
        cut = False  # Ponder ended the reasoning (budget or Answer now)
        closed_on_eog = False
        finish = "length"
        try:
            while True:
                tok = next(gen)
                unevaluated = []
                if stop.is_set():
                    finish = "cancelled"  # this token is neither shown nor evaluated
                    break
                is_eog = llama_cpp.llama_vocab_is_eog(vocab, tok)
                ends_reasoning = steer and parser.in_reasoning and (
                    (is_eog and setup.close_on_eog) or tok == end_id)
                if ends_reasoning and steering.too_early(tokens.reasoning):
                    # Think longer (s1 budget forcing): the end is replaced by a continuation.
                    # The replaced token was sampled, so it counts towards max_tokens.
                    sampled += 1
                    text = steering.extend()
                    ids = self.tokenize_plain(text)
                    gen = restart(gen, ids)
                    yield ev.ThinkingExtended(self.clock(), tokens.reasoning, text)
                    yield from tokens.inject(text, len(ids))
                    if sampled >= request.max_tokens:
                        unevaluated = ids
                        finish = "length"
                        break
                    continue
                if is_eog:
                    if ends_reasoning and not closed_on_eog and not cut:
                        # A model Ponder made think (it is not trained to) ends its turn
                        # inside the block: end the thinking instead and let it answer.
                        # The end-of-generation token is dropped, not evaluated.
                        closed_on_eog = True
                        gen = restart(gen, self._end_ids)
                        yield from self._inject(tokens, setup)
                        continue
                    finish = "stop"
                    break
                piece = self._piece(tok)
                text = decoder.decode(piece)
                yield from tokens.token(text, special=self._is_special(tok))
                if parser.in_reasoning:
                    alarm = loops.feed(tok, text)
                    if alarm is not None:
                        yield ev.LoopDetected(self.clock(), alarm)
                sampled += 1
                unevaluated = [tok]
                if steer and not cut and not closed_on_eog and parser.in_reasoning and steering.should_cut(
                        tokens.reasoning, text, answer_now=answer_now.is_set()):
                    cut = True
                    unevaluated = [tok, *self._end_ids]
                    gen = restart(gen, unevaluated)
                    yield ev.BudgetCut(self.clock(), tokens.reasoning)
                    yield from self._inject(tokens, setup)
                if sampled >= request.max_tokens or llm.n_tokens + len(unevaluated) + 1 > n_ctx:
                    finish = "length"
                    break
        finally:
            gen.close()
        if unevaluated and llm.n_tokens + len(unevaluated) <= n_ctx:
            llm.eval(unevaluated)  # the context holds all that was shown and counted
        tail = decoder.decode(b"", final=True)
        if tail:  # bytes of an incomplete character at the very end; their token is counted
            yield from tokens.text(tail)
        yield from tokens.finish()
        if cut and finish == "stop":
            finish = "budget"
        yield ev.TurnFinished(self.clock(), finish)

    def tokenize_plain(self, text: str) -> list[int]:
        """Tokens of ``text`` as a continuation (no BOS; special tokens recognised)."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
