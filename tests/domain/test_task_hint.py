"""The task hint: reasoning-worthy prompts on an instruct model, small talk on a reasoning model."""

import timeit

import pytest

from app.domain.task_hint import Hint, reasoning_features, task_hint

NEEDS_REASONING = [
    "What is 17 * 23?",
    "Solve 2x + 3 = 11",
    "Compute 2^10 - 3^5",
    "Prove that there are infinitely many primes.",
    "Show that the square root of 2 is irrational, by contradiction.",
    "Why does this fail?\n```python\nTraceback (most recent call last):\n  File \"a.py\", line 3, in <module>\n"
    "ZeroDivisionError: division by zero\n```",
    "My code doesn't work, it raises KeyError on line 4",
    "why does my loop never stop?",
    "What is the time complexity of quicksort in the worst case?",
    "Write an algorithm to find the shortest path in a weighted graph",
    "Is this O(n log n) or O(n^2)?",
    "Think step by step: how many r's are in strawberry?",
    "A train leaves at 3 pm going 60 km/h and another at 4 pm going 80 km/h. How long until it catches up?",
    "What is the probability of rolling two sixes with 2 dice?",
    "Here is a riddle for you: what has keys but can't open locks?",
    "Find the integral of x**2 from 0 to 3",
    "Is ∑ 1/n² finite?",
]

CHIT_CHAT_OR_LOOKUP = [
    "hi", "Hello!", "thanks", "Thank you so much!", "good morning", "how are you?", "what's up", "ok",
    "What's the capital of France?", "What is the capital of Australia?", "who wrote Hamlet?",
    "When was the Eiffel Tower built?", "Where is Timbuktu?", "define serendipity",
    "Translate 'good night' to Spanish", "Who is the prime minister of the UK?", "What’s up?",
]

# The short questions with a checkable answer that a small instruct model most often gets
# wrong with confidence: each one alone must bring the hint.
CHECKABLE_SHORT = [
    "Is 91 a prime number?",
    "Is 2027 prime?",
    "Is 221 divisible by 13?",
    "What is 12 times 13?",
    "What's 15% of 80?",
    "What is 144 divided by 12?",
    "What is the square root of 169?",
    "How many r's are in strawberry?",
    "How many days are there between March 3 and June 9?",
    "How many ways can 5 people sit in a row?",
    "Prove that 17 is prime.",
    "Is it true that 0.999... equals 1?",
    "True or false: every even number greater than 2 is the sum of two primes.",
    "```\nint x = 5\n```\nerror: expected ';' before '}' token",
    "Why does `print(len(5))` give an error?",
    "My Rust build fails with error[E0382]: borrow of moved value",
]

CHIT_CHAT_SILENT = [
    "Hi, how are you today?", "Thanks, that was helpful!", "Tell me a joke", "Good night!", "What's your name?",
    "Is it true that you are an AI?", "How many people live in Paris?", "I have 2 cats and 1 dog",
    "Recommend 3 books for a 10 hour flight", "Nice, see you tomorrow at 10",
]

NEITHER = [
    "Write a poem about autumn leaves",
    "Summarise the following article for me in three bullet points, keeping the tone neutral please.",
    "Tell me about the terror of the French revolution",
    "Why is the sky blue?",
    "I was born on 2024-05-01",
    "Can you recommend a good book?",
]


@pytest.mark.parametrize("prompt", NEEDS_REASONING)
def test_reasoning_prompts_on_instruct_suggest_the_reasoning_model(prompt):
    hint = task_hint(prompt, "instruct")
    assert isinstance(hint, Hint) and hint.suggested_role == "reasoning", reasoning_features(prompt)
    assert hint.message.endswith(".") and "reasoning model" in hint.message and hint.reasons


@pytest.mark.parametrize("prompt", CHECKABLE_SHORT)
def test_short_checkable_questions_on_instruct_suggest_the_reasoning_model(prompt):
    hint = task_hint(prompt, "instruct")
    assert hint is not None and hint.suggested_role == "reasoning", reasoning_features(prompt)
    assert task_hint(prompt, "reasoning") is None


