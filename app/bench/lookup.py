"""``ponder bench lookup``: prompt-lookup speculative decoding against plain decoding.

The same greedy turn through the local backend with and without ``prompt_lookup`` on three
kinds of prompt: (a) a code edit that repeats its input, (b) a summary of a pasted text with
quotes, (c) free chit-chat. Reports decode tokens/s of each, their ratio, and whether the
outputs are identical (batched verification computes the logits along another path than
one-token decoding, so near-ties can flip).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

FUNCTION = "\n".join(
    ["def summarise(records, x):", '    """Sum the values of the records above x."""', "    total = 0"]
    + [f"    if records[{i}].value > x:\n        total = total + records[{i}].value" for i in range(25)]
    + ["    return total"])
PASSAGE = ("The committee met on Tuesday. \"We will not raise the fee this year,\" the chair said, \"but we "
           "will review it in spring.\" Members asked about the library. \"The library stays open late on "
           "Thursdays,\" she replied. ") * 6
PROMPTS = {
    "code_edit": f"Rename x to threshold in this function and show the whole function:\n\n{FUNCTION}",
    "summary_with_quotes": f"Summarise this text, quoting the chair's exact words:\n\n{PASSAGE}",
    "chit_chat": "Tell me about your favourite season and why you like it.",
}


def _decode(backend, prompt: str, n_tokens: int):
    from app.domain import events as ev
    from app.domain.conversation import Conversation
    from app.domain.turn_control import TurnControl
    from app.domain.turn_request import build_request

    conv = Conversation()
    conv.add_user(prompt)
    request = build_request(conv.messages, backend.profile, max_tokens=n_tokens, temperature=0.0)
    times, text = [], []
    for event in backend.stream(request, TurnControl()):
        if type(event) is ev.TokenCounts:
            times.append(time.perf_counter())
        elif type(event) is ev.AnswerDelta:
            text.append(event.text)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    return rate, "".join(text), len(times)


def bench_lookup(runs: int = 3, n_tokens: int = 256, model: str | None = None) -> dict:
    from app.backends.llama_backend import LlamaBackend
    from app.domain.config import load_user_models

    config = load_user_models()
    profile = replace(config.get(model or config.default), temperature=0.0, n_ctx=4096)
    plain = LlamaBackend(replace(profile, prompt_lookup=False))
    lookup = LlamaBackend(replace(profile, prompt_lookup=True))
    plain.load()
    lookup.load()
    out = {}
    try:
        for name, prompt in PROMPTS.items():
            rows = []
            for _ in range(runs):
                a = _decode(plain, prompt, n_tokens)
                b = _decode(lookup, prompt, n_tokens)
                rows.append((a, b))
            off = statistics.median(r[0][0] for r in rows)
            on = statistics.median(r[1][0] for r in rows)
            out[name] = {"plain_tps": round(off, 1), "lookup_tps": round(on, 1), "ratio": round(on / off, 3),
                         "tokens": rows[-1][0][2], "identical_output": all(a[1] == b[1] for a, b in rows)}
    finally:
        plain.close()
        lookup.close()
    return {"model": profile.id, "n_ctx": 4096, "draft": "2-gram, up to 10 tokens", "prompts": out}
