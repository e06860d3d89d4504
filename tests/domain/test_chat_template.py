"""Sandboxed rendering of GGUF chat templates (app.domain.chat_template)."""

from __future__ import annotations

from datetime import datetime

import pytest
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError

from app.domain.chat_template import render_chat

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
MESSAGES = [{"role": "user", "content": "hi"}]


def test_chatml_with_and_without_generation_prompt():
    assert render_chat(CHATML, MESSAGES) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert render_chat(CHATML, MESSAGES, add_generation_prompt=False) == "<|im_start|>user\nhi<|im_end|>\n"


def test_bos_eos_and_extra_variables():
    tpl = "{{ bos_token }}{% if enable_thinking is defined and not enable_thinking %}off{% else %}on{% endif %}{{ eos_token }}"
    assert render_chat(tpl, [], bos_token="<s>", eos_token="</s>") == "<s>on</s>"
    assert render_chat(tpl, [], enable_thinking=False) == "off"


def test_trim_blocks_and_lstrip_blocks():
    tpl = "A\n  {% if true %}\nB\n  {% endif %}\nC"
    assert render_chat(tpl, []) == "A\nB\nC"


def test_tojson_like_transformers():
    tpl = "{{ x | tojson }}|{{ x | tojson(indent=2) }}|{{ y | tojson(sort_keys=true) }}"
    out = render_chat(tpl, [], x={"t": "<think>é"}, y={"b": 1, "a": 2})
    assert out == '{"t": "<think>é"}|{\n  "t": "<think>é"\n}|{"a": 2, "b": 1}'


def test_raise_exception():
    tpl = "{% if messages[0]['role'] != 'system' %}{{ raise_exception('System first') }}{% endif %}"
    with pytest.raises(TemplateError, match="System first"):
        render_chat(tpl, MESSAGES)


def test_strftime_now():
    assert render_chat("{{ strftime_now('%Y') }}", []) == str(datetime.now().year)


def test_sandbox_blocks_mutation_and_dunder_access():
    with pytest.raises(SecurityError):
        render_chat("{% set x = [] %}{{ x.append(1) }}", [])
    with pytest.raises(SecurityError):
        render_chat("{{ ''.__class__.__mro__[1].__subclasses__() }}", [])


def test_generation_tag_and_loop_controls():
    tpl = (
        "{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}"
        "{% generation %}[{{ m.content }}]{% endgeneration %}{% endfor %}"
    )
    msgs = [{"role": "user", "content": c} for c in "abc"]
    assert render_chat(tpl, msgs) == "[a][b]"


def test_syntax_error_is_a_template_error():
    with pytest.raises(TemplateSyntaxError):
        render_chat("{% if %}", [])


def test_a_looping_template_is_stopped_by_its_time_limit():
    from app.domain.chat_template import TemplateTooSlow

    looping = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}done"
    t0 = __import__("time").monotonic()
    with pytest.raises(TemplateTooSlow, match="did not finish rendering"):
        render_chat(looping, MESSAGES, time_limit_s=0.2)
    assert __import__("time").monotonic() - t0 < 5


def test_rendering_stops_when_asked():
    from app.domain.chat_template import RenderStopped

    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(RenderStopped):
        render_chat("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", MESSAGES,
                    should_stop=should_stop)


@pytest.mark.parametrize("template", [
    "{{ 'x' * 100000000 }}",
    "{% for m in messages * 10000000 %}{% endfor %}",
    "{{ 10 ** 100000 }}",
    "{{ range(10000000) | length }}",
])
def test_enormous_values_are_refused(template):
    with pytest.raises(TemplateError):
        render_chat(template, MESSAGES)


def test_recursion_without_end_is_a_template_error():
    with pytest.raises(TemplateError, match="recurses"):
        render_chat("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", MESSAGES)


def test_range_still_works_as_templates_use_it():
    tpl = ("{% for i in range(3) %}{{ i }}{% endfor %}|{{ range(5)|length }}|{{ range(10)[2] }}|"
           "{% for i in range(messages|length - 1, -1, -1) %}{{ i }}{% endfor %}|{{ range(4)|reverse|join(',') }}|"
           "{{ 3 in range(5) }}|{{ 2 ** 10 }}|{{ 'ab' * 3 }}")
    assert render_chat(tpl, MESSAGES * 3) == "012|5|2|210|3,2,1,0|True|1024|ababab"
