"""One GGUF file loaded by llama.cpp, shared by every profile that runs on it.

A :class:`LlamaModel` is the file-level part of a local model: the weights, the context (and
with it the KV cache of the conversation), the tokenizer and the thread counts. Profiles on
the same file and context size — thinking on and off, two system prompts — share one through
a :class:`ModelPool`, so the file is in memory once and switching between them keeps the
cached prefix. What differs per profile (template, reasoning markers, sampling) lives in
:class:`app.backends.llama_backend.LlamaBackend`.

Prompt evaluation runs in batches that end where llama.cpp's padding of the KV cache does (a
prompt after a cached prefix is as fast per token as one from position 0); Stop sets a flag
that llama.cpp's abort callback reads in C between graph nodes while it computes (only then:
see :func:`app.backends.llama_adapter.abort_check`). Nothing polls for it: a watcher
thread that looked every 10 ms preempted a computing thread about 130 times a second.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Callable

from app.backends import llama_adapter as adapter
from app.backends.thread_choice import Threads, available_cores, choose_threads, measure_decode_threads
from app.domain.hardware_fit import MemoryEstimate
from app.domain.turn_control import TurnControl
from app.errors import BackendError, ModelFileError

GGUF_MAGIC = b"GGUF"
N_BATCH = 512  # llama-cpp-python's default
log = logging.getLogger("ponder.llama")


class LoadCancelled(BackendError):
    """The user no longer wanted the model (Stop, a switch, or quitting) while it loaded."""


def check_gguf(path: Path) -> None:
    """Fail early, with a sentence a user can act on, when a file is not a GGUF model."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{path.name} is not a GGUF model file (it does not start with 'GGUF'). "
            "Ponder runs local models in GGUF format; convert it or download a GGUF build."
        )


def memory_estimate(path: Path, n_ctx: int, *, logits_all: bool = False) -> MemoryEstimate:
    """What ``path`` needs loaded with ``n_ctx`` tokens of context (the fit verdict's formula)."""
    from app.backends.gguf_info import read_gguf_info
    from app.domain.hardware_fit import estimate_memory

    return estimate_memory(read_gguf_info(path).shape(), n_ctx, logits_all=logits_all)


def check_fits(path: Path, estimate: MemoryEstimate, available_bytes: int | None = None) -> None:
    """Refuse, before loading, a model that cannot fit this machine's memory; "tight" loads."""
    from app.domain.hardware_fit import fit_verdict, machine_memory

    available = available_bytes if available_bytes is not None else machine_memory().available_bytes
    verdict = fit_verdict(estimate, available)
    if verdict.status == "won't fit":
        raise ModelFileError(f"{path.name} is too large for this machine: {verdict.explanation} "
                             "Pick a smaller quantization, lower n_ctx, or close other programs.")