@pytest.mark.parametrize("prompt", CHIT_CHAT_SILENT)
def test_chit_chat_with_numbers_or_questions_stays_silent_on_instruct(prompt):
    assert task_hint(prompt, "instruct") is None, reasoning_features(prompt)


def test_the_checkable_reasons_are_named():
    assert task_hint("How many r's are in strawberry?", "instruct").reasons == ("careful counting", "math")
    assert "checking a claim" in task_hint("Is it true that 2 + 2 = 5?", "instruct").message


@pytest.mark.parametrize("prompt", NEEDS_REASONING)
def test_reasoning_prompts_on_a_reasoning_model_get_no_hint(prompt):
    assert task_hint(prompt, "reasoning") is None


@pytest.mark.parametrize("prompt", CHIT_CHAT_OR_LOOKUP)
def test_small_talk_on_a_reasoning_model_suggests_instruct(prompt):
    hint = task_hint(prompt, "reasoning")
    assert hint is not None and hint.suggested_role == "instruct", reasoning_features(prompt)
    assert "instruct model answers faster" in hint.message
    assert hint.reasons in (("chit-chat",), ("lookup",))


@pytest.mark.parametrize("prompt", CHIT_CHAT_OR_LOOKUP + NEITHER)
def test_small_talk_and_ordinary_prompts_on_instruct_get_no_hint(prompt):
    assert task_hint(prompt, "instruct") is None, reasoning_features(prompt)


@pytest.mark.parametrize("prompt", NEITHER)
def test_ordinary_prompts_on_a_reasoning_model_get_no_hint(prompt):
    assert task_hint(prompt, "reasoning") is None


def test_long_small_talk_is_not_short():
    prompt = "hi there, I just wanted to say that I really enjoyed our chat yesterday about gardens and roses"
    assert task_hint(prompt, "reasoning") is None


def test_cloud_models_never_get_hints():
    assert task_hint("Prove that 17 is prime", "cloud") is None
    assert task_hint("hi", "cloud") is None


def test_reasons_name_the_features():
    hint = task_hint("Prove that the algorithm runs in O(n log n)", "instruct")
    assert hint is not None and hint.reasons == ("a proof", "an algorithm")
    assert "a proof and an algorithm" in hint.message


def test_features_of_a_long_prompt_come_from_its_ends():
    middle = "lorem ipsum " * 2000
    assert "debug" in reasoning_features("Traceback (most recent call last):\n" + middle)
    assert "debug" in reasoning_features(middle + "\nValueError: bad value")
    assert "debug" not in reasoning_features(middle[:5000] + " segfault " + middle[:5000])


def test_it_is_cheap():
    prompts = ["hi", "What is 17 * 23?", NEEDS_REASONING[5], CHIT_CHAT_OR_LOOKUP[8], NEITHER[1], CHECKABLE_SHORT[7],
               CHECKABLE_SHORT[13]]
    per_call = min(timeit.repeat(lambda: [task_hint(p, "instruct") for p in prompts], number=200, repeat=5))
    per_call /= 200 * len(prompts)
    assert per_call < 200e-6, per_call  # about 10 µs on an idle machine; generous for shared CI


def test_suggest_model_names_an_enabled_model_of_the_other_kind():
    from dataclasses import replace

    from app.domain.config import load_user_models
    from app.domain.task_hint import suggest_model

    config = load_user_models()
    instruct = config.get("smollm2-135m")
    sentence, target = suggest_model("Prove that the algorithm runs in O(n log n)", instruct, config.models)
    assert sentence and target.role == "reasoning"
    disabled = tuple(replace(m, enabled=False) if m.role == "reasoning" else m for m in config.models)
    assert suggest_model("Prove that the algorithm runs in O(n log n)", instruct, disabled) == (None, None)
    assert suggest_model("hello there", instruct, config.models) == (None, None)
