"""A quiet suggestion of a better-suited model for the prompt being sent.

Reasoning models pay off on multi-step problems with a checkable answer (math, proofs,
debugging, algorithms); for a greeting or a quick lookup they only add waiting. The
heuristic adds up a handful of cheap features:

=================  =====  ==================================================================
feature            score  examples
=================  =====  ==================================================================
math                 2    ``17 * 23``, ``2x + 3 = 11``, ``x^2``, ∑, integral, probability, gcd;
                          a number with prime / divisible / factors ("Is 91 a prime number?");
                          arithmetic in words ("12 times 13", "15% of 80", "square root of 169")
proof                2    prove, proof, show that, by induction, contradiction
debugging            2    traceback, KeyError, segfault, "why does this fail", not working,
                          ``error: …`` / ``error[E0382]: …`` lines, code with "error" or "fails"
algorithm            2    algorithm, complexity, O(n log n), dynamic programming, recursion
step by step         2    step by step, think carefully, puzzle, riddle
counting             2    "how many" with a number, or of letters, ways, times, days…
                          ("How many r's are in strawberry?")
claim                2    is it true that, true or false (not about the assistant itself)
math word            1    solve, equation, prime, average, how many, sum of
two numbers          1    any two numerals (a date or a time counts once)
code block           1    a fenced ```block```
=================  =====  ==================================================================

The short checkable questions (primes, arithmetic, counting, "prove", "is it true that",
code with an error message) score 2 on their own: they are where a small instruct model
most often answers confidently and wrongly.

A prompt scoring :data:`REASONING_SCORE` (2) or more sent to an *instruct* model gets a
hint toward the reasoning model. A prompt of fewer than :data:`SHORT_WORDS` (12) words
that scores 0 and reads as chit-chat (hi, thanks, how are you) or a lookup (what is /
who was / define / the capital of) sent to a *reasoning* model gets the reverse hint.
Anything else, and every cloud model, gets none. Nothing switches by itself.

Words are matched as a set against keyword tables and phrases with ``in`` on the
lowered text (both run in C); only numbers, math expressions and exception names use a
regex. Long prompts are judged by their first 2000 and last 1000 characters. A typical
call takes a few microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.profiles import ModelProfile

REASONING_SCORE = 2
SHORT_WORDS = 12
HEAD, TAIL = 2000, 1000

_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")
_PUNCTUATION = str.maketrans({c: " " for c in "\"`.,;:!?()[]{}<>*_#/\\|=+-~@$%&^"})
# Each pattern starts with a character class, so the regex engine skips ahead to candidates.
_NUMBER = re.compile(r"\d+(?:[.\-/:]\d+)*")  # 3.14, 2024-05-01 and 10:30 count once
_MATH = re.compile(
    r"\d+(?:(?:\.\d+)?\s*(?:\*\*|[+*/×÷^=%<>]|\s-\s)\s*\(?\s*-?\d"  # 17 * 23, 3 - 5, 2^10
    r"|[a-zA-Z]\s*[-+]\s*\d+\s*=)"                                   # 2x + 3 = 11
)
_POWER = re.compile(r"[a-zA-Z)]\s*(?:\^|\*\*)\s*\d")              # x^2, (a+b)**2
_MATH_SYMBOLS = frozenset("√∑∫∏≤≥≠")
_ERROR_NAME = re.compile(r"[A-Za-z0-9_](?:Error|Exception)\b")  # KeyError, NullPointerException
_NUMBER_PROPERTY = frozenset({"prime", "primes", "composite", "divisible", "divisor", "divisors", "factor",
                              "factors", "factorial", "multiple", "multiples", "remainder"})
_ARITHMETIC_WORDS = re.compile(
    r"\d\s*(?:times|plus|minus|divided\s+by|multiplied\s+by|mod|modulo|to\s+the\s+power\s+of|squared|cubed)\b"
    r"|\b(?:square|cube)\s+root\s+of\s+\d|\d\s*(?:%|percent)\s+of\s+\d")
_HOW_MANY = re.compile(r"how many\s+(?:[a-z]+\s+){0,2}?(?:times|ways|letters?|words|digits|days|hours|minutes|"
                       r"seconds|weeks|months|years|[a-z]'?s\s+(?:are\s+|is\s+)?(?:in|there\s+in))\b")
_CLAIMS = ("is it true that", "true or false", "is the following true", "is this statement true", "fact-check",
           "fact check")
_ERROR_LINE = re.compile(r"\b(?:fatal\s+)?error(?:\[\w+\])?:\s")  # gcc, rustc, tsc, ...
_FAILURE_WORDS = frozenset({"error", "errors", "fails", "failing", "failed", "crash", "crashes", "panic",
                            "panicked", "undefined", "warning"})
_WHY_FAILS = re.compile(r"\bwhy\s+(?:does|do|is|did)\s+(?:this|my|it|the)\b[^.?!\n]{0,60}?"
                        r"\b(?:fail|crash|break|error|hang|wrong|not\s+work|never|stop|loop|return)")

# feature -> (single words, phrases searched in the lowered text)
_KEYWORDS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "proof": (frozenset({"prove", "proof", "proofs", "lemma", "theorem", "contradiction"}),
              ("show that", "by induction")),
    "debug": (frozenset({"traceback", "exception", "segfault", "debug", "debugging", "bug"}),
              ("stack trace", "segmentation fault", "not working", "doesn't work", "does not work",
               "isn't working")),
    "algo": (frozenset({"algorithm", "algorithms", "complexity", "recursion", "recursive"}),
             ("big o", "big-o", "dynamic programming", "binary search", "shortest path", "np-hard",
              "o(n", "o(log", "o(1)", "o(m", "o(k", "o(2^")),
    "steps": (frozenset({"puzzle", "riddle"}),
              ("step by step", "step-by-step", "think carefully", "think it through", "think hard",
               "logic problem")),
    "math": (frozenset({"integral", "derivative", "differentiate", "probability", "factorize", "factorise",
                        "gcd", "lcm", "modulo", "eigenvalue", "eigenvalues", "eigenvector"}),
             ("expected value",)),
    "math_word": (frozenset({"solve", "equation", "equations", "prime", "primes", "remainder", "divisible",
                             "permutation", "permutations", "combination", "combinations", "matrix",
                             "average", "percent", "percentage"}),
                  ("how many", "how much", "how long", "how far", "how fast", "sum of", "product of")),
}
_WEIGHTS = {"math": 2, "proof": 2, "debug": 2, "algo": 2, "steps": 2, "count": 2, "claim": 2, "math_word": 1,
            "numbers": 1, "code": 1}
_WORD_FEATURE = {word: feature for feature, (words, _) in _KEYWORDS.items() for word in words}
_PHRASE_FEATURE = tuple((phrase, feature) for feature, (_, phrases) in _KEYWORDS.items() for phrase in phrases)
_REASONS = {"math": "math", "proof": "a proof", "debug": "debugging", "algo": "an algorithm",
            "steps": "step-by-step reasoning", "count": "careful counting", "claim": "checking a claim",
            "math_word": "math"}
_CHITCHAT_WORDS = frozenset({"hi", "hello", "hey", "hiya", "yo", "thanks", "thx", "ty", "cheers", "bye",
                             "goodbye", "ok", "okay", "cool", "nice", "great", "lol", "sure"})
_CHITCHAT_PHRASES = ("how are you", "how's it going", "what's up", "good morning", "good afternoon",
                     "good evening", "good night", "thank you")
_LOOKUP_OPENERS = ("what is", "what's", "what was", "what are", "what were", "who ", "who's", "when ",
                   "where ", "which is", "define ", "definition of", "translate ", "spell ", "what does")


@dataclass(frozen=True)
class Hint:
    """A suggestion to use a model of ``suggested_role``; ``message`` is the sentence to show."""

    suggested_role: str
    message: str
    reasons: tuple[str, ...] = ()


def reasoning_features(prompt: str) -> dict[str, int]:
    """The reasoning features the prompt has, feature name → score (see the module table)."""
    text = prompt if len(prompt) <= HEAD + TAIL else prompt[:HEAD] + "\n" + prompt[-TAIL:]
    lower = text.lower().replace("’", "'")
    words = set(lower.translate(_PUNCTUATION).split())
    if "prime minister" in lower:
        words.discard("prime")
    found: dict[str, int] = {}
    if (_MATH.search(text) or ("^" in text or "**" in text) and _POWER.search(text)
            or not _MATH_SYMBOLS.isdisjoint(text)):
        found["math"] = 2
    for word in words:
        feature = _WORD_FEATURE.get(word)
        if feature is not None:
            found[feature] = _WEIGHTS[feature]
    for phrase, feature in _PHRASE_FEATURE:
        if feature not in found and phrase in lower:
            found[feature] = _WEIGHTS[feature]
    if "debug" not in found and (("Error" in text or "Exception" in text) and _ERROR_NAME.search(text)
                                 or "why" in words and _WHY_FAILS.search(lower)):
        found["debug"] = 2
    n_numbers = len(_NUMBER.findall(text))
    if n_numbers >= 2:
        found["numbers"] = 1
    if "```" in text:
        found["code"] = 1
    _checkable(text, lower, words, n_numbers, found)
    return {k: found[k] for k in _WEIGHTS if k in found}  # a stable order for the reasons


def _checkable(text: str, lower: str, words: set[str], n_numbers: int, found: dict[str, int]) -> None:
    """The short checkable questions: each of these scores enough on its own."""
    if n_numbers and "math" not in found and (not _NUMBER_PROPERTY.isdisjoint(words) or _ARITHMETIC_WORDS.search(lower)):
        found["math"] = 2
    if "how many" in lower and (n_numbers or _HOW_MANY.search(lower)):
        found["count"] = 2
    for phrase in _CLAIMS:
        at = lower.find(phrase)
        if at >= 0 and not lower[at + len(phrase):].lstrip(" :").startswith(("you", "your")):
            found["claim"] = 2
            break
    if "debug" not in found and ("error" in lower and _ERROR_LINE.search(lower)
                                 or "`" in text and not _FAILURE_WORDS.isdisjoint(words)):
        found["debug"] = 2


def task_hint(prompt: str, current_role: str) -> Hint | None:
    """A hint toward the reasoning or the instruct model, or None (see the module docstring)."""
    if current_role not in ("instruct", "reasoning"):
        return None
    features = reasoning_features(prompt)
    if current_role == "instruct":
        if sum(features.values()) < REASONING_SCORE:
            return None
        reasons = tuple(dict.fromkeys(_REASONS[k] for k in features if k in _REASONS))
        what = " and ".join(reasons) if reasons else "several steps"
        return Hint("reasoning", f"This looks like a multi-step problem ({what}); a reasoning model "
                                 "is more likely to get it right.", reasons)
    if features or len(prompt.split()) >= SHORT_WORDS:
        return None
    opening = prompt.strip().lstrip("¿¡\"'(").lower().replace("’", "'")
    if opening.startswith(_CHITCHAT_PHRASES) or _first_word(opening) in _CHITCHAT_WORDS:
        kind = "chit-chat"
    elif opening.startswith(_LOOKUP_OPENERS) or "capital of" in opening:
        kind = "lookup"
    else:
        return None
    return Hint("instruct", f"A short {kind} like this needs no long thinking; the instruct model "
                            "answers faster.", (kind,))


def _first_word(text: str) -> str:
    match = _WORDS.match(text)
    return match.group(0) if match else ""


def suggest_model(draft: str, current: ModelProfile,
                  models: tuple[ModelProfile, ...]) -> tuple[str | None, ModelProfile | None]:
    """(sentence, profile to suggest) when ``draft`` looks better suited to the other kind of
    model than ``current`` and such a model is configured and enabled; else (None, None)."""
    role = "reasoning" if current.role in ("reasoning", "cloud") else "instruct"
    hint = task_hint(draft, role)
    if hint is None:
        return None, None
    target = next((m for m in models if m.role == hint.suggested_role and m.enabled), None)
    return (hint.message, target) if target else (None, None)
