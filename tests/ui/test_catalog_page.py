"""The model manager's "Get models" tab: verdicts with their numbers, sorting, a download's
progress through a fake hub on 127.0.0.1, cancel (the partial file stays for a resume), the
entry it adds; and the chat template note and dropdown of the profile editor."""

from __future__ import annotations

import os
import tempfile
import tomllib

import pytest
from PySide6.QtCore import Qt

os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="ponder-hf-home-"))  # never the user's token

from helpers.fake_hub import TINY_FILE, TINY_REPO, HostedFile, catalog_text, serving  # noqa: E402
from helpers.gguf_copy import write_gguf_copy  # noqa: E402

from app import paths  # noqa: E402
from app.controllers.download_queue import CANCELLED, DONE, DownloadQueue  # noqa: E402
from app.domain.catalog import load_catalog, parse_catalog  # noqa: E402
from app.domain.catalog_fit import typical_machine  # noqa: E402
from app.domain.config import ensure_models_file  # noqa: E402
from app.ui.catalog_page import MAX_COL, STATUS_COL, VERDICT_COL, CatalogPage  # noqa: E402

REPO, FILE = TINY_REPO, TINY_FILE


@pytest.fixture(scope="module")
def hosted() -> HostedFile:
    return HostedFile(paths.bundled_model_path())


@pytest.fixture
def hub(hosted, monkeypatch, tmp_path):
    with serving(hosted, monkeypatch, tmp_path / "hf-cache") as server:
        yield server


@pytest.fixture
def queue():
    q = DownloadQueue()
    yield q
    q.shutdown()


def test_verdicts_are_shown_with_their_numbers_and_sort(qtbot, queue):
    page = CatalogPage(catalog=load_catalog(), available_bytes=typical_machine(32).available_bytes, queue=queue)
    qtbot.addWidget(page)
    qwq = page.items[("qwq-32b", "Q4_K_M")]
    assert qwq.text(VERDICT_COL) == "tight at 20K"
    assert "A typical trace takes 2,000–8,000 tokens" in qwq.toolTip(VERDICT_COL)
    assert "Needs about" in qwq.toolTip(VERDICT_COL) and "The largest context that fits" in qwq.toolTip(VERDICT_COL)
    assert page.items[("deepseek-r1-distill-qwen-7b", "Q4_K_M")].text(VERDICT_COL) == "fits at 8K"
    assert page.items[("deepseek-r1", "Q4_K_M")].text(VERDICT_COL) == "won't fit at 64K"
    assert page.items[("deepseek-r1", "Q4_K_M")].text(MAX_COL) == "—"
    assert page.items[("gemma-3-4b-it-qat", "Q4_0")].text(0).endswith("(gated)")

    rows = [page.table.topLevelItem(i) for i in range(page.table.topLevelItemCount())]
    verdicts = [r.text(VERDICT_COL).split(" at ")[0] for r in rows]  # sorted by verdict: fits, tight, won't fit
    assert verdicts == sorted(verdicts, key=["fits", "tight", "won't fit"].index)
    page.table.sortItems(3, Qt.AscendingOrder)  # by download size, numerically
    sizes = [page.table.topLevelItem(i).data(3, Qt.UserRole + 1) for i in range(page.table.topLevelItemCount())]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]

    page.select("gemma-3-4b-it-qat", "Q4_0")
    assert "accept the license on https://huggingface.co/google/gemma-3-4b-it-qat-q4_0-gguf" in page.detail.text()


def test_a_download_shows_progress_and_adds_the_model(qtbot, queue, hub, hosted):
    hub.state.chunk, hub.state.delay = 1 << 20, 0.01
    catalog = parse_catalog(catalog_text(REPO, FILE, hosted.size))
    page = CatalogPage(catalog=catalog, available_bytes=8 << 30, queue=queue)
    qtbot.addWidget(page)
    page.show()
    page.select("tiny", "Q4_1")
    seen = []
    queue.job_changed.connect(lambda job: seen.append((job.state, job.progress.done if job.progress else 0)))
    with qtbot.waitSignal(page.model_added, timeout=60_000) as added:
        page.download_button.click()
        assert not page.download_button.isEnabled() and page.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: page.progress.isVisible(), timeout=30_000)
        assert "%" in page.progress.format() and "MB" in page.progress.format()
    row = page.items[("tiny", "Q4_1")]
    assert row.text(STATUS_COL) == "downloaded"
    assert "is downloaded and in your models as “Tiny test model · Q4_1”" in page.status.text()
    assert [s for s, _ in seen].count(DONE) == 1 and any(0 < done < hosted.size for _, done in seen)
    assert "tiny-q4_1" in added.args[0].ids
    raw = tomllib.loads(ensure_models_file().read_text())
    assert any(m["id"] == "tiny-q4_1" and m["role"] == "reasoning" for m in raw["model"])
    assert page.download_button.isEnabled() and not page.cancel_button.isEnabled()


def test_cancel_stops_the_download_and_keeps_what_arrived(qtbot, queue, hub, hosted, tmp_path):
    hub.state.chunk, hub.state.delay = 256 << 10, 0.05  # about 5 MB/s: cancel lands mid-way
    catalog = parse_catalog(catalog_text(REPO, FILE, hosted.size))
    page = CatalogPage(catalog=catalog, available_bytes=8 << 30, queue=queue)
    qtbot.addWidget(page)
    page.select("tiny", "Q4_1")
    job = page.download_selected()
    qtbot.waitUntil(lambda: job.progress is not None and job.progress.done > (2 << 20), timeout=30_000)
    page.cancel_button.click()
    qtbot.waitUntil(lambda: job.state == CANCELLED, timeout=30_000)
    assert page.items[("tiny", "Q4_1")].text(STATUS_COL) == "cancelled"
    assert "resumes" in page.status.text()
    partial = next((tmp_path / "hf-cache").rglob("*.ponder-partial"))
    assert 0 < partial.stat().st_size < hosted.size
    assert "tiny-q4_1" not in ensure_models_file().read_text()
    assert page.download_button.isEnabled()


def test_the_manager_has_the_tab_and_shows_the_template_note_and_dropdown(qtbot, tmp_path, ponder_home):
    from app.ui.model_manager import ModelManager

    bare = write_gguf_copy(paths.bundled_model_path(), tmp_path / "bare.gguf", drop=("tokenizer.chat_template",))
    models = ensure_models_file()
    models.write_text(models.read_text() + f'\n[[model]]\nid = "bare"\nrole = "instruct"\nbackend = "llama"\n'
                                           f'path = "{bare}"\n')
    dialog = ModelManager(set_key=lambda *_: None)
    qtbot.addWidget(dialog)
    try:
        assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())][-1] == "Get models"
        dialog.select("bare")
        note = dialog.editor.capabilities.values["template"].text()
        assert note == "No template in the file; using chatml (llama architecture, <|im_start|> in the vocabulary)"
        combo = dialog.editor.template_combo
        assert combo.currentText() == "From the file (automatic)"
        combo.setCurrentIndex(combo.findData("gemma"))
        assert dialog.editor.changes() == {"chat_template": "gemma"}
        assert dialog.save()
        assert 'chat_template = "gemma"' in models.read_text()
        dialog.select("bare")
        assert dialog.editor.capabilities.values["template"].text() == "Using the gemma preset set in models.toml"
    finally:
        dialog.catalog_page.queue.shutdown()
