"""Every report writes numbers, intervals and verdicts alike (report/format.py), and says why once."""

from ganaug.report.format import direction, fmt, interval, mean_std, number, pct, verdict
from ganaug.report.ssl import headline


def diff(mean, low, high, n=3, note=None):
    return {"mean": mean, "low": low, "high": high, "n": n, "confidence": 0.95, "note": note}


def test_percentages_and_numbers():
    assert pct(0.1234) == "12.3" and pct(None) == "n/a"
    assert pct(0.5, "%", "–") == "50.0%" and pct(None, "%", "–") == "–"
    assert number(0.1234, "accuracy") == "12.3" and number(12.345, "fid") == "12.3"
    assert number(0.02, None, "+") == "+2.0"
    assert fmt(3) == "3" and fmt(None) == "–" and fmt(float("inf")) == "∞" and fmt(0.123456) == "0.1235"
    assert mean_std({"mean": 0.5, "std": 0.01}) == "50.0 ± 1.0" and mean_std(None) == "n/a"


def test_interval_in_points_or_why_there_is_none():
    assert interval(diff(0.012, -0.003, 0.027)) == "+1.2 [-0.3, +2.7]"
    assert interval(diff(0.03, 0.029, 0.031, n=2)) == "+3.0 (n=2, too few seeds)"
    assert interval(diff(0.01, None, None, note="the same difference in all 3 seeds: no interval")) == \
        "+1.0 (the same difference in all 3 seeds: no interval)"
    assert interval(diff(1.5, 0.5, 2.5), "fid") == "+1.5 [+0.5, +2.5]"


def test_verdict_follows_the_interval():
    assert direction(diff(0.03, 0.01, 0.05)) == "higher" and verdict(diff(0.03, 0.01, 0.05)) == "**helped**"
    assert direction(diff(-0.03, -0.05, -0.01)) == "lower" and "did not help" in verdict(diff(-0.03, -0.05, -0.01))
    assert direction(diff(0.01, -0.01, 0.03)) == "unclear" and verdict(diff(0.01, -0.01, 0.03)) == "cannot tell"
    assert direction(diff(0.03, 0.029, 0.031, n=2)) is None  # 2 seeds: never a verdict
    assert verdict(diff(0.03, None, None, n=2, note="too few seeds")) == "cannot tell (too few seeds)"


def test_the_ssl_headline_says_why_there_is_no_interval_once():
    """Three GAN methods with 2 seeds each: three "cannot tell", and the reason (too few seeds) said once."""
    note = "too few seeds (2; an interval needs 3)"
    comparisons = {gan: {"accuracy": diff(-0.01, None, None, n=2, note=note)} for gan in ("semi-gan", "bad-gan", "x")}
    line = headline({"dataset": "mnist", "vs_best_without_generator": {"100": {"best": "fixmatch",
                                                                               "comparisons": comparisons}}})
    assert line.count("cannot tell") == 3 and line.count("too few seeds") == 1 and line.endswith(f"({note})")
    comparisons["bad-gan"]["accuracy"] = diff(-0.05, -0.07, -0.03)
    assert "`bad-gan` vs the best without a generator (`fixmatch`) at 100: did not help (it hurt)" in headline(
        {"dataset": "mnist", "vs_best_without_generator": {"100": {"best": "fixmatch", "comparisons": comparisons}}})
