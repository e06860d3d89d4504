"""From the text of one complete call to its name and arguments, per format.

The streaming parsers find where a call starts and ends; these pure functions read what is
in between. They never raise: a body that cannot be read gives a ``BodyCall`` with
``error`` set to a sentence the model can act on.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from app.domain.tools.types import ToolSpec

_NAME_SNIFF = re.compile(r'"name"\s*:\s*"([^"\\]{1,200})"')
_FENCE = "```"
_LANGUAGE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class BodyCall:
    """One call read from a body; ``span`` is its (start, end) in the text read, if known."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    id: str | None = None
    span: tuple[int, int] | None = None


def load_json(text: str) -> Any:
    """``json.loads`` for untrusted text: nesting too deep for the decoder (it recurses) is
    a ``ValueError`` like any other text that is no JSON, never a ``RecursionError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("it is nested too deeply") from None


def _raw_decode(decoder: json.JSONDecoder, text: str, start: int) -> tuple[Any, int]:
    try:
        return decoder.raw_decode(text, start)
    except RecursionError:
        raise ValueError("it is nested too deeply") from None


def _json_error(what: str, exc: ValueError) -> str:
    return (f"The {what} of this tool call are not valid JSON ({exc}). "
            "Write the call again with a JSON object as arguments.")


def arguments_object(value: Any) -> tuple[dict[str, Any], str | None]:
    """Arguments as a dict: an object, a JSON string holding one, or nothing (= {})."""
    if value is None:
        return {}, None
    if isinstance(value, str):
        if not value.strip():
            return {}, None
        try:
            value = load_json(value)
        except ValueError as exc:
            return {}, _json_error("arguments", exc)
    if isinstance(value, dict):
        return value, None
    return {}, (f"The arguments of this tool call are a JSON {type(value).__name__}, not an "
                "object. Write the call again with a JSON object as arguments.")


def _strip_fence(text: str) -> str:
    """What is inside a ```` ```lang … ``` ```` fence around the whole text (else the text).

    Not a regular expression: ``^```[A-Za-z]*\\s*(.*?)\\s*```$`` backtracks cubically over a
    long run of whitespace (2,000 blank lines took minutes).
    """
    stripped = text.strip()
    if len(stripped) < 2 * len(_FENCE) or not (stripped.startswith(_FENCE) and stripped.endswith(_FENCE)):
        return text
    inner = stripped[len(_FENCE): -len(_FENCE)]
    i = 0
    while i < len(inner) and inner[i] in _LANGUAGE:
        i += 1
    return inner[i:].strip()


def call_from_object(obj: Any, raw_text: str = "") -> BodyCall:
    """A ``{"name": …, "arguments"|"parameters": …}`` object (Hermes, Mistral, Llama)."""
    if not isinstance(obj, dict):
        return BodyCall(_sniff_name(raw_text), error=(
            "This tool call is not a JSON object with \"name\" and \"arguments\". Write it "
            "again in the format the system prompt shows."))
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        return BodyCall("", error="This tool call has no \"name\". Write it again with the "
                                  "name of the tool to call.")
    args = obj.get("arguments", obj.get("parameters"))
    arguments, error = arguments_object(args)
    call_id = obj.get("id")
    return BodyCall(name, arguments, error, call_id if isinstance(call_id, str) else None)


def _sniff_name(text: str) -> str:
    m = _NAME_SNIFF.search(text[:2000])
    return m.group(1) if m else ""


def json_call(text: str) -> BodyCall:
    """A Hermes/Qwen3 body: one JSON object, possibly inside a code fence."""
    body = _strip_fence(text).strip()
    try:
        obj = load_json(body)
    except ValueError as exc:
        return BodyCall(_sniff_name(body), error=_json_error("contents", exc))
    return call_from_object(obj, body)


# Names stop at "<", and a DSML element's text at the next element of its kind: with an
# unclosed "<function=" (or DSML invoke) written over and over, each try of the pattern would
# otherwise scan to the end of the body (quadratic in its length).
_XML_FUNCTION = re.compile(r"<function=([^>\n<]+)>(.*?)(?:</function>|\Z)", re.S)
_XML_PARAMETER = re.compile(r"<parameter=([^>\n<]+)>(.*?)(?:</parameter>|(?=<parameter=)|\Z)", re.S)


def _trim_one_newline(value: str) -> str:
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value


def coerce_parameter(value: str, schema: Mapping[str, Any] | None) -> Any:
    """An XML parameter's text as the type its schema declares (kept as text on failure).

    Qwen3-Coder writes every value as bare text; its own parser converts by the tool's
    schema. Values that do not convert stay strings, so validation can say what is wrong.
    """
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    text = value.strip()
    if kind in (None, "string"):
        return value
    if text == "null":
        return None
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = load_json(text)
            return number if isinstance(number, (int, float)) and not isinstance(number, bool) else value
        if kind == "boolean":
            return {"true": True, "false": False}.get(text.lower(), value)
        if kind in ("object", "array"):
            decoded = load_json(text)
            wanted = dict if kind == "object" else list
            return decoded if isinstance(decoded, wanted) else value
    except ValueError:
        return value
    return value


def _schema_property(spec: ToolSpec | None, key: str) -> Mapping[str, Any] | None:
    if spec is None:
        return None
    props = spec.parameters.get("properties") if isinstance(spec.parameters, dict) else None
    prop = props.get(key) if isinstance(props, dict) else None
    return prop if isinstance(prop, Mapping) else None


def xml_call(text: str, tools: Mapping[str, ToolSpec] | None = None) -> BodyCall:
    """A Qwen3-Coder body: ``<function=NAME><parameter=K>value</parameter>…</function>``."""
    m = _XML_FUNCTION.search(text)
    if m is None:
        return BodyCall("", error="This tool call has no <function=NAME> element. Write it "
                                  "again in the format the system prompt shows.")
    name = m.group(1).strip()
    spec = (tools or {}).get(name)
    arguments: dict[str, Any] = {}
    for p in _XML_PARAMETER.finditer(m.group(2)):
        key = p.group(1).strip()
        arguments[key] = coerce_parameter(_trim_one_newline(p.group(2)), _schema_property(spec, key))
    return BodyCall(name, arguments)


def tagged_call(text: str, tools: Mapping[str, ToolSpec] | None = None) -> BodyCall:
    """What is between ``<tool_call>`` and ``</tool_call>``: JSON (Hermes) or XML (Qwen3-Coder)."""
    if text.lstrip().startswith("<"):
        return xml_call(text, tools)
    return json_call(text)


def deepseek_call(body: str, sep: str = "<｜tool▁sep｜>") -> BodyCall:
    """Between ``<｜tool▁call▁begin｜>`` and ``<｜tool▁call▁end｜>``, both generations.

    R1/V3: ``function<｜tool▁sep｜>NAME\\n```json\\n{…}\\n```". V3.1+: ``NAME<｜tool▁sep｜>{…}``.
    """
    left, found, right = body.partition(sep)
    if not found:
        return BodyCall("", error="This tool call has no <｜tool▁sep｜> between the name and "
                                  "the arguments. Write it again in the format the system prompt shows.")
    head = left.strip()
    if head in ("function", "") and "\n" in right.lstrip(" "):
        name, _, args = right.partition("\n")
    else:
        name, args = head, right
    name = name.strip()
    arguments, error = arguments_object(_strip_fence(args) if args.strip() else "{}")
    if not name:
        return BodyCall("", arguments, error or "This tool call has no name. Write it again with "
                                                "the name of the tool to call.")
    return BodyCall(name, arguments, error)


_DSML = "｜DSML｜"
_DSML_INVOKE = re.compile(
    rf'<{_DSML}invoke\s+name="([^"<]*)"\s*>((?:(?!<{_DSML}invoke\s).)*?)</{_DSML}invoke>', re.S)
_DSML_PARAM = re.compile(
    rf'<{_DSML}parameter\s+name="([^"<]*)"(?:\s+string="(true|false)")?\s*>'
    rf'((?:(?!<{_DSML}parameter\s).)*?)</{_DSML}parameter>', re.S)


def dsml_calls(body: str) -> list[BodyCall]:
    """DeepSeek V3.2's ``<｜DSML｜invoke name="…">`` elements, each with its span in ``body``."""
    calls = []
    for inv in _DSML_INVOKE.finditer(body):
        arguments: dict[str, Any] = {}
        for p in _DSML_PARAM.finditer(inv.group(2)):
            value: Any = p.group(3)
            if p.group(2) == "false":
                try:
                    value = load_json(value)
                except ValueError:
                    pass  # kept as text: validation reports the wrong type to the model
            arguments[p.group(1)] = value
        calls.append(BodyCall(inv.group(1).strip(), arguments, span=inv.span()))
    return calls


