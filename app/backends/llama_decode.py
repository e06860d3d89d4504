"""The decode loop of one local model call: sample, show, steer, count.

Steering acts on the token stream itself, always on a token boundary:

* **budget cut / Answer now** — after a reasoning token, Ponder feeds the end marker (and a
  blank line) and the model goes on with its answer;
* **Think longer** — an end of the reasoning before the minimum is replaced by a
  continuation (" Wait,", the s1 budget-forcing method);
* **closing on end of generation** — a model that Ponder makes think (not trained to) may
  end its turn inside the block; the end marker is fed instead, so an answer follows.

``generate().send()`` would sample at every fed position, which needs logits for all of
them; so each intervention starts a fresh generator over the prompt plus every token shown
or fed so far (the cached prefix is reused, the new tokens are evaluated in one batch).
After the call the context holds exactly the prompt and those tokens — also when the
context had evaluated more (a draft model's guesses) or less (the last token shown).
"""

from __future__ import annotations

import codecs
from typing import Generator, Iterator

from app.backends import llama_adapter as adapter
from app.backends.base import TurnControl, TurnRequest
from app.domain import events as ev
from app.domain.reasoning.detect import prompt_ends_open
from app.domain.reasoning.parser import make_parser
from app.domain.steering import Steering
from app.domain.token_stream import TokenStream
from app.domain.tools.call_parser import make_tool_parser
from app.domain.tools.families import tool_family

Step = Generator[ev.TurnEvent, None, "str | None"]  # yields events, returns a finish reason or None


