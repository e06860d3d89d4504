"""llama-cpp-python's internals are used in one module, on the versions it was checked against."""

import ast
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from app.backends import llama_adapter as adapter

ROOT = Path(__file__).parents[2]
# Private attributes of llama-cpp-python objects that Ponder needs (see the adapter's docstring).
PRIVATE = {"_model", "_ctx", "_input_ids", "_scores", "_batch", "_sampler", "_candidates", "_ponder_progress"}


def test_the_installed_version_is_one_the_adapter_was_checked_against():
    installed = adapter.installed_version()
    assert installed in SpecifierSet(adapter.CHECKED_VERSIONS), (
        f"llama-cpp-python {installed} is outside {adapter.CHECKED_VERSIONS}: check every function of "
        "app/backends/llama_adapter.py against its source, then widen CHECKED_VERSIONS and the pin in pyproject.toml")


def test_pyproject_pins_the_checked_range_with_an_upper_bound():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    req = next(Requirement(d) for d in deps if Requirement(d).name == "llama-cpp-python")
    assert req.specifier == SpecifierSet(adapter.CHECKED_VERSIONS)
    assert any(s.operator in ("<", "<=", "==", "~=") for s in req.specifier)


def private_uses(path: Path, root: Path = ROOT) -> list[str]:
    """``x._model``-style attribute reads or writes of llama-cpp-python internals, and writes to
    ``n_tokens``, in one source file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
            found.append(f"{path.relative_to(root)}:{node.lineno} .{node.attr}")
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr == "n_tokens":
                    found.append(f"{path.relative_to(root)}:{node.lineno} n_tokens =")
    return found


def test_no_module_outside_the_adapter_touches_llama_internals():
    adapter_file = ROOT / "app" / "backends" / "llama_adapter.py"
    files = [p for p in [*(ROOT / "app").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
             if p != adapter_file and p != Path(__file__)]
    uses = [use for p in files for use in private_uses(p)]
    assert uses == []


def test_the_scan_finds_a_private_use(tmp_path):
    leak = tmp_path / "leak.py"
    leak.write_text("def f(llm):\n    llm.n_tokens = 0\n    return llm._model.vocab\n")
    assert sorted(private_uses(leak, tmp_path)) == ["leak.py:2 n_tokens =", "leak.py:3 ._model"]


@pytest.mark.model
def test_a_load_can_be_abandoned(tmp_path):
    from app import paths

    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 1  # let llama.cpp start, then give up

    with pytest.raises(adapter.LoadAbandoned):
        adapter.load_llama(str(paths.bundled_model_path()), should_stop=should_stop, n_ctx=256, verbose=False)
    assert len(calls) >= 2
    # and the next load works normally (the library's defaults were put back)
    llm = adapter.load_llama(str(paths.bundled_model_path()), n_ctx=256, verbose=False)
    try:
        llm.eval(llm.tokenize(b"Hello there", add_bos=False))
        assert adapter.cached_tokens(llm) == llm.tokenize(b"Hello there", add_bos=False)
    finally:
        llm.close()


def _batch_ends(start: int, parts: list[list[int]], n_batch: int) -> list[int]:
    """Where each batch ends when ``Llama.eval`` cuts every part into ``n_batch`` pieces."""
    ends, pos = [], start
    for part in parts:
        for i in range(0, len(part), n_batch):
            pos += len(part[i:i + n_batch])
            ends.append(pos)
    return ends


@pytest.mark.parametrize("start, n", [(0, 1100), (31, 1057), (255, 2), (256, 700), (300, 784), (1100, 15),
                                      (1000, 30), (511, 513)])
def test_prompt_batches_end_on_the_kv_padding(start, n):
    from app.backends.llama_model import N_BATCH

    tokens = list(range(n))
    parts = adapter.kv_aligned(start, tokens)
    assert [t for p in parts for t in p] == tokens and all(parts)
    ends = _batch_ends(start, parts, N_BATCH)
    assert ends[-1] == start + n
    assert all(e % adapter.KV_PADDING == 0 for e in ends[:-1])  # only the last batch ends off a boundary
    assert len(parts) <= 2 and len(ends) <= -(-n // N_BATCH) + 1  # at most one batch more than one eval


def test_the_batch_size_is_a_multiple_of_the_kv_padding():
    from app.backends.llama_model import N_BATCH

    assert N_BATCH % adapter.KV_PADDING == 0
