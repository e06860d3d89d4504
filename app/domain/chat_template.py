"""Render a model's Jinja chat template the way Hugging Face ``transformers`` does.

GGUF files carry the template in ``tokenizer.chat_template``. It is untrusted text, so it
runs in Jinja's immutable sandbox with the globals and filters that real templates
expect (``raise_exception``, ``strftime_now``, an HF-compatible ``tojson``, the
``loopcontrols`` extension and a no-op ``{% generation %}`` tag). Rendering the real
prompt is how Ponder learns whether the output starts inside a reasoning block and what
earlier reasoning costs in the next prompt.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Template, nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    # Like transformers: no HTML escaping (Jinja's built-in tojson turns "<" into \u003c).
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


class _GenerationTag(Extension):
    """``{% generation %}…{% endgeneration %}`` (HF assistant masks): renders its body."""

    tags = {"generation"}

    def parse(self, parser: Any) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.loopcontrols", _GenerationTag],
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


_ENV = _environment()


@lru_cache(maxsize=16)
def _compile(template: str) -> Template:
    return _ENV.from_string(template)


def render_chat(
    template: str,
    messages: list[dict[str, Any]],
    *,
    add_generation_prompt: bool = True,
    bos_token: str = "",
    eos_token: str = "",
    **extra: Any,
) -> str:
    """The prompt text the template produces for ``messages``.

    ``extra`` becomes template variables (``enable_thinking=False``, ``tools=[...]``,
    ``reasoning_effort="low"``...). Raises ``jinja2.TemplateError`` (including
    ``TemplateSyntaxError``, ``SecurityError`` and ``raise_exception()`` calls).
    """
    return _compile(template).render(
        messages=messages,
        add_generation_prompt=add_generation_prompt,
        bos_token=bos_token,
        eos_token=eos_token,
        **extra,
    )
