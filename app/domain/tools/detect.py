"""Which tool-call family a model uses: from its chat template, else its name.

The template is the best witness: it renders earlier calls in the model's own syntax.
The checks follow llama.cpp's format detection (``common/chat.cpp``), most specific first.
A ``tool_format`` setting (models.toml) overrides what is detected.
"""

from __future__ import annotations

from app.domain.tools.families import ALIASES, TOOL_FAMILIES

# (needles that must all be in the template, family). First match wins.
_TEMPLATE_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("｜DSML｜",), "deepseek-v3.2"),
    (("<｜tool▁calls▁begin｜>", "```json"), "deepseek-r1"),  # function<｜tool▁sep｜>NAME + fence
    (("<｜tool▁calls▁begin｜>",), "deepseek-v3.1"),  # NAME<｜tool▁sep｜>ARGS
    (("<|channel|>", "to=functions"), "gpt-oss"),
    (("<|channel|>", "<|call|>"), "gpt-oss"),
    (("<tool_call>", "<function="), "qwen3-coder"),
    (("<tool_call>",), "hermes"),
    (("[TOOL_CALLS]",), "mistral"),
    (("<|python_tag|>",), "llama3"),
    (("<|start_header_id|>ipython<|end_header_id|>",), "llama3"),
)

# (substring of a normalised model name, family); more specific names first.
_NAME_KEYS: tuple[tuple[str, str], ...] = (
    ("qwen3-coder", "qwen3-coder"),
    ("qwen3.5", "qwen3-coder"),
    ("qwen3-5", "qwen3-coder"),
    ("deepseek-v3.2", "deepseek-v3.2"),
    ("deepseek-v3-2", "deepseek-v3.2"),
    ("deepseek-v3.1", "deepseek-v3.1"),
    ("deepseek-v3-1", "deepseek-v3.1"),
    ("deepseek-r1", "deepseek-r1"),
    ("r1-distill", "deepseek-r1"),
    ("deepseek-v3", "deepseek-r1"),
    ("gpt-oss", "gpt-oss"),
    ("qwq", "hermes"),
    ("qwen", "hermes"),
    ("hermes", "hermes"),
    ("llama-3", "llama3"),
    ("llama3", "llama3"),
    ("magistral", "mistral"),
    ("ministral", "mistral"),
    ("devstral", "mistral"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
)

#: ``tool_format`` values that mean "do not parse tool calls".
NO_FORMAT = ("none", "off")


def detect_tool_family(template: str | None, name: str = "") -> str | None:
    """The family the template (or, failing that, the model name) points to, or None."""
    if template:
        for needles, family in _TEMPLATE_KEYS:
            if all(n in template for n in needles):
                return family
    key = name.lower().replace("_", "-").replace(" ", "-")
    for needle, family in _NAME_KEYS:
        if needle in key:
            return family
    return None


def resolve_tool_family(template: str | None, name: str = "", setting: str | None = None) -> str | None:
    """The family to parse with: the ``tool_format`` setting if given, else detection.

    ``setting`` is a family name, ``"auto"``/None (detect) or ``"none"``/``"off"``;
    anything else is a ``ValueError`` that names the allowed values.
    """
    if setting is None or setting == "auto":
        return detect_tool_family(template, name)
    if setting in NO_FORMAT:
        return None
    name = ALIASES.get(setting, setting)
    if name not in TOOL_FAMILIES:
        allowed = ", ".join(["auto", *sorted(TOOL_FAMILIES), *NO_FORMAT])
        raise ValueError(f"unknown tool_format {setting!r}; use one of: {allowed}")
    return name
