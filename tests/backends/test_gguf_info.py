"""Reading a GGUF's metadata: the real bundled model, small files written with gguf's own
writer, and every kind of bad file turning into a ModelFileError."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import gguf
import numpy as np
import pytest

from app.backends import gguf_info
from app.backends.gguf_info import LARGE_ARRAY, read_gguf_info
from app.errors import ModelFileError
from app.paths import bundled_model_path

QWQ_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}"
)


@pytest.fixture(scope="module")
def bundled() -> Path:
    return bundled_model_path()


def write_tiny(path: Path, *, template: str | None = QWQ_TEMPLATE, file_type: int | None = 15,
               n_tokens: int = LARGE_ARRAY * 4, head_count_kv=(4, 2), extra=None,
               endianess=gguf.GGUFEndian.LITTLE) -> Path:
    """A small but complete GGUF: metadata like a real model's, two tensors."""
    writer = gguf.GGUFWriter(path, "qwen2", endianess=endianess)
    writer.add_name("Tiny Reasoner")
    writer.add_block_count(2)
    writer.add_context_length(32768)
    writer.add_embedding_length(64)
    writer.add_head_count(4)
    writer.add_head_count_kv(list(head_count_kv) if isinstance(head_count_kv, tuple) else head_count_kv)
    writer.add_key_length(32)
    writer.add_value_length(16)
    if file_type is not None:
        writer.add_file_type(file_type)
    writer.add_token_list([f"tok{i}" for i in range(n_tokens)])
    writer.add_token_types([1] * n_tokens)
    writer.add_languages(["en", "fr"])
    if template is not None:
        writer.add_chat_template(template)
    for key, value in (extra or {}).items():
        writer.add_uint64(key, value)
    writer.add_tensor("token_embd.weight", np.zeros((n_tokens, 64), np.float16))
    writer.add_tensor("output_norm.weight", np.ones(64, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


# --- the bundled model ------------------------------------------------------------------

def test_bundled_model(bundled):
    info = read_gguf_info(bundled)
    assert info.architecture == "llama"
    assert 130e6 < info.parameter_count < 140e6  # SmolLM2-135M: 134 515 008 weights
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert (info.block_count, info.head_count, info.head_count_kv, info.head_dim) == (30, 9, 3, 64)
    assert info.head_dim_v is None and info.embedding_length == 576 and info.vocab_size == 49152
    assert info.file_size == bundled.stat().st_size
    assert 0.95 * info.file_size < info.weights_bytes < info.file_size
    assert info.chat_template and "<|im_start|>" in info.chat_template
    assert not info.supports_thinking and not info.forced_open and not info.enable_thinking_switch
    assert info.reasoning_markers is None
    shape = info.shape()
    assert (shape.n_layers, shape.n_heads, shape.n_kv_heads, shape.head_dim) == (30, 9, 3, 64)
    assert shape.weights_bytes == info.weights_bytes and shape.vocab_size == 49152


def test_bundled_model_reads_fast(bundled):
    read_gguf_info(bundled)  # imports gguf/numpy and the template engine
    times = []
    for _ in range(3):
        start = time.perf_counter()
        read_gguf_info(bundled)
        times.append(time.perf_counter() - start)
    # about 0.05 s on an idle machine; the stock GGUFReader takes about 4 s on this file
    assert min(times) < 0.5, times


def test_accepts_str_paths(bundled):
    assert read_gguf_info(str(bundled)).architecture == "llama"


# --- files written with gguf's writer ---------------------------------------------------

def test_reasoning_model_metadata(tmp_path):
    info = read_gguf_info(write_tiny(tmp_path / "tiny.gguf", extra={"general.parameter_count": 32_763_876_352}))
    assert info.architecture == "qwen2" and info.name == "Tiny Reasoner"
    assert info.parameter_count == 32_763_876_352  # stated by the file, not counted
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 32768
    assert info.head_count_kv == 4  # per-layer [4, 2]: the largest
    assert (info.head_dim, info.head_dim_v) == (32, 16)
    assert info.vocab_size == LARGE_ARRAY * 4
    assert info.supports_thinking and info.forced_open and not info.enable_thinking_switch
    assert info.reasoning_markers == ("<think>", "</think>")


def test_parameters_are_counted_when_not_stated(tmp_path):
    info = read_gguf_info(write_tiny(tmp_path / "tiny.gguf", n_tokens=300))
    assert info.parameter_count == 300 * 64 + 64
    assert info.weights_bytes == 300 * 64 * 2 + 64 * 4


def test_quantization_guessed_from_tensors_without_file_type(tmp_path):
    assert read_gguf_info(write_tiny(tmp_path / "tiny.gguf", file_type=None)).quantization == "F16"


def test_enable_thinking_switch_and_no_template(tmp_path):
    switch = "{{ '<|im_start|>assistant\\n' }}{% if enable_thinking is false %}<think>\\n\\n</think>{% endif %}"
    assert read_gguf_info(write_tiny(tmp_path / "a.gguf", template=switch)).enable_thinking_switch
    info = read_gguf_info(write_tiny(tmp_path / "b.gguf", template=None))
    assert info.chat_template is None and not info.supports_thinking


@pytest.mark.parametrize("n_tokens", [LARGE_ARRAY - 1, LARGE_ARRAY * 4])
def test_same_fields_as_the_stock_reader(tmp_path, n_tokens):
    path = write_tiny(tmp_path / "tiny.gguf", n_tokens=n_tokens)
    stock = gguf.GGUFReader(path)
    fast = gguf_info._open_reader(path)
    assert list(fast.fields) == list(stock.fields)
    for name, field in stock.fields.items():
        mine = fast.fields[name]
        assert (mine.offset, mine.types) == (field.offset, field.types), name
        if name == gguf.Keys.Tokenizer.LIST and n_tokens > LARGE_ARRAY:
            assert mine.contents() == [] and int(mine.parts[4][0]) == n_tokens  # skipped, count kept
        else:
            assert mine.contents() == field.contents(), name
    assert fast.data_offset == stock.data_offset
    assert [(t.name, t.tensor_type, t.n_elements, t.n_bytes, t.data_offset) for t in fast.tensors] == \
        [(t.name, t.tensor_type, t.n_elements, t.n_bytes, t.data_offset) for t in stock.tensors]
    assert all(np.array_equal(a.data, b.data) for a, b in zip(fast.tensors, stock.tensors))


def test_big_endian_file(tmp_path):
    little = read_gguf_info(write_tiny(tmp_path / "le.gguf"))
    big = read_gguf_info(write_tiny(tmp_path / "be.gguf", endianess=gguf.GGUFEndian.BIG))
    assert big.vocab_size == little.vocab_size and big.head_count_kv == little.head_count_kv
    assert big.chat_template == little.chat_template and big.quantization == little.quantization


# --- bad files --------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found") as err:
        read_gguf_info(tmp_path / "nope.gguf")
    assert err.value.path == tmp_path / "nope.gguf" and "models.toml" in str(err.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder"):
        read_gguf_info(tmp_path)


@pytest.mark.parametrize("content", [b"", b"GGU", b"\x89PNG\r\n\x1a\n....", b'{"__metadata__": {}}' + bytes(100),
                                     b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n"])
def test_not_a_gguf_file(tmp_path, content):
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a GGUF model file") as err:
        read_gguf_info(path)
    assert "download a GGUF build" in str(err.value)


def test_unsupported_version(tmp_path):
    path = tmp_path / "v9.gguf"
    path.write_bytes(b"GGUF" + (9).to_bytes(4, "little") + bytes(64))
    with pytest.raises(ModelFileError, match="damaged or truncated"):
        read_gguf_info(path)


def test_truncated_tiny_file_at_every_kind_of_place(tmp_path):
    data = write_tiny(tmp_path / "whole.gguf").read_bytes()
    cut = tmp_path / "cut.gguf"
    rng = random.Random(6)
    points = sorted({4, 5, 8, 16, 23, 24, 40, 100, 1000, len(data) // 2, len(data) - 1,
                     *(rng.randrange(4, len(data)) for _ in range(60))})
    for n in points:
        cut.write_bytes(data[:n])
        with pytest.raises(ModelFileError, match="damaged or truncated") as err:
            read_gguf_info(cut)
        assert "download the file again" in str(err.value), n


def test_random_damage_is_an_error_or_still_readable(tmp_path):
    data = write_tiny(tmp_path / "whole.gguf").read_bytes()
    bad = tmp_path / "bad.gguf"
    rng = random.Random(66)
    outcomes = {"error": 0, "read": 0}
    for _ in range(150):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(4, len(data))] = rng.randrange(256)
        bad.write_bytes(bytes(damaged))
        try:
            read_gguf_info(bad)
        except ModelFileError:
            outcomes["error"] += 1
        else:
            outcomes["read"] += 1
    assert outcomes["error"] > 0, outcomes  # and nothing but ModelFileError escaped


def test_truncated_bundled_model(tmp_path, bundled):
    copy = tmp_path / "partial.gguf"
    shutil.copyfile(bundled, copy)
    size = copy.stat().st_size
    for n in (size - 1, size // 2, 1_000_000):  # in the last tensor, mid-weights, in the vocabulary
        with copy.open("r+b") as fh:
            fh.truncate(n)
        with pytest.raises(ModelFileError, match="damaged or truncated") as err:
            read_gguf_info(copy)
        assert "partial.gguf" in str(err.value)
