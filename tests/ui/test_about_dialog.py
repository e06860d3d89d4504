"""The About dialog shows the versions and the data folders; apply_identity names the app."""

import PySide6
import pytest
from PySide6.QtCore import QUrl, qVersion
from PySide6.QtWidgets import QApplication

from app.ui.about_dialog import AboutDialog
from app.ui.app_identity import apply_identity
from app.version import __version__


@pytest.fixture
def dialog(qtbot):
    dlg = AboutDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_shows_ponder_qt_and_llama_versions(dialog):
    import llama_cpp

    text = dialog.text()
    assert f"Ponder {__version__}" in text
    assert f"Qt {qVersion()}" in dialog.value_labels["Qt"].text()
    assert f"PySide6 {PySide6.__version__}" in dialog.value_labels["Qt"].text()
    llama = dialog.value_labels["llama.cpp"].text()
    assert f"llama-cpp-python {llama_cpp.__version__}" in llama
    core = llama_cpp.llama_cpp.llama_version().decode()
    assert f"llama.cpp {core}" in llama
    assert dialog.windowTitle() == "About Ponder"
    assert not dialog.windowIcon().isNull()


def test_shows_the_data_folders_under_ponder_home_as_links(dialog, ponder_home):
    for name, kind in (("Config", "config"), ("Data", "data"), ("Cache", "cache"), ("Logs", "logs")):
        folder = ponder_home / kind
        assert dialog.info[name] == str(folder)
        label = dialog.value_labels[name]
        assert str(folder) in label.text()
        assert QUrl.fromLocalFile(str(folder)).toString() in label.text()
        assert label.openExternalLinks()
        assert folder.is_dir()


def test_close_button_closes(qtbot, dialog):
    from PySide6.QtWidgets import QDialogButtonBox

    box = dialog.findChild(QDialogButtonBox)
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        box.button(QDialogButtonBox.Close).click()
    assert not dialog.isVisible()


def test_apply_identity_sets_name_version_desktop_file_and_icon(qapp):
    saved = (qapp.applicationName(), qapp.applicationVersion(), qapp.organizationName(),
             qapp.desktopFileName(), qapp.windowIcon())
    try:
        icon = apply_identity(qapp)
        assert QApplication.applicationName() == "Ponder"
        assert QApplication.applicationVersion() == __version__
        assert QApplication.organizationName() == "Ponder"
        assert QApplication.desktopFileName() == "ponder"
        assert not icon.isNull()
        sizes = {s.width() for s in QApplication.windowIcon().availableSizes()}
        assert {16, 32, 48, 64, 128, 256} <= sizes
    finally:
        name, version, org, desktop, old_icon = saved
        qapp.setApplicationName(name)
        qapp.setApplicationVersion(version)
        qapp.setOrganizationName(org)
        qapp.setDesktopFileName(desktop)
        qapp.setWindowIcon(old_icon)
