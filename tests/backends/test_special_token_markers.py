"""Reasoning markers that are single special (control) tokens, with real inference.

The model is a copy of the bundled SmolLM2 whose unused control tokens ``<jupyter_script>``
and ``<empty_output>`` are renamed ``<think>`` and ``</think>`` (``helpers.special_gguf``),
so each marker is one CONTROL token, as in real reasoning models. A GBNF grammar makes
the model write, at temperature 0::

    <think> I think "</think>" is only text here.</think> The answer is 4.

where the two markers are the control tokens and the quoted ``"</think>"`` is ordinary
text. Ponder's backend must show the control tokens to the parser (llama-cpp-python's
completion API drops them) and, with the markers in special-token mode, must not take the
quoted text for the end of the block.

How the grammar is spelled: the markers are token references (``<think>`` / ``</think>``
in GBNF mean the one token with that text). The quoted ``</think>`` is spelled as token
references too, to the ids of its ordinary tokenization (``</``, ``think``, ``>``): a
GBNF *string literal* ``"</think>"`` is matched against each token's text with special
tokens rendered, so llama.cpp's grammar also accepts the single control token there
(checked by boosting that token's logit: it is then sampled for the literal). Greedy
SmolLM2 happens to spell the literal in characters anyway, but only token references
make "the literal is plain text" hold by construction.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from app import paths
from app.backends import llama_adapter as adapter
from app.backends.llama_backend import LlamaBackend
from app.domain.conversation import Conversation
from app.domain.turn_control import TurnControl
from app.domain import events as ev
from app.domain.profiles import ReasoningSettings
from app.domain.turn_request import build_request
from helpers.models import profile
from helpers.special_gguf import write_think_gguf

pytestmark = pytest.mark.model

REASONING = ' I think "</think>" is only text here.'
ANSWER = " The answer is 4."
QUESTION = "What is 2+2?"


@pytest.fixture(scope="module")
def think_gguf(tmp_path_factory):
    """The bundled model with ``<think>``/``</think>`` as control tokens, written once."""
    dst = tmp_path_factory.mktemp("special-gguf") / "smollm2-think-tokens.gguf"
    ids = write_think_gguf(paths.bundled_model_path(), dst)
    return dst, ids


@pytest.fixture(scope="module")
def backend(think_gguf, tmp_path_factory):
    path, _ = think_gguf
    # module fixtures run before the per-test PONDER_HOME one: give this one its own
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.HOME_ENV, str(tmp_path_factory.mktemp("ponder-home")))
        prof = profile(
            path=str(path),
            reasoning=ReasoningSettings(start="<think>", end="</think>", forced_open=False, budget=0),
        )
    b = LlamaBackend(prof)
    b.load()
    yield b
    b.close()


def grammar(llm) -> str:
    """GBNF for the output above: marker tokens, plain ``</think>`` tokens in the quotes."""
    plain = llm.tokenize(b"</think>", add_bos=False, special=False)
    refs = " ".join(f"<[{t}]>" for t in plain)
    return f'root ::= <think> " I think \\"" {refs} "\\" is only text here." </think> "{ANSWER}"'


def run(backend, prompt, *, grammar, **kw):
    conv = Conversation()
    conv.add_user(prompt)
    request = replace(build_request(conv.messages, backend.profile, **kw), grammar=grammar)
    msg = conv.add_assistant(backend.profile.id)
    for event in backend.stream(request, TurnControl()):
        msg.apply(event)
    return msg, request


def test_markers_are_single_control_tokens(backend, think_gguf):
    _, ids = think_gguf
    llm = backend.llm
    for marker, tid in ids.items():
        assert llm.tokenize(marker.encode(), add_bos=False, special=True) == [tid]
        assert backend.is_special(tid)
    # the same characters as ordinary text are several ordinary tokens
    plain = llm.tokenize(b"</think>", add_bos=False, special=False)
    assert len(plain) > 1 and ids["</think>"] not in plain
    assert backend.setup.spec.special_tokens is True


def test_special_markers_split_and_literal_marker_text_stays_reasoning(backend, think_gguf):
    _, ids = think_gguf
    llm = backend.llm
    msg, _ = run(backend, QUESTION, grammar=grammar(llm), max_tokens=200, temperature=0.0)

    assert msg.finish_reason == "stop"
    s = msg.stats
    generated = adapter.cached_tokens(llm)[s.prompt_tokens:]
    # the markers came as the control tokens, once each; the quoted one is plain text
    assert generated[0] == ids["<think>"]
    assert generated.count(ids["<think>"]) == 1 and generated.count(ids["</think>"]) == 1

    assert len(msg.blocks) == 1
    block = msg.blocks[0]
    assert block.text == REASONING and '"</think>"' in block.text
    assert not block.truncated and block.end is not None
    assert msg.answer.strip() == "The answer is 4."
    assert msg.raw == "<think>" + REASONING + "</think>" + ANSWER

    # the block counts the tokens from its start marker to its end marker, both included
    assert block.tokens == generated.index(ids["</think>"]) - generated.index(ids["<think>"]) + 1
    assert s.reasoning_tokens == block.tokens
    assert s.answer_tokens == len(generated) - block.tokens
    # every generated token is in the context; the end-of-generation token is not
    assert s.injected_tokens == 0
    assert s.reasoning_tokens + s.answer_tokens == llm.n_tokens - s.prompt_tokens


def test_llama_cpp_completion_drops_the_control_markers(backend):
    """Why Ponder detokenizes itself: llama-cpp-python's text loses the control tokens,
    leaving only the quoted ``</think>``, which a text parser would take for the end."""
    llm = backend.llm
    conv = Conversation()
    conv.add_user(QUESTION)
    request = build_request(conv.messages, backend.profile)
    prompt = backend.tokenize(backend.render_prompt(request.messages))
    import llama_cpp

    out = llm.create_completion(prompt, grammar=llama_cpp.LlamaGrammar.from_string(grammar(llm), verbose=False),
                                temperature=0.0, max_tokens=200)
    text = out["choices"][0]["text"]
    assert "<think>" not in text
    assert text == REASONING + ANSWER
    assert text.count("</think>") == 1  # only the literal one is left


def test_think_longer_replaces_a_single_token_end_marker(think_gguf, tmp_path_factory):
    """A model whose end marker is one token: each early ``</think>`` it samples is replaced
    by "Wait," until the minimum is reached; then its own end marker closes the block. A
    logits processor makes this tiny model write the marker every eighth token."""
    import numpy as np

    from app.domain import events as ev

    path, ids = think_gguf
    end_id = ids["</think>"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.HOME_ENV, str(tmp_path_factory.mktemp("ponder-home")))
        prof = profile(path=str(path), reasoning=ReasoningSettings(start="<think>", end="</think>",
                                                                  forced_open=True, budget=0))
    backend = LlamaBackend(prof)
    backend.load()
    calls = []

    def push_the_end(input_ids, scores):
        calls.append(1)
        if len(calls) % 8 == 0 and end_id not in input_ids:  # until one end is accepted
            scores = np.array(scores, copy=True)
            scores[end_id] = scores.max() + 50.0
        return scores

    backend.logits_processor = [push_the_end]
    try:
        conv = Conversation()
        conv.add_user("Is 7 odd?")
        request = build_request(conv.messages, backend.profile, max_tokens=80, temperature=0.0, min_thinking=12)
        msg = conv.add_assistant(backend.profile.id)
        events = []
        for event in backend.stream(request, TurnControl()):
            msg.apply(event)
            events.append(event)
    finally:
        backend.close()
    extended = [e for e in events if type(e) is ev.ThinkingExtended]
    assert extended and all(e.reasoning_tokens < 12 for e in extended)
    block = msg.blocks[0]
    assert block.end is not None and not block.truncated  # closed by the model's own end token
    assert msg.stats.reasoning_tokens >= 12
    assert len(block.extensions) == len(extended) and block.text.count("Wait,") >= len(extended)


def test_carried_reasoning_keeps_ponders_markers_special_and_the_models_text_plain(backend, think_gguf):
    """keep-all carries earlier reasoning wrapped in the model's markers: the wrapper is markup
    (one control token each), a "</think>" the model wrote as text stays text."""
    _, ids = think_gguf
    conv = Conversation()
    conv.add_user(QUESTION)
    msg = conv.add_assistant("m")
    for event in (ev.BlockStart(0.0, "<think>"), ev.ReasoningDelta('It says "</think>" here.'),
                  ev.BlockEnd(0.1, "</think>"), ev.AnswerDelta("Four."), ev.TurnFinished(0.2, "stop")):
        msg.apply(event)
    conv.add_user("And 3+3?")
    request = build_request(conv.messages, backend.profile, carry="keep-all")
    prompt, _ = backend.measure_prompt(request)
    assert prompt.count(ids["<think>"]) == 1 and prompt.count(ids["</think>"]) == 1  # Ponder's wrapper only
    plain = backend.llm.tokenize(b"</think>", add_bos=False, special=False)
    assert any(prompt[i:i + len(plain)] == plain for i in range(len(prompt)))  # the model's text, as text
