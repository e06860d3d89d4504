"""Local tool-call families: how each model family writes calls and wants them back.

One row per family. The facts come from the families' own chat templates (checked against
llama.cpp's ``models/templates`` copies and the Hugging Face repositories) and from the
parsers of llama.cpp, vLLM and SGLang.

``calls_in_reasoning``: the family calls tools from inside its reasoning (DeepSeek V3.1+
in thinking mode, gpt-oss), so a call seen while reasoning runs. Otherwise call syntax
inside the reasoning is only *mentioned* (Qwen3/Hermes, Qwen3-Coder, DeepSeek-R1, Mistral).

``markers`` are the structural markers, the opener first. When the opener is a single
special (control or user-defined) token of the model's vocabulary — the check the backend
already makes for reasoning markers — make the parser with ``special_markers=True``: it
then matches markers only in chunks flagged special, so a marker typed as plain text is
text. Otherwise markers are matched in the text (this works whenever special tokens are
detokenized as their text, which the backend does). ``stop_tokens`` are end-of-generation tokens that end a call: when
generation stops on one of them, feed its text (``special=True``) before ``finish()``,
or the call stays incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ToolFamily:
    """How one family writes tool calls and how its template wants them back."""

    name: str
    parser: str  # which parser implementation reads it
    markers: tuple[str, ...]
    calls_in_reasoning: bool = False
    stop_tokens: tuple[str, ...] = ()
    # Rendering the history back through the template:
    arguments_as_string: bool = False  # tool_calls[].function.arguments as a JSON string
    content_with_calls: str | None = ""  # the assistant "content" of a message with calls
    reasoning_key: str = "reasoning_content"  # where the template reads the reasoning
    one_call_per_message: bool = False  # the template renders only tool_calls[0]


_DS = ("<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>",
       "<｜tool▁calls▁end｜>")
_HARMONY = ("<|start|>", "<|channel|>", "<|constrain|>", "<|message|>", "<|end|>", "<|call|>",
            "<|return|>")

#: Every local family, keyed by name (the models.toml ``tool_format`` value).
TOOL_FAMILIES: dict[str, ToolFamily] = {
    f.name: f
    for f in (
        # Qwen2.5/Qwen3/QwQ, Hermes 2/3 and their fine-tunes: <tool_call>{json}</tool_call>
        ToolFamily("hermes", "tagged", ("<tool_call>", "</tool_call>")),
        # Qwen3-Coder, Qwen3.5: <tool_call><function=NAME><parameter=K>v</parameter>…
        ToolFamily("qwen3-coder", "tagged", ("<tool_call>", "</tool_call>")),
        # R1 and its distills, V3: function<｜tool▁sep｜>NAME + ```json fence. The R1
        # template concatenates the arguments as a string and renders a second, empty
        # assistant turn when "content" is not None.
        ToolFamily("deepseek-r1", "deepseek", _DS, arguments_as_string=True,
                   content_with_calls=None),
        # V3.1: NAME<｜tool▁sep｜>{json}; calls from inside the thinking (SGLang #9446)
        ToolFamily("deepseek-v3.1", "deepseek", _DS, calls_in_reasoning=True,
                   arguments_as_string=True),
        # V3.2: the DSML block <｜DSML｜function_calls><｜DSML｜invoke name=…>
        ToolFamily("deepseek-v3.2", "dsml", ("<｜DSML｜function_calls>", "</｜DSML｜function_calls>"),
                   calls_in_reasoning=True),
        # gpt-oss Harmony: a commentary (or analysis) message addressed to=functions.NAME
        ToolFamily("gpt-oss", "harmony", _HARMONY, calls_in_reasoning=True,
                   stop_tokens=("<|call|>",), reasoning_key="thinking", one_call_per_message=True),
        # Llama 3.1–3.3: a bare {"name", "parameters"} object, or <|python_tag|>… <|eom_id|>
        ToolFamily("llama3", "llama3", ("<|python_tag|>", "<|eom_id|>", "<|eot_id|>"),
                   stop_tokens=("<|eom_id|>", "<|eot_id|>"), one_call_per_message=True),
        # Mistral: [TOOL_CALLS] [{…}] (v3 tokenizers) or [TOOL_CALLS]NAME[ARGS]{…} (v11+)
        ToolFamily("mistral", "mistral", ("[TOOL_CALLS]", "[ARGS]", "[CALL_ID]")),
    )
}


#: Other names people use for a family (accepted as ``tool_format`` values).
ALIASES: dict[str, str] = {
    "qwen3": "hermes", "qwen2.5": "hermes", "qwq": "hermes", "qwen3.5": "qwen3-coder",
    "deepseek-v3": "deepseek-r1", "harmony": "gpt-oss", "llama3.1": "llama3", "magistral": "mistral",
}


def tool_family(name: str) -> ToolFamily:
    """The family called ``name`` (or an alias); ``ValueError`` naming the known ones otherwise."""
    try:
        return TOOL_FAMILIES[ALIASES.get(name, name)]
    except KeyError:
        known = ", ".join(sorted(TOOL_FAMILIES))
        raise ValueError(f"unknown tool-call format {name!r}; known formats: {known}") from None
