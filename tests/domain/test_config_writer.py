"""Editing models.toml with app.domain.config_writer: comments survive, results parse,
invalid edits never reach the disk."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.domain import config_writer as w
from app.domain.config import builtin_models_path, parse_models
from app.domain.profiles import ModelProfile, ReasoningSettings
from app.errors import ConfigError

BUILTIN = builtin_models_path().read_text(encoding="utf-8")
IDS = parse_models(BUILTIN).ids


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def without_line(profile: ModelProfile) -> ModelProfile:
    return replace(profile, line=None)


def test_update_changes_values_and_keeps_every_comment():
    new = w.update_model(BUILTIN, "smollm2-135m", {"n_ctx": 4096, "temperature": 0.4, "label": "Small"})
    assert comment_lines(new) == comment_lines(BUILTIN)
    profile = parse_models(new).get("smollm2-135m")
    assert (profile.n_ctx, profile.temperature, profile.label) == (4096, 0.4, "Small")
    before, after = parse_models(BUILTIN), parse_models(new)
    for model_id in IDS[1:]:
        assert without_line(after.get(model_id)) == without_line(before.get(model_id))
    # the new keys are written inside the entry, before the comment about the next one
    assert new.index("temperature = 0.4") < new.index('# The same model made to "think"')


def test_replacing_a_value_keeps_its_end_of_line_comment():
    new = w.update_model(BUILTIN, "claude-sonnet-thinking", {"reasoning": {"budget": 8000}})
    assert "budget = 8000                       # extended thinking budget in tokens" in new
    assert parse_models(new).get("claude-sonnet-thinking").reasoning.budget == 8000


def test_none_removes_a_key():
    new = w.update_model(BUILTIN, "smollm2-135m", {"n_ctx": None})
    assert parse_models(new).get("smollm2-135m").n_ctx is None
    assert comment_lines(new) == comment_lines(BUILTIN)


def test_reasoning_table_is_created_after_the_keys_and_before_the_next_comment():
    new = w.update_model(BUILTIN, "smollm2-135m", {
        "reasoning": {"start": "<think>", "end": "</think>", "forced_open": False, "budget": 10, "carry": "keep-last"},
    })
    assert comment_lines(new) == comment_lines(BUILTIN)
    reasoning = parse_models(new).get("smollm2-135m").reasoning
    assert reasoning == ReasoningSettings("<think>", "</think>", False, 10, "keep-last")
    assert new.index("[model.reasoning]") < new.index('# The same model made to "think"')
    # the comment still sits directly above the header it describes
    assert '# real reasoning model.\n[[model]]\nid = "smollm2-think"' in new


def test_reasoning_table_is_removed_and_the_following_comment_stays():
    new = w.update_model(BUILTIN, "smollm2-think", {"reasoning": None})
    assert parse_models(new).get("smollm2-think").reasoning is None
    assert "[model.reasoning]\nstart" not in new
    assert comment_lines(new) == comment_lines(BUILTIN)
    assert "n_ctx = 8192\n\n# --- Cloud:" in new


def test_emptying_the_reasoning_table_removes_it():
    new = w.update_model(BUILTIN, "claude-sonnet-thinking", {"reasoning": {"budget": None}})
    assert parse_models(new).get("claude-sonnet-thinking").reasoning is None
    assert new.count("[model.reasoning]") == BUILTIN.count("[model.reasoning]") - 1


def test_inline_reasoning_table_is_edited_in_place():
    text = ('[[model]]\nid = "a"\nrole = "reasoning"\nbackend = "llama"\npath = "/m.gguf"\n'
            'reasoning = { start = "<think>", end = "</think>" }\n')
    new = w.update_model(text, "a", {"reasoning": {"budget": 5}})
    assert parse_models(new).get("a").reasoning == ReasoningSettings("<think>", "</think>", None, 5)


def test_renaming_the_default_model_renames_default():
    new = w.update_model(BUILTIN, "smollm2-135m", {"id": "tiny"})
    config = parse_models(new)
    assert config.default == "tiny" and "smollm2-135m" not in config.ids


@pytest.mark.parametrize("prompt", [
    "Be brief.", "two\nlines", 'quotes " and """ and \\ backslash\nand more', "\nstarts with a newline", "",
])
def test_system_prompts_round_trip(prompt):
    new = w.update_model(BUILTIN, "smollm2-135m", {"system_prompt": prompt})
    assert parse_models(new).get("smollm2-135m").system_prompt == prompt


def test_add_model_round_trips_and_keeps_comments():
    profile = ModelProfile(
        id="qwq", label="QwQ 32B", role="reasoning", backend="llama", path="/models/qwq.gguf", n_ctx=16384,
        temperature=0.6, enabled=False, reasoning=ReasoningSettings("<think>", "</think>", True, 0, "strip"),
    )
    new = w.add_model(BUILTIN, profile)
    assert comment_lines(new) == comment_lines(BUILTIN)
    config = parse_models(new)
    assert without_line(config.get("qwq")) == profile
    assert config.ids == IDS + ("qwq",)
    assert 'enabled = false\n\n[[model]]\nid = "qwq"' in new  # one blank line between entries


