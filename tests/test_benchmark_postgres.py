"""Smoke test of benchmarks/postgres.py (typedredis against PostgreSQL): the script runs end to
end at tiny sizes against its own private redis-server and PostgreSQL, and writes its results,
page and chart. The numbers are not checked; what is checked is that every query ran on both
sides and that both sides returned the same objects for the same parameters (the script
compares them itself, for every query, and exits non-zero on the first difference).

Skips when PostgreSQL's server binaries (Debian's ``postgresql`` package) or psycopg are missing.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ("get", "page", "newest", "count", "top")
NEWEST_FLOOR = "redis floor: one bare script, an HMGET of each order (pks given), reply not decoded"


def test_postgres_benchmark_runs_at_smoke_size(tmp_path: Path) -> None:
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("no PostgreSQL server (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql")
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed (pip install -e '.[dev]')")
    out, chart, results = tmp_path / "page.md", tmp_path / "chart.png", tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "postgres.py"),
            "--quick",
            "--json",
            str(results),
            "--out",
            str(out),
            "--chart",
            str(chart),
        ],
        capture_output=True,
        text=True,
        timeout=150,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(results.read_text())

    # the cross-check ran for every query, pages with objects included
    for key in QUERIES:
        check = data["checks"][key]
        assert check["compared"] >= 10, (key, check)
        assert check["nonempty"] > 0, (key, check)
    assert data["checks"]["page"]["variants"], "the other SQL forms of query 2 were cross-checked too"

    # typedredis used the strategies the compound indexes are for
    assert data["plans"]["unexpected"] == [], data["plans"]["unexpected"]
    assert data["plans"]["typedredis"]["count"]["count"]["strategy"] == "exact"
    assert data["plans"]["typedredis"]["newest"]["fetch"]["strategy"] == "rank"
    assert set(data["plans"]["postgres"]) == set(QUERIES)

    # results for every query on both sides: latency, throughput, reload
    for key in QUERIES:
        for side in ("typedredis", "postgres"):
            entry = data["latency"][key][side]
            assert entry["calls"] > 0 and entry["median_us"] > 0, (key, side)
            for clients, run in data["throughput"][key][side].items():
                assert run["ops_s"] > 0, (key, side, clients)
            assert set(data["throughput"][key][side]) == {"1", "2"}
    for side in ("typedredis", "postgres"):
        assert data["reload"][side]["median_s"] > 0
        assert data["reload"][side]["stall_ms"][0] > 0
    assert data["latency"]["floors"]
    # the floors under query 3 and the reload: Redis' own cost, measured in the same run
    assert data["latency"]["newest"][NEWEST_FLOOR]["median_us"] > 0
    floors = data["reload"]["floors"]
    assert set(floors) == {"sorted", "random"} and all(f["seconds"][0] > 0 for f in floors.values())
    assert data["reload"]["floor_keys"] > data["sizes"]["products"] + data["sizes"]["orders"]

    page = out.read_text()
    assert "| 4. count paid with amount >= x |" in page
    assert "The floor under query 3 on Redis" in page and "The floor under it: the same" in page
    assert "## Targets" in page and "## Method" in page
    if importlib.util.find_spec("matplotlib") is not None:
        assert chart.stat().st_size > 10_000
