"""GGUFs without a (working) chat template, on the real bundled model: a copy written without
``tokenizer.chat_template`` loads with the preset its architecture and vocabulary point to and
answers through ``ponder ask``; a preset or a .jinja file set in models.toml overrides the
file's template, also a broken one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.gguf_copy import write_gguf_copy
from helpers.models import profile

from app import paths
from app.backends.gguf_info import read_gguf_info
from app.domain.turn_control import TurnControl
from app.backends.llama_backend import LlamaBackend
from app.domain.chat_presets import preset_text
from app.domain.conversation import Conversation
from app.domain.turn_request import build_request

pytestmark = pytest.mark.model
TEMPLATE_KEY = "tokenizer.chat_template"
BROKEN = "{% for message in messages %}{{ message['content'] }"


@pytest.fixture(scope="module")
def no_template(tmp_path_factory) -> Path:
    return write_gguf_copy(paths.bundled_model_path(), tmp_path_factory.mktemp("gguf") / "no-template.gguf",
                           drop=(TEMPLATE_KEY,))


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    return write_gguf_copy(paths.bundled_model_path(), tmp_path_factory.mktemp("gguf") / "broken.gguf",
                           strings={TEMPLATE_KEY: BROKEN})


def loaded(**changes) -> LlamaBackend:
    backend = LlamaBackend(profile(n_ctx=2048, **changes))
    backend.load()
    return backend


def one_turn(backend: LlamaBackend) -> str:
    conv = Conversation()
    conv.add_user("What is the capital of France?")
    request = build_request(conv.messages, backend.profile, max_tokens=12)
    events = list(backend.stream(request, TurnControl()))
    return "".join(getattr(e, "text", "") for e in events if type(e).__name__ == "AnswerDelta")


def test_the_copy_has_no_template_but_its_vocabulary_has_chatml_markers(no_template):
    info = read_gguf_info(no_template)
    assert info.chat_template is None and info.architecture == "llama"
    assert "<|im_start|>" in info.vocab_markers and "<|start_header_id|>" not in info.vocab_markers


def test_a_gguf_without_a_template_loads_with_the_preset_and_answers_through_ponder_ask(no_template, ponder_home):
    backend = loaded(path=str(no_template))
    try:
        assert backend.template == preset_text("chatml")
        assert backend.template_note == ("no template in the file; using chatml "
                                         "(llama architecture, <|im_start|> in the vocabulary)")
        assert backend.render_prompt([{"role": "user", "content": "hi"}]).endswith("<|im_start|>assistant\n")
    finally:
        backend.close()

    config = ponder_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "models.toml").write_text(f'''
default = "bare"

[[model]]
id = "bare"
role = "instruct"
backend = "llama"
path = "{no_template}"
n_ctx = 2048
''')
    env = {**os.environ, "PONDER_HOME": str(ponder_home)}
    result = subprocess.run([sys.executable, "-m", "app", "ask", "What is the capital of France?", "--max-tokens",
                             "16", "--json"], env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["finish_reason"] in ("stop", "length") and report["answer"].strip()
    assert report["model"] == "bare"


def test_a_preset_and_a_jinja_file_override_the_files_template(tmp_path):
    backend = loaded(chat_template="llama2")
    try:
        assert backend.template == preset_text("llama2") != read_gguf_info(paths.bundled_model_path()).chat_template
        assert backend.template_note == "using the llama2 preset set in models.toml"
        assert backend.render_prompt([{"role": "user", "content": "hi"}]).endswith("[INST] hi [/INST]")
    finally:
        backend.close()
    custom = tmp_path / "mine.jinja"
    custom.write_text("{% for m in messages %}<|im_start|>{{ m['role'] }}\nPONDER-CUSTOM {{ m['content'] }}"
                      "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    backend = loaded(chat_template=str(custom))
    try:
        assert "PONDER-CUSTOM hi" in backend.render_prompt([{"role": "user", "content": "hi"}])
        assert one_turn(backend).strip()
    finally:
        backend.close()


def test_a_broken_template_in_the_file_falls_back_and_can_be_overridden(broken):
    backend = loaded(path=str(broken))
    try:
        assert backend.template == preset_text("chatml")
        assert backend.template_note.startswith("the file's chat template does not work (TemplateSyntaxError")
    finally:
        backend.close()
    backend = loaded(path=str(broken), chat_template="chatml")
    try:
        assert backend.template_note == "using the chatml preset set in models.toml"
        assert one_turn(backend).strip()
    finally:
        backend.close()
