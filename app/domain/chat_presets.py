"""Chat templates for GGUFs that carry none (or a broken one): presets and how one is picked.

The presets are Jinja files in ``resources/chat_templates/`` written after the models' own
templates (the same turn markers and generation prompts, without tool calling), rendered by
:func:`app.domain.chat_template.render_chat` like any template from a file, so prompt
accounting stays exact.

:func:`resolve_chat_template` decides which template a model uses:

1. ``chat_template`` in models.toml (a preset name, or the path of a ``.jinja`` file) wins,
   also over the file's own template;
2. else the file's template, if it renders a one-message chat;
3. else a preset picked from the file's architecture (``gemma3`` → gemma, ``qwen2`` →
   chatml, ...) or, for architectures shared by several chat formats (``llama``), from
   the chat markers its vocabulary holds (``<|start_header_id|>`` → llama3, ...).

The note it returns says what was done, for the model manager ("no template in the file;
using gemma by architecture"); it is empty when the file's own template is used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app import paths
from app.domain.chat_template import render_chat
from app.errors import ModelFileError

#: Preset names, in the order the profile editor lists them.
PRESETS = ("chatml", "qwen3", "qwq", "deepseek-r1", "deepseek", "gemma", "llama3", "llama2", "mistral", "phi3",
           "gpt-oss")

#: Architectures (general.architecture) whose chat format is known from the name alone.
ARCHITECTURE_PRESETS = {
    "gemma": "gemma", "gemma2": "gemma", "gemma3": "gemma", "gemma3n": "gemma",
    "qwen": "chatml", "qwen2": "chatml", "qwen2moe": "chatml", "qwen3": "chatml", "qwen3moe": "chatml",
    "phi3": "phi3", "deepseek2": "deepseek", "gpt-oss": "gpt-oss",
}

#: Chat markers in a vocabulary, most specific first, and the format they belong to.
VOCABULARY_PRESETS = (
    ("<|start_header_id|>", "llama3"),
    ("<|im_start|>", "chatml"),
    ("<start_of_turn>", "gemma"),
    ("<｜Assistant｜>", "deepseek"),
    ("<|channel|>", "gpt-oss"),
    ("[INST]", "mistral"),
    ("<|assistant|>", "phi3"),
)

#: What the vocabulary probe looks for (GgufInfo records which of these a file has).
VOCABULARY_MARKERS = tuple(marker for marker, _ in VOCABULARY_PRESETS)

_PROBE = [{"role": "user", "content": "hi"}]


def presets_dir() -> Path:
    """The folder of the preset ``.jinja`` files."""
    return paths.resources_dir() / "chat_templates"


def preset_text(name: str) -> str:
    """The Jinja text of the preset ``name``."""
    if name not in PRESETS:
        raise ModelFileError(f'"{name}" is not a chat template preset; use one of: {", ".join(PRESETS)}, '
                             "or the path of a .jinja file.")
    return (presets_dir() / f"{name}.jinja").read_text(encoding="utf-8")


def is_template_path(setting: str) -> bool:
    """True when a ``chat_template`` value names a file rather than a preset."""
    return setting.lower().endswith(".jinja")


def _read_template_file(setting: str) -> str:
    path = Path(setting).expanduser()
    if not path.is_absolute():
        path = paths.config_dir() / path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileError(f"The chat template file {path} does not exist. Check \"chat_template\" in "
                             "models.toml, or pick a preset there.", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"The chat template file {path} cannot be read ({exc}); save it as UTF-8 text "
                             "or pick a preset in models.toml.", path=path) from exc


PROBE_TIME_LIMIT_S = 2.0  # a template that cannot render one message in this time loops


def render_problem(template: str) -> str | None:
    """Why ``template`` cannot render a one-message chat, or None when it can."""
    try:
        render_chat(template, list(_PROBE), add_generation_prompt=True, time_limit_s=PROBE_TIME_LIMIT_S)
    except Exception as exc:  # untrusted template code can fail in any way
        return f"{type(exc).__name__}: {exc}"
    return None


def guess_preset(architecture: str, vocab_contains: Callable[[str], bool]) -> tuple[str, str]:
    """(preset, why) for a file without a usable template: by architecture, else vocabulary."""
    arch = (architecture or "").lower()
    if arch in ARCHITECTURE_PRESETS:
        return ARCHITECTURE_PRESETS[arch], "by architecture"
    for marker, preset in VOCABULARY_PRESETS:
        if vocab_contains(marker):
            return preset, f"({arch or 'unknown'} architecture, {marker} in the vocabulary)"
    if arch == "llama":
        return "llama2", "by architecture"
    return "chatml", f"(nothing in the file tells the format of {arch or 'this'} architecture; ChatML is the most common)"


def resolve_chat_template(setting: str | None, gguf_template: str | None, architecture: str,
                          vocab_contains: Callable[[str], bool]) -> tuple[str, str]:
    """(template text, note): the template a model is run with, and what the note says about it."""
    if setting:
        if is_template_path(setting):
            return _read_template_file(setting), f"using the chat template file {setting} set in models.toml"
        return preset_text(setting), f"using the {setting} preset set in models.toml"
    problem = render_problem(gguf_template) if gguf_template else None
    if gguf_template and problem is None:
        return gguf_template, ""
    preset, why = guess_preset(architecture, vocab_contains)
    if gguf_template:
        short = problem if len(problem or "") <= 80 else (problem or "")[:79] + "…"
        return preset_text(preset), f"the file's chat template does not work ({short}); using {preset} {why}"
    return preset_text(preset), f"no template in the file; using {preset} {why}"
