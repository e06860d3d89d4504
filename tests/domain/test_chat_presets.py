"""Chat template presets and how one is picked for a GGUF without a (working) template."""

from __future__ import annotations

import pytest

from app.domain.chat_presets import PRESETS, preset_text, render_problem, resolve_chat_template
from app.domain.chat_template import render_chat
from app.domain.config import parse_models
from app.errors import ConfigError, ModelFileError

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "<think>greet</think>\n\nHello!"}, {"role": "user", "content": "2+2?"}]


def nothing(_marker: str) -> bool:
    return False


def vocab(*markers: str):
    return lambda marker: marker in markers


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_renders_a_chat_that_ends_with_the_assistant_turn(name):
    text = render_chat(preset_text(name), CHAT, bos_token="<BOS>", eos_token="<EOS>")
    assert "Hi" in text and "2+2?" in text and "Be brief." in text
    opening = {"chatml": "<|im_start|>assistant\n", "qwen3": "<|im_start|>assistant\n",
               "qwq": "<|im_start|>assistant\n<think>\n", "deepseek-r1": "<｜Assistant｜><think>\n",
               "deepseek": "<｜Assistant｜>", "gemma": "<start_of_turn>model\n",
               "llama3": "<|start_header_id|>assistant<|end_header_id|>\n\n", "llama2": "2+2? [/INST]",
               "mistral": "2+2?[/INST]", "phi3": "<|assistant|>\n", "gpt-oss": "<|start|>assistant"}[name]
    assert text.endswith(opening)


def test_reasoning_presets_leave_earlier_reasoning_out_and_qwen3_has_its_switch():
    for name in ("qwen3", "qwq", "deepseek-r1"):
        text = render_chat(preset_text(name), CHAT)
        assert "greet" not in text and "Hello!" in text
    off = render_chat(preset_text("qwen3"), CHAT, enable_thinking=False)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert "enable_thinking" in preset_text("qwen3")


@pytest.mark.parametrize("architecture, markers, preset, why", [
    ("gemma3", (), "gemma", "by architecture"),
    ("qwen2", (), "chatml", "by architecture"),
    ("qwen3", ("<|im_start|>",), "chatml", "by architecture"),
    ("phi3", (), "phi3", "by architecture"),
    ("llama", ("<|start_header_id|>",), "llama3", "<|start_header_id|> in the vocabulary"),
    ("llama", ("<|im_start|>",), "chatml", "<|im_start|> in the vocabulary"),
    ("llama", ("[INST]",), "mistral", "[INST] in the vocabulary"),
    ("llama", (), "llama2", "by architecture"),
    ("mamba", (), "chatml", "ChatML is the most common"),
])
def test_a_file_without_a_template_gets_a_preset_by_architecture_or_vocabulary(architecture, markers, preset, why):
    text, note = resolve_chat_template(None, None, architecture, vocab(*markers))
    assert text == preset_text(preset)
    assert note.startswith(f"no template in the file; using {preset} ") and why in note


def test_the_files_own_template_is_used_when_it_works():
    own = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    assert resolve_chat_template(None, own, "gemma3", nothing) == (own, "")


def test_a_broken_template_falls_back_and_says_why():
    broken = "{% for m in messages %}{{ m['content'] }"
    assert render_problem(broken) is not None
    text, note = resolve_chat_template(None, broken, "gemma3", nothing)
    assert text == preset_text("gemma")
    assert note.startswith("the file's chat template does not work (TemplateSyntaxError") and "using gemma" in note


def test_a_preset_or_a_jinja_file_set_in_models_toml_wins(tmp_path, ponder_home):
    own = "{{ messages[0]['content'] }}"
    assert resolve_chat_template("llama3", own, "gemma3", nothing) == (
        preset_text("llama3"), "using the llama3 preset set in models.toml")
    custom = tmp_path / "mine.jinja"
    custom.write_text("MINE {{ messages[0]['content'] }}")
    text, note = resolve_chat_template(str(custom), own, "gemma3", nothing)
    assert text.startswith("MINE") and str(custom) in note
    (ponder_home / "config").mkdir(parents=True)
    (ponder_home / "config" / "relative.jinja").write_text("REL")
    assert resolve_chat_template("relative.jinja", None, "llama", nothing)[0] == "REL"  # relative to the config folder
    with pytest.raises(ModelFileError, match="does not exist"):
        resolve_chat_template(str(tmp_path / "gone.jinja"), own, "llama", nothing)


def test_models_toml_takes_chat_template_for_local_models_only():
    base = '[[model]]\nid = "a"\nrole = "instruct"\nbackend = "llama"\npath = "x.gguf"\n'
    assert parse_models(base + 'chat_template = "gemma"\n').get("a").chat_template == "gemma"
    assert parse_models(base + 'chat_template = "~/t/mine.jinja"\n').get("a").chat_template == "~/t/mine.jinja"
    with pytest.raises(ConfigError, match='must be a preset .*chatml.* or the path of a .jinja file') as failure:
        parse_models(base + 'chat_template = "gemmma"\n')
    assert failure.value.line == 6 and failure.value.key == "chat_template"
    cloud = '[[model]]\nid = "c"\nrole = "cloud"\nbackend = "openai"\nbase_url = "http://h/v1"\nmodel = "m"\n'
    with pytest.raises(ConfigError, match='applies only to local models'):
        parse_models(cloud + 'chat_template = "gemma"\n')