class LlamaModel:
    """A loaded GGUF: ``llm`` (llama-cpp-python's ``Llama``), its tokenizer and thread counts."""

    def __init__(self, path: Path, n_ctx: int, *, threads_setting: int | None = None, prompt_lookup: bool = False):
        self.path = path
        self.n_ctx = n_ctx
        self.threads_setting = threads_setting
        # speculative decoding with drafts from the context (app.domain.ngram_drafter): needs
        # logits at every position, which costs n_ctx × vocabulary floats of memory
        self.prompt_lookup = prompt_lookup
        self.llm = None
        self.estimate: MemoryEstimate | None = None
        self.threads: Threads | None = None
        self.bos_text = ""
        self.eos_text = ""
        self._special: dict[int, bool] = {}
        self._pieces: dict[int, bytes] = {}
        self._special_text: re.Pattern | None | bool = False  # False: not looked up yet
        self.last_prefill = (0, 0)  # (prompt tokens reused from the cache, tokens evaluated) of the last prompt
        # The text and tokens of the last call's prompt and output: a next prompt that starts
        # with that text (a follow-up turn, a tool round) reuses those very tokens, so it
        # continues the cached context exactly instead of re-tokenizing what was generated.
        self._held: tuple[str, list[int]] = ("", [])

    @property
    def key(self) -> tuple:
        """What another profile must match to share this model."""
        return (str(self.path), self.n_ctx, self.prompt_lookup)

    @property
    def memory_bytes(self) -> int:
        """Weights, KV cache and overhead (the fit verdict's estimate, so the residency budget
        and the verdict agree); 0 when not loaded."""
        return self.estimate.total if self.llm is not None and self.estimate is not None else 0

    def load(self, *, should_stop: Callable[[], bool] | None = None, available_memory: int | None = None,
             progress: Callable[[str], None] | None = None) -> None:
        path = self.path
        check_gguf(path)
        estimate = memory_estimate(path, self.n_ctx, logits_all=self.prompt_lookup)
        check_fits(path, estimate, available_memory)
        if progress:
            progress(f"Loading {path.name}…")
        adapter.tolerate_broken_file_templates()  # a template that does not compile must not refuse the model
        cores = available_cores()
        draft = {}
        if self.prompt_lookup:
            from app.domain.ngram_drafter import NgramDrafter

            # logits_all too: llama-cpp-python sizes its logits buffer by that flag alone
            draft.update(draft_model=adapter.draft_model(NgramDrafter().propose), logits_all=True)
        try:
            llm = adapter.load_llama(str(path), should_stop=should_stop, n_ctx=self.n_ctx, n_batch=N_BATCH,
                                     n_threads=max(1, cores // 2), n_threads_batch=cores, verbose=False, **draft)
        except adapter.LoadAbandoned:
            raise LoadCancelled(f"Loading {path.name} was abandoned.") from None
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"Could not load {path.name}: the file is damaged, truncated or of an unsupported "
                f"architecture ({exc}). Re-download it or pick another model."
            ) from exc
        self.llm, self.estimate = llm, estimate
        self.bos_text = adapter.token_text(llm, llm.token_bos()) if llm.token_bos() >= 0 else ""
        self.eos_text = adapter.token_text(llm, llm.token_eos()) if llm.token_eos() >= 0 else ""
        self.threads = choose_threads(path.stat().st_size, self.threads_setting, self._measure_threads)
        adapter.set_threads(llm, self.threads.decode, self.threads.batch)

    def _measure_threads(self) -> tuple[int, dict[int, float]]:
        llm = self.llm
        token = llm.token_bos() if llm.token_bos() >= 0 else 0
        cores = available_cores()

        def decode_one(n: int) -> float:
            adapter.set_threads(llm, n, cores)
            if llm.n_tokens >= self.n_ctx - 1:
                adapter.keep_cached(llm, 0)
            t0 = time.perf_counter()
            llm.eval([token])
            return time.perf_counter() - t0

        try:
            return measure_decode_threads(decode_one, cores)
        finally:
            adapter.keep_cached(llm, 0)

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None

    # -- tokens ------------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        """Tokens of ``text`` with special tokens recognised (and BOS where the model wants it)."""
        add_bos = self.llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
        if self.bos_text and text.startswith(self.bos_text):
            add_bos = False
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def tokenize_plain(self, text: str) -> list[int]:
        """Tokens of ``text`` as a continuation (no BOS; special tokens recognised)."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def tokenize_prompt(self, text: str, messages, markup=()) -> list[int]:
        """Tokens of a rendered prompt: the template's markup may be special tokens, message
        contents never are — text such as ``<|im_end|>`` typed by a user, written by a model or
        returned by a tool is tokenized as the characters it is, so it cannot forge a turn.

        ``markup`` (per message) gives offsets of Ponder's own reasoning markers inside a
        content, which stay markup. Only the spans of special-token text found inside contents
        are tokenized apart; the rest of the prompt is tokenized as a whole, as before.
        """
        spans = self._content_specials(text, messages, markup)
        held_text, held_tokens = self._held
        if held_text and text.startswith(held_text) and not any(a < len(held_text) < b for a, b in spans):
            return held_tokens + self._tokenize_spans(text, [s for s in spans if s[0] >= len(held_text)],
                                                      len(held_text))
        if not spans:
            return self.tokenize(text)
        return self._tokenize_spans(text, spans, 0)

    def remember(self, text: str, tokens: list[int]) -> None:
        """What the context holds after a call: the prompt's text and tokens and the output's."""
        self._held = (text, list(tokens))

    def _tokenize_spans(self, text: str, spans: list[tuple[int, int]], pos: int) -> list[int]:
        """``text[pos:]`` with the ``spans`` as plain text and the rest special-aware."""
        tokens: list[int] = []
        if pos > 0 and not spans:
            return self.tokenize_plain(text[pos:])
        for a, b in spans:
            if a > pos:
                tokens += self.tokenize(text[pos:a]) if not tokens and pos == 0 else self.tokenize_plain(text[pos:a])
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
                for lo, hi in ((max(0, a - 24), min(len(content), b + 24)), (max(0, a - 24), b),
                               (a, min(len(content), b + 24))):
                    j = text.find(content[lo:hi], cursor)
                    if j >= 0:
                        spans.append((j + a - lo, j + b - lo))
                        break
        return sorted(set(spans))

    def special_offsets(self, text: str) -> list[int]:
        """Where ``text`` holds the text of a special token (to mark Ponder's own markup)."""
        pattern = self._special_pattern()
        return [m.start() for m in pattern.finditer(text)] if pattern is not None else []

    def _special_pattern(self) -> re.Pattern | None:
        if self._special_text is False:
            texts = sorted(adapter.special_texts(self.llm), key=len, reverse=True)
            self._special_text = re.compile("|".join(map(re.escape, texts))) if texts else None
        return self._special_text  # type: ignore[return-value]

    def piece(self, token: int) -> bytes:
        """The token's bytes with special tokens rendered (cached: pieces never change)."""
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = adapter.token_piece(self.llm, token)
        return piece

    def is_special(self, token: int) -> bool:
        special = self._special.get(token)
        if special is None:
            special = self._special[token] = adapter.is_control(self.llm, token)
        return special

    # -- prompt evaluation -------------------------------------------------------------------
    def prefill(self, prompt: list[int], control: TurnControl) -> bool:
        """Evaluate all but the last prompt token, reusing the cached prefix; False when
        stopped. Batches of ``N_BATCH`` that end on the KV cache's padding boundaries
        (:func:`app.backends.llama_adapter.kv_aligned`); Stop sets the flag llama.cpp's abort
        callback reads (no thread polls for it)."""
        llm = self.llm
        cached = min(adapter.common_prefix(llm, prompt), len(prompt) - 1)
        adapter.keep_cached(llm, cached)
        todo = prompt[cached:-1]
        self.last_prefill = (cached, len(todo))
        if not todo or control.stopped:
            return not control.stopped
        flag = adapter.AbortFlag()  # alive until eval returns: llama.cpp reads it
        stop_listening = control.listen(lambda pressed: flag.set() if pressed == "stop" else None)
        try:
            if control.stopped:  # pressed before the listener was there
                flag.set()
            with adapter.abort_check(llm, flag):
                for part in adapter.kv_aligned(cached, todo):
                    llm.eval(part)
        except RuntimeError:
            if not flag.is_set():
                raise
        finally:
            stop_listening()
        stopped = flag.is_set()
        if stopped:
            adapter.keep_cached(llm, llm.n_tokens)  # what the completed batches evaluated stays
        return not stopped


class ModelPool:
    """Loaded models by file and context size, shared by the profiles that use them; a model
    is closed when the last profile lets it go."""

    def __init__(self, threads_setting: int | None = None):
        self.threads_setting = threads_setting
        self._models: dict[tuple, LlamaModel] = {}
        self._users: dict[tuple, int] = {}

    def acquire(self, path: Path, n_ctx: int, *, prompt_lookup: bool = False, **load_options) -> LlamaModel:
        key = (str(path), n_ctx, prompt_lookup)
        model = self._models.get(key)
        if model is None:
            model = LlamaModel(path, n_ctx, threads_setting=self.threads_setting, prompt_lookup=prompt_lookup)
            model.load(**load_options)
            self._models[key] = model
        self._users[key] = self._users.get(key, 0) + 1
        return model

    def release(self, model: LlamaModel) -> None:
        key = model.key
        self._users[key] = self._users.get(key, 1) - 1
        if self._users[key] <= 0:
            self._users.pop(key, None)
            self._models.pop(key, None)
            model.close()

    def loaded(self) -> list[LlamaModel]:
        return list(self._models.values())
