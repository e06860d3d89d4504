"""The chat template a loaded llama.cpp model runs with (its own, a preset, or a .jinja file).

A thin adapter from a loaded ``llama_cpp.Llama`` to
:func:`app.domain.chat_presets.resolve_chat_template`: the file's metadata gives the
template and the architecture, the tokenizer tells whether a chat marker is one token.
"""

from __future__ import annotations

from typing import Any

from app.domain.chat_presets import resolve_chat_template
from app.domain.profiles import ModelProfile


def template_for(profile: ModelProfile, llm: Any) -> tuple[str, str]:
    """(template text, note) for ``llm`` loaded from ``profile``; see ``resolve_chat_template``."""
    meta = llm.metadata

    def vocab_contains(marker: str) -> bool:
        ids = llm.tokenize(marker.encode("utf-8"), add_bos=False, special=True)
        return len(ids) == 1 and llm._model.token_get_text(ids[0]) == marker

    return resolve_chat_template(profile.chat_template, meta.get("tokenizer.chat_template"),
                                 meta.get("general.architecture", ""), vocab_contains)


def tolerate_broken_file_templates() -> None:
    """Let llama-cpp-python load a file whose chat template does not compile (idempotent).

    ``llama_cpp.Llama.__init__`` compiles every chat template of the metadata into chat
    handlers, which Ponder does not use (it renders prompts itself). A template with a Jinja
    syntax error would refuse the whole model, and then no preset could override it; with
    this, such a template becomes an empty handler instead, and :func:`template_for` picks
    the template Ponder really uses.
    """
    import jinja2
    from llama_cpp import llama_chat_format

    original = llama_chat_format.Jinja2ChatFormatter
    if getattr(original, "_ponder_tolerant", False):
        return

    class _Tolerant(original):  # type: ignore[misc, valid-type]
        _ponder_tolerant = True

        def __init__(self, template: str, *args: Any, **kwargs: Any) -> None:
            try:
                super().__init__(template, *args, **kwargs)
            except jinja2.TemplateSyntaxError:
                super().__init__("", *args, **kwargs)

    llama_chat_format.Jinja2ChatFormatter = _Tolerant
