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
