"""Thread counts: overrides first, then a measurement kept per machine and size class."""

import json

from app import paths
from app.backends import thread_choice as tc


def fake_decode(best: int):
    """A decode whose speed peaks at ``best`` threads (more only contend)."""
    def decode_one(n: int) -> float:
        return 0.001 * (1 + abs(n - best))
    return decode_one


def test_the_fastest_count_is_chosen_and_ties_go_to_fewer_threads():
    best, rates = tc.measure_decode_threads(fake_decode(3), cores=6)
    assert best == 3 and set(rates) == {1, 2, 3, 4, 5, 6}
    flat, _ = tc.measure_decode_threads(lambda n: 0.001, cores=4)
    assert flat == 1


def test_candidates_cover_small_counts_and_steps_to_every_core():
    assert tc.candidates(2) == [1, 2]
    assert tc.candidates(64) == [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 48, 64]


def test_env_beats_setting_beats_measurement(monkeypatch):
    measured = []
    measure = lambda: (measured.append(1), (2, {2: 50.0}))[1]  # noqa: E731
    monkeypatch.setenv(tc.ENV, "3")
    assert tc.choose_threads(10**8, 5, measure).decode == 3
    monkeypatch.delenv(tc.ENV)
    chosen = tc.choose_threads(10**8, 5, measure)
    assert (chosen.decode, chosen.source) == (5, "setting") and measured == []
    assert chosen.batch == tc.available_cores()  # prompt evaluation always uses every core


def test_the_measurement_is_made_once_per_size_class_and_kept(monkeypatch):
    monkeypatch.delenv(tc.ENV, raising=False)
    runs = []

    def measure():
        runs.append(1)
        return 2, {1: 40.0, 2: 55.0}

    first = tc.choose_threads(10**8, None, measure)
    again = tc.choose_threads(2 * 10**8, None, measure)  # the same size class
    other = tc.choose_threads(5 * 10**9, None, measure)  # another one
    assert (first.source, again.source, other.source) == ("measured", "measured earlier", "measured")
    assert len(runs) == 2
    kept = json.loads((paths.cache_dir() / tc.CACHE_FILE).read_text())
    assert kept[tc.machine_key()]["<1GB"]["decode_threads"] == 2


def test_a_bad_env_value_is_ignored(monkeypatch):
    monkeypatch.setenv(tc.ENV, "many")
    assert tc.explicit_threads(None) is None
