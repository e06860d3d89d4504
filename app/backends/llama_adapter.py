"""Every use of llama-cpp-python's internals, in one place, with the versions it was checked on.

Ponder needs a few things the ``Llama`` class does not offer publicly: the text and the
attributes of a token (to tell control tokens from text), the piece of a token with special
tokens rendered (the public detokenizer drops them), the tokens held in the context (to
reuse the cached prefix) and cutting that cache back, end-of-generation tests, and
abandoning a model load that the user no longer wants, and loading a file whose own chat
template does not compile (Ponder renders prompts itself). These reach into ``Llama._model``,
``Llama._input_ids``, ``Llama.n_tokens`` and the model parameters that ``Llama.__init__``
builds. They are private and change between releases, so they live here only;
``tests/backends/test_llama_adapter.py`` fails when the installed llama-cpp-python is outside
:data:`CHECKED_VERSIONS` (the same range pyproject.toml pins), and another test scans the
source tree for private attributes used anywhere else.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from contextlib import contextmanager
from typing import Callable

CHECKED_VERSIONS = ">=0.3.36,<0.3.37"  # keep equal to the pin in pyproject.toml

_load_lock = threading.Lock()


class LoadAbandoned(Exception):
    """The model load was abandoned because the caller asked to stop."""


def installed_version() -> str:
    from importlib.metadata import version

    return version("llama_cpp_python")


def load_llama(model_path: str, *, should_stop: Callable[[], bool] | None = None, **kwargs):
    """A ``llama_cpp.Llama`` for ``model_path``; ``should_stop()`` is asked while the weights
    load (llama.cpp's progress callback), and a True answer abandons the load
    (:class:`LoadAbandoned`).

    ``Llama.__init__`` builds its model parameters from ``llama_model_default_params()`` with
    no way to pass a progress callback, so that function is wrapped for the duration of
    this one call (loads are serialised by a lock).
    """
    import llama_cpp
    import llama_cpp.llama_cpp as lib

    stopped = False

    def progress(_fraction: float, _data) -> bool:
        nonlocal stopped
        stopped = stopped or bool(should_stop and should_stop())
        return not stopped  # False makes llama.cpp abort the load

    callback = lib.llama_progress_callback(progress)
    with _load_lock:
        original = lib.llama_model_default_params

        def with_progress():
            params = original()
            params.progress_callback = callback
            return params

        lib.llama_model_default_params = with_progress
        try:
            llm = llama_cpp.Llama(model_path=model_path, **kwargs)
        except ValueError:
            if stopped:
                raise LoadAbandoned(model_path) from None
            raise
        finally:
            lib.llama_model_default_params = original
    llm._ponder_progress = callback  # the model parameters point at it: keep it alive
    return llm


def tolerate_broken_file_templates() -> None:
    """Let llama-cpp-python load a file whose chat template does not compile (idempotent).

    ``Llama.__init__`` compiles every chat template of the metadata into chat handlers, which
    Ponder does not use (it renders prompts itself). A template with a Jinja syntax error
    would refuse the whole model, and then no preset could override it; with this, such a
    template becomes an empty handler instead.
    """
    import jinja2
    from llama_cpp import llama_chat_format

    original = llama_chat_format.Jinja2ChatFormatter
    if getattr(original, "_ponder_tolerant", False):
        return

    class _Tolerant(original):  # type: ignore[misc, valid-type]
        _ponder_tolerant = True

        def __init__(self, template: str, *args, **kwargs) -> None:
            try:
                super().__init__(template, *args, **kwargs)
            except jinja2.TemplateSyntaxError:
                super().__init__("", *args, **kwargs)

    llama_chat_format.Jinja2ChatFormatter = _Tolerant


def draft_model(propose: Callable[[object], list[int]]):
    """A llama-cpp-python draft model (``Llama(draft_model=...)``) whose guesses come from
    ``propose(tokens so far)``; llama-cpp-python then evaluates them in one batch and keeps
    those the sampler would have produced."""
    import numpy as np
    from llama_cpp.llama_speculative import LlamaDraftModel

    class _Draft(LlamaDraftModel):
        def __call__(self, input_ids, /, **kwargs):
            return np.array(propose(input_ids), dtype=np.intc)

    return _Draft()


def token_text(llm, token: int) -> str:
    """The vocabulary's text of ``token`` (e.g. ``<|im_end|>``)."""
    return llm._model.token_get_text(token)


def is_control(llm, token: int) -> bool:
    """True for control and user-defined tokens: markup, never plain text."""
    import llama_cpp

    attr = llm._model.token_get_attr(token)
    return bool(attr & (llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED))


def special_texts(llm) -> set[str]:
    """The texts that ``tokenize(..., special=True)`` turns into special tokens: every control,
    user-defined and unknown token of the vocabulary (llama.cpp's special-token cache)."""
    import llama_cpp

    wanted = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED | \
        llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
    model = llm._model
    return {text for t in range(llm.n_vocab()) if model.token_get_attr(t) & wanted
            and (text := model.token_get_text(t))}


def token_piece(llm, token: int) -> bytes:
    """The bytes of ``token`` with special tokens rendered (``Llama.detokenize`` drops them)."""
    import llama_cpp

    vocab = llm._model.vocab
    buf = ctypes.create_string_buffer(64)
    n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, True)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, True)
    return buf.raw[:n]


