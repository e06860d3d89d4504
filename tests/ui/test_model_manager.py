"""The model manager dialog: editing profiles, API keys, adding and discovering GGUF files,
and that invalid edits never reach models.toml."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import paths
from app.domain.config import load_user_models
from app.domain.profiles import ReasoningSettings
from app.errors import PonderError
from app.ui import model_manager as mm
from app.ui.model_manager import ModelManager


@pytest.fixture
def stored_keys() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def manager(qtbot, stored_keys) -> ModelManager:
    dialog = ModelManager(set_key=lambda model_id, key: stored_keys.append((model_id, key)))
    qtbot.addWidget(dialog)
    return dialog


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def choose(combo, value) -> None:
    combo.setCurrentIndex(combo.findData(value))


def fake_info(path: Path, **overrides) -> SimpleNamespace:
    """What app.backends.gguf_info.read_gguf_info returns, for a thinking model."""
    values = dict(
        path=path, file_size=4_680_000_000, architecture="qwen2", name="run-17", parameter_count=7_615_616_512,
        quantization="Q4_K_M", context_length=131072, chat_template="{{ '<think>\\n' }}",
        supports_thinking=True, forced_open=True, enable_thinking_switch=False,
        reasoning_markers=("<think>", "</think>"),
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def test_editing_a_profile_and_saving_changes_the_file_keeps_comments_and_reloads(manager, qtbot):
    before = paths.models_toml().read_text(encoding="utf-8")
    manager.select("smollm2-think")
    editor = manager.editor
    editor.label_edit.setText("Thinking demo")
    editor.ctx_edit.setText("4096")
    editor.temp_edit.setText("0.6")
    editor.prompt_edit.setPlainText("Think step by step.\nThen answer.")
    editor.budget_spin.setValue(128)
    choose(editor.carry_combo, "keep-last")
    choose(editor.forced_combo, None)

    with qtbot.waitSignal(manager.models_changed, timeout=2000) as saved:
        manager.save_button.click()

    after = paths.models_toml().read_text(encoding="utf-8")
    assert after != before
    assert comments(after) == comments(before)
    profile = load_user_models().get("smollm2-think")
    assert (profile.label, profile.n_ctx, profile.temperature) == ("Thinking demo", 4096, 0.6)
    assert profile.system_prompt == "Think step by step.\nThen answer."
    assert profile.reasoning == ReasoningSettings("<think>", "</think>", None, 128, "keep-last")
    assert saved.args[0].get("smollm2-think") == profile
    assert "Saved" in manager.message_text()


def test_edits_of_several_models_are_kept_while_switching_between_them(manager):
    manager.select("smollm2-135m")
    manager.editor.ctx_edit.setText("2048")
    manager.select("deepseek-reasoner")
    assert manager.current_id() == "deepseek-reasoner"
    manager.editor.url_edit.setText("https://proxy.example/v1")
    manager.editor.model_edit.setText("deepseek-r1")
    assert manager.save()
    config = load_user_models()
    assert config.get("smollm2-135m").n_ctx == 2048
    reasoner = config.get("deepseek-reasoner")
    assert (reasoner.base_url, reasoner.model) == ("https://proxy.example/v1", "deepseek-r1")


def test_an_invalid_edit_shows_the_error_and_leaves_the_file_unchanged(manager, qtbot):
    before = paths.models_toml().read_bytes()
    manager.select("smollm2-135m")
    manager.editor.ctx_edit.setText("0")
    with qtbot.assertNotEmitted(manager.models_changed):
        assert not manager.save()
    message = manager.message_text()
    assert "n_ctx" in message and "positive whole number" in message and "Not saved" in message
    assert manager.editor.ctx_edit.property("invalid") is True
    assert paths.models_toml().read_bytes() == before
    # moving to another model is refused until the value is fixed
    manager.select("smollm2-think")
    assert manager.current_id() == "smollm2-135m"
    manager.editor.ctx_edit.setText("1024")
    manager.select("smollm2-think")
    assert manager.current_id() == "smollm2-think"
    assert manager.editor.ctx_edit.property("invalid") is False


def test_text_in_a_number_field_is_refused_with_the_key_named(manager):
    before = paths.models_toml().read_bytes()
    manager.select("smollm2-135m")
    manager.editor.temp_edit.setText("warm")
    assert not manager.save()
    assert '"temperature"' in manager.message_text()
    assert paths.models_toml().read_bytes() == before


def test_the_api_key_goes_to_set_key_and_never_into_models_toml(manager, qtbot, stored_keys):
    manager.select("openai-gpt5")
    assert not manager.editor.enabled_check.isChecked()
    qtbot.keyClicks(manager.editor.key_edit, "sk-test-0123456789")
    assert manager.editor.enabled_check.isChecked()  # a key is what the entry waited for
    assert manager.save()
    assert stored_keys == [("openai-gpt5", "sk-test-0123456789")]
    text = paths.models_toml().read_text(encoding="utf-8")
    assert "sk-test" not in text
    assert load_user_models().get("openai-gpt5").enabled
    assert manager.editor.key_edit.text() == ""


def test_a_key_that_cannot_be_stored_stops_the_save(qtbot):
    def refuse(model_id: str, key: str) -> None:
        raise PonderError("This system has no usable keyring.")

    dialog = ModelManager(set_key=refuse)
    qtbot.addWidget(dialog)
    before = paths.models_toml().read_bytes()
    dialog.select("deepseek-reasoner")
    qtbot.keyClicks(dialog.editor.key_edit, "sk-abc")
    assert not dialog.save()
    assert "no usable keyring" in dialog.message_text()
    assert "sk-abc" not in dialog.message_text()
    assert paths.models_toml().read_bytes() == before


def test_add_gguf_reads_the_real_bundled_model_and_proposes_a_profile(manager):
    bundled = paths.bundled_model_path()
    model_id = manager.add_gguf(bundled)
    assert model_id == "smollm2-135m-instruct-q4_1"
    assert manager.current_id() == model_id
    caps = manager.editor.capabilities.values
    assert caps["architecture"].text() == "llama"
    assert caps["quantization"].text() == "Q4_1"
    assert caps["context"].text() == "8,192 tokens"
    assert caps["parameters"].text() == "135 M"
    assert manager.save()
    profile = load_user_models().get(model_id)
    assert (profile.role, profile.backend, profile.path) == ("instruct", "llama", str(bundled))
    assert profile.n_ctx == 8192
    assert profile.label == bundled.stem
    # the same file again gets its own id
    assert manager.add_gguf(bundled) == "smollm2-135m-instruct-q4_1-2"


def test_add_gguf_of_a_thinking_model_proposes_a_reasoning_profile(manager, monkeypatch, tmp_path):
    model = tmp_path / "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setattr("app.backends.gguf_info.read_gguf_info", lambda path: fake_info(Path(path)))
    model_id = manager.add_gguf(model)
    assert model_id == "deepseek-r1-distill-qwen-7b-q4_k_m"
    editor = manager.editor
    assert editor.role_combo.currentData() == "reasoning"
    assert (editor.start_edit.text(), editor.end_edit.text()) == ("<think>", "</think>")
    assert editor.forced_combo.currentData() is True
    assert editor.ctx_edit.text() == "16384"
    caps = editor.capabilities.values
    assert caps["parameters"].text() == "7.6 B"
    assert caps["thinking"].text().startswith("yes")
    assert caps["forced"].text() == "yes" and caps["switch"].text() == "no"
    assert manager.save()
    profile = load_user_models().get(model_id)
    assert profile.role == "reasoning"
    assert profile.reasoning == ReasoningSettings("<think>", "</think>", True, 0, "strip")


def test_without_the_gguf_reader_capabilities_are_unknown(manager, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "app.backends.gguf_info", None)  # import fails
    model = tmp_path / "QwQ-32B-Q4_K_M.gguf"
    model.write_bytes(b"GGUF")
    model_id = manager.add_gguf(model)
    assert model_id is not None
    caps = manager.editor.capabilities
    assert caps.values["architecture"].text() == "unknown"
    assert "not available" in caps.note.text()
    assert manager.editor.role_combo.currentData() == "reasoning"  # QwQ thinks, says its name


def test_a_file_that_is_not_gguf_is_not_added(manager, tmp_path):
    bad = tmp_path / "notes.gguf"
    bad.write_text("hello")
    ids = manager.config.ids
    assert manager.add_gguf(bad) is None
    assert "not a GGUF model file" in manager.message_text()
    assert manager.config.ids == ids
    assert manager.add_gguf(tmp_path / "missing.gguf") is None
    assert "not a file" in manager.message_text()


def test_discovery_lists_found_files_and_adds_the_selected(manager, monkeypatch, tmp_path):
    from app.domain import discovery

    files = {name: tmp_path / f"{name}.gguf" for name in ("qwen3-8b", "phi4-mini")}
    for file in files.values():
        file.write_bytes(b"GGUF")
    seen_roots = []

    def fake_discover(roots=None):
        seen_roots.append(roots)
        return [discovery.Found(files["qwen3-8b"], "ollama", "qwen3:8b", 5_200_000_000),
                discovery.Found(files["phi4-mini"], "lmstudio", "lmstudio-community/phi-4-mini", 2_490_000_000)]

    monkeypatch.setattr(discovery, "discover_gguf", fake_discover)
    monkeypatch.setattr("app.backends.gguf_info.read_gguf_info",
                        lambda path: fake_info(Path(path), supports_thinking=False, reasoning_markers=None,
                                               forced_open=False, context_length=32768))
    panel = manager.discovery
    panel.discover_button.click()
    rows = [[panel.results.topLevelItem(i).text(c) for c in range(4)] for i in range(panel.results.topLevelItemCount())]
    assert rows == [
        ["lmstudio-community/phi-4-mini", "LM Studio", "2.5 GB", str(files["phi4-mini"])],
        ["qwen3:8b", "Ollama", "5.2 GB", str(files["qwen3-8b"])],
    ]
    assert "Found 2 GGUF files" in panel.status.text()

    extra = tmp_path / "more-models"
    extra.mkdir()
    panel.add_folder(extra)
    assert seen_roots[-1].extra == (extra,)

    panel.results.topLevelItem(1).setSelected(True)
    panel.add_button.click()
    assert manager.current_id() == "qwen3-8b"
    assert manager.editor.label_edit.text() == "qwen3:8b · Q4_K_M"
    assert panel.results.topLevelItem(1).text(1) == "Ollama · added"
    assert manager.save()
    assert load_user_models().get("qwen3-8b").path == str(files["qwen3-8b"])


def test_remove_and_make_default(manager):
    before = paths.models_toml().read_text(encoding="utf-8")
    manager.select("smollm2-think")
    manager.make_default()
    manager.select("local-server")
    manager.remove_current()
    assert "local-server" not in manager.config.ids
    assert manager.save()
    after = paths.models_toml().read_text(encoding="utf-8")
    config = load_user_models()
    assert config.default == "smollm2-think" and "local-server" not in config.ids
    assert "# --- Cloud: each is off until you add its key" in after
    assert set(comments(after)) < set(comments(before))


def test_a_file_changed_meanwhile_is_not_overwritten(manager):
    path = paths.models_toml()
    edited_by_hand = path.read_text(encoding="utf-8") + "\n# my note\n"
    path.write_text(edited_by_hand, encoding="utf-8")
    manager.select("smollm2-135m")
    manager.editor.ctx_edit.setText("1024")
    assert not manager.save()
    assert "changed outside this window" in manager.message_text()
    assert path.read_text(encoding="utf-8") == edited_by_hand


def test_an_invalid_file_is_reported_and_not_edited(qtbot):
    path = paths.models_toml()
    path.write_text('[[model]]\nid = "a"\nrole = "instruct"\nbackend = "llama"\npath = "/a.gguf"\ntemprature = 1\n',
                    encoding="utf-8")
    dialog = ModelManager(set_key=lambda *_: None)
    qtbot.addWidget(dialog)
    assert "line 6" in dialog.message_text() and "temprature" in dialog.message_text()
    assert not dialog.save_button.isEnabled()
    assert not dialog.save()


def test_proposals_and_formatting_helpers():
    assert mm.slug("Meta-Llama-3.1-8B-Instruct.Q4_K_M") == "meta-llama-3-1-8b-instruct-q4_k_m"
    assert mm.unique_id("a", ["a", "a-2"]) == "a-3"
    assert mm.human_size(98_200_000) == "98 MB" and mm.human_size(None) == "unknown"
    assert mm.human_count(32_763_876_352) == "32.8 B"
    profile = mm.propose_profile(Path("/m/plain.gguf"), fake_info(Path("/m/plain.gguf"), supports_thinking=False,
                                                                   context_length=4096), ["x"])
    assert (profile.role, profile.n_ctx, profile.reasoning, profile.label) == ("instruct", 4096, None, "plain · Q4_K_M")


def test_no_keyring_is_said_plainly(monkeypatch):
    import app.backends.cloud.keys as keys
    from app.ui.model_manager import keyring_note

    monkeypatch.setattr(keys, "keyring_problem", lambda: "no system keyring is available")
    note = keyring_note()
    assert "no system keyring is available" in note and "environment variable" in note
    monkeypatch.setattr(keys, "keyring_problem", lambda: None)
    assert "system keyring" in keyring_note()