class Decoder:
    """One call's decode loop over a loaded :class:`~app.backends.llama_backend.LlamaBackend`."""

    def __init__(self, backend, prompt: list[int], request: TurnRequest, control: TurnControl):
        self.backend = backend
        self.llm = llm = backend.llm
        self.request = request
        self.control = control
        setup = backend.setup
        self.setup = setup
        spec = setup.spec
        tail = llm.detokenize(prompt[-16:], special=True).decode("utf-8", "replace")
        self.parser = make_parser(spec, forced_open=bool(spec) and prompt_ends_open(tail, spec))
        family = backend.tool_family if request.tools else None
        self.stop_texts = tool_family(family).stop_tokens if family else ()
        tools = make_tool_parser(family, backend.tool_markers_special, tools=request.tools) if family else None
        self.tokens = TokenStream(self.parser, backend.clock, tools=tools)
        budget = setup.budget if request.thinking_budget is None else request.thinking_budget
        # A grammar defines the whole output; Ponder's own interventions (cutting, extending,
        # ending the thinking on end-of-generation) would restart the grammar: off then.
        self.steer = not request.grammar and spec is not None
        self.steering = Steering(budget=budget if self.steer else 0,
                                 min_thinking=request.min_thinking if self.steer else 0)
        end_ids = backend.end_ids
        self.end_id = end_ids[0] if end_ids and spec and backend.tokenize_plain(spec.end) == end_ids[:1] else None
        temperature = request.temperature
        if temperature is None:
            temperature = backend.profile.temperature if backend.profile.temperature is not None else 0.7
        self.temperature = temperature
        self.grammar = None
        if request.grammar:
            import llama_cpp

            self.grammar = llama_cpp.LlamaGrammar.from_string(request.grammar, verbose=False)
        self.utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.is_eog = adapter.end_of_generation_test(llm)
        self.n_ctx = llm.n_ctx()
        self.prompt = prompt
        self.gen = None
        self.fed: list[int] = []  # every token after the prompt that was shown or fed, in order
        self.sampled = 0
        self.cut = False  # Ponder ended the reasoning (budget or Answer now)
        self.closed_on_eog = False

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> Iterator[ev.TurnEvent]:
        self.gen = self._generate(self.prompt)
        finish = "length"
        try:
            while True:
                token = next(self.gen)
                if self.control.stopped:
                    finish = "cancelled"  # this token is neither shown nor evaluated
                    break
                outcome = yield from self._step(token)
                if outcome is not None:
                    finish = outcome
                    break
        finally:
            self.gen.close()
        yield from self._settle(finish)

    def _step(self, token: int) -> Step:
        eog = self.is_eog(token)
        in_reasoning = self.steer and self.parser.in_reasoning
        ends_reasoning = in_reasoning and ((eog and self.setup.close_on_eog) or token == self.end_id)
        if ends_reasoning and self.steering.too_early(self.tokens.reasoning):
            return (yield from self._think_longer())
        if eog:
            if ends_reasoning and not self.closed_on_eog and not self.cut:
                yield from self._close_on_eog()
                return None
            if self.stop_texts:  # gpt-oss <|call|>, Llama <|eom_id|>: the end of generation ends a call
                text = self.backend.piece(token).decode("utf-8", "replace")
                if text in self.stop_texts:
                    yield from self.tokens.text(text, special=True)  # parsed, neither counted nor evaluated
            return "stop"
        text = self.utf8.decode(self.backend.piece(token))
        yield from self.tokens.token(text, special=self.backend.is_special(token), token_id=token)
        self.sampled += 1
        self.fed.append(token)
        if self._should_cut(text):
            yield from self._cut()
        if self.sampled >= self.request.max_tokens or len(self.prompt) + len(self.fed) + 1 > self.n_ctx:
            return "length"
        return None

    def _settle(self, finish: str) -> Iterator[ev.TurnEvent]:
        """Make the context hold all that was shown and counted, flush the text, finish."""
        llm = self.llm
        expected = self.prompt + self.fed
        held = adapter.common_prefix(llm, expected)
        adapter.keep_cached(llm, held)  # drops anything evaluated beyond what was shown
        if held < len(expected) <= self.n_ctx:
            llm.eval(expected[held:])
        if len(expected) <= self.n_ctx:
            written = llm.detokenize(self.fed, special=True).decode("utf-8", "replace")
            self.backend.model.remember(self.backend.last_prompt_text + written, expected)
        tail = self.utf8.decode(b"", final=True)
        if tail:  # bytes of an incomplete character at the very end; their token is counted
            yield from self.tokens.text(tail)
        yield from self.tokens.finish()
        if self.cut and finish == "stop":
            finish = "budget"
        yield ev.TurnFinished(self.backend.clock(), finish)

    # -- interventions -----------------------------------------------------------------------
    def _should_cut(self, text: str) -> bool:
        return (self.steer and not self.cut and not self.closed_on_eog and self.parser.in_reasoning
                and self.steering.should_cut(self.tokens.reasoning, text,
                                             answer_now=self.control.answer_now_requested))

    def _cut(self) -> Iterator[ev.TurnEvent]:
        """Budget reached or Answer now: feed the end marker after the token just shown."""
        self.cut = True
        self.fed += self.backend.end_ids
        self._restart()
        yield ev.BudgetCut(self.backend.clock(), self.tokens.reasoning)
        yield from self._inject_end()

    def _think_longer(self) -> Step:
        """Replace an early end of the reasoning with a continuation. The replaced token was
        sampled, so it counts towards max_tokens."""
        self.sampled += 1
        text = self.steering.extend()
        ids = self.backend.tokenize_plain(text)
        self.fed += ids
        self._restart()
        yield ev.ThinkingExtended(self.backend.clock(), self.tokens.reasoning, text)
        yield from self.tokens.inject(text, len(ids))
        if self.sampled >= self.request.max_tokens:
            return "length"
        return None

    def _close_on_eog(self) -> Iterator[ev.TurnEvent]:
        """The model ended its turn inside the block: end the thinking instead and let it
        answer. The end-of-generation token is dropped, not evaluated."""
        self.closed_on_eog = True
        self.fed += self.backend.end_ids
        self._restart()
        yield from self._inject_end()

    def _inject_end(self) -> Iterator[ev.TurnEvent]:
        """Parse the fed end marker like model output; count it as injected."""
        backend = self.backend
        for tid in backend.end_ids:
            piece = backend.piece(tid).decode("utf-8", "replace")
            yield from self.tokens.inject(piece, 1, special=backend.is_special(tid))

    # -- generators --------------------------------------------------------------------------
    def _generate(self, tokens: list[int]):
        return self.llm.generate(tokens, temp=self.temperature, top_k=40, top_p=0.95, min_p=0.05,
                                 repeat_penalty=1.0, reset=True, grammar=self.grammar,
                                 logits_processor=self.backend.logits_processor)

    def _restart(self) -> None:
        self.gen.close()
        self.gen = self._generate(self.prompt + self.fed)
