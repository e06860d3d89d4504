"""Reading one complete call body per format."""

from __future__ import annotations

import pytest

from app.domain.tools.call_bodies import (
    arguments_object,
    coerce_parameter,
    deepseek_call,
    dsml_calls,
    harmony_call,
    json_call,
    json_value_calls,
    load_json,
    python_tag_call,
)

# deeper than the JSON decoder can recurse (it raised RecursionError out of the parsers)
DEEP = "[" * 100_000 + "]" * 100_000
D = "｜DSML｜"


@pytest.mark.parametrize("value, expected, error", [
    (None, {}, False), ("", {}, False), ({"a": 1}, {"a": 1}, False), ('{"a": 1}', {"a": 1}, False),
    ("[1]", {}, True), (3, {}, True), ("{bad", {}, True),
])
def test_arguments_object(value, expected, error):
    arguments, err = arguments_object(value)
    assert arguments == expected and bool(err) == error


@pytest.mark.parametrize("text, schema, value", [
    ("5", {"type": "integer"}, 5), ("5.5", {"type": "number"}, 5.5), ("5", {"type": "number"}, 5),
    ("True", {"type": "boolean"}, True), ("false", {"type": "boolean"}, False),
    ("[1, 2]", {"type": "array"}, [1, 2]), ('{"a": 1}', {"type": "object"}, {"a": 1}),
    ("null", {"type": ["integer", "null"]}, None), ("7", {"type": ["null", "integer"]}, 7),
    (" keep spaces ", {"type": "string"}, " keep spaces "), ("5", None, "5"), ("x", {"type": "integer"}, "x"),
    ("[1]", {"type": "object"}, "[1]"), ("true", {"type": "number"}, "true"),
])
def test_coerce_parameter(text, schema, value):
    assert coerce_parameter(text, schema) == value


def test_deepseek_bodies():
    assert deepseek_call('function<｜tool▁sep｜>f\n```json\n{"a": 1}\n```') .arguments == {"a": 1}
    v31 = deepseek_call('f<｜tool▁sep｜>{"a": 1}')
    assert (v31.name, v31.arguments) == ("f", {"a": 1})
    assert deepseek_call("f<｜tool▁sep｜>").arguments == {}


def test_harmony_bodies():
    assert harmony_call("f", ' {"a": 1} ').arguments == {"a": 1}
    assert harmony_call("f", "").arguments == {}
    assert harmony_call("python", "print(1)").arguments == {"code": "print(1)"}
    assert "not valid JSON" in harmony_call("f", "print(1)").error


def test_python_tag_bodies():
    assert python_tag_call('x.call(a=[1, 2], b={"c": None})').arguments == {"a": [1, 2], "b": {"c": None}}
    # anything that is not literal keyword arguments is code
    assert python_tag_call("x.call(a=f())").name == "python"
    assert python_tag_call("x.call(1)").name == "python"
    assert python_tag_call("x.y.call(a=1)").name == "python"
    assert python_tag_call("{not json").arguments == {"code": "{not json"}


def test_json_value_calls_spans():
    text = ' [ {"name": "a", "arguments": {}} ,{"name": "b"}]'
    calls = json_value_calls(text)
    assert [text[slice(*c.span)] for c in calls] == ['{"name": "a", "arguments": {}}', '{"name": "b"}']
    (bad,) = json_value_calls('"just a string"')
    assert "JSON list" in bad.error
    (odd,) = json_value_calls("[1]")
    assert "not a JSON object" in odd.error


@pytest.mark.parametrize("read, error", [
    (lambda: arguments_object(DEEP)[1], "nested too deeply"),
    (lambda: json_call('{"name": "f", "arguments": ' + DEEP + "}").error, "nested too deeply"),
    (lambda: deepseek_call("f<｜tool▁sep｜>" + DEEP).error, "nested too deeply"),
    (lambda: harmony_call("f", DEEP).error, "nested too deeply"),
    (lambda: json_value_calls(DEEP)[0].error, "nested too deeply"),
    (lambda: json_value_calls("[" + DEEP + "]")[0].error, "nested too deeply"),
])
def test_json_nested_too_deeply_is_a_call_error_not_a_crash(read, error):
    assert error in read()


@pytest.mark.parametrize("read, value", [
    (lambda: coerce_parameter(DEEP, {"type": "array"}), DEEP),  # kept as text
    (lambda: dsml_calls(f'<｜DSML｜invoke name="f"><｜DSML｜parameter name="a" string="false">{DEEP}'
                        "</｜DSML｜parameter></｜DSML｜invoke>")[0].arguments["a"], DEEP),
    (lambda: python_tag_call('{"a": ' + DEEP + "}").arguments["code"], '{"a": ' + DEEP + "}"),  # code
])
def test_json_nested_too_deeply_stays_text(read, value):
    assert read() == value


def test_load_json_raises_only_value_errors():
    assert load_json("[[1]]") == [[1]]
    with pytest.raises(ValueError, match="nested too deeply"):
        load_json(DEEP)
    with pytest.raises(ValueError):
        load_json("[")


@pytest.mark.parametrize("body, arguments", [
    ('```json\n{"name": "f", "arguments": {"a": 1}}\n```', {"a": 1}),
    ('  ```\n\n {"name": "f", "arguments": {"a": 2}} \n\n```  ', {"a": 2}),
    ('```{"name": "f", "arguments": {"a": 3}}```', {"a": 3}),
    ('```JSON\t{"name": "f", "arguments": {"a": "```"}}\n```', {"a": "```"}),
])
def test_a_fenced_json_body(body, arguments):
    call = json_call(body)
    assert (call.name, call.arguments, call.error) == ("f", arguments, None)


@pytest.mark.parametrize("body", ["```json", "`````", "```json\n" + "\n" * 50 + "x", "``````"])
def test_a_fence_that_is_no_fence_around_json_is_an_error(body):
    assert "not valid JSON" in json_call(body).error


def test_an_unclosed_dsml_invoke_is_no_part_of_the_next_one():
    body = (f'<{D}invoke name="lost"><{D}parameter name="a" string="true">1</{D}parameter>'
            f'<{D}invoke name="f"><{D}parameter name="b" string="true">2</{D}parameter></{D}invoke>')
    (call,) = dsml_calls(body)
    assert (call.name, call.arguments) == ("f", {"b": "2"})
