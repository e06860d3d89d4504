"""A copy of the bundled GGUF whose reasoning markers are single special (control) tokens.

SmolLM2's vocabulary starts with control tokens the chat never uses (``<jupyter_script>``,
``<empty_output>``, ...). Renaming two of them to ``<think>`` and ``</think>`` gives a model
whose markers tokenize to one CONTROL token each, like the real reasoning models, while
everything else (metadata, tensors, the other tokens and their types) stays identical.

The copy is made the way gguf's own ``gguf_new_metadata.py`` makes one: every key-value
field is re-added from ``GGUFReader`` to a ``GGUFWriter`` (the vocabulary with the two
names changed), then the tensor infos and the tensor data are written unchanged.
"""

from __future__ import annotations

from pathlib import Path

import gguf

from helpers.gguf_copy import finish_copy

# Unused control tokens of SmolLM2's vocabulary, and what they become. The FIM ones
# (``<repo_name>``, ``<file_sep>``, ...) are avoided: llama.cpp may treat them as
# end-of-generation tokens by their text.
RENAMES = {"<jupyter_script>": "<think>", "<empty_output>": "</think>"}


TOOL_RENAMES = {**RENAMES, "<jupyter_text>": "<tool_call>", "<jupyter_code>": "</tool_call>"}


def write_think_gguf(src: Path, dst: Path, renames: dict[str, str] = RENAMES) -> dict[str, int]:
    """Write ``dst``: ``src`` with unused control tokens renamed (by default to the think
    markers; :data:`TOOL_RENAMES` adds ``<tool_call>``/``</tool_call>``).

    Returns ``{new name: id}``.
    """
    reader = gguf.GGUFReader(src, "r")
    tokens_key = gguf.Keys.Tokenizer.LIST
    types_key = gguf.Keys.Tokenizer.TOKEN_TYPE
    tokens = list(reader.get_field(tokens_key).contents())
    types = reader.get_field(types_key).contents()

    ids: dict[str, int] = {}
    for old, new in renames.items():
        if new in tokens:
            raise ValueError(f"{src.name} already has a token {new!r}")
        i = tokens.index(old)
        if types[i] != gguf.TokenType.CONTROL:
            raise ValueError(f"token {old!r} ({i}) of {src.name} is not a control token")
        tokens[i] = new
        ids[new] = i

    arch = reader.get_field(gguf.Keys.General.ARCHITECTURE).contents()
    writer = gguf.GGUFWriter(dst, arch=arch, endianess=reader.endianess)
    alignment = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = alignment.contents()

    for field in reader.fields.values():
        # virtual fields and the architecture are written by GGUFWriter itself
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        val_type = field.types[0]
        sub_type = field.types[-1] if val_type == gguf.GGUFValueType.ARRAY else None
        value = tokens if field.name == tokens_key else field.contents()
        writer.add_key_value(field.name, value, val_type, sub_type=sub_type)

    finish_copy(writer, reader)
    return ids
