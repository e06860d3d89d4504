"""Prompt text from the command line, a file or stdin: UTF-8, not blank, bad bytes named."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.prompt_text import command_line_text, decode_prompt, joined, require_text
from app.errors import UsageError


def test_invalid_utf8_names_the_source_and_the_first_bad_byte():
    with pytest.raises(UsageError) as info:
        decode_prompt(b"caf\xc3\xa9 \xff!", "The prompt file notes.txt")
    assert str(info.value).startswith("The prompt file notes.txt is not UTF-8 text (byte 0xff at position 6 ")


def test_a_byte_order_mark_is_dropped():
    assert decode_prompt("\ufeffhello".encode("utf-8"), "stdin") == "hello"


def test_undecodable_argv_bytes_are_reported_as_the_bytes_the_terminal_sent():
    text = os.fsdecode(b"a\xffb")  # how Python hands such an argument to the program
    with pytest.raises(UsageError) as info:
        command_line_text(text, "The prompt")
    assert "byte 0xff at position 1" in str(info.value)


def test_a_lone_surrogate_is_refused():
    with pytest.raises(UsageError) as info:
        command_line_text("ab\ud800c", "The prompt")
    assert "lone surrogate (U+D800 at character 2)" in str(info.value)


@given(st.text())
def test_any_valid_text_passes_unchanged(text):
    assert command_line_text(text, "The prompt") == text
    assert decode_prompt(text.encode("utf-8"), "stdin") == text.removeprefix("\ufeff")


@pytest.mark.parametrize("blank", ["", " ", "\n\t  \n", "\u3000"])
def test_a_blank_prompt_is_refused(blank):
    with pytest.raises(UsageError) as info:
        require_text(blank)
    assert "--file PATH" in str(info.value) and "ponder ask -" in str(info.value)


def test_the_question_comes_before_the_file_and_blank_parts_are_dropped():
    assert joined(["Summarise:", "the text"]) == "Summarise:\n\nthe text"
    assert joined(["  ", "the text"]) == "the text"
