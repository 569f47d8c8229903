"""Smoke tests for the benchmark scripts: they run with ``--quick``, exit 0 and print their table.

No timing is asserted: these only guard against the scripts rotting as kmipd changes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _run(script: str, timeout: float) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert completed.returncode == 0, f"{script} exited {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def test_codec_bench_quick() -> None:
    out = _run("codec_bench.py", timeout=30)
    assert "| message | bytes | variant | kmipd µs/op | PyKMIP µs/op | speed-up |" in out
    assert "kmipd byte-exact round trip on all messages: yes" in out


@pytest.mark.integration
def test_get_throughput_quick() -> None:
    out = _run("get_throughput.py", timeout=60)
    assert "| server | C | ops/s | p50 ms | p99 ms |" in out
    for workers in ("1 worker", "2 workers"):
        assert f"| kmipd ({workers}) | 1 |" in out and f"| kmipd ({workers}) | 16 |" in out
    assert "result: ok" in out


@pytest.mark.integration
def test_crypto_throughput_quick() -> None:
    out = _run("crypto_throughput.py", timeout=90)
    assert "| server | operation | bytes | C | ops/s |" in out
    for operation in ("Encrypt", "Decrypt"):
        for size in (32, 1024):
            assert f"| kmipd (1 worker) | {operation} AES-GCM | {size} | 16 |" in out
    assert "result: ok" in out
