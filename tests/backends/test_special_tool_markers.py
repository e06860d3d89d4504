"""Tool-call markers that are special tokens: a GGUF written by the test in which <tool_call> and
</tool_call> (and the think markers) are control tokens. The real call is executed; the same
characters typed as text inside the reasoning are not a call."""

import asyncio
import json

import pytest

from app import paths
from app.backends.llama_backend import LlamaBackend
from app.controllers.toolbox import ToolBox
from app.controllers.turn_runner import TurnRunner, drive_turn
from app.domain import events as ev
from app.domain.conversation import Conversation
from app.domain.messages import AssistantMessage
from app.domain.profiles import ReasoningSettings
from app.domain.tools.calculator import CALCULATOR_SPEC
from app.domain.turn_control import TurnControl
from app.domain.turn_request import build_request
from dataclasses import replace
from helpers.models import profile
from helpers.special_gguf import TOOL_RENAMES, write_think_gguf

pytestmark = pytest.mark.model

TYPED = '<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}}</tool_call>'
ARGS = '{"name": "calculator", "arguments": {"expression": "6*7"}}'


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    dst = tmp_path_factory.mktemp("gguf") / "smollm2-tools-tokens.gguf"
    ids = write_think_gguf(paths.bundled_model_path(), dst, TOOL_RENAMES)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.HOME_ENV, str(tmp_path_factory.mktemp("ponder-home")))
        prof = profile(path=str(dst), tool_format="hermes", temperature=0.0,
                       reasoning=ReasoningSettings(start="<think>", end="</think>", forced_open=False, budget=0))
    backend = LlamaBackend(prof)
    backend.load()
    yield backend, ids
    backend.close()


def grammar(backend, ids) -> str:
    """<think>, the typed look-alike as plain tokens, </think>, then a real call: special tokens."""
    plain = " ".join(f"<[{t}]>" for t in backend.llm.tokenize(TYPED.encode(), add_bos=False, special=False))
    return (f'root ::= <[{ids["<think>"]}]> " I could write " {plain} " but I call it." <[{ids["</think>"]}]> '
            f'<[{ids["<tool_call>"]}]> {json.dumps(ARGS)} <[{ids["</tool_call>"]}]>')


def test_only_the_special_token_call_runs(model):
    backend, ids = model
    assert backend.tool_markers_special  # detected: the markers are single control tokens
    conv = Conversation()
    conv.add_user("What is 6 times 7?")
    request = replace(build_request(conv.messages, backend.profile, max_tokens=80), tools=(CALCULATOR_SPEC,),
                      grammar=grammar(backend, ids))
    events = []
    asyncio.run(drive_turn(TurnRunner.on(backend, tools=ToolBox.builtin(("calculator",))), request, TurnControl(),
                           events.extend))
    msg = AssistantMessage()
    for event in events:
        msg.apply(event)
    parsed = [e.call for e in events if type(e) is ev.ToolCallParsed]
    assert [c.arguments for c in parsed] == [{"expression": "6*7"}]  # never the typed 1+1
    assert TYPED in msg.reasoning  # the look-alike stayed reasoning text
    assert msg.tool_calls[0].result.text.startswith("42")