def test_add_cloud_model_writes_no_local_keys():
    profile = ModelProfile(id="srv", label="Server", role="cloud", backend="openai",
                           base_url="http://127.0.0.1:1234/v1", model="qwen", context_window=32768)
    config = parse_models(w.add_model(BUILTIN, profile))
    assert without_line(config.get("srv")) == profile


def test_add_model_to_a_file_without_models():
    profile = ModelProfile(id="a", label="A", role="instruct", backend="llama", path="bundled:smollm2")
    new = w.add_model("# my models\n", profile)
    assert new.startswith("# my models\n")
    assert parse_models(new).ids == ("a",)


def test_add_model_refuses_a_taken_id():
    with pytest.raises(ConfigError, match="already exists"):
        w.add_model(BUILTIN, ModelProfile(id="smollm2-135m", label="x", role="instruct", backend="llama",
                                          path="/x.gguf"))


@pytest.mark.parametrize("model_id", IDS)
def test_remove_model_parses_and_keeps_section_comments(model_id):
    new = w.remove_model(BUILTIN, model_id)
    config = parse_models(new)
    assert config.ids == tuple(i for i in IDS if i != model_id)
    assert "# --- Cloud: each is off until you add its key" in new
    assert "# --- Local: the small model bundled with Ponder" in new
    assert "\n\n\n" not in new


def test_remove_model_drops_the_comment_directly_above_it_only():
    new = w.remove_model(BUILTIN, "smollm2-think")
    assert '# The same model made to "think"' not in new
    assert "n_ctx = 8192\n\n# --- Cloud:" in new
    new = w.remove_model(BUILTIN, "local-server")
    assert "# A server on this computer" not in new


def test_removing_the_first_model_keeps_the_comment_of_the_next():
    new = w.remove_model(BUILTIN, "smollm2-135m")
    assert '# real reasoning model.\n[[model]]\nid = "smollm2-think"' in new
    assert parse_models(new).default == "smollm2-think"  # the default moved to the first one left


def test_removing_the_only_model_is_refused():
    only = '[[model]]\nid = "a"\nrole = "instruct"\nbackend = "llama"\npath = "/a.gguf"\n'
    with pytest.raises(ConfigError, match="only model"):
        w.remove_model(only, "a")


def test_set_default_and_enabled():
    new = w.set_enabled(w.set_default(BUILTIN, "openai-gpt5"), "openai-gpt5", True)
    config = parse_models(new)
    assert config.default == "openai-gpt5" and config.get("openai-gpt5").enabled
    assert comment_lines(new) == comment_lines(BUILTIN)
    off = parse_models(w.set_enabled(BUILTIN, "smollm2-135m", False))
    assert not off.get("smollm2-135m").enabled


def test_set_default_adds_the_key_below_the_opening_comment():
    text = ("# Models\n\n# local\n[[model]]\nid = \"a\"\nrole = \"instruct\"\nbackend = \"llama\"\n"
            "path = \"/a.gguf\"\n\n[[model]]\nid = \"b\"\nrole = \"instruct\"\nbackend = \"llama\"\npath = \"/b.gguf\"\n")
    new = w.set_default(text, "b")
    assert new.startswith('# Models\n\ndefault = "b"\n\n# local\n[[model]]')
    assert parse_models(new).default == "b"


def test_unknown_ids_are_config_errors():
    for edit in (lambda: w.update_model(BUILTIN, "nope", {"n_ctx": 1}), lambda: w.remove_model(BUILTIN, "nope"),
                 lambda: w.set_default(BUILTIN, "nope"), lambda: w.set_enabled(BUILTIN, "nope", True)):
        with pytest.raises(ConfigError, match='"nope"'):
            edit()


def test_save_writes_a_valid_edit(tmp_path: Path):
    target = tmp_path / "models.toml"
    target.write_text(BUILTIN, encoding="utf-8")
    new = w.update_model(BUILTIN, "smollm2-135m", {"n_ctx": 2048})
    config = w.save_models_text(target, new)
    assert config.get("smollm2-135m").n_ctx == 2048
    assert target.read_text(encoding="utf-8") == new
    assert [p.name for p in tmp_path.iterdir()] == ["models.toml"]  # no temp file left behind


@pytest.mark.parametrize("changes, key", [
    ({"n_ctx": 0}, "n_ctx"),
    ({"temperature": 7.5}, "temperature"),
    ({"role": "wizard"}, "role"),
    ({"reasoning": {"carry": "sometimes"}}, "carry"),
    ({"reasoning": {"start": "<think>"}}, "end"),
    ({"base_url": "http://x"}, "base_url"),  # a cloud-only key on a local model
])
def test_save_refuses_invalid_values_and_leaves_the_file_unchanged(tmp_path: Path, changes, key):
    target = tmp_path / "models.toml"
    target.write_bytes(BUILTIN.encode("utf-8"))
    bad = w.update_model(BUILTIN, "smollm2-135m", changes)
    with pytest.raises(ConfigError) as caught:
        w.save_models_text(target, bad)
    assert caught.value.key == key
    assert target.read_bytes() == BUILTIN.encode("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["models.toml"]


def test_save_reports_an_unwritable_folder(tmp_path: Path):
    missing = tmp_path / "no-such-folder" / "models.toml"
    with pytest.raises(ConfigError, match="could not be saved"):
        w.save_models_text(missing, BUILTIN)
