"""Re-make the real traces in this folder: the bundled SmolLM2 135M, forced to think.

Run from the project root: ``.venv/bin/python tests/domain/runaway_traces/model/make_traces.py
TEMPERATURE NAME[,NAME...] MAX_TOKENS OUT_DIR``. Each trace is saved as JSON (token ids and
their text, up to the end marker, end of generation or MAX_TOKENS). Whether a trace loops
(and where) is judged by eye before it is kept as ``*-loop.json`` (with ``loop_starts_at``)
or ``*-ok.json``. Seeds are 1234 + i (i: the name's place in NAMES); the kept plan and
trains traces at 0.7 came from an earlier run without a fixed seed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[3]), str(Path(__file__).parents[3] / "tests")]


from app.backends import llama_adapter as adapter  # noqa: E402
from app.backends.llama_backend import LlamaBackend  # noqa: E402
from helpers.models import profile  # noqa: E402

PROMPTS = {
    "trains": "A train leaves at 3pm going 60 km/h and another at 4pm going 90 km/h on the same track. "
              "When does the second catch the first? Think step by step.",
    "plan": "Plan a three-day trip to Rome for a family with two children, with a budget. Think it through.",
    "essay": "Write a detailed explanation of how photosynthesis works, step by step, with examples.",
    "history": "Explain the causes of the First World War in detail. Think carefully about each cause.",
    "recipe": "How do I bake sourdough bread at home? Explain every step and why it matters.",
    "sort": "Explain how merge sort works and trace it on the list [5, 2, 9, 1, 7, 3].",
}


def main(temperature: float, names: list[str], max_tokens: int, out: Path) -> None:
    backend = LlamaBackend(profile("smollm2-think"), threads=1)
    backend.load()
    llm = backend.llm
    for i, name in enumerate(names):
        llm.set_seed(1234 + i)
        prompt = backend.tokenize(backend.render_prompt([{"role": "user", "content": PROMPTS[name]}]))
        tokens, text = [], ""
        for tok in llm.generate(prompt, temp=temperature, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0,
                                reset=True):
            if adapter.is_end_of_generation(llm, tok):
                break
            piece = backend.piece(tok).decode("utf-8", "replace")
            tokens.append([int(tok), piece])
            text += piece
            if "</think>" in text or len(tokens) >= max_tokens:
                break
        record = {"model": "smollm2-think (SmolLM2 135M)", "temperature": temperature, "prompt": PROMPTS[name],
                  "tokens": tokens}
        (out / f"smollm2-{name}-t{temperature:g}.json").write_text(json.dumps(record, ensure_ascii=False))
        print(name, len(tokens), "tokens")


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2].split(","), int(sys.argv[3]), Path(sys.argv[4]))
