"""Discovering GGUF files in fake LM Studio, Ollama and Hugging Face cache folder trees."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.domain.discovery import DiscoveryRoots, Found, discover_gguf, is_gguf

GGUF = b"GGUF\x03\x00\x00\x00" + bytes(24)


def fake_gguf(path: Path, extra: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(GGUF + bytes(extra))
    return path


def ollama_manifest(root: Path, model: str, tag: str, digest_hex: str, *, namespace: str = "library",
                    host: str = "registry.ollama.ai", blob_bytes: bytes | None = GGUF) -> Path:
    digest = f"sha256:{digest_hex}"
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": "sha256:" + "c" * 64, "size": 10},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "d" * 64, "size": 5},
            {"mediaType": "application/vnd.ollama.image.model", "digest": digest, "size": 32},
            {"mediaType": "application/vnd.ollama.image.params", "digest": "sha256:" + "e" * 64, "size": 5},
        ],
    }
    path = root / "manifests" / host / namespace / model / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    blobs = root / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    for other in ("c", "d", "e"):  # the non-model layers are plain files too
        (blobs / f"sha256-{other * 64}").write_text("not a model")
    if blob_bytes is not None:
        (blobs / f"sha256-{digest_hex}").write_bytes(blob_bytes)
    return path


def hf_snapshot(hub: Path, repo: str, revision: str, filename: str, blob: str, content: bytes = GGUF) -> Path:
    base = hub / ("models--" + repo.replace("/", "--"))
    blob_path = base / "blobs" / blob
    blob_path.parent.mkdir(parents=True, exist_ok=True)
    blob_path.write_bytes(content)
    link = base / "snapshots" / revision / filename
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(blob_path, link.parent))
    (base / "refs").mkdir(exist_ok=True)
    (base / "refs" / "main").write_text(revision)
    return link


def names(found: list[Found], source: str | None = None) -> list[str]:
    return [f.name for f in found if source is None or f.source == source]


def test_lmstudio_tree(tmp_path):
    root = tmp_path / "lmstudio"
    fake_gguf(root / "lmstudio-community" / "Qwen3-8B-GGUF" / "Qwen3-8B-Q4_K_M.gguf", extra=100)
    fake_gguf(root / "bartowski" / "QwQ-32B-GGUF" / "QwQ-32B-Q4_K_M.gguf")
    fake_gguf(root / "bartowski" / "gemma-3-4b-it-GGUF" / "mmproj-model-f16.gguf")  # vision projector
    (root / "bartowski" / "QwQ-32B-GGUF" / "README.md").write_text("# hi")
    (root / "other" / "x").mkdir(parents=True)
    (root / "other" / "x" / "fake.gguf").write_bytes(b"<html>not found</html>")  # not GGUF
    found = discover_gguf(DiscoveryRoots(lmstudio=(root,)))
    assert names(found) == ["bartowski/QwQ-32B-GGUF/QwQ-32B-Q4_K_M", "lmstudio-community/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M"]
    assert {f.source for f in found} == {"lmstudio"}
    qwen3 = found[1]
    assert qwen3.size == len(GGUF) + 100 and qwen3.path.is_file()


def test_lmstudio_old_and_new_folders(tmp_path):
    new, old = tmp_path / ".lmstudio" / "models", tmp_path / ".cache" / "lm-studio" / "models"
    fake_gguf(new / "a" / "b" / "new.gguf")
    fake_gguf(old / "a" / "b" / "old.gguf")
    roots = DiscoveryRoots.default(env={}, home=tmp_path)
    assert names(discover_gguf(roots)) == ["a/b/new", "a/b/old"]


def test_ollama_manifests_name_their_blobs(tmp_path):
    root = tmp_path / "ollama"
    ollama_manifest(root, "deepseek-r1", "7b", "a" * 64)
    ollama_manifest(root, "qwq", "latest", "b" * 64)
    ollama_manifest(root, "smollm2", "135m", "f" * 64, namespace="someone")
    ollama_manifest(root, "bartowski/Qwen3-8B-GGUF".split("/")[1], "Q4_K_M", "9" * 64, namespace="bartowski",
                    host="hf.co")
    ollama_manifest(root, "broken", "latest", "0" * 64, blob_bytes=None)  # blob not downloaded
    ollama_manifest(root, "safetensors", "latest", "1" * 64, blob_bytes=b"\x00" * 40)  # not GGUF
    (root / "manifests" / "registry.ollama.ai" / "library" / "garbage").mkdir(parents=True)
    (root / "manifests" / "registry.ollama.ai" / "library" / "garbage" / "latest").write_text("{not json")
    found = discover_gguf(DiscoveryRoots(ollama=(root,)))
    assert sorted(names(found)) == ["deepseek-r1:7b", "hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M", "qwq:latest",
                                    "someone/smollm2:135m"]
    r1 = next(f for f in found if f.name == "deepseek-r1:7b")
    assert r1.path == root / "blobs" / f"sha256-{'a' * 64}" and r1.source == "ollama" and r1.size == len(GGUF)


def test_ollama_two_tags_one_blob_listed_once(tmp_path):
    root = tmp_path / "ollama"
    ollama_manifest(root, "qwq", "32b", "b" * 64)
    ollama_manifest(root, "qwq", "latest", "b" * 64)
    found = discover_gguf(DiscoveryRoots(ollama=(root,)))
    assert names(found) == ["qwq:32b"]


def test_ollama_models_env_overrides(tmp_path):
    root = tmp_path / "elsewhere"
    ollama_manifest(root, "qwq", "latest", "b" * 64)
    roots = DiscoveryRoots.default(env={"OLLAMA_MODELS": str(root)}, home=tmp_path / "home")
    assert roots.ollama[0] == root
    assert names(discover_gguf(roots)) == ["qwq:latest"]


def test_huggingface_cache_snapshots(tmp_path):
    hub = tmp_path / "hub"
    hf_snapshot(hub, "unsloth/DeepSeek-R1-Distill-Qwen-7B-GGUF", "abc123",
                "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", "blob1")
    # the same blob seen from a second revision is one model
    hf_snapshot(hub, "unsloth/DeepSeek-R1-Distill-Qwen-7B-GGUF", "def456",
                "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", "blob1")
    hf_snapshot(hub, "Qwen/QwQ-32B-GGUF", "r1", "Q4_K_M/qwq-32b-q4_k_m.gguf", "blob2")
    hf_snapshot(hub, "Qwen/QwQ-32B-GGUF", "r1", "config.json", "blob3", content=b"{}")
    hf_snapshot(hub, "org/not-gguf", "r1", "weights.gguf", "blob4", content=b"PK\x03\x04zip")
    dangling = hub / "models--org--partial" / "snapshots" / "r1" / "model.gguf"  # unfinished download
    dangling.parent.mkdir(parents=True)
    dangling.symlink_to("../../blobs/missing.incomplete")
    found = discover_gguf(DiscoveryRoots(huggingface=(hub,)))
    assert names(found) == ["Qwen/QwQ-32B-GGUF/Q4_K_M/qwq-32b-q4_k_m",
                            "unsloth/DeepSeek-R1-Distill-Qwen-7B-GGUF/DeepSeek-R1-Distill-Qwen-7B-Q4_K_M"]
    assert all(f.source == "huggingface" and f.size == len(GGUF) for f in found)
    assert found[1].path.name == "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf"  # the readable name, not the blob


@pytest.mark.parametrize("env,expected", [
    ({"HF_HUB_CACHE": "{t}/custom-hub"}, "{t}/custom-hub"),
    ({"HF_HOME": "{t}/hf-home"}, "{t}/hf-home/hub"),
    ({"HF_HOME": "{t}/hf-home", "HF_HUB_CACHE": "{t}/custom-hub"}, "{t}/custom-hub"),
    ({"XDG_CACHE_HOME": "{t}/xdg"}, "{t}/xdg/huggingface/hub"),
    ({}, "{t}/home/.cache/huggingface/hub"),
])
def test_huggingface_cache_location(tmp_path, env, expected):
    env = {k: v.format(t=tmp_path) for k, v in env.items()}
    roots = DiscoveryRoots.default(env=env, home=tmp_path / "home")
    assert roots.huggingface == (Path(expected.format(t=tmp_path)),)
    hf_snapshot(roots.huggingface[0], "a/b", "r", "m.gguf", "blob")
    assert names(discover_gguf(roots)) == ["a/b/m"]


def test_split_models_listed_once_with_all_parts(tmp_path):
    folder = tmp_path / "models"
    for i in (1, 2, 3):
        fake_gguf(folder / f"QwQ-32B-Q8_0-{i:05d}-of-00003.gguf", extra=10 * i)
    found = discover_gguf(DiscoveryRoots(extra=(folder,)))
    assert names(found) == ["QwQ-32B-Q8_0-00001-of-00003"]
    assert found[0].size == 3 * len(GGUF) + 60 and found[0].source == "folder"


def test_extra_folders_dedupe_and_order(tmp_path):
    lms = tmp_path / "lms"
    model = fake_gguf(lms / "pub" / "repo" / "m.gguf")
    mine = tmp_path / "mine"
    fake_gguf(mine / "deep" / "er" / "own.gguf")
    (mine / "link.gguf").symlink_to(model)  # the LM Studio file again, through a symlink
    (mine / ".hidden").mkdir()
    fake_gguf(mine / ".hidden" / "skip.gguf")
    (mine / "loop").symlink_to(mine)  # folder symlinks are not followed
    roots = DiscoveryRoots(lmstudio=(lms,), extra=(mine, tmp_path / "does-not-exist"))
    found = discover_gguf(roots)
    assert [(f.source, f.name) for f in found] == [("lmstudio", "pub/repo/m"), ("folder", "own")]


def test_everything_together_in_source_order(tmp_path):
    fake_gguf(tmp_path / "lms" / "p" / "r" / "a.gguf")
    ollama_manifest(tmp_path / "ollama", "qwq", "latest", "b" * 64)
    hf_snapshot(tmp_path / "hub", "o/n", "r", "c.gguf", "blob")
    fake_gguf(tmp_path / "extra" / "d.GGUF")
    roots = DiscoveryRoots(lmstudio=(tmp_path / "lms",), ollama=(tmp_path / "ollama",),
                           huggingface=(tmp_path / "hub",), extra=(tmp_path / "extra",))
    found = discover_gguf(roots)
    assert [(f.source, f.name) for f in found] == [("lmstudio", "p/r/a"), ("ollama", "qwq:latest"),
                                                    ("huggingface", "o/n/c"), ("folder", "d")]


def test_nothing_installed(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    roots = DiscoveryRoots(lmstudio=(tmp_path / "no",), ollama=(empty,), huggingface=(tmp_path / "none",),
                           extra=(empty,))
    assert discover_gguf(roots) == []


def test_is_gguf(tmp_path):
    assert is_gguf(fake_gguf(tmp_path / "a.gguf"))
    (tmp_path / "b.gguf").write_bytes(b"GGU")
    assert not is_gguf(tmp_path / "b.gguf")
    assert not is_gguf(tmp_path / "missing.gguf")
    assert not is_gguf(tmp_path)
