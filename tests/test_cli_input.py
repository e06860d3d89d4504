"""What `ponder ask` takes in (issue 15.9, 15.12): checked values, prompts from stdin and
files, bad text refused with one line and exit status 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers.cloud_cli import configure, deepseek_stream
from helpers.cloud_replay import cloud, memory_keyring, server  # noqa: F401 (fixtures)


def ponder(home, *args, stdin=subprocess.DEVNULL, input=None, env=None, timeout=120):
    """`ponder` as a subprocess; ``args`` may be bytes (argv that is not valid UTF-8)."""
    full = {**os.environ, "PONDER_HOME": str(home), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            **(env or {})}
    return subprocess.run([os.fsencode(sys.executable), b"-m", b"app", *[os.fsencode(a) for a in args]],
                          stdin=None if input is not None else stdin, input=input, capture_output=True,
                          env=full, timeout=timeout)


def one_line_usage_error(result) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, err)
    assert b"Traceback" not in result.stderr and len(err.strip().splitlines()) == 1, err
    assert result.stdout == b""
    return err


@pytest.mark.parametrize("args, says", [
    (["--max-tokens", "0"], "--max-tokens: must be at least 1, not 0"),
    (["--max-tokens", "-5"], "--max-tokens: must be at least 1, not -5"),
    (["--max-tokens", "ten"], "--max-tokens: must be a whole number, not 'ten'"),
    (["--temperature", "nan"], "--temperature: must be a number of at least 0"),
    (["--temperature", "inf"], "--temperature: must be a number of at least 0"),
    (["--temperature", "-0.5"], "--temperature: must be a number of at least 0"),
    (["--thinking-budget", "-1"], "--thinking-budget: must be at least 0, not -1"),
])
def test_bad_option_values_are_one_line(ponder_home, args, says):
    err = one_line_usage_error(ponder(ponder_home, "ask", "hi", *args))
    assert err.startswith("ponder ask: error: argument ") and says in err and "See ponder ask --help." in err


@pytest.mark.parametrize("prompt, says", [
    ("", "The prompt is empty"),
    ("   \n\t ", "The prompt is only whitespace"),
])
def test_blank_prompts_are_refused(ponder_home, prompt, says):
    err = one_line_usage_error(ponder(ponder_home, "ask", prompt))
    assert err.startswith(f"ponder: {says}; give it as an argument, with --file PATH, or on standard input")


def test_no_prompt_and_nothing_piped_is_refused(ponder_home):
    assert "The prompt is empty" in one_line_usage_error(ponder(ponder_home, "ask", input=b""))


@pytest.mark.parametrize("raw, says", [
    (b"caf\xe9?", "byte 0xe9 at position 3"),
    (b"a\xed\xa0\x80b", "byte 0xed at position 1"),  # a lone surrogate, as UTF-8 would spell it
])
def test_argv_that_is_not_utf8_is_one_line(ponder_home, raw, says):
    err = one_line_usage_error(ponder(ponder_home, "ask", raw))
    assert "The prompt is not UTF-8 text" in err and says in err


def test_stdin_and_file_that_are_not_utf8_are_one_line(ponder_home, tmp_path):
    err = one_line_usage_error(ponder(ponder_home, "ask", "-", input=b"caf\xe9"))
    assert err.startswith("ponder: Standard input is not UTF-8 text (byte 0xe9 at position 3")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"na\xefve")
    err = one_line_usage_error(ponder(ponder_home, "ask", "--file", str(bad)))
    assert err.startswith(f"ponder: The prompt file {bad} is not UTF-8 text (byte 0xef at position 2")


def test_unreadable_prompt_files_are_one_line(ponder_home, tmp_path):
    err = one_line_usage_error(ponder(ponder_home, "ask", "--file", str(tmp_path / "missing.txt")))
    assert "cannot be read (No such file or directory)" in err and "missing.txt" in err
    err = one_line_usage_error(ponder(ponder_home, "ask", "--file", str(tmp_path)))
    assert f"The prompt file {tmp_path} is a folder" in err


# -- where the prompt comes from: what the server receives is exactly it ---------------------


def sent_prompt(cloud, home, *args, **kw) -> str:
    cloud.server.script("/v1/chat/completions", cloud.Reply(pieces=[deepseek_stream(cloud)]))
    model_id = configure(home, cloud, "openai", cloud.server.url + "/v1")
    result = ponder(home, "ask", *args, "--model", model_id, "--json",
                    env={cloud.ENV: cloud.KEY}, **kw)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == "4"
    return cloud.server.requests[-1]["json"]["messages"][-1]["content"]


def test_dash_reads_the_prompt_from_stdin(cloud, ponder_home):
    assert sent_prompt(cloud, ponder_home, "-", input="Grüße from stdin\nline two\n".encode()) == \
        "Grüße from stdin\nline two\n"


def test_piped_input_is_the_prompt_when_none_is_given(cloud, ponder_home):
    assert sent_prompt(cloud, ponder_home, input=b"\xef\xbb\xbfpiped question") == "piped question"


def test_a_given_prompt_does_not_read_stdin(cloud, ponder_home):
    """A script's stdin may never close: with a prompt argument, Ponder does not wait for it."""
    with subprocess.Popen(["sleep", "60"], stdout=subprocess.PIPE) as never_ends:
        assert sent_prompt(cloud, ponder_home, "the argument", stdin=never_ends.stdout) == "the argument"
        never_ends.kill()


def test_file_and_prompt_together(cloud, ponder_home, tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text("The text of the document.\n", encoding="utf-8")
    assert sent_prompt(cloud, ponder_home, "--file", str(doc)) == "The text of the document.\n"
    assert sent_prompt(cloud, ponder_home, "Summarise:", "--file", str(doc)) == \
        "Summarise:\n\nThe text of the document.\n"


@pytest.mark.model
@pytest.mark.parametrize("via", ["stdin", "file"])
def test_a_one_megabyte_prompt_reaches_the_model_and_gets_the_overflow_message(ponder_home, tmp_path, via):
    text = ("All work and no play makes Jack a dull boy. " * 24_000)[:1_000_000]
    assert len(text.encode()) == 1_000_000  # beyond what argv can carry (128 KB per argument)
    if via == "stdin":
        result = ponder(ponder_home, "ask", "-", "--json", input=text.encode())
    else:
        (tmp_path / "big.txt").write_text(text, encoding="utf-8")
        result = ponder(ponder_home, "ask", "--file", str(tmp_path / "big.txt"), "--json")
    err = result.stderr.decode()
    assert result.returncode == 1 and b"Traceback" not in result.stderr, err
    out = json.loads(result.stdout)
    assert out["finish_reason"] == "error" and "but the context holds 8,192. Nothing was cut" in out["error"]
    assert int(out["error"].split("The prompt needs ")[1].split(" tokens")[0].replace(",", "")) > 100_000
    assert err.startswith("ponder: The prompt needs ") and len(err.strip().splitlines()) == 1


def test_a_file_path_that_is_not_utf8_is_still_opened(cloud, ponder_home, tmp_path):
    """File names are bytes on Linux: only the prompt's text must be UTF-8, not its path."""
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(folder)
    with open(os.path.join(folder, b"q.txt"), "wb") as file:
        file.write(b"from a latin-1 named folder")
    assert sent_prompt(cloud, ponder_home, "--file", os.path.join(folder, b"q.txt")) == "from a latin-1 named folder"
