"""Tools for templates that do not render them: a system text that shows the schemas and the
call format the family's parser reads.

Most tool-capable templates put ``tools`` into the prompt themselves (Qwen3, gpt-oss, Llama
3.1, Mistral). Some do not (DeepSeek-R1 and V3.1 templates; small instruct models such as
SmolLM2): for those Ponder adds this text to the system message, so the model knows its
tools and how to call them — and the tokens it costs are counted like any schema.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from app.domain.tools.chat_format import tools_json
from app.domain.tools.types import ToolSpec

CALL_FORMATS = {
    "hermes": '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>',
    "qwen3-coder": ("<tool_call>\n<function=NAME>\n<parameter=KEY>\nvalue\n</parameter>\n</function>\n"
                    "</tool_call>"),
    "deepseek-r1": ("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n"
                    "{arguments}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"),
    "deepseek-v3.1": "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{arguments}<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    "llama3": '{"name": <function-name>, "parameters": <args-json-object>}',
    "mistral": '[TOOL_CALLS][{"name": <function-name>, "arguments": <args-json-object>}]',
}


def tools_system_text(specs: Iterable[ToolSpec], family: str | None) -> str:
    """The text that offers ``specs`` in the family's call format (Hermes when unknown)."""
    schemas = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools_json(specs))
    form = CALL_FORMATS.get(family or "hermes", CALL_FORMATS["hermes"])
    return ("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
            f"{schemas}\n</tools>\n\nFor each function call, write exactly:\n{form}")


def with_tools_system(messages: list[Mapping[str, Any]], specs: Iterable[ToolSpec],
                      family: str | None) -> list[dict]:
    """``messages`` with the tools text added to the system message (a new one if none)."""
    text = tools_system_text(specs, family)
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0].get('content') or ''}\n\n{text}".lstrip()
    else:
        out.insert(0, {"role": "system", "content": text})
    return out
