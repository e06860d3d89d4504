"""Copies of the bundled GGUF with metadata changed: a key left out, or a string replaced.

Written the way gguf's ``gguf_new_metadata.py`` (and :mod:`helpers.special_gguf`) write a
copy: every key-value field re-added from ``GGUFReader`` to a ``GGUFWriter`` (minus
``drop``, with ``strings`` set), then the tensor infos and data unchanged.
"""

from __future__ import annotations

from pathlib import Path

import gguf


def write_gguf_copy(src: Path, dst: Path, *, drop: tuple[str, ...] = (), strings: dict[str, str] | None = None) -> Path:
    """Write ``dst``: ``src`` without the keys in ``drop`` and with the string keys ``strings``."""
    strings = dict(strings or {})
    reader = gguf.GGUFReader(src, "r")
    arch = reader.get_field(gguf.Keys.General.ARCHITECTURE).contents()
    writer = gguf.GGUFWriter(dst, arch=arch, endianess=reader.endianess)
    alignment = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = alignment.contents()
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF.") or field.name in drop:
            continue
        if field.name in strings:
            writer.add_string(field.name, strings.pop(field.name))
            continue
        val_type = field.types[0]
        sub_type = field.types[-1] if val_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), val_type, sub_type=sub_type)
    for key, value in strings.items():
        writer.add_string(key, value)
    finish_copy(writer, reader)
    return dst


def finish_copy(writer, reader) -> None:
    """Write ``reader``'s tensors after the keys already added to ``writer``, and close the file."""
    for tensor in reader.tensors:
        writer.add_tensor_info(tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes,
                               tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(tensor.data, tensor_endianess=reader.endianess)
    writer.close()
