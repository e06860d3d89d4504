"""The speed bench's raw side runs llama-cpp-python in a process of its own and answers step by step."""

import pytest

from app.backends.llama_backend import LlamaBackend
from app.bench.raw_side import RawSide
from helpers.models import profile


def test_the_raw_side_tokenizes_like_the_backend_and_decodes_greedily():
    prof = profile(temperature=0.0)
    local = LlamaBackend(prof)
    local.load()
    try:
        expected = len(local.tokenize(local.render_prompt([{"role": "user", "content": "Name a colour."}])))
    finally:
        local.close()
    with RawSide(prof) as raw:
        assert raw.call("count", "Name a colour.") == expected
        raw.call("threads", 1, 1)
        assert raw.call("decode", "Name a colour.", 8) > 0
        n, seconds = raw.call("ttft", "Name a colour.")
        assert n == expected and 0 < seconds < 60
        with pytest.raises(RuntimeError, match="raw llama-cpp-python side: KeyError"):
            raw.call("no such step")
