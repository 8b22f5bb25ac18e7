"""The benchmark harness' arithmetic and table, with canned samples and no server: a ratio is
the median of per-round ratios (paired), not the ratio of medians."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from harness import Bench, Results, Sample, Side, markdown, paired_ratio, percentile, rotated, spread, table


def sample(seconds: float, longest: float = 0.0) -> Sample:
    return Sample(seconds=seconds, server=seconds / 2, longest=longest)


def test_a_ratio_pairs_each_round_with_the_baselines_same_round() -> None:
    # the machine got twice as slow in round 3: each round's pair moved together
    base = [sample(1.0), sample(1.0), sample(2.0)]
    side = [sample(1.2), sample(1.2), sample(2.4)]
    assert paired_ratio(side, base) == pytest.approx(1.2)
    # one disturbed round (the first) does not move it; the ratio of medians (3.3 / 2.0) would
    base = [sample(1.0), sample(2.0), sample(3.0)]
    side = [sample(3.3), sample(2.2), sample(3.3)]
    assert paired_ratio(side, base) == pytest.approx(1.1)


def test_the_table_has_one_row_per_side_with_the_baseline_marked() -> None:
    bench = Bench(
        "q",
        "a query",
        (Side("raw", lambda: None), Side("lib", lambda: None), Side("absent", lambda: None)),
        base="raw",
    )
    results = Results()
    for raw_s, lib_s in ((0.010, 0.012), (0.020, 0.026)):
        results.add("q", "raw", sample(raw_s))
        results.add("q", "lib", sample(lib_s, longest=0.0031))
    lines = table(results, [bench]).splitlines()
    assert lines[2] == "| a query | raw | 15.0 ms | baseline | 7.50 ms | < 0.5 ms |"
    assert lines[3] == "| a query | lib | 19.0 ms | 1.25\u00d7 | 9.50 ms | 3.10 ms |"
    assert len(lines) == 4  # a side that never ran has no row


def test_with_four_rounds_or_more_a_ratio_shows_the_middle_half_of_the_rounds() -> None:
    base = [sample(1.0)] * 5
    side = [sample(x) for x in (1.1, 1.2, 1.3, 1.4, 9.0)]  # one disturbed round
    assert spread(side, base) == " (1.20-1.40)"
    assert paired_ratio(side, base) == pytest.approx(1.3)
    assert spread(side[:3], base[:3]) == ""


def test_every_round_starts_the_rotation_one_place_further() -> None:
    sides = ["raw", "lib", "peer"]
    assert [rotated(sides, k) for k in range(4)] == [
        ["raw", "lib", "peer"],
        ["lib", "peer", "raw"],
        ["peer", "raw", "lib"],
        ["raw", "lib", "peer"],
    ]
    assert rotated([], 3) == []


def test_a_percentile_is_the_nearest_rank() -> None:
    calls = [float(x) for x in range(1, 101)]  # 1 .. 100
    assert percentile(calls, 0.99) == 99.0
    assert percentile(calls, 0.5) == 51.0  # rank round(0.5 * 99) = 50 (from 0)
    assert percentile(calls, 0.0) == 1.0 and percentile(calls, 1.0) == 100.0
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN: no calls, no percentile


def test_a_markdown_table_has_its_separator_under_the_header() -> None:
    assert markdown(["a", "b"], [["1", "2"], ["3", "4"]]).splitlines() == [
        "| a | b |",
        "| --- | --- |",
        "| 1 | 2 |",
        "| 3 | 4 |",
    ]
