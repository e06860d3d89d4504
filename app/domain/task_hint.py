"""A quiet suggestion of a better-suited model for the prompt being sent.

Reasoning models pay off on multi-step problems with a checkable answer (math, proofs,
debugging, algorithms); for a greeting or a quick lookup they only add waiting. The
heuristic is a handful of cheap features found by one pass of one compiled regex:

=================  =====  ==================================================================
feature            score  examples
=================  =====  ==================================================================
math expression      2    ``17 * 23``, ``2x + 3 = 11``, ``x^2``, ``3 - 5``
proof                2    prove, proof, show that, by induction, contradiction
debugging            2    traceback, exception, segfault, "why does this fail", not working
algorithm            2    algorithm, complexity, O(n log n), dynamic programming, recursion
step by step         2    step by step, think carefully, puzzle, riddle
math word            1    solve, equation, integral, probability, prime, how many, sum of
two numbers          1    any two numerals
code block           1    a fenced ```block```
=================  =====  ==================================================================

A prompt scoring :data:`REASONING_SCORE` (2) or more sent to an *instruct* model gets a
hint toward the reasoning model. A prompt of fewer than :data:`SHORT_WORDS` (12) words
that scores 0 and reads as chit-chat (hi, thanks, how are you) or a lookup (what is /
who was / define / the capital of) sent to a *reasoning* model gets the reverse hint.
Anything else, and every cloud model, gets none. Nothing switches by itself.

Long prompts are judged by their first 2000 and last 1000 characters, which keeps a call
at a few microseconds for typical prompts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REASONING_SCORE = 2
SHORT_WORDS = 12
HEAD, TAIL = 2000, 1000

_FEATURES = re.compile(
    r"""
    (?P<math>\d\s*(?:\*\*|[+*/×÷^=%<>]|\s-\s)\s*\(?\s*-?\d
        | \b\d*[a-z]\s*(?:\^|\*\*)\s*\d
        | \b\d+[a-z]\s*[-+]\s*\d+\s*=
        | [√∑∫∏≤≥≠])
    | (?P<proof>\bprove\b|\bproofs?\b|\bshow\s+that\b|\bby\s+induction\b|\bcontradiction\b|\blemma\b|\btheorem\b)
    | (?P<debug>\btraceback\b|\bexception\b|\bstack\s*trace\b|\bsegfault\b|\bsegmentation\s+fault\b
        | \bwhy\s+(?:does|do|is|did)\s+(?:this|my|it|the)\b[^.?!\n]{0,60}?\b(?:fail|crash|break|error|hang|wrong|not\s+work)
        | \b(?:doesn'?t|does\s+not|isn'?t|is\s+not|not)\s+working\b|\bdebug\b|\bbug\b|(?-i:\w+Error\b))
    | (?P<algo>\balgorithms?\b|\bcomplexity\b|\bbig[\s-]?o\b|\bO\((?:n|log|1|m|k|2\^)|\bdynamic\s+programming\b
        | \brecursion\b|\brecursive\b|\bbinary\s+search\b|\bshortest\s+path\b|\bNP[\s-]hard\b)
    | (?P<steps>\bstep[\s-]+by[\s-]+step\b|\bthink\s+(?:carefully|it\s+through|hard)\b|\bpuzzle\b|\briddle\b
        | \blogic\s+problem\b)
    | (?P<math_word>\bsolve\b|\bequations?\b|\bintegral\b|\bderivative\b|\bdifferentiate\b|\bprobability\b
        | \bexpected\s+value\b|\bprimes?\b(?!\s+minister)|\bfactori[sz]e\b|\bgcd\b|\blcm\b|\bmodulo\b|\bremainder\b
        | \bhow\s+(?:many|much|long|far|fast)\b|\bsum\s+of\b|\bproduct\s+of\b|\bdivisible\b
        | \bpermutations?\b|\bcombinations?\b|\bmatrix\b|\beigen\w*|\baverage\b|\bpercent(?:age)?\b)
    | (?P<number>(?<![\w.])\d+(?:\.\d+)?)
    | (?P<code>```)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_WEIGHTS = {"math": 2, "proof": 2, "debug": 2, "algo": 2, "steps": 2, "math_word": 1, "code": 1}
_REASONS = {"math": "math", "proof": "a proof", "debug": "debugging", "algo": "an algorithm",
            "steps": "step-by-step reasoning", "math_word": "math"}
_CHITCHAT = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|yo|thanks|thank\s+you|thx|ty|cheers|good\s+(?:morning|afternoon|evening|night)"
    r"|how\s+are\s+you|how'?s\s+it\s+going|what'?s\s+up|bye|goodbye|ok(?:ay)?|cool|nice|great|lol|sure)\b",
    re.IGNORECASE,
)
_LOOKUP = re.compile(
    r"^\W*(?:(?:what|who|when|where|which)(?:'s|\s+is|\s+was|\s+are|\s+were)\b|define\b|definition\s+of\b"
    r"|translate\b|spell\b|what\s+does\s+\S+\s+mean\b)|\bcapital\s+of\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Hint:
    """A suggestion to use a model of ``suggested_role``; ``message`` is the sentence to show."""

    suggested_role: str
    message: str
    reasons: tuple[str, ...] = ()


def reasoning_features(prompt: str) -> dict[str, int]:
    """Which features the prompt has (feature name → score), numbers counted once for two."""
    text = prompt if len(prompt) <= HEAD + TAIL else prompt[:HEAD] + "\n" + prompt[-TAIL:]
    found: dict[str, int] = {}
    numbers = 0
    for match in _FEATURES.finditer(text):
        kind = match.lastgroup
        if kind == "number":
            numbers += 1
        elif kind is not None and kind not in found:
            found[kind] = _WEIGHTS[kind]
    if numbers >= 2:
        found["numbers"] = 1
    return found


def task_hint(prompt: str, current_role: str) -> Hint | None:
    """A hint toward the reasoning or the instruct model, or None (see the module docstring)."""
    if current_role not in ("instruct", "reasoning"):
        return None
    features = reasoning_features(prompt)
    score = sum(features.values())
    if current_role == "instruct":
        if score < REASONING_SCORE:
            return None
        reasons = tuple(dict.fromkeys(_REASONS[k] for k in features if k in _REASONS))
        what = " and ".join(reasons) if reasons else "several steps"
        return Hint("reasoning", f"This looks like a multi-step problem ({what}); a reasoning model "
                                 "is more likely to get it right.", reasons)
    if score or len(prompt.split()) >= SHORT_WORDS:
        return None
    if _CHITCHAT.match(prompt):
        kind = "chit-chat"
    elif _LOOKUP.search(prompt):
        kind = "lookup"
    else:
        return None
    return Hint("instruct", f"A short {kind} like this needs no long thinking; the instruct model "
                            "answers faster.", (kind,))
