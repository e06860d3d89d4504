"""Reasoning traces: marker families, the inline parser, field adapters and detection."""

from app.domain.reasoning.detect import Detection, detect_reasoning, prompt_ends_open
from app.domain.reasoning.fields import FieldReasoningAdapter, mirrored
from app.domain.reasoning.markers import FAMILIES, MarkerSpec, family_for_name
from app.domain.reasoning.parser import (
    ParserEvent,
    PassThroughParser,
    ReasoningParser,
    display_trim,
    is_blank_reasoning,
    make_parser,
)

__all__ = [
    "FAMILIES",
    "Detection",
    "FieldReasoningAdapter",
    "MarkerSpec",
    "ParserEvent",
    "PassThroughParser",
    "ReasoningParser",
    "detect_reasoning",
    "display_trim",
    "family_for_name",
    "is_blank_reasoning",
    "make_parser",
    "mirrored",
    "prompt_ends_open",
]
