"""``ponder bench tools``: what tool rounds cost.

* the schema cost of the built-in tools in the bundled model's prompt (tokens, exact);
* per round of a local tool call: the tokens evaluated again for the result, and the time
  from the tool's result to the next token — on the bundled model, with a grammar that makes
  it call the calculator (it would not otherwise);
* GUI stalls (p99 / max) while a turn with three tool rounds streams through the real window.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import replace

CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>'


def _schema_cost(backend) -> dict:
    from app.controllers.toolbox import BUILTIN
    from app.domain.conversation import Conversation
    from app.domain.turn_request import build_request

    conv = Conversation()
    conv.add_user("hi")
    base = build_request(conv.messages, backend.profile)
    out = {}
    for name, spec in BUILTIN.items():
        _, usage = backend.measure_prompt(replace(base, tools=(spec,)))
        out[name] = usage.tools
    _, both = backend.measure_prompt(replace(base, tools=tuple(BUILTIN.values())))
    out["both"] = both.tools
    return out


def _round_overhead(backend, runs: int) -> dict:
    from app.controllers.toolbox import ToolBox
    from app.controllers.turn_runner import TurnRunner, drive_turn
    from app.domain import events as ev
    from app.domain.conversation import Conversation
    from app.domain.tools.calculator import CALCULATOR_SPEC
    from app.domain.turn_control import TurnControl
    from app.domain.turn_request import build_request

    rows = []
    for run in range(runs):
        conv = Conversation()
        conv.add_user(f"Run {run}: what is 6 times 7? Use the calculator.")
        request = replace(build_request(conv.messages, backend.profile, max_tokens=48, temperature=0.0),
                          tools=(CALCULATOR_SPEC,), grammar=f"root ::= {json.dumps(CALL)}")
        marks: dict = {}

        def emit(batch):
            now = time.perf_counter()
            for event in batch:
                if type(event) is ev.ToolCallFinished:
                    marks["result"] = now
                elif type(event) is ev.TokenCounts and "result" in marks and "next" not in marks:
                    marks["next"] = now

        asyncio.run(drive_turn(TurnRunner.on(backend, tools=ToolBox.builtin(("calculator",))), request,
                               TurnControl(), emit))
        reused, evaluated = backend.model.last_prefill
        if "next" in marks:
            rows.append({"reevaluated_tokens": evaluated, "reused_tokens": reused,
                         "result_to_next_token_ms": round((marks["next"] - marks["result"]) * 1000, 1)})
    return {"runs": rows,
            "reevaluated_tokens_median": statistics.median(r["reevaluated_tokens"] for r in rows) if rows else None,
            "result_to_next_token_ms_median": statistics.median(r["result_to_next_token_ms"] for r in rows)
            if rows else None}


def _stalls_with_three_rounds() -> dict:
    from app.backends.fake import FakeBackend
    from app.bench.harness import Pipeline
    from app.bench.probe import StallProbe
    from app.controllers.toolbox import BUILTIN
    from app.domain.reasoning.markers import FAMILIES
    from app.domain.tools.types import ToolCall

    thinking = ["<think>"] + [f" step{i}" for i in range(150)] + ["</think>"]
    calls = [ToolCall(f"c{i}", "calculator", {"expression": f"{i}*7"}) for i in range(3)]
    script = [*thinking, calls[0]]
    follow = [[*thinking, calls[1]], [*thinking, calls[2]], [*thinking, *(f" word{i}" for i in range(150))]]
    pipe = Pipeline(factory=lambda p: FakeBackend(p, script, follow_up=follow, spec=FAMILIES["think"], delay_s=0.005))
    pipe.load()
    pipe.session.set_tools((BUILTIN["calculator"],))
    probe = StallProbe()
    probe.start()
    msg, _ = pipe.turn("Three rounds, please.", max_tokens=2000)
    probe.stop()
    pipe.close()
    return {"tool_rounds": max((p.round for p in msg.tool_calls), default=0),
            "tokens": msg.stats.generated_tokens, **probe.summary()}


def bench_tools(runs: int = 3, model: str | None = None) -> dict:
    from app.backends.llama_backend import LlamaBackend
    from app.domain.config import load_user_models

    config = load_user_models()
    profile = replace(config.get(model or config.default), tool_format="hermes", temperature=0.0)
    backend = LlamaBackend(profile)
    backend.load()
    try:
        schemas = _schema_cost(backend)
        rounds = _round_overhead(backend, runs)
    finally:
        backend.close()
    return {"model": profile.id, "schema_tokens": schemas, "local_round": rounds,
            "gui_three_rounds": _stalls_with_three_rounds()}
