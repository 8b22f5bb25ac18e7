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
