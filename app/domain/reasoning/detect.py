"""Which reasoning markers a model uses and whether its output starts inside a block.

The chat template is the best witness: it names the markers (to strip or re-insert old
reasoning) and its generation prompt may already open the block (``<think>\\n``). The
model name is the fallback when the template says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.chat_template import render_chat
from app.domain.reasoning.markers import FAMILIES, MarkerSpec, family_for_name

_PROBE = [{"role": "user", "content": "hi"}]


@dataclass(frozen=True, slots=True)
class Detection:
    """What :func:`detect_reasoning` found.

    ``source`` is "template" (markers found in the template), "name" (model name) or
    "none". ``render_error`` is set when the template could not be rendered (then
    ``forced_open`` is False).
    """

    spec: MarkerSpec | None
    forced_open: bool
    supports_thinking: bool
    enable_thinking_switch: bool
    source: str
    render_error: str | None = None


def prompt_ends_open(prompt: str, spec: MarkerSpec) -> bool:
    """True when the rendered prompt ends inside a block (last start after last end).

    Use it per turn on the real prompt (e.g. with ``enable_thinking`` set) to pick the
    parser's ``forced_open``.
    """
    start = prompt.rfind(spec.start.rstrip())
    return start != -1 and start > prompt.rfind(spec.end)


def _looks_like_closing_tag(marker: str) -> bool:
    return marker.startswith(("</", "[/", "◁/"))


def family_in_template(template: str) -> MarkerSpec | None:
    """The family whose markers the template mentions most, or None.

    A family counts when its start marker appears, or its end marker appears and looks
    like a closing tag (``</think>``: old DeepSeek-R1 templates only strip reasoning).
    Bare control-token ends like ``<|end|>`` are shared by unrelated chat formats (Phi-3)
    and do not count alone. Ties go to the earlier family in ``FAMILIES``.
    """
    best: MarkerSpec | None = None
    best_score = 0
    for spec in FAMILIES.values():
        has_start = spec.start.rstrip() in template
        has_end = spec.end in template
        if not (has_start or (has_end and _looks_like_closing_tag(spec.end))):
            continue
        score = 2 * has_end + has_start + sum(m in template for m in spec.markup)
        if score > best_score:
            best, best_score = spec, score
    return best


def detect_reasoning(template: str | None, model_name: str = "") -> Detection:
    """Detect the marker family, forced-open state and thinking switch of a model."""
    spec = family_in_template(template) if template else None
    source = "template" if spec else "none"
    if spec is None:
        spec = family_for_name(model_name) if model_name else None
        source = "name" if spec else "none"
    forced_open = False
    error = None
    if template and spec is not None:
        try:
            prompt = render_chat(template, _PROBE, add_generation_prompt=True)
        except Exception as exc:  # untrusted template code can fail in any way
            error = f"{type(exc).__name__}: {exc}"
        else:
            forced_open = prompt_ends_open(prompt, spec)
    return Detection(
        spec=spec,
        forced_open=forced_open,
        supports_thinking=spec is not None,
        enable_thinking_switch=bool(template) and "enable_thinking" in template,
        source=source,
        render_error=error,
    )
