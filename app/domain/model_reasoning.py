"""How a model reasons: its markers, whether output starts inside reasoning, budget, carry.

Explicit settings from ``models.toml`` win; what they leave open is detected from the chat
template (forced-open by rendering it with the generation prompt) or the family table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.profiles import ReasoningSettings
from app.domain.reasoning.detect import detect_reasoning
from app.domain.reasoning.markers import FAMILIES, MarkerSpec


@dataclass(frozen=True)
class ReasoningSetup:
    """The reasoning behaviour of one loaded model."""

    spec: MarkerSpec | None
    forced_open: bool = False
    budget: int = 0
    carry: str = "strip"
    # Appended to the rendered prompt when the profile forces reasoning open but the
    # template does not open the block itself (e.g. ``smollm2-think``).
    prompt_suffix: str = ""
    supports_thinking: bool = False
    enable_thinking_switch: bool = False

    @property
    def close_on_eog(self) -> bool:
        """A model that Ponder itself makes think (not trained to) may end its turn inside the
        block; its end of generation then ends the thinking instead, so an answer follows."""
        return bool(self.prompt_suffix)

    @property
    def injection_text(self) -> str:
        """What a budget cut feeds the model: the end marker and the blank line after it."""
        return (self.spec.end + "\n\n") if self.spec else ""

    def with_special_markers(self) -> "ReasoningSetup":
        return replace(self, spec=replace(self.spec, special_tokens=True)) if self.spec else self


def _spec_for_markers(start: str, end: str) -> MarkerSpec:
    for spec in FAMILIES.values() if isinstance(FAMILIES, dict) else FAMILIES:
        if spec.start == start and spec.end == end:
            return spec
    return MarkerSpec(family="custom", start=start, end=end, implicit_open=False, markup=())


def resolve_reasoning(settings: ReasoningSettings | None, template: str | None,
                      model_name: str = "") -> ReasoningSetup:
    """Combine a profile's explicit reasoning settings with what the template tells."""
    detection = detect_reasoning(template, model_name)
    spec = detection.spec
    if settings and settings.start and settings.end:
        spec = _spec_for_markers(settings.start, settings.end)
    template_opens = detection.forced_open and spec is not None and detection.spec == spec
    forced_open = template_opens
    if settings and settings.forced_open is not None:
        forced_open = settings.forced_open and spec is not None
    suffix = spec.start + "\n" if (forced_open and not template_opens and spec) else ""
    return ReasoningSetup(
        spec=spec,
        forced_open=forced_open,
        budget=settings.budget if settings else 0,
        carry=settings.carry if settings else "strip",
        prompt_suffix=suffix,
        supports_thinking=detection.supports_thinking or spec is not None,
        enable_thinking_switch=detection.enable_thinking_switch,
    )
