"""bench speed's pairing and statistics (app/bench/speed.py), without a model."""

from app.bench.speed import alternate, ratio_summary


def test_each_figure_is_compared_with_the_raw_runs_right_around_it():
    order: list[str] = []
    raw_speeds = iter([100.0, 120.0, 80.0])

    def raw_run(i):
        order.append(f"raw{i}")
        return next(raw_speeds)

    def pipe_run(i):
        order.append(f"pipe{i}")
        return 99.0

    pairs = alternate(2, raw_run, pipe_run)
    assert order == ["raw0", "pipe0", "raw1", "pipe1", "raw2"]  # strictly alternating, one raw run shared
    assert [p["raw_best"] for p in pairs] == [110.0, 100.0]
    assert [p["ratio"] for p in pairs] == [0.9, 0.99]


def test_ratio_summary_has_the_means_interval():
    s = ratio_summary([0.9, 1.0, 1.1, 1.0])
    assert s["median"] == 1.0 and s["mean"] == 1.0 and s["pairs"] == 4
    low, high = s["ci95"]
    # sd 0.0816, se 0.0408, t(3) = 3.18
    assert abs(low - 0.870) < 0.002 and abs(high - 1.130) < 0.002
    assert ratio_summary([0.97])["ci95"] == [0.97, 0.97]
