"""Text from servers, models, files and conversations is shown as text everywhere outside the
Markdown view: the error banner, the status line, a message's notes, the thinking panel, the
model switcher and manager (and its "Get models" tab), the trace viewer, the history sidebar, the About dialog
(issue 15, point 2). Each test feeds an HTML payload (a heading, a link, a local image,
coloured text) through the real path and reads what the widget shows."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.backends.fake import FakeBackend
from app.controllers.chat_session import ChatSession
from app.controllers.persistence import Persistence
from app.domain import events as ev
from app.domain.config import load_user_models
from app.domain.messages import AssistantMessage
from app.domain.reasoning.markers import FAMILIES
from app.errors import ModelFileError, PonderError
from app.store.conversations import SearchHit, open_store
from app.ui.about_dialog import AboutDialog
from app.ui.history_sidebar import HistorySidebar, ask_delete
from app.ui.main_window import MainWindow
from app.ui.message_widget import AssistantMessageWidget
from app.ui.model_capabilities_panel import Capabilities, CapabilitiesPanel
from app.ui.model_manager import ModelManager
from app.ui.trace_viewer import TraceViewer
from helpers.cloud_replay import cloud, memory_keyring, qloop, run_until, server  # noqa: F401 (fixtures)
from helpers.shown_text import HOSTILE, hover, label_shows, tooltip_shows

PATH = "/v1/chat/completions"
LABEL = '<b>Evil</b> R&D <img src="file:///etc/passwd">'  # a model's label in models.toml
RICH_BY_DESIGN = {"aboutTitle", "about_config", "about_data", "about_cache", "about_logs", "historyHit"}


def _shows_literally(label: QLabel, payload: str = HOSTILE) -> None:
    assert label.textFormat() == Qt.PlainText, label.objectName()
    assert payload in label_shows(label)


def _labels(window: QWidget) -> list[QLabel]:
    """The window's labels (not Qt's own tooltip label, which a hover may have parented to it)."""
    return [label for label in window.findChildren(QLabel) if label.objectName() != "qtooltip_label"]


def _window(qtbot, config=None, factory=None, store=None, persistence=None) -> MainWindow:
    session = ChatSession(config or load_user_models(), factory=factory)
    win = MainWindow(session, store=store, persistence=persistence)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


# -- a server's error -------------------------------------------------------------------------


@pytest.mark.parametrize("content_type, body", [
    ("application/json", json.dumps({"error": {"message": HOSTILE, "type": "error"}}).encode()),
    ("text/html", f"<html><body>{HOSTILE}</body></html>".encode()),
])
def test_a_cloud_servers_error_body_shows_as_text_in_the_banner_and_the_message(qtbot, qloop, cloud,
                                                                                 content_type, body):
    cloud.server.script(PATH, cloud.Reply(status=500, content_type=content_type, pieces=[body]))
    config = load_user_models()
    config = replace(config, models=config.models + (cloud.profile(id="remote", label="Remote"),))
    win = _window(qtbot, config, factory=lambda p: FakeBackend(p, ["Local."]))
    session = win.session
    session.set_model("remote")
    assert session.send("Hello")
    run_until(qloop, lambda: not session.busy)
    msg = session.conversation.messages[-1]
    assert msg.finish_reason == "error" and HOSTILE in msg.error
    assert win.errors.isVisibleTo(win)
    _shows_literally(win.errors)
    _shows_literally(win.chat.widget_for(msg).status)
    session.shutdown()


class _BrokenFile(FakeBackend):
    def load(self, progress=None, should_stop=None) -> None:
        raise ModelFileError(f"Model file /models/x.gguf is damaged: {HOSTILE}")


def test_a_model_that_fails_to_load_shows_its_error_as_text_in_the_status_line_and_its_tooltip(qtbot):
    win = _window(qtbot, factory=lambda p: _BrokenFile(p, []))
    with qtbot.waitSignal(win.session.model_failed, timeout=10_000):
        win.session.preload()
    _shows_literally(win.errors)
    assert "could not load" in label_shows(win.model_status)
    assert HOSTILE in hover(win.model_status)  # the real tooltip, as a hovering mouse gets it
    win.session.shutdown()


# -- a model's label, hints and reasoning --------------------------------------------------------


def _with_label(label: str):
    config = load_user_models()
    return replace(config, models=tuple(replace(m, label=label) if m.id == config.default else m
                                        for m in config.models))


def test_a_models_label_shows_as_text_in_the_switcher_status_line_message_and_hint(qtbot):
    config = _with_label(LABEL)
    win = _window(qtbot, config, factory=lambda p: FakeBackend(p, ["Fine", "."]))
    session = win.session
    with qtbot.waitSignal(session.turn_finished, timeout=10_000) as done:
        assert session.send("Hi")
    widget = win.chat.widget_for(done.args[0])
    _shows_literally(widget.origin, LABEL)
    _shows_literally(win.model_status, LABEL)
    # the switcher's entry and its hint are item text (never rich); its tooltip is plain
    win.switcher.set_hint(config.default, HOSTILE)
    row = win.switcher.findData(config.default, win.switcher.ID_ROLE)
    item = win.switcher.model().item(row)
    assert item.text() == f"{LABEL}  —  {HOSTILE}"
    # a suggestion to switch names the model: text as text, and "&" takes no keyboard shortcut
    win.task_hint.suggest(f"This looks like a hard problem: {HOSTILE}", config.get(config.default))
    _shows_literally(win.task_hint.label)
    assert QKeySequence.mnemonic(win.task_hint.button.text()).isEmpty()
    session.shutdown()


def test_the_switchers_tooltip_shows_a_hostile_id_as_text(qtbot):
    config = load_user_models()
    hostile_id = '<img src="file:///etc/passwd">'
    config = replace(config, models=tuple(replace(m, id=hostile_id) if m.id == config.default else m
                                          for m in config.models), default=hostile_id)
    win = _window(qtbot, config, factory=lambda p: FakeBackend(p, []))
    row = win.switcher.findData(hostile_id, win.switcher.ID_ROLE)
    tip = win.switcher.model().item(row).toolTip()
    assert tooltip_shows(tip) == f"{hostile_id} · {config.get(hostile_id).backend}"
    win.session.shutdown()


def _reasoning_message(text: str, *, finished: bool) -> AssistantMessage:
    m = AssistantMessage()
    m.apply(ev.TurnStarted(100.0, "test-model", 12, 4096))
    m.apply(ev.BlockStart(100.5, "<think>"))
    m.apply(ev.ReasoningDelta(text))
    m.apply(ev.TokenCounts(20, 0, 0, 101.0))
    if finished:
        m.apply(ev.BlockEnd(101.5, "</think>"))
        m.apply(ev.AnswerDelta("Done."))
        m.apply(ev.TokenCounts(20, 2, 0, 102.0))
        m.apply(ev.TurnFinished(102.5, "stop"))
    return m


def test_a_models_reasoning_shows_as_text_in_the_live_preview_and_the_trace_viewer(qtbot):
    reasoning = f"Let me see.\nWait, {HOSTILE}"
    live = _reasoning_message(reasoning, finished=False)
    widget = AssistantMessageWidget(live, model_label=LABEL, panel_default="collapsed")
    qtbot.addWidget(widget)
    widget.show()
    widget.refresh()
    panel = widget.panels[0]
    assert not panel.preview.isHidden()
    _shows_literally(panel.preview)
    assert panel.plain_text() == reasoning  # the body is a plain-text editor

    viewer = TraceViewer(_reasoning_message(reasoning, finished=True))
    qtbot.addWidget(viewer)
    viewer.show()
    assert viewer.changes and "<h1>" in viewer.changes[0].snippet
    item = viewer.markers.item(0)
    assert item.text().endswith(viewer.changes[0].snippet)  # list items are drawn as text
    assert tooltip_shows(item.toolTip()) == viewer.changes[0].snippet
    rect = viewer.markers.visualItemRect(item)
    assert hover(viewer.markers.viewport(), rect.center()) == viewer.changes[0].snippet
    for label in _labels(viewer):
        assert label.textFormat() == Qt.PlainText, label.objectName()


# -- the model manager: config, keyring, GGUF files ----------------------------------------------


def test_a_keyring_error_shows_as_text_in_the_model_manager(qtbot):
    def refuse(model_id: str, key: str) -> None:
        raise PonderError(f"The keyring refused the key: {HOSTILE}")

    dialog = ModelManager(set_key=refuse)
    qtbot.addWidget(dialog)
    dialog.select("deepseek-reasoner")
    qtbot.keyClicks(dialog.editor.key_edit, "sk-abc")
    assert not dialog.save()
    _shows_literally(dialog.message)


def test_a_config_error_that_quotes_the_file_shows_as_text(qtbot, tmp_path):
    path = tmp_path / "models.toml"
    path.write_text('[[model]]\nid = "x"\nrole = "<h1>x</h1><img src=\'file:///etc/passwd\'>"\nbackend = "llama"\n'
                    'path = "x.gguf"\n', encoding="utf-8")
    dialog = ModelManager(models_path=path, set_key=lambda *_: None)
    qtbot.addWidget(dialog)
    _shows_literally(dialog.message, "<h1>x</h1><img src='file:///etc/passwd'>")


def test_a_models_label_shows_as_text_in_the_manager_list_tooltip_and_editor(qtbot):
    dialog = ModelManager(set_key=lambda *_: None)
    qtbot.addWidget(dialog)
    dialog.show()
    model_id = dialog.current_id()
    dialog.editor.label_edit.setText(LABEL)
    other = next(m.id for m in dialog.config.models if m.id != model_id)
    dialog.select(other)  # commits the edit and rebuilds the list
    dialog.select(model_id)
    item = dialog._item_for(model_id)
    assert item.text(0) == LABEL
    profile = dialog.config.get(model_id)
    assert tooltip_shows(item.toolTip(0)) == f"{LABEL}\n{model_id} · {profile.backend}"
    _shows_literally(dialog.editor.title, LABEL)


def test_strings_from_a_gguf_file_show_as_text_in_the_capabilities(qtbot):
    panel = CapabilitiesPanel()
    qtbot.addWidget(panel)
    info = SimpleNamespace(architecture=HOSTILE, quantization="<font color=red>Q4</font>", parameter_count=10,
                           file_size=1000, context_length=2048, chat_template="x", supports_thinking=True,
                           reasoning_markers=("<think>", "</think>"), forced_open=False,
                           enable_thinking_switch=False)
    panel.show_capabilities(Capabilities(info=info), 2048)
    _shows_literally(panel.values["architecture"])
    _shows_literally(panel.values["quantization"], "<font color=red>Q4</font>")
    _shows_literally(panel.values["thinking"], "(<think> … </think>)")
    panel.show_capabilities(Capabilities(error=f"Cannot read /models/{HOSTILE}.gguf"), 2048)
    _shows_literally(panel.note)


def test_file_names_found_on_disk_show_as_text_in_the_discovery_tab(qtbot, monkeypatch):
    name = '<img src="file:///etc/passwd">model.gguf'
    entry = SimpleNamespace(name=name, source="folder", size=1000, path=Path("/models") / "x" / "model.gguf")
    monkeypatch.setattr("app.ui.model_discovery_panel.find_gguf_files", lambda folders: [entry])
    dialog = ModelManager(set_key=lambda *_: None)
    qtbot.addWidget(dialog)
    dialog.discovery.discover()
    item = dialog.discovery.results.topLevelItem(0)
    assert tooltip_shows(item.toolTip(0)) == name

    def fail(folders):
        raise PonderError(f"Cannot list {HOSTILE}")

    monkeypatch.setattr("app.ui.model_discovery_panel.find_gguf_files", fail)
    dialog.discovery.discover()
    _shows_literally(dialog.discovery.status)


def test_a_catalog_entry_and_a_failed_downloads_message_show_as_text_in_get_models(qtbot):
    from app.controllers.download_queue import FAILED, DownloadJob, DownloadQueue
    from app.domain.catalog import parse_catalog
    from app.ui.catalog_page import STATUS_COL, CatalogPage
    from helpers.fake_hub import catalog_text

    text = catalog_text("ponder-test/tiny-GGUF", "tiny.gguf", 1000).replace(
        'name = "Tiny test model"', 'name = "Tiny <b>model</b>"').replace(
        'license = "Apache-2.0"', 'license = "<a href=\'https://evil.example\'>MIT</a>"')
    catalog = parse_catalog(text, "catalog.toml")
    queue = DownloadQueue()
    page = CatalogPage(catalog=catalog, available_bytes=8 * 10**9, queue=queue)
    qtbot.addWidget(page)
    (key, item), = page.items.items()
    assert tooltip_shows(item.toolTip(0)).startswith("Tiny <b>model</b>\n")
    assert "<a href='https://evil.example'>MIT</a>" in tooltip_shows(item.toolTip(0))
    entry = catalog.entries[0]
    job = DownloadJob(1, entry, entry.quants[0], state=FAILED, message=f"huggingface.co said: {HOSTILE}")
    queue.job_changed.emit(job)
    _shows_literally(page.status)
    assert HOSTILE in tooltip_shows(item.toolTip(STATUS_COL))
    queue.shutdown()


# -- conversations: titles, search hits, the delete question --------------------------------------


def test_conversation_titles_show_as_text_in_the_list_tooltip_and_delete_question(qtbot):
    bar = HistorySidebar(search_delay_ms=10)
    qtbot.addWidget(bar)
    bar.show()
    bar.set_conversations([("c1", HOSTILE, 1_700_000_000.0)])
    item = bar.list.item(0)
    assert item.text() == HOSTILE
    assert tooltip_shows(item.toolTip()).startswith(HOSTILE + "\n")
    assert hover(bar.list.viewport(), bar.list.visualItemRect(item).center()).startswith(HOSTILE + "\n")

    seen = []

    def look():
        box = QApplication.activeModalWidget()
        seen.append(box.findChild(QLabel, "qt_msgbox_label"))
        seen.append((seen[0].textFormat(), label_shows(seen[0])))
        box.reject()

    QTimer.singleShot(0, look)
    assert not ask_delete(bar, HOSTILE)
    assert seen[1][0] == Qt.PlainText and HOSTILE in seen[1][1]


def test_search_hits_keep_their_highlights_and_show_titles_and_snippets_as_text(qtbot):
    bar = HistorySidebar(search_delay_ms=10)
    qtbot.addWidget(bar)
    bar.show()
    bar.search.setText("key")
    snippet = f"… {HOSTILE} …"
    start = snippet.index("key")
    hit = SearchHit("c1", "<i>title</i><img src='file:///etc/passwd'>", "m1", "answer", snippet,
                    ((start, start + 3),), 1.0)
    bar.set_search_results([hit])
    label = bar.list.itemWidget(bar.list.item(0))
    assert label.objectName() == "historyHit" and label.textFormat() == Qt.RichText  # for the highlight
    shown = label_shows(label)
    assert "<i>title</i><img src='file:///etc/passwd'>" in shown and snippet in shown
    assert '<b style="background-color:#fde68a;color:#111827">key</b>' in label.text()
    assert "<img" not in label.text() and "&lt;img" in label.text()


# -- the About dialog --------------------------------------------------------------------------


def test_the_about_dialog_shows_folder_paths_as_text(qtbot, monkeypatch, tmp_path):
    home = tmp_path / "<i>home</i> & <img src='x.png'>"  # a file name cannot hold "/"
    monkeypatch.setenv("PONDER_HOME", str(home))
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    config = dialog.value_labels["Config"]
    assert config.textFormat() == Qt.RichText  # a link that opens the folder
    assert label_shows(config) == dialog.info["Config"] and "<i>home</i>" in label_shows(config)
    assert tooltip_shows(config.toolTip()) == f"Open {dialog.info['Config']}"
    for name, label in dialog.value_labels.items():
        if name not in ("Config", "Data", "Cache", "Logs"):
            assert label.textFormat() == Qt.PlainText


# -- every label of the app ---------------------------------------------------------------------


def test_every_label_of_the_window_and_its_dialogs_is_plain_text_but_the_reviewed_ones(qtbot):
    session = ChatSession(load_user_models(), factory=lambda p: FakeBackend(
        p, ["<think>", "Hmm.", "\nWait, ", HOSTILE, "</think>", "\n\n", "Answer", "."], spec=FAMILIES["think"]))
    store, _ = open_store()
    persistence = Persistence(session, store)
    win = MainWindow(session, store=store, persistence=persistence)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(session.turn_finished, timeout=10_000) as done:
        assert session.send(f"Title {HOSTILE}")
    persistence.flush()
    win.history.refresh_history()
    win.sidebar.search.setText("Title")
    qtbot.waitUntil(lambda: bool(win.sidebar.list.itemWidget(win.sidebar.list.item(0))), timeout=5000)
    win.task_hint.suggest("hint", session.profile)
    win.show_error(HOSTILE)
    windows: list[QWidget] = [win, win.open_model_manager(), win.open_trace(done.args[0]), win.open_about()]
    labels = [label for w in windows for label in _labels(w)]
    assert len(labels) > 60
    rich = sorted({label.objectName() for label in labels if label.textFormat() != Qt.PlainText})
    assert set(rich) <= RICH_BY_DESIGN, rich
    assert "historyHit" in rich and "aboutTitle" in rich  # the sweep saw them
    for w in windows[1:]:
        w.close()
    session.shutdown()
    persistence.close()
