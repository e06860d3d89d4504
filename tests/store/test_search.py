"""Full-text search: all words, prefix of the last, reasoning optional, match ranges for highlighting."""

from app.domain.messages import AnswerPart, AssistantMessage, ReasoningBlock, UserMessage
from app.store.conversations import fold, fts_query, highlight_pattern, make_snippet


def _seed(store):
    store.save_message("c1", 0, UserMessage("Tell me about the Riemann hypothesis"), partial=False, title="Riemann")
    store.save_message("c1", 1, AssistantMessage(finish_reason="stop", parts=[
        ReasoningBlock("The zeta function has nontrivial zeros on the critical line.", end=1.0),
        AnswerPart("It says every nontrivial zero of zeta lies on the critical line."),
    ]), partial=False)
    store.save_message("c2", 0, UserMessage("Café au lait recipe, please"), partial=False, title="Coffee")


def test_hits_carry_snippets_and_ranges_of_every_match(store):
    _seed(store)
    hits = store.search("critical line")
    assert [(h.conversation_uid, h.title, h.kind) for h in hits] == [("c1", "Riemann", "answer")]
    hit = hits[0]
    marked = [hit.snippet[a:b] for a, b in hit.ranges]
    assert marked == ["critical", "line"]
    assert "critical line" in hit.snippet


def test_last_word_is_a_prefix_and_reasoning_is_optional(store):
    _seed(store)
    assert store.search("hypoth")[0].kind == "user"
    assert store.search("zeta func") == []  # "function" only occurs in the reasoning
    hits = store.search("zeta func", include_reasoning=True)
    assert [h.kind for h in hits] == ["reasoning"]
    assert [hits[0].snippet[a:b] for a, b in hits[0].ranges] == ["zeta", "function"]


def test_accents_case_and_operators_are_harmless(store):
    _seed(store)
    assert [h.title for h in store.search("CAFE")] == ["Coffee"]
    assert store.search('"') == [] and store.search("  ") == []
    assert store.search("zero AND OR NOT (") == []  # quoted words, no syntax errors
    assert [h.title for h in store.search('recipe"')] == ["Coffee"]


def test_deleted_conversations_leave_the_index(store):
    _seed(store)
    store.delete("c1")
    assert store.search("critical", include_reasoning=True) == []


def test_query_and_highlight_helpers():
    assert fts_query("foo bar") == '"foo" "bar"*'
    assert fts_query("foo bar ") == '"foo" "bar"'
    assert fts_query("!!") == ""
    assert fts_query("tea w") == '"tea" "w"'  # one letter: a word, not a prefix
    assert fold("Crème brûlée") == "Creme brulee"
    pattern = highlight_pattern("creme bru")
    text, ranges = make_snippet("Une crème\nbrûlée, s'il vous plaît; brut", pattern)
    assert text == "Une crème brûlée, s'il vous plaît; brut"
    assert [text[a:b] for a, b in ranges] == ["crème", "brûlée", "brut"]
    assert make_snippet("nothing here", highlight_pattern("zzz")) == ("nothing here", ())


def test_long_texts_give_a_window_around_the_first_match(store):
    words = [f"w{i}" for i in range(30_000)]
    store.save_message("c", 0, UserMessage("long"), partial=False, title="Long")
    store.save_message("c", 1, AssistantMessage(finish_reason="stop",
                                                parts=[ReasoningBlock(" ".join(words), end=1.0)]), partial=False)
    hit = store.search("w2999 w2998", include_reasoning=True)[0]
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…") and len(hit.snippet) < 200
    assert [hit.snippet[a:b] for a, b in hit.ranges] == ["w2998", "w2999"]
    # a short prefix matching thousands of words stays quick (FTS5's snippet() took ~0.2 s per trace here)
    import time
    t0 = time.perf_counter()
    hit = store.search("w1", include_reasoning=True)[0]
    assert time.perf_counter() - t0 < 0.1
    assert hit.snippet.startswith("w0 w1 w2") and hit.snippet[hit.ranges[0][0]:hit.ranges[0][1]] == "w1"
