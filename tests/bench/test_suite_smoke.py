"""Smoke test for ``bench/suite.py``: ``--quick`` runs all servers, exits 0, prints its table and writes its report.

No timing is asserted (the machine is shared and short cells are noisy): this only guards
against the suite rotting as kmipd, PyKMIP or the benchmark helpers change.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "bench" / "suite.py"


@pytest.mark.integration
@pytest.mark.timeout(150)
def test_suite_quick(tmp_path: Path) -> None:
    report = tmp_path / "performance.md"
    completed = subprocess.run(
        [sys.executable, str(SUITE), "--quick", "--output", str(report)],
        capture_output=True, text=True, timeout=140, check=False,
    )
    out = completed.stdout
    assert completed.returncode == 0, f"suite exited {completed.returncode}\n{out}\n{completed.stderr[-3000:]}"
    assert "| scenario | C | server | ops/s | p50 ms | p99 ms |" in out
    for server in ("kmipd (2 workers)", "echo ceiling", "PyKMIP 0.11"):
        assert f"| Get | 16 | {server} |" in out
    assert "| target | goal | measured | verdict |" in out
    assert "result: ok" in out
    text = report.read_text()
    assert text.startswith("# kmipd performance")
    assert "| scenario | C | server | ops/s | p50 ms | p99 ms |" in text