def is_end_of_generation(llm, token: int) -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llm._model.vocab, token))


def end_of_generation_test(llm) -> Callable[[int], bool]:
    """A fast ``token -> is end of generation`` for the decode loop (binds the vocab once)."""
    import llama_cpp

    vocab = llm._model.vocab
    is_eog = llama_cpp.llama_vocab_is_eog
    return lambda token: bool(is_eog(vocab, token))


def set_threads(llm, n_threads: int, n_threads_batch: int) -> None:
    """Threads for decoding and for prompt evaluation, changed on the loaded context."""
    llm._ctx.set_n_threads(n_threads, n_threads_batch)
    llm.n_threads, llm.n_threads_batch = n_threads, n_threads_batch  # what the object reports


class AbortFlag:
    """A flag llama.cpp's abort callback reads without Python.

    llama.cpp asks its abort callback at every graph node (hundreds per batch). A Python
    callback must take the GIL each time, so any Python running on another thread (the GUI
    building a long message, a search, the trace viewer) held the prompt's evaluation up —
    measured here: a 300-token prompt took 1.5–2× as long while a Python thread was busy.
    The callback is libc's ``strlen`` over two bytes, ``{flag, 0}``: it returns 1 once the flag
    is set and 0 before, which is the ``bool`` llama.cpp expects, without entering Python.
    """

    def __init__(self):
        self._bytes = ctypes.create_string_buffer(2)

    def set(self) -> None:
        self._bytes[0] = b"\x01"

    def clear(self) -> None:
        self._bytes[0] = b"\x00"

    def is_set(self) -> bool:
        return self._bytes[0] != b"\0"

    @property
    def address(self) -> int:
        return ctypes.addressof(self._bytes)


@functools.cache  # finding libc costs 2–3 ms: once per process, not once per prompt
def _strlen_address() -> int:
    import ctypes.util
    import sys

    libc = ctypes.cdll.msvcrt if sys.platform == "win32" else ctypes.CDLL(ctypes.util.find_library("c"))
    return ctypes.cast(libc.strlen, ctypes.c_void_p).value


@contextmanager
def abort_check(llm, flag: AbortFlag):
    """While the block runs, llama.cpp reads ``flag`` between graph nodes; once it is set, the
    running ``eval`` ends with a RuntimeError, leaving the context as it was before that batch.

    Only for prompt evaluation; decoding checks Stop between tokens and runs with no callback."""
    import llama_cpp.llama_cpp as lib

    callback = lib.ggml_abort_callback(_strlen_address())  # a C function: no Python per node
    lib.llama_set_abort_callback(llm._ctx.ctx, callback, ctypes.c_void_p(flag.address))
    try:
        yield
    finally:
        lib.llama_set_abort_callback(llm._ctx.ctx, lib.ggml_abort_callback(), None)  # NULL: no check


def cached_tokens(llm) -> list[int]:
    """The tokens the context holds now (what was evaluated), oldest first."""
    return llm._input_ids[: llm.n_tokens].tolist()


def common_prefix(llm, tokens: list[int]) -> int:
    """How many leading tokens of ``tokens`` the context already holds."""
    held = llm._input_ids[: llm.n_tokens]
    n = 0
    for a, b in zip(held, tokens):
        if a != b:
            break
        n += 1
    return n


# llama.cpp (as built here) attends over the KV cache's used cells rounded up to a multiple of
# 256, masked or not: a 512-token batch at positions 262–773 attends over 1,024 cells, at
# 256–767 over 768, and costs 15 % more (measured: 2.61 s against 2.26 s).
KV_PADDING = 256


def kv_aligned(start: int, tokens: list[int]) -> list[list[int]]:
    """``tokens``, to be evaluated from position ``start``, in parts whose batches end on
    :data:`KV_PADDING` boundaries (all but the last): first up to the next boundary, then the
    rest, which ``Llama.eval`` cuts into ``n_batch`` batches (a multiple of the padding).
    Without this, a prompt after a cached prefix of 31 tokens evaluated 7–9 % slower than the
    same number of tokens from position 0."""
    first = -start % KV_PADDING
    if 0 < first < len(tokens):
        return [tokens[:first], tokens[first:]]
    return [tokens]


def keep_cached(llm, n: int) -> None:
    """Keep only the first ``n`` evaluated tokens: the next ``eval`` drops the KV cache after them."""
    llm.n_tokens = n
