"""Smoke test of the benchmark script: it runs end to end at a tiny size (raw redis-py and typedredis
only, on its own private redis-server) and writes its table. Benchmarks are not tests: the numbers
are not checked, only that every workload ran and returned the expected objects.

Needs neither the peers' environment nor matplotlib (without it the script skips the chart).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_script_runs_at_smoke_size(tmp_path: Path) -> None:
    out, chart, results = tmp_path / "benchmarks.md", tmp_path / "benchmarks.png", tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--n",
            "500",
            "--repeat",
            "1",
            "--no-peers",
            "--query-budget",
            "0.02",
            "--out",
            str(out),
            "--chart",
            str(chart),
            "--json",
            str(results),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    data = json.loads(results.read_text())
    for lib in ("raw", "typedredis"):
        (run,) = data["runs"][lib]
        assert "error" not in run, run
        for workload in ("insert", "get", "eq", "and_not", "count", "update", "reset"):
            assert run[workload]["seconds"] > 0, (lib, workload)
        assert run["memory"]["bytes_per_object"] > 0
    page = out.read_text()
    assert "| bulk insert of 500 objects |" in page
    assert "Where typedredis stands against its targets" in page


def test_page_benchmark_runs_at_smoke_size(tmp_path: Path) -> None:
    """benchmarks/page.py end to end at N = 3 000: every page of raw and typedredis is checked
    against the page computed in Python by the script itself (it exits non-zero otherwise)."""
    out, results = tmp_path / "benchmarks-page.md", tmp_path / "page-results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "page.py"),
            "--n",
            "3000",
            "--rounds",
            "3",
            "--sweep-rounds",
            "1",
            "--check-rounds",
            "1",
            "--out",
            str(out),
            "--json",
            str(results),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    data = json.loads(results.read_text())
    main = {(s["key"], s["side"]): s for s in data["main"]}
    for key in ("eq10", "eq01", "index", "range"):
        for side in ("raw", "typedredis"):
            entry = main[(key, side)]
            assert entry["calls"] == 3 and entry["wall_ms"] > 0, (key, side)
            assert entry["commands_per_call"].get("hmget", 0) > 0 or key == "eq01", (key, side)
    sides = {s["side"] for s in data["sweep"]}
    assert sides == {"typedredis", "raw walk", "raw walk (SMISMEMBER)", "raw sort"}
    assert {s["key"] for s in data["check"]} == {"old", "range_eq"}
    page = out.read_text()
    assert "| workload (N = 3,000) |" in page
    assert "## Strategy check: walk or sort" in page


def test_asyncio_benchmark_runs_at_smoke_size(tmp_path: Path) -> None:
    """benchmarks/asyncio_bench.py end to end at N = 2 000, one round: the script checks that the
    six sides return equal objects before timing (it exits non-zero otherwise)."""
    out, results = tmp_path / "benchmarks-asyncio.md", tmp_path / "asyncio-results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "asyncio_bench.py"),
            "--n",
            "2000",
            "--rounds",
            "1",
            "--calls",
            "50",
            "--tasks",
            "20",
            "--ops",
            "5",
            "--out",
            str(out),
            "--json",
            str(results),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    data = json.loads(results.read_text())
    sides = (
        "typedredis sync",
        "typedredis asyncio",
        "raw sync",
        "raw asyncio",
        "raw sync, connection",
        "raw asyncio, connection",
    )
    for workload in ("get", "eq"):
        for side in sides:
            entry = data["latency"][workload][side]
            assert entry["calls"] == 50 and entry["median_us"] > 0, (workload, side)
            assert entry["client_cpu_us"] > 0 and entry["server_us"] > 0, (workload, side)
        for side in ("typedredis asyncio", "raw asyncio", "raw asyncio, connection"):
            assert data["throughput"][workload][side]["ops_s"] > 0, (workload, side)
        assert data["ratios"][workload]["async_over_sync"] > 0
    assert data["checked"] > 0
    page = out.read_text()
    assert "# Benchmark: the asyncio executor" in page
    assert "### Throughput: 20 tasks on one client" in page


def test_rawlua_benchmark_runs_at_smoke_size(tmp_path: Path) -> None:
    """benchmarks/rawlua.py end to end at N = 2 000, one round: each side's result is checked by
    the script itself (row counts, counts), and every side of every workload has its row."""
    out, results = tmp_path / "rawlua.md", tmp_path / "rawlua.json"
    script = str(ROOT / "benchmarks" / "rawlua.py")
    args = ["--n", "2000", "--rounds", "1", "--markdown", str(out), "--json", str(results)]
    proc = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    data = json.loads(results.read_text())
    assert set(data) == {"insert", "get", "eq", "and_not", "count", "update"}
    assert {"raw-Lua", "raw-pipeline", "typedredis"} <= set(data["eq"])
    assert set(data["update"]) == {
        "raw-Lua",
        "raw-pipeline",
        "typedredis (partial save)",
        "typedredis (whole save)",
    }
    for sides in data.values():
        for (sample,) in sides.values():
            assert sample["seconds"] > 0
    table = out.read_text()
    assert table.count("| baseline |") == 6, table


def test_batch_sweep_runs_at_smoke_size(tmp_path: Path) -> None:
    """``rawlua.py --sweep`` times save_all and reset at each batch size (the default included)."""
    out = tmp_path / "batch.md"
    script = str(ROOT / "benchmarks" / "rawlua.py")
    args = ["--sweep", "--n", "600", "--rounds", "1", "--sizes", "50,200", "--markdown", str(out)]
    proc = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    table = out.read_text()
    for size in ("50 per call", "100 per call", "200 per call"):
        assert table.count(f"| {size} |") == 2, table


def test_script_time_runs_at_smoke_size() -> None:
    """benchmarks/script_time.py at tiny sizes: both versions of query.lua replay every query's
    recorded calls (a script error fails the run) and the table has a row per query."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "script_time.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    rows = [line.split(" | ")[0] for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert rows == ["| query", "| page", "| newest", "| count", "| top"]
