"""Inline reasoning marker families: the one table of what models write around their thinking.

Every family row of the reasoning-formats spec (``shared/spec/reasoning-formats.md``)
is here, together with the well-known model-name substrings that select a family when
a chat template does not tell us (see :func:`family_for_name`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MarkerSpec:
    """How one model family marks reasoning inline.

    ``start``/``end`` open and close a reasoning block. ``implicit_open`` says the family
    is known to omit the opener (text before a bare end marker is reasoning); the parser
    only acts on it when asked to (see ``ReasoningParser(implicit_open=...)``).
    ``markup`` are wrapper strings that are neither reasoning nor answer (emitted as
    ``MarkupText`` when they appear outside a block). ``special_tokens`` means markers
    are single control tokens and count only when the backend flags a chunk as special.

    Invariants (checked): markers are non-empty, do not start with whitespace, and no
    marker is a substring of another. The last one keeps leftmost matching independent
    of where the stream was cut.
    """

    family: str
    start: str
    end: str
    implicit_open: bool = False
    markup: tuple[str, ...] = ()
    special_tokens: bool = False

    def __post_init__(self) -> None:
        markers = self.all_markers
        for m in markers:
            if not m or m[0].isspace():
                raise ValueError(f"{self.family}: marker {m!r} is empty or starts with whitespace")
        for i, a in enumerate(markers):
            for j, b in enumerate(markers):
                if i != j and a in b:
                    raise ValueError(f"{self.family}: marker {a!r} is part of {b!r}")

    @property
    def all_markers(self) -> tuple[str, ...]:
        """Start, end and markup strings, in that order."""
        return (self.start, self.end, *self.markup)


def _spec(family: str, start: str, end: str, **kw: object) -> MarkerSpec:
    return MarkerSpec(family, start, end, **kw)  # type: ignore[arg-type]


#: Every inline family, keyed by family name.
FAMILIES: dict[str, MarkerSpec] = {
    s.family: s
    for s in (
        # DeepSeek-R1 + distills, QwQ, Qwen3, GLM-4.5, Kimi, MiniMax-M2, Granite 3.3
        _spec("think", "<think>", "</think>", implicit_open=True),
        _spec("seed", "<seed:think>", "</seed:think>"),
        _spec(
            "command-r7b",
            "<|START_THINKING|>",
            "<|END_THINKING|>",
            markup=("<|START_RESPONSE|>", "<|END_RESPONSE|>"),
        ),
        _spec("magistral", "[THINK]", "[/THINK]"),  # no start means no reasoning
        _spec(
            "gpt-oss",  # Harmony: `final` and `commentary` channels are answer text
            "<|channel|>analysis<|message|>",
            "<|end|>",
            markup=(
                "<|start|>assistant",
                "<|channel|>final<|message|>",
                "<|channel|>commentary<|message|>",
                "<|return|>",
                "<|call|>",
            ),
        ),
        _spec("gemma4", "<|channel>thought\n", "<channel|>"),  # the label is part of the marker
        _spec("hunyuan", "<think>", "</think>", markup=("<answer>", "</answer>")),
        _spec("apertus", "<|inner_prefix|>", "<|inner_suffix|>"),
        _spec("kimi-vl", "◁think▷", "◁/think▷"),
        _spec(
            "openthinker",  # also Sky-T1
            "<|begin_of_thought|>",
            "<|end_of_thought|>",
            markup=("<|begin_of_solution|>", "<|end_of_solution|>"),
        ),
        # prompted models
        _spec("thinking", "<thinking>", "</thinking>"),
        _spec("thought", "<thought>", "</thought>"),
        _spec("reason", "<reason>", "</reason>"),
        _spec("reasoning", "<reasoning>", "</reasoning>"),
    )
}

# (substring of a normalised model name, family). First match wins, so more specific
# names come before the generic ones they contain (kimi-vl before kimi).
_NAME_KEYS: tuple[tuple[str, str], ...] = (
    ("kimi-vl", "kimi-vl"),
    ("seed-oss", "seed"),
    ("command-r7b", "command-r7b"),
    ("magistral", "magistral"),
    ("gpt-oss", "gpt-oss"),
    ("gemma-4", "gemma4"),
    ("gemma4", "gemma4"),
    ("hunyuan", "hunyuan"),
    ("apertus", "apertus"),
    ("openthinker", "openthinker"),
    ("sky-t1", "openthinker"),
    ("exaone-deep", "thought"),
    ("deepseek-r1", "think"),
    ("r1-distill", "think"),
    ("deepseek-reasoner", "think"),
    ("qwq", "think"),
    ("qwen3", "think"),
    ("glm-4.5", "think"),
    ("glm-4.6", "think"),
    ("glm-z1", "think"),
    ("kimi", "think"),
    ("minimax-m2", "think"),
    ("granite-3.3", "think"),
    ("granite3.3", "think"),
    ("phi-4-reasoning", "think"),
    ("smollm3", "think"),
)


def family_for_name(model_name_or_template: str) -> MarkerSpec | None:
    """The marker family a model name (or file name, or template text) points to, if any.

    Matching is case-insensitive and treats ``_`` and spaces as ``-``
    (``DeepSeek_R1_Distill`` matches ``deepseek-r1``).
    """
    key = model_name_or_template.lower().replace("_", "-").replace(" ", "-")
    for needle, family in _NAME_KEYS:
        if needle in key:
            return FAMILIES[family]
    return None
