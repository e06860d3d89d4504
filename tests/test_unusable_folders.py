"""A PONDER_HOME or platform folder Ponder cannot write (issue 15.7): every command says which
folder and what to do in one line (exit 2); the window starts, says history is off, and chats.

The tests run as root here, and root may write into a folder whatever its mode, so an
unwritable folder is made in two ways root cannot get around: a path under /sys (sysfs
refuses new folders: "Operation not permitted") and a regular file where a folder must be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from app import paths

HOMES = ["sysfs", "file"]


def unusable_home(kind: str, tmp_path):
    if kind == "sysfs":
        return f"/sys/ponder-test-{uuid.uuid4().hex[:8]}"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where PONDER_HOME should be a folder\n")
    return str(blocker)


def run(env_changes: dict, *args, timeout=120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PONDER_HOME"}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def assert_one_line_naming(result, folder: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ponder: Ponder cannot use its config folder {folder}"), lines[0]
    assert "Make it a writable folder, or set PONDER_HOME to a writable folder." in lines[0]


@pytest.mark.parametrize("kind", HOMES)
@pytest.mark.parametrize("command", [["ask", "hi"], ["models"], ["models", "--json"]], ids=" ".join)
def test_every_command_names_the_folder_in_one_line(kind, command, tmp_path):
    home = unusable_home(kind, tmp_path)
    assert_one_line_naming(run({"PONDER_HOME": home}, *command), f"{home}/config")


def test_unusable_platform_folders_are_named_too(tmp_path):
    """No PONDER_HOME: the XDG folders platformdirs reads point at sysfs (the real ones are untouched)."""
    blocked = f"/sys/ponder-test-{uuid.uuid4().hex[:8]}"
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": f"{blocked}/config", "XDG_DATA_HOME": f"{blocked}/data",
           "XDG_CACHE_HOME": f"{blocked}/cache", "XDG_STATE_HOME": f"{blocked}/state"}
    assert_one_line_naming(run(env, "ask", "hi"), f"{blocked}/config/Ponder")


@pytest.mark.parametrize("kind", HOMES)
def test_the_self_test_names_the_folder(kind, tmp_path):
    home = unusable_home(kind, tmp_path)
    result = run({"PONDER_HOME": home, "QT_QPA_PLATFORM": "offscreen"}, "--self-test")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"self-test FAILED: Ponder cannot use its config folder {home}/config" in result.stderr


def test_folder_error_names_the_folder_and_the_reason(tmp_path, monkeypatch):
    from app.errors import FolderError

    blocker = tmp_path / "home"
    blocker.write_text("")
    monkeypatch.setenv("PONDER_HOME", str(blocker))
    with pytest.raises(FolderError) as info:
        paths.data_dir()
    assert info.value.folder == blocker / "data" and info.value.kind == "data"
    assert str(blocker / "data") in str(info.value) and "Not a directory" in str(info.value)


# -- the window ------------------------------------------------------------------------------


def window_notices(env: dict) -> tuple[subprocess.CompletedProcess, list[str]]:
    result = run({**env, "QT_QPA_PLATFORM": "offscreen", "PONDER_STATUS_CHANNEL": "1"}, "--startup-probe")
    errors = [json.loads(line.split(" ", 1)[1])["text"] for line in result.stderr.splitlines()
              if line.startswith("ponder-status ") and '"event": "error"' in line]
    return result, errors


def test_the_window_starts_without_a_data_folder_and_says_history_is_off(ponder_home):
    (ponder_home / "config").mkdir(parents=True)
    (ponder_home / "data").write_text("a file where the data folder should be\n")
    result, errors = window_notices({"PONDER_HOME": str(ponder_home)})
    assert result.returncode == 0, result.stderr
    assert "window ready after" in result.stdout
    assert len(errors) == 1 and errors[0].startswith(
        f"History is off: Ponder cannot use its data folder {ponder_home / 'data'} (a file of that name is in the way)")
    assert "Conversations of this session will not be saved." in errors[0]


def test_the_window_starts_on_the_built_in_models_without_any_usable_folder(tmp_path):
    home = unusable_home("sysfs", tmp_path)
    result, errors = window_notices({"PONDER_HOME": home})
    assert result.returncode == 0, result.stderr
    assert "window ready after" in result.stdout and "Traceback" not in result.stderr
    assert errors and f"Ponder cannot use its config folder {home}/config (Operation not permitted)" in errors[0]
    assert "built-in models" in errors[0] and "History is off" in errors[0]


def test_with_history_off_the_window_still_chats(qtbot, ponder_home):
    """What app.main does with an unusable data folder: an in-memory store, and the chat goes on."""
    from app.backends.fake import FakeBackend
    from app.controllers.chat_session import ChatSession
    from app.controllers.persistence import Persistence
    from app.domain.config import load_user_models
    from app.store.conversations import open_store
    from app.ui.main_window import MainWindow

    config = load_user_models()  # the config folder works; the data folder does not
    (ponder_home / "data").write_text("in the way\n")
    store, notice = open_store()
    assert store.path is None and notice.startswith("History is off: ")
    session = ChatSession(config, factory=lambda p: FakeBackend(p, ["Still", " here", "."]))
    persistence = Persistence(session, store)
    errors: list[str] = []
    persistence.error.connect(errors.append)
    win = MainWindow(session, store=store, persistence=persistence)
    qtbot.addWidget(win)
    win.show()
    win.show_error(notice)
    assert win.errors.isVisibleTo(win) and "History is off" in win.errors.text()
    with qtbot.waitSignal(session.turn_finished, timeout=10_000) as done:
        assert session.send("Are you there?")
    assert done.args[0].answer == "Still here." and done.args[0].finish_reason == "stop"
    assert persistence.flush() and not errors
    assert [c.title for c in store.list_conversations()] == ["Are you there?"]  # kept for the session
    session.shutdown()
    persistence.close()