def harmony_call(name: str, body: str) -> BodyCall:
    """A Harmony message body: JSON arguments; the builtin ``python`` recipient takes code."""
    stripped = body.strip()
    if name == "python" and not stripped.startswith("{"):
        return BodyCall(name, {"code": body})
    arguments, error = arguments_object(stripped or "{}")
    return BodyCall(name, arguments, error)


def python_tag_call(body: str) -> BodyCall:
    """What follows Llama's ``<|python_tag|>``: JSON, ``tool.call(k=v, …)`` or plain code."""
    text = body.strip()
    if text.startswith("{"):
        try:
            return call_from_object(load_json(text), text)
        except ValueError:
            pass  # not JSON after all: code
    builtin = _builtin_call(text)
    if builtin is not None:
        return builtin
    return BodyCall("python", {"code": body})


def _builtin_call(text: str) -> BodyCall | None:
    """``brave_search.call(query="…")`` (Llama 3.1's builtin tools), or None."""
    if ".call(" not in text[:200]:
        return None
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "call" and isinstance(node.func.value, ast.Name) and not node.args):
        return None
    arguments: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            return None
        try:
            arguments[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
    return BodyCall(node.func.value.id, arguments)


def json_value_calls(text: str) -> list[BodyCall]:
    """Mistral's ``[{…}, {…}]`` (or one ``{…}``): each element a call with its span."""
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    try:
        value, end = _raw_decode(decoder, text, start)
    except ValueError as exc:
        return [BodyCall(_sniff_name(text), error=_json_error("contents", exc), span=(0, len(text)))]
    if isinstance(value, dict):
        return [replace(call_from_object(value, text), span=(start, end))]
    if not isinstance(value, list):
        return [BodyCall("", error="These tool calls are not a JSON list of objects. Write them "
                                   "again in the format the system prompt shows.", span=(0, len(text)))]
    calls = []
    i = start + 1  # past "["
    for element in value:
        while text[i] in " \t\r\n,":
            i += 1
        _, j = _raw_decode(decoder, text, i)
        calls.append(replace(call_from_object(element, text[i:j]), span=(i, j)))
        i = j
    return calls
