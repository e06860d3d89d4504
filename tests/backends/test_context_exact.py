"""The context gauge is exact for local models: three turns with reasoning, each carry policy.

After every turn the gauge's "used" equals the tokens in llama.cpp's context, and the carried
reasoning segment equals the difference of two renders made independently here (llama-cpp-
python's own Jinja chat formatter, not Ponder's renderer).
"""

from dataclasses import replace

import pytest
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from app.domain.context_budget import ContextUsage
from app.domain.turn_control import TurnControl
from app.domain.conversation import Conversation, chat_messages
from app.domain.turn_request import build_request

pytestmark = pytest.mark.model

QUESTIONS = ["What is 2 plus 3?", "And times 4?", "Now subtract 6."]




def independent_count(backend, messages) -> int:
    fmt = Jinja2ChatFormatter(template=backend.template, eos_token=backend.model.eos_text, bos_token=backend.model.bos_text)
    prompt = fmt(messages=list(messages)).prompt + backend.setup.prompt_suffix
    return len(backend.llm.tokenize(prompt.encode(), add_bos=False, special=True))


@pytest.mark.parametrize("carry", ["strip", "keep-last", "keep-all"])
def test_three_turns_exact(thinker, carry):
    backend = thinker
    prof = replace(backend.profile, reasoning=replace(backend.profile.reasoning, carry=carry))
    backend.profile = prof
    conv = Conversation()
    for turn, question in enumerate(QUESTIONS):
        conv.add_user(question)
        request = build_request(conv.messages, prof, max_tokens=60, thinking_budget=12, temperature=0.0)
        msg = conv.add_assistant(prof.id)
        for event in backend.stream(request, TurnControl()):
            msg.apply(event)
        assert msg.finish_reason in ("budget", "stop", "length")
        usage = ContextUsage.from_stats(msg.stats)
        assert usage.used == backend.llm.n_tokens, f"turn {turn}: gauge {usage.used} != context {backend.llm.n_tokens}"
        # prompt side, against independent renders
        kept = chat_messages(conv.messages[:-1], carry=carry, markers=("<think>", "</think>"))
        stripped = chat_messages(conv.messages[:-1], carry="strip")
        assert usage.system + usage.history + usage.carried_reasoning == independent_count(backend, kept)
        assert usage.carried_reasoning == independent_count(backend, kept) - independent_count(backend, stripped)
        if carry == "strip" or turn == 0:
            assert usage.carried_reasoning == 0
        else:
            assert usage.carried_reasoning > 0
        assert usage.reasoning == msg.stats.reasoning_tokens + msg.stats.injected_tokens
        assert usage.answer == msg.stats.answer_tokens
        assert usage.free == usage.n_ctx - usage.used
